/**
 * Repair: rebuild and re-place lost shards.
 *
 * @module
 */
import { type TesseraId, TesserasError } from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";
import type {
  CheckOptions,
  RepairReport,
  SweepOptions,
  SweepReport,
} from "./types.ts";

/** Internal: `repairTessera`. */
export function repairTessera(
  _ctx: ServiceContext,
  _id: TesseraId,
  _options: CheckOptions,
): Promise<RepairReport> {
  return Promise.reject(new TesserasError("INTERNAL", "not implemented yet"));
}

/** Internal: `repairSweep`. */
export function repairSweep(
  _ctx: ServiceContext,
  _options: SweepOptions,
): Promise<SweepReport> {
  return Promise.reject(new TesserasError("INTERNAL", "not implemented yet"));
}
