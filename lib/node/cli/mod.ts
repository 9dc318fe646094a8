/**
 * The command line's output side: tables, sizes, the progress bar, each
 * read command's text and the exit statuses. Nothing here talks to a
 * daemon; `main.ts` calls the client, then these to print.
 *
 * @module
 */
export { formatBytes, formatTable, plural } from "./format.ts";
export {
  createProgress,
  type Progress,
  type ProgressOptions,
} from "./progress.ts";
export {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  exitCodeFor,
  exitStatusHelp,
} from "./exit_codes.ts";
export {
  formatLedger,
  formatPeers,
  formatRepairReport,
  formatStatus,
  formatVerifyReport,
  type Row,
  safetyWords,
  unrepairedCount,
} from "./output.ts";
export { addNatOptions, natFlagsOf, parseCount } from "./nat_options.ts";
