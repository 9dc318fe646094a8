/**
 * Retrieval: get a tessera's bytes back from its holders.
 *
 * @module
 */
import { type TesseraId, TesserasError } from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";
import type { RetrieveOptions } from "./types.ts";

/** Internal: `retrieveTessera`. */
export function retrieveTessera(
  _ctx: ServiceContext,
  _id: TesseraId,
  _options: RetrieveOptions,
): Promise<Uint8Array> {
  return Promise.reject(new TesserasError("INTERNAL", "not implemented yet"));
}
