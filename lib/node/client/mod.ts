/**
 * The client of a running daemon's local API, as the command line uses it:
 * find the daemon of a data directory, call its routes, follow its jobs.
 *
 * @module
 */
export { ApiClient, type JobOptions } from "./api_client.ts";
