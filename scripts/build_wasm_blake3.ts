/**
 * WAT source of the BLAKE3 kernel: four independent inputs (chunks or
 * parent nodes) compressed side by side, one per 32-bit lane of v128
 * registers, the seven rounds fully unrolled with the message schedule
 * resolved at generation time.
 *
 * `b3_hash4(in, stride, nblocks, last_len, ctr_lo, ctr_hi, ctr_step,
 * key, flags, flag_start, flag_end, out)`: lane i hashes `nblocks` 64-byte
 * blocks at `in + i*stride` (the last block `last_len` bytes long,
 * zero-padded in memory), starting from the key words at `key`, with
 * counter `ctr + i*ctr_step`, `flags` on every block, `flag_start` on the
 * first and `flag_end` on the last; the 8-word result of lane i goes to
 * `out + 32*i`. Full chunks: stride 1024, 16 blocks, step 1, CHUNK_START /
 * CHUNK_END. Parents: stride 64, 1 block, step 0, PARENT in `flags`.
 *
 * @module
 */

import { IV, MSG_SCHEDULE } from "../lib/codec/blake3_portable.ts";

const lanes32 = (idx: number[]) =>
  idx.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]).join(" ");
const ROT16 = "2 3 0 1 6 7 4 5 10 11 8 9 14 15 12 13";
const ROT8 = "1 2 3 0 5 6 7 4 9 10 11 8 13 14 15 12";
const lv = (n: string) => `(local.get $${n})`;
const add = (a: string, b: string) => `(i32x4.add ${a} ${b})`;
const xor = (a: string, b: string) => `(v128.xor ${a} ${b})`;
const shuf = (a: string, b: string, idx: string) =>
  `(i8x16.shuffle ${idx} ${a} ${b})`;
const rotr = (x: string, n: number) =>
  n === 16
    ? shuf(x, x, ROT16)
    : n === 8
    ? shuf(x, x, ROT8)
    : `(v128.or (i32x4.shr_u ${x} (i32.const ${n})) (i32x4.shl ${x} (i32.const ${
      32 - n
    })))`;

function g(
  out: string[],
  a: number,
  b: number,
  c: number,
  d: number,
  x: number,
  y: number,
) {
  const set = (n: number, e: string) =>
    out.push(`      (local.set $v${n} ${e})`);
  set(a, add(add(lv(`v${a}`), lv(`v${b}`)), lv(`m${x}`)));
  set(d, rotr(xor(lv(`v${d}`), lv(`v${a}`)), 16));
  set(c, add(lv(`v${c}`), lv(`v${d}`)));
  set(b, rotr(xor(lv(`v${b}`), lv(`v${c}`)), 12));
  set(a, add(add(lv(`v${a}`), lv(`v${b}`)), lv(`m${y}`)));
  set(d, rotr(xor(lv(`v${d}`), lv(`v${a}`)), 8));
  set(c, add(lv(`v${c}`), lv(`v${d}`)));
  set(b, rotr(xor(lv(`v${b}`), lv(`v${c}`)), 7));
}

/** Transpose four vectors of 4 words held in locals s0..s3 into d0..d3. */
function transpose(
  out: string[],
  s: string[],
  d: string[],
): void {
  const L = (x: string) => `(local.get $${x})`;
  out.push(
    `      (local.set $t0 ${shuf(L(s[0]), L(s[1]), lanes32([0, 4, 1, 5]))})`,
  );
  out.push(
    `      (local.set $t1 ${shuf(L(s[0]), L(s[1]), lanes32([2, 6, 3, 7]))})`,
  );
  out.push(
    `      (local.set $t2 ${shuf(L(s[2]), L(s[3]), lanes32([0, 4, 1, 5]))})`,
  );
  out.push(
    `      (local.set $t3 ${shuf(L(s[2]), L(s[3]), lanes32([2, 6, 3, 7]))})`,
  );
  out.push(
    `      (local.set $${d[0]} ${
      shuf(L("t0"), L("t2"), lanes32([0, 1, 4, 5]))
    })`,
  );
  out.push(
    `      (local.set $${d[1]} ${
      shuf(L("t0"), L("t2"), lanes32([2, 3, 6, 7]))
    })`,
  );
  out.push(
    `      (local.set $${d[2]} ${
      shuf(L("t1"), L("t3"), lanes32([0, 1, 4, 5]))
    })`,
  );
  out.push(
    `      (local.set $${d[3]} ${
      shuf(L("t1"), L("t3"), lanes32([2, 3, 6, 7]))
    })`,
  );
}

/** The WAT function `b3_hash4` (to be placed inside a module). */
export function blake3Wat(): string {
  const L: string[] = [];
  const locals = [
    ...Array.from({ length: 8 }, (_, i) => `cv${i}`),
    ...Array.from({ length: 16 }, (_, i) => `v${i}`),
    ...Array.from({ length: 16 }, (_, i) => `m${i}`),
    "t0",
    "t1",
    "t2",
    "t3",
    "r0",
    "r1",
    "r2",
    "r3",
    "ctrlo",
    "ctrhi",
  ];
  L.push(
    `  (func (export "b3_hash4") (param $in i32) (param $stride i32) (param $nblocks i32) (param $lastlen i32) (param $ctr_lo i32) (param $ctr_hi i32) (param $ctr_step i32) (param $key i32) (param $flags i32) (param $fstart i32) (param $fend i32) (param $out i32)`,
  );
  L.push(`    (local $b i32) (local $bp i32) (local $f i32) (local $len i32)`);
  L.push(`    ${locals.map((n) => `(local $${n} v128)`).join(" ")}`);
  for (let i = 0; i < 8; i++) {
    L.push(
      `    (local.set $cv${i} (v128.load32_splat offset=${
        4 * i
      } (local.get $key)))`,
    );
  }
  // Lane counters: ctr + i*step, carrying into the high word on wrap.
  L.push(
    `    (local.set $ctrlo (i32x4.add (i32x4.splat (local.get $ctr_lo)) (i32x4.mul (i32x4.splat (local.get $ctr_step)) (v128.const i32x4 0 1 2 3))))`,
  );
  L.push(
    `    (local.set $ctrhi (i32x4.sub (i32x4.splat (local.get $ctr_hi)) (i32x4.lt_u (local.get $ctrlo) (i32x4.splat (local.get $ctr_lo)))))`,
  );
  L.push(`    (local.set $bp (local.get $in))`);
  L.push(`    (loop $blocks`);
  L.push(`      (local.set $f (local.get $flags))`);
  L.push(`      (local.set $len (i32.const 64))`);
  L.push(
    `      (if (i32.eqz (local.get $b)) (then (local.set $f (i32.or (local.get $f) (local.get $fstart)))))`,
  );
  L.push(
    `      (if (i32.eq (local.get $b) (i32.sub (local.get $nblocks) (i32.const 1))) (then (local.set $f (i32.or (local.get $f) (local.get $fend))) (local.set $len (local.get $lastlen))))`,
  );
  // Load and transpose the message: m[w] lane i = word w of lane i's block.
  for (let q = 0; q < 4; q++) {
    for (let i = 0; i < 4; i++) {
      const addr = i === 0
        ? `(local.get $bp)`
        : `(i32.add (local.get $bp) (i32.mul (local.get $stride) (i32.const ${i})))`;
      L.push(
        `      (local.set $r${i} (v128.load offset=${16 * q} align=1 ${addr}))`,
      );
    }
    transpose(L, ["r0", "r1", "r2", "r3"], [
      `m${4 * q}`,
      `m${4 * q + 1}`,
      `m${4 * q + 2}`,
      `m${4 * q + 3}`,
    ]);
  }
  for (let i = 0; i < 8; i++) {
    L.push(`      (local.set $v${i} (local.get $cv${i}))`);
  }
  for (let i = 0; i < 4; i++) {
    L.push(
      `      (local.set $v${8 + i} (v128.const i32x4 ${IV[i]} ${IV[i]} ${
        IV[i]
      } ${IV[i]}))`,
    );
  }
  L.push(`      (local.set $v12 (local.get $ctrlo))`);
  L.push(`      (local.set $v13 (local.get $ctrhi))`);
  L.push(`      (local.set $v14 (i32x4.splat (local.get $len)))`);
  L.push(`      (local.set $v15 (i32x4.splat (local.get $f)))`);
  for (const s of MSG_SCHEDULE) {
    g(L, 0, 4, 8, 12, s[0], s[1]);
    g(L, 1, 5, 9, 13, s[2], s[3]);
    g(L, 2, 6, 10, 14, s[4], s[5]);
    g(L, 3, 7, 11, 15, s[6], s[7]);
    g(L, 0, 5, 10, 15, s[8], s[9]);
    g(L, 1, 6, 11, 12, s[10], s[11]);
    g(L, 2, 7, 8, 13, s[12], s[13]);
    g(L, 3, 4, 9, 14, s[14], s[15]);
  }
  for (let i = 0; i < 8; i++) {
    L.push(`      (local.set $cv${i} ${xor(lv(`v${i}`), lv(`v${i + 8}`))})`);
  }
  L.push(`      (local.set $bp (i32.add (local.get $bp) (i32.const 64)))`);
  L.push(
    `      (br_if $blocks (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $nblocks))))`,
  );
  // Transpose the chaining values back: lane i's 8 words to out + 32*i.
  for (let h = 0; h < 2; h++) {
    transpose(
      L,
      [`cv${4 * h}`, `cv${4 * h + 1}`, `cv${4 * h + 2}`, `cv${4 * h + 3}`],
      ["r0", "r1", "r2", "r3"],
    );
    for (let i = 0; i < 4; i++) {
      L.push(
        `    (v128.store offset=${
          32 * i + 16 * h
        } align=1 (local.get $out) (local.get $r${i}))`,
      );
    }
  }
  L.push(`  )`);
  return L.join("\n");
}
