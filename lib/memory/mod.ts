/**
 * In-memory adapters of the store ports, a manual clock, a seeded random
 * source and test identities: exact enough for unit tests, cheap enough
 * for the simulator's thousands of nodes.
 *
 * @example
 * ```ts
 * import { MemoryFragmentStore, MemoryReciprocityLedger } from "./mod.ts";
 * const fragments = new MemoryFragmentStore();
 * const ledger = new MemoryReciprocityLedger();
 * ```
 *
 * @module
 */
export * from "./fragment_store.ts";
export * from "./blob_store.ts";
export * from "./ledger.ts";
export * from "./holder_registry.ts";
export * from "./clock.ts";
export * from "./rng.ts";
export * from "./identity.ts";
export * from "./forwarding_store.ts";
export * from "./manifest_store.ts";
