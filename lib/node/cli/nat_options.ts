/**
 * The NAT options of `tesseras start` and how they become `NatFlags`.
 *
 * @module
 */
import { type Command, InvalidArgumentError } from "commander";
import type { RelayLimits, RelayServerMode } from "../../net/mod.ts";
import { type NatFlags, RELAY_MODES } from "../reachability.ts";

/**
 * A command-line count (a non-negative integer); anything else is the
 * usage error commander prints. The one parser of counts for `start`'s
 * options and the other commands'.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * new Command("x").option("--peers <n>", "how many", parseCount);
 * ```
 */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError("expected a non-negative integer");
  }
  return n;
}

function mode(value: string): RelayServerMode {
  if (!RELAY_MODES.includes(value as RelayServerMode)) {
    throw new InvalidArgumentError("expected auto, on or off");
  }
  return value as RelayServerMode;
}

/**
 * Add the NAT options to `start`.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * addNatOptions(new Command("tesseras").command("start"));
 * ```
 */
export function addNatOptions(cmd: Command): Command {
  return cmd
    .option("--no-upnp", "do not map the listen port on a UPnP router")
    .option("--no-mdns", "do not look for peers on the LAN by multicast DNS")
    .option(
      "--relay <mode>",
      "serve circuit relay: auto (while public), on, off (default auto)",
      mode,
    )
    .option(
      "--relay-reservations <n>",
      "relay slots to hold while private (default 2)",
      parseCount,
    )
    .option(
      "--relay-max-reservations <n>",
      "most peers holding a slot on this relay (default 32)",
      parseCount,
    )
    .option(
      "--relay-data-limit <bytes>",
      "most bytes per relayed connection (default 32 MiB)",
      parseCount,
    )
    .option(
      "--relay-budget <bytes>",
      "relayed bytes per peer and hour beyond what it stores for us (default 4 GiB)",
      parseCount,
    );
}

/**
 * The NAT flags from commander's parsed options of `start`.
 *
 * @example
 * ```ts
 * natFlagsOf({ upnp: false }).upnp; // false
 * ```
 */
export function natFlagsOf(opts: Record<string, unknown>): NatFlags {
  const limits: Partial<Record<keyof RelayLimits, number>> = {};
  if (opts.relayMaxReservations !== undefined) {
    limits.maxReservations = opts.relayMaxReservations as number;
  }
  if (opts.relayDataLimit !== undefined) {
    limits.dataLimitBytes = opts.relayDataLimit as number;
  }
  if (opts.relayBudget !== undefined) {
    limits.budgetBytesPerHour = opts.relayBudget as number;
  }
  return {
    upnp: opts.upnp === false ? false : undefined,
    mdns: opts.mdns === false ? false : undefined,
    relay: opts.relay as RelayServerMode | undefined,
    relayReservations: opts.relayReservations as number | undefined,
    relayLimits: limits,
  };
}
