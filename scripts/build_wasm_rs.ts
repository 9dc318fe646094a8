/**
 * WAT source of the Reed-Solomon region kernel (GF(2^8), poly 0x11d).
 *
 * `outputs[r] = Σ_j c[r][j] · inputs[j]` with the split-nibble technique:
 * for each coefficient two 16-byte tables (c·x for the low nibble x and
 * c·(x<<4) for the high nibble), looked up 16 bytes at a time with
 * `i8x16.swizzle`. Outputs are done in groups of up to {@linkcode GROUP}
 * whose accumulators stay in registers while every input is streamed once
 * per group; the column range is cut into blocks so the inputs of one
 * block stay in cache across the groups.
 *
 * Table layout (built by lib/codec/simd_kernel.ts): groups one after the
 * other; inside a group, for each input j, the G tables of its outputs,
 * 32 bytes each (16 low, 16 high). So inside the input loop the tables of
 * output r are at a constant offset `r * 32` from a pointer that advances
 * by `G * 32` per input.
 *
 * @module
 */

/** Outputs per group (accumulators kept in registers). */
export const GROUP = 4;
/** 16-byte vectors per output per step (2 → 32 columns per step). */
export const VECS = 2;
/** Columns per step; stripe lengths are padded to a multiple of it. */
export const STEP = 16 * VECS;

/** The WAT functions of the kernel (to be placed inside a module). */
export function rsWat(
  swizzle: string,
  group = GROUP,
  vecs = VECS,
): string {
  const parts: string[] = [];
  for (let g = 1; g <= group; g++) parts.push(groupFunc(g, swizzle, vecs));
  parts.push(driver(group, vecs));
  return parts.join("\n");
}

function groupFunc(g: number, swizzle: string, VECS: number): string {
  const STEP = 16 * VECS;
  const acc: string[] = [];
  for (let r = 0; r < g; r++) {
    for (let v = 0; v < VECS; v++) acc.push(`$a${r}_${v}`);
  }
  const L: string[] = [];
  L.push(
    `  ;; ${g} output(s): out[r] = sum_j tab(r,j) * in[j], ${STEP} columns a step`,
  );
  L.push(
    `  (func $rs_g${g} (param $tab i32) (param $in i32) (param $istride i32) (param $k i32) (param $out i32) (param $ostride i32) (param $len i32)`,
  );
  L.push(
    `    (local $p i32) (local $j i32) (local $ip i32) (local $tp i32) (local $op i32) (local $mask v128) (local $tl v128) (local $th v128)`,
  );
  for (let v = 0; v < VECS; v++) {
    L.push(`    (local $x${v} v128) (local $lo${v} v128) (local $hi${v} v128)`);
  }
  L.push(`    ${acc.map((a) => `(local ${a} v128)`).join(" ")}`);
  L.push(`    (local.set $mask (v128.const i8x16 ${"15 ".repeat(16).trim()}))`);
  L.push(`    (block $done (loop $cols`);
  L.push(`      (br_if $done (i32.ge_u (local.get $p) (local.get $len)))`);
  for (const a of acc) L.push(`      (local.set ${a} (v128.const i64x2 0 0))`);
  L.push(`      (local.set $ip (i32.add (local.get $in) (local.get $p)))`);
  L.push(`      (local.set $tp (local.get $tab))`);
  L.push(`      (local.set $j (local.get $k))`);
  L.push(`      (loop $inputs`);
  for (let v = 0; v < VECS; v++) {
    L.push(
      `        (local.set $x${v} (v128.load offset=${
        16 * v
      } align=1 (local.get $ip)))`,
    );
    L.push(
      `        (local.set $lo${v} (v128.and (local.get $x${v}) (local.get $mask)))`,
    );
    L.push(
      `        (local.set $hi${v} (v128.and (i16x8.shr_u (local.get $x${v}) (i32.const 4)) (local.get $mask)))`,
    );
  }
  for (let r = 0; r < g; r++) {
    L.push(
      `        (local.set $tl (v128.load offset=${32 * r} (local.get $tp)))`,
    );
    L.push(
      `        (local.set $th (v128.load offset=${
        32 * r + 16
      } (local.get $tp)))`,
    );
    for (let v = 0; v < VECS; v++) {
      L.push(
        `        (local.set $a${r}_${v} (v128.xor (local.get $a${r}_${v}) (v128.xor (${swizzle} (local.get $tl) (local.get $lo${v})) (${swizzle} (local.get $th) (local.get $hi${v})))))`,
      );
    }
  }
  L.push(
    `        (local.set $ip (i32.add (local.get $ip) (local.get $istride)))`,
  );
  L.push(
    `        (local.set $tp (i32.add (local.get $tp) (i32.const ${32 * g})))`,
  );
  L.push(
    `        (br_if $inputs (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))`,
  );
  L.push(`      (local.set $op (i32.add (local.get $out) (local.get $p)))`);
  for (let r = 0; r < g; r++) {
    for (let v = 0; v < VECS; v++) {
      L.push(
        `      (v128.store offset=${
          16 * v
        } align=1 (local.get $op) (local.get $a${r}_${v}))`,
      );
    }
    if (r < g - 1) {
      L.push(
        `      (local.set $op (i32.add (local.get $op) (local.get $ostride)))`,
      );
    }
  }
  L.push(`      (local.set $p (i32.add (local.get $p) (i32.const ${STEP})))`);
  L.push(`      (br $cols)))`);
  L.push(`  )`);
  return L.join("\n");
}

function driver(GROUP: number, VECS: number): string {
  const STEP = 16 * VECS;
  const calls: string[] = [];
  for (let g = GROUP; g >= 1; g--) {
    calls.push(
      `          (if (i32.eq (local.get $g) (i32.const ${g})) (then (call $rs_g${g} (local.get $tp) (local.get $ip) (local.get $istride) (local.get $k) (local.get $op) (local.get $ostride) (local.get $bl))))`,
    );
  }
  return `
  ;; out[r] (r < m) = sum_j c[r][j] * in[j] over len columns (len a
  ;; multiple of ${STEP}), in column blocks of \`block\` bytes (a multiple
  ;; of ${STEP}). Rows are m outputs at \`ostride\`, inputs k rows at \`istride\`.
  (func (export "rs_mul") (param $tab i32) (param $in i32) (param $istride i32) (param $k i32) (param $out i32) (param $ostride i32) (param $m i32) (param $len i32) (param $block i32)
    (local $c i32) (local $bl i32) (local $r i32) (local $g i32) (local $tp i32) (local $ip i32) (local $op i32)
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $c) (local.get $len)))
      (local.set $bl (i32.sub (local.get $len) (local.get $c)))
      (if (i32.gt_u (local.get $bl) (local.get $block)) (then (local.set $bl (local.get $block))))
      (local.set $ip (i32.add (local.get $in) (local.get $c)))
      (local.set $tp (local.get $tab))
      (local.set $r (i32.const 0))
      (block $gdone (loop $groups
        (br_if $gdone (i32.ge_u (local.get $r) (local.get $m)))
        (local.set $g (i32.sub (local.get $m) (local.get $r)))
        (if (i32.gt_u (local.get $g) (i32.const ${GROUP})) (then (local.set $g (i32.const ${GROUP}))))
        (local.set $op (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ostride))) (local.get $c)))
${calls.join("\n")}
        (local.set $tp (i32.add (local.get $tp) (i32.mul (i32.mul (local.get $g) (local.get $k)) (i32.const 32))))
        (local.set $r (i32.add (local.get $r) (local.get $g)))
        (br $groups)))
      (local.set $c (i32.add (local.get $c) (local.get $bl)))
      (br $blocks)))
  )`;
}
