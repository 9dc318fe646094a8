/**
 * Domain types and ports of tesseras. Imports nothing else of ours.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./tessera.ts";
export * from "./fragment.ts";
export * from "./attestation.ts";
export * from "./chunk_attestation.ts";
export * from "./ports.ts";
export * from "./config.ts";
export * from "./health.ts";
export * from "./system.ts";
export * from "./hex.ts";
export * from "./bytes.ts";
export * from "./keyed_lock.ts";
export * from "./pool.ts";
export * from "./manifest.ts";
