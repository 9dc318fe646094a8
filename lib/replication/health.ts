/**
 * Health checks of our tesseras.
 *
 * @module
 */
import { type TesseraId, TesserasError } from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";
import type { CheckOptions, HealthReport } from "./types.ts";

/** Internal: `inspectTessera`. */
export function inspectTessera(
  _ctx: ServiceContext,
  _id: TesseraId,
  _options: CheckOptions,
): Promise<HealthReport> {
  return Promise.reject(new TesserasError("INTERNAL", "not implemented yet"));
}
