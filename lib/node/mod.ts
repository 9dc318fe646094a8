/**
 * The daemon: configuration, the data directory, the local API server and
 * the backend behind it, logging, and the offline `verify`. Wires the
 * adapters to the replication services. The API's client is
 * `lib/node/client/mod.ts`; the command line's output is
 * `lib/node/cli/mod.ts`.
 *
 * @module
 */
export { buildTarget, VERSION } from "./version.ts";
export {
  type DataDirOptions,
  type DataLayout,
  dataLayout,
  defaultDataDir,
  resolveDataDir,
} from "./paths.ts";
export {
  DEFAULT_API,
  DEFAULT_LISTEN,
  DEFAULT_STALE_AFTER_SECONDS,
  type LoadConfigOptions,
  loadNodeConfig,
  type NodeConfig,
  type NodeFlags,
} from "./config.ts";
export { acquireDaemonLock, type DaemonLock } from "./lock.ts";
export {
  type ApiAuth,
  type ApiBackend,
  type ApiExtension,
  type ApiServer,
  type GetOptions,
  type ProgressEvent,
  type PutOptions,
  serveApi,
  type ServeApiOptions,
} from "./api.ts";
export {
  type ApiInfo,
  newApiToken,
  readApiInfo,
  writeApiInfo,
} from "./api_info.ts";
export {
  type LoggingOptions,
  setupLogging,
  teardownLogging,
} from "./logging.ts";
export {
  checkOutputFree,
  checkStorableFile,
  fsReason,
  type ShownAs,
} from "./local_files.ts";
export { type Daemon, runDaemon, startDaemon } from "./daemon.ts";
export {
  DaemonBackend,
  type DaemonParts,
  type TesseraStatus,
} from "./backend.ts";
export { type MetricsSnapshot, renderMetrics } from "./metrics.ts";
export {
  prepareNodeKeys,
  readRecoveryPhrase,
  recoverDataDir,
  rekeyDataDir,
  type Rekeyed,
} from "./node_keys.ts";
export { OwnerCatalogue, type PutRecord } from "./owner_catalogue.ts";
export {
  verifyDataDir,
  type VerifyOptions,
  type VerifyReport,
} from "./verify.ts";
export {
  DEFAULT_NAT_CONFIG,
  type NatConfig,
  natConfig,
  type NatFlags,
  natOptionsFor,
  reachabilityJson,
  reachabilityMetrics,
  RELAY_MODES,
} from "./reachability.ts";
export {
  Dashboard,
  DashboardSessions,
  LOGIN_LINK_TTL_MS,
  SESSION_IDLE_MS,
} from "./dashboard.ts";
export { SweepHistory, type SweepSummary } from "./sweep_history.ts";
export {
  requestLoginLink,
  uiCommand,
  type UiCommandOptions,
} from "./ui_command.ts";
