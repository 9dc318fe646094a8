/**
 * The node's settings: command-line flags first, then `TESSERAS_*`
 * environment variables, then `tesseras.json` in the data directory, then
 * the documented defaults.
 *
 * @module
 */
import {
  type ReplicationConfig,
  replicationConfig,
  TesserasError,
} from "../core/mod.ts";
import { dataLayout } from "./paths.ts";
import { type NatConfig, natConfig, type NatFlags } from "./reachability.ts";

/** Default TCP listen address of a node. */
export const DEFAULT_LISTEN = "/ip4/0.0.0.0/tcp/4001";
/** Default address of the local HTTP API (loopback only). */
export const DEFAULT_API = "127.0.0.1:7431";
/** Peers not seen for this long are removed from the peer store (7 days). */
export const DEFAULT_STALE_AFTER_SECONDS = 7 * 24 * 60 * 60;

/** Everything a daemon needs to start. */
export interface NodeConfig {
  /** The data directory. */
  readonly dataDir: string;
  /** Multiaddrs to listen on. */
  readonly listen: readonly string[];
  /** Multiaddrs of peers to join through. */
  readonly bootstrap: readonly string[];
  /** `host:port` of the local HTTP API. */
  readonly api: string;
  /** Bootstrap mode: persist and serve the routing table for others. */
  readonly bootstrapMode: boolean;
  /** Peers unseen for longer are removed, seconds. */
  readonly staleAfterSeconds: number;
  /** Keep loopback and private addresses in the DHT (LAN and tests). */
  readonly allowPrivateAddresses: boolean;
  /** Replication settings. */
  readonly replication: ReplicationConfig;
  /** NAT traversal: UPnP, mDNS, relay (see `reachability.ts`). */
  readonly nat: NatConfig;
}

/** Values as given on the command line; absent means "not given". */
export interface NodeFlags {
  /** `--listen` */
  readonly listen?: readonly string[];
  /** `--bootstrap` */
  readonly bootstrap?: readonly string[];
  /** `--api` */
  readonly api?: string;
  /** `--bootstrap-mode` */
  readonly bootstrapMode?: boolean;
  /** `--stale-after` (seconds) */
  readonly staleAfterSeconds?: number;
  /** `--allow-private` */
  readonly allowPrivateAddresses?: boolean;
  /** `--repair-interval-ms` */
  readonly repairIntervalMs?: number;
  /** `--repair-jitter-ms` */
  readonly repairJitterMs?: number;
  /** `--steward-after` (ms) */
  readonly stewardAfterMs?: number;
  /** `--steward-grace` (ms) */
  readonly stewardGraceMs?: number;
  /** `--steward-rebuild-at` (percent of the parity shards) */
  readonly stewardRebuildAtPercent?: number;
  /** `--no-upnp`, `--no-mdns`, `--relay…` */
  readonly nat?: NatFlags;
}

/** Options of {@linkcode loadNodeConfig}. */
export interface LoadConfigOptions {
  /** Environment lookup; defaults to `Deno.env.get`. */
  readonly env?: (name: string) => string | undefined;
}

type FileConfig =
  & Partial<Omit<NodeConfig, "dataDir" | "replication" | "nat">>
  & {
    replication?: Partial<ReplicationConfig>;
    nat?: Partial<NatConfig>;
  };

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

function bool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return ["1", "true", "yes", "on"].includes(value.toLowerCase());
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TesserasError(
      "INVALID_INPUT",
      `${name}=${value} is not a non-negative integer`,
    );
  }
  return n;
}

async function readFileConfig(path: string): Promise<FileConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return {};
    throw err;
  }
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) throw new Error();
    return parsed as FileConfig;
  } catch {
    throw new TesserasError(
      "INVALID_INPUT",
      `${path} is not a JSON object: fix or remove it`,
    );
  }
}

/**
 * Merges flags, environment, the data directory's `tesseras.json` and the
 * defaults into one {@linkcode NodeConfig}.
 *
 * @example
 * ```ts
 * const cfg = await loadNodeConfig("/srv/tesseras", { listen: ["/ip4/0.0.0.0/tcp/4001"] });
 * ```
 */
export async function loadNodeConfig(
  dataDir: string,
  flags: NodeFlags = {},
  options: LoadConfigOptions = {},
): Promise<NodeConfig> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const file = await readFileConfig(dataLayout(dataDir).configFile);
  return {
    dataDir,
    listen: flags.listen ?? list(env("TESSERAS_LISTEN")) ?? file.listen ??
      [DEFAULT_LISTEN],
    bootstrap: flags.bootstrap ?? list(env("TESSERAS_BOOTSTRAP")) ??
      file.bootstrap ?? [],
    api: flags.api ?? env("TESSERAS_API") ?? file.api ?? DEFAULT_API,
    bootstrapMode: flags.bootstrapMode ??
      bool(env("TESSERAS_BOOTSTRAP_MODE")) ??
      file.bootstrapMode ?? false,
    staleAfterSeconds: flags.staleAfterSeconds ??
      int("TESSERAS_STALE_AFTER", env("TESSERAS_STALE_AFTER")) ??
      file.staleAfterSeconds ?? DEFAULT_STALE_AFTER_SECONDS,
    allowPrivateAddresses: flags.allowPrivateAddresses ??
      bool(env("TESSERAS_ALLOW_PRIVATE")) ?? file.allowPrivateAddresses ??
      true,
    replication: replicationOf(file, { env, flags }),
    nat: natConfig(flags.nat ?? {}, env, file.nat),
  };
}

/** The replication settings each variable sets. */
const REPLICATION_ENV: readonly (readonly [string, keyof ReplicationConfig])[] =
  [
    ["TESSERAS_DEFICIT_TOLERANCE", "deficitToleranceBytes"],
    ["TESSERAS_MIN_FREE_SPACE", "minFreeSpaceBytes"],
    ["TESSERAS_REPAIR_INTERVAL_MS", "repairIntervalMs"],
    ["TESSERAS_REPAIR_JITTER_MS", "repairJitterMs"],
    ["TESSERAS_STEWARD_AFTER_MS", "stewardAfterMs"],
    ["TESSERAS_STEWARD_GRACE_MS", "stewardGraceMs"],
    ["TESSERAS_STEWARD_REBUILD_AT", "stewardRebuildAtPercent"],
    ["TESSERAS_SCRUB_INTERVAL_MS", "scrubIntervalMs"],
  ];

/**
 * Replication settings: flags over variables over the file's
 * `replication` object over the defaults (an interval without a jitter
 * gets 1/12 of it, see `replicationConfig`).
 */
function replicationOf(
  file: FileConfig,
  sources: {
    env: (name: string) => string | undefined;
    flags: NodeFlags;
  },
): ReplicationConfig {
  const given: Record<string, number> = {};
  for (const [name, key] of REPLICATION_ENV) {
    const value = int(name, sources.env(name));
    if (value !== undefined) given[key] = value;
  }
  const flags = sources.flags;
  for (
    const key of [
      "repairIntervalMs",
      "repairJitterMs",
      "stewardAfterMs",
      "stewardGraceMs",
      "stewardRebuildAtPercent",
    ] as const
  ) {
    if (flags[key] !== undefined) given[key] = flags[key];
  }
  return replicationConfig({ ...file.replication, ...given });
}
