/**
 * Placing our tesseras on peers.
 *
 * @module
 */
import { type TesseraId, TesserasError } from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";
import type { ReplicateOptions, ReplicationReport } from "./types.ts";

/** Internal: `putTessera`. */
export function putTessera(
  _ctx: ServiceContext,
  _data: Uint8Array,
  _options: ReplicateOptions,
): Promise<ReplicationReport> {
  return Promise.reject(new TesserasError("INTERNAL", "not implemented yet"));
}

/** Internal: `replicateTessera`. */
export function replicateTessera(
  _ctx: ServiceContext,
  _id: TesseraId,
  _options: ReplicateOptions,
): Promise<ReplicationReport> {
  return Promise.reject(new TesserasError("INTERNAL", "not implemented yet"));
}
