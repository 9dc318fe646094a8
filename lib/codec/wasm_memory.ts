/**
 * The codec's one WebAssembly instance (Reed-Solomon and BLAKE3 kernels,
 * built by scripts/build_wasm.ts) and a small allocator over its memory.
 *
 * The module is instantiated synchronously from bytes embedded in
 * codec_wasm.generated.ts, so it works inside a `deno compile` binary and
 * keeps the codec API synchronous. The relaxed-SIMD variant is used when
 * the engine validates it, the standard-SIMD one otherwise; when neither
 * validates (no wasm SIMD) `codecWasm` is `null` and callers fall back to
 * portable TypeScript.
 *
 * @module
 */
import {
  CODEC_WASM_RELAXED,
  CODEC_WASM_STANDARD,
} from "./codec_wasm.generated.ts";

/** Exports of the codec module. */
export interface CodecExports {
  /** The module's memory (grows; re-read views after any allocation). */
  readonly memory: WebAssembly.Memory;
  /** GF(2^8) region multiply; see scripts/build_wasm_rs.ts. */
  rs_mul(
    tab: number,
    input: number,
    istride: number,
    k: number,
    out: number,
    ostride: number,
    m: number,
    len: number,
    block: number,
  ): void;
  /** Four BLAKE3 compressions side by side; see scripts/build_wasm_blake3.ts. */
  b3_hash4(
    input: number,
    stride: number,
    nblocks: number,
    lastLen: number,
    ctrLo: number,
    ctrHi: number,
    ctrStep: number,
    key: number,
    flags: number,
    flagStart: number,
    flagEnd: number,
    out: number,
  ): void;
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function instantiate(): { exports: CodecExports; variant: string } | null {
  for (
    const [variant, b64] of [
      ["relaxed-simd", CODEC_WASM_RELAXED],
      ["simd", CODEC_WASM_STANDARD],
    ]
  ) {
    const bytes = fromBase64(b64);
    if (!WebAssembly.validate(bytes)) continue;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    return { exports: instance.exports as unknown as CodecExports, variant };
  }
  return null;
}

const loaded = instantiate();

/** The kernels, or `null` when this engine lacks wasm SIMD. */
export const codecWasm: CodecExports | null = loaded?.exports ?? null;

/** Which module variant runs: "relaxed-simd", "simd" or "portable". */
export const codecVariant: string = loaded?.variant ?? "portable";

const PAGE = 65536;
/** Slack kept past the last block: kernels may read a few KiB beyond. */
const GUARD = 8192;
const ALIGN = 64;

// The allocator's state is module state because the memory it carves is:
// one wasm instance per process, loaded once at import (`codecWasm`).
let top = 0;
const free: { ptr: number; size: number }[] = [];

/**
 * Reserve `size` bytes of wasm memory (64-byte aligned, contents
 * undefined); give them back with {@linkcode releaseWasm}. May grow the
 * memory, which detaches earlier `memory.buffer` views.
 */
export function acquireWasm(size: number): number {
  const need = Math.ceil(Math.max(size, 1) / ALIGN) * ALIGN;
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    if (
      free[i].size >= need && (best < 0 || free[i].size < free[best].size)
    ) best = i;
  }
  if (best >= 0) return free.splice(best, 1)[0].ptr;
  const mem = codecWasm!.memory;
  const ptr = top;
  top += need;
  const bytes = mem.buffer.byteLength;
  if (top + GUARD > bytes) {
    mem.grow(Math.ceil((top + GUARD - bytes) / PAGE));
  }
  sizes.set(ptr, need);
  return ptr;
}

/** Each block's size by its address (see the allocator's state above). */
const sizes = new Map<number, number>();

/** Return a block from {@linkcode acquireWasm}. */
export function releaseWasm(ptr: number): void {
  const size = sizes.get(ptr);
  if (size === undefined) return;
  if (free.some((f) => f.ptr === ptr)) return;
  free.push({ ptr, size });
}

let view: Uint8Array = new Uint8Array(0);

/** A byte view of the whole wasm memory (fresh after growth). */
export function wasmBytes(): Uint8Array {
  const buf = codecWasm!.memory.buffer;
  if (view.buffer !== buf) view = new Uint8Array(buf);
  return view;
}
