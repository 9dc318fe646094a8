/**
 * The node: daemon, local API, configuration and the helpers the command
 * line uses. Wires the adapters to the replication services.
 *
 * @module
 */
export * from "./version.ts";
export * from "./paths.ts";
export * from "./config.ts";
export * from "./lock.ts";
export * from "./api.ts";
export * from "./api_info.ts";
export * from "./client.ts";
export * from "./logging.ts";
export * from "./exit_codes.ts";
export * from "./progress.ts";
export * from "./format.ts";
export * from "./daemon.ts";
export * from "./backend.ts";
export * from "./metrics.ts";
export * from "./verify.ts";
