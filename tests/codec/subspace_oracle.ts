/**
 * The `@subspace/reed-solomon-erasure.wasm` package (the Rust crate built
 * to wasm) as a test oracle for parity bytes. Tests only.
 *
 * @module
 */
import { ReedSolomonErasure } from "@subspace/reed-solomon-erasure.wasm";

let oracle: ReedSolomonErasure | undefined;

/** The crate's encoder, loaded once. */
export async function subspace(): Promise<ReedSolomonErasure> {
  oracle ??= await ReedSolomonErasure.fromCurrentDirectory();
  return oracle;
}

/** Shards of `data` encoded by the crate, split into arrays. */
export async function subspaceEncode(
  data: Uint8Array,
  dataShards: number,
  parityShards: number,
): Promise<Uint8Array[]> {
  const rs = await subspace();
  const size = Math.ceil(data.length / dataShards);
  const total = dataShards + parityShards;
  const buf = new Uint8Array(size * total);
  buf.set(data);
  const rc = rs.encode(buf, dataShards, parityShards);
  if (rc !== ReedSolomonErasure.RESULT_OK) {
    throw new Error(`@subspace encode failed with ${rc}`);
  }
  return Array.from(
    { length: total },
    (_, i) => buf.slice(i * size, (i + 1) * size),
  );
}
