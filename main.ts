/**
 * The `tesseras` command line: parses, calls `lib/node` or `sim/`, prints.
 * `buildProgram` reads as the command groups; each group registers its
 * commands, and each command's action is a short function of its own.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { resolve } from "node:path";
import {
  isTesseraId,
  isTesserasError,
  TesserasError,
  toHex,
} from "./lib/core/mod.ts";
import {
  combineShares,
  looksLikeCapability,
  normaliseWords,
  parseCapability,
  parsePhrase,
  PHRASE_WORDS,
  splitPhrase,
} from "./lib/crypto/mod.ts";
import {
  buildTarget,
  checkOutputFree,
  checkStorableFile,
  loadNodeConfig,
  readRecoveryPhrase,
  recoverDataDir,
  rekeyDataDir,
  resolveDataDir,
  runDaemon,
  setupLogging,
  uiCommand,
  verifyDataDir,
  VERSION,
} from "./lib/node/mod.ts";
import { ApiClient } from "./lib/node/client/mod.ts";
import {
  addNatOptions,
  createProgress,
  EXIT_FAILURE,
  EXIT_USAGE,
  exitCodeFor,
  exitStatusHelp,
  formatBytes,
  formatLedger,
  formatPeers,
  formatRepairReport,
  formatStatus,
  formatVerifyReport,
  natFlagsOf,
  parseCount,
  type Row,
  safetyWords,
  unrepairedCount,
} from "./lib/node/cli/mod.ts";
import { SIM_OPTIONS, simCommand } from "./sim/mod.ts";

interface GlobalOptions {
  dataDir?: string;
}

/** Options every read command has. */
interface JsonOption {
  json?: boolean;
}

function print(text: string): void {
  console.log(text);
}

function dataDirOf(cmd: Command): string {
  return resolveDataDir((cmd.optsWithGlobals() as GlobalOptions).dataDir);
}

async function clientOf(cmd: Command): Promise<ApiClient> {
  return await ApiClient.forDataDir(dataDirOf(cmd));
}

/** A tessera id as given, in either case, normalised to lower case. */
function requireId(id: string): string {
  const normal = id.toLowerCase();
  if (!isTesseraId(normal)) {
    throw new TesserasError(
      "INVALID_ID",
      `"${id}" is not a tessera id (64 hex characters)`,
    );
  }
  return normal;
}

/** Builds the command tree; exported for tests. */
export function buildProgram(): Command {
  const program = rootCommand();
  addDaemonCommands(program);
  addSimCommand(program);
  addNetworkCommands(program);
  addTesseraCommands(program);
  addKeyCommands(program);
  addLedgerCommand(program);
  addRepairCommand(program);
  program.addCommand(
    uiCommand({ dataDirOf, print }).copyInheritedSettings(program),
  );
  return program;
}

function rootCommand(): Command {
  return new Command("tesseras")
    .description(
      "Keep memories alive: erasure-coded, peer-to-peer, repaired under churn.",
    )
    .version(`tesseras ${VERSION} (${buildTarget()})`, "-V, --version")
    .option(
      "-d, --data-dir <dir>",
      "data directory (default: $TESSERAS_DATA_DIR or the platform's data dir)",
    )
    .addHelpText("after", `\n${exitStatusHelp()}`)
    .showHelpAfterError()
    .showSuggestionAfterError()
    .exitOverride();
}

// ---- the daemon and its data directory: start, verify ----

function addDaemonCommands(program: Command): void {
  addNatOptions(program.command("start"))
    .description("run a node until SIGINT or SIGTERM")
    .option("--listen <multiaddr...>", "addresses to listen on")
    .option("--bootstrap <multiaddr...>", "peers to join through")
    .option("--api <host:port>", "local API address (default 127.0.0.1:7431)")
    .option(
      "--bootstrap-mode",
      "run as a bootstrap node: persist and serve the routing table",
    )
    .option(
      "--stale-after <seconds>",
      "forget peers unseen for this long (default 7 days)",
      parseCount,
    )
    .option("--public-only", "keep only public addresses in the DHT")
    .option(
      "--repair-interval-ms <ms>",
      "time between repair sweeps (default 24 h)",
      parseCount,
    )
    .option(
      "--repair-jitter-ms <ms>",
      "random delay added to each sweep, up to this (default 1/12 of the interval: 2 h)",
      parseCount,
    )
    .option(
      "--steward-after <ms>",
      "owner silence before the holders look after its tessera (default 3 days)",
      parseCount,
    )
    .option(
      "--steward-grace <ms>",
      "a steward counts a silent holder's shards as gone after this (default 2 days)",
      parseCount,
    )
    .option(
      "--steward-rebuild-at <percent>",
      "a steward with no copy of an orphan rebuilds once this % of its parity shards is lost (default 50; 0: at the first loss)",
      parseCount,
    )
    .action(startNode);

  program.command("verify")
    .description(
      "check a stopped node's shard files against the database (exit 1 on any problem)",
    )
    .option("--repair", "remove unfinished writes and files without a row")
    .option("--json", "print JSON")
    .action(verifyNode);
}

interface StartOptions {
  listen?: string[];
  bootstrap?: string[];
  api?: string;
  bootstrapMode?: boolean;
  staleAfter?: number;
  publicOnly?: boolean;
  repairIntervalMs?: number;
  repairJitterMs?: number;
  stewardAfter?: number;
  stewardGrace?: number;
  stewardRebuildAt?: number;
  /** `--no-upnp`, `--no-mdns`, `--relay…` (see `addNatOptions`). */
  [nat: string]: unknown;
}

async function startNode(opts: StartOptions, cmd: Command): Promise<void> {
  await setupLogging();
  const config = await loadNodeConfig(dataDirOf(cmd), {
    listen: opts.listen,
    bootstrap: opts.bootstrap,
    api: opts.api,
    bootstrapMode: opts.bootstrapMode,
    staleAfterSeconds: opts.staleAfter,
    allowPrivateAddresses: opts.publicOnly ? false : undefined,
    repairIntervalMs: opts.repairIntervalMs,
    repairJitterMs: opts.repairJitterMs,
    stewardAfterMs: opts.stewardAfter,
    stewardGraceMs: opts.stewardGrace,
    stewardRebuildAtPercent: opts.stewardRebuildAt,
    nat: natFlagsOf(opts),
  });
  await runDaemon(config);
}

async function verifyNode(
  opts: JsonOption & { repair?: boolean },
  cmd: Command,
): Promise<void> {
  const report = await verifyDataDir(dataDirOf(cmd), { repair: opts.repair });
  const unrepaired = unrepairedCount(report);
  print(
    opts.json
      ? JSON.stringify({ ...report, inconsistencies: unrepaired })
      : formatVerifyReport(report),
  );
  if (unrepaired > 0) Deno.exitCode = EXIT_FAILURE;
}

// ---- the simulator ----

function addSimCommand(program: Command): void {
  const sim = program.command("sim")
    .description(
      "simulate many nodes in virtual time: placement, churn, repair, fairness",
    );
  for (const [flags, help] of SIM_OPTIONS) sim.option(flags, help);
  sim.action(async (opts) => {
    const code = await simCommand(opts);
    if (code !== 0) Deno.exitCode = code;
  });
}

// ---- this node on the network: id, peers ----

function addNetworkCommands(program: Command): void {
  program.command("id")
    .description(
      "print this node's peer id, listen addresses, reachability and the addresses others can dial",
    )
    .option("--json", "print JSON")
    .action(showId);

  program.command("peers")
    .description("list connected and known peers")
    .option("--json", "print JSON")
    .action(showPeers);
}

async function showId(opts: JsonOption, cmd: Command): Promise<void> {
  const body = await (await clientOf(cmd)).get<{
    peerId: string;
    addresses: string[];
    reachability?: string;
    dialableAddresses?: string[];
  }>("/v1/id");
  if (opts.json) return print(JSON.stringify(body));
  print([
    body.peerId,
    ...body.addresses,
    `reachability: ${body.reachability ?? "unknown"}`,
    ...(body.dialableAddresses ?? []).map((a) => `dialable: ${a}`),
  ].join("\n"));
}

async function showPeers(opts: JsonOption, cmd: Command): Promise<void> {
  const body = await (await clientOf(cmd)).get<
    { connected: Row[]; known: Row[] }
  >("/v1/peers");
  print(opts.json ? JSON.stringify(body) : formatPeers(body));
}

// ---- tesseras: put, get, status ----

function addTesseraCommands(program: Command): void {
  program.command("put")
    .description("store FILE as a tessera and print its id")
    .argument("<file>", "file to store (at most 1 GiB)")
    .option(
      "--private",
      "encrypt it first: holders store what they cannot read (`share ID` lets others read it)",
    )
    .option("--name <name>", "a name for it in this node's catalogue")
    .option(
      "--no-local-copy",
      "keep no copy in the data directory once enough shards are placed on peers to rebuild it",
    )
    .option("--json", "print JSON")
    .action(putFile);

  program.command("get")
    .description("retrieve tessera ID from the network into a file")
    .usage("<id> -o <file> [options] | --capability -o <file> [options]")
    .argument("[id]", "tessera id (not with --capability)")
    .requiredOption(
      "-o, --output <file>",
      "where to write the bytes (required; an existing file only with --force)",
    )
    .option(
      "--capability",
      "read a private tessera's read capability (tsr1…) from standard input",
    )
    .option("--force", "replace the output file if it exists")
    .option("--json", "print JSON")
    .action(getTessera);

  program.command("share")
    .description(
      "print the read capability (tsr1…) of one of this node's private tesseras",
    )
    .argument("<id>", "tessera id")
    .option("--json", "print JSON")
    .action(shareTessera);

  program.command("status")
    .description("health of one tessera, or of all")
    .argument("[id]", "tessera id")
    .option("--json", "print JSON")
    .action(showStatus);

  program.command("drop-local")
    .description(
      "remove the local copy of tessera ID, only while the network can rebuild it",
    )
    .argument("<id>", "tessera id")
    .option("--json", "print JSON")
    .action(dropLocal);
}

async function putFile(
  file: string,
  opts: JsonOption & { private?: boolean; name?: string; localCopy?: boolean },
  cmd: Command,
): Promise<void> {
  const path = resolve(file);
  await checkStorableFile(path, { shownAs: file });
  const bar = createProgress();
  const body = {
    path,
    private: opts.private === true,
    name: opts.name,
    localCopy: opts.localCopy !== false,
  };
  const result = await (await clientOf(cmd)).job<
    {
      id: string;
      size: number;
      tier: string;
      safety?: unknown;
      keptBecause?: string;
    }
  >("/v1/tesseras", body, { onProgress: (e) => bar.update(e) })
    .finally(() => bar.finish());
  if (opts.json) return print(JSON.stringify(result));
  print(result.id);
  // On standard error: `ID=$(tesseras put FILE)` keeps getting the id alone.
  const words = safetyWords(result.safety);
  if (words !== "") console.error(words);
  if (result.keptBecause) console.error(result.keptBecause);
}

async function dropLocal(
  id: string,
  opts: JsonOption,
  cmd: Command,
): Promise<void> {
  const result = await (await clientOf(cmd)).job<
    { id: string; dropped: boolean; provenShards?: number; dataShards?: number }
  >(`/v1/tesseras/${requireId(id)}/drop-local`, {});
  if (opts.json) return print(JSON.stringify(result));
  print(
    result.dropped
      ? `dropped the local copy of ${result.id}: live holders proved ${result.provenShards} shards, ${result.dataShards} rebuild it`
      : `no local copy of ${result.id} to drop`,
  );
}

async function getTessera(
  id: string | undefined,
  opts: JsonOption & { output: string; force?: boolean; capability?: boolean },
  cmd: Command,
): Promise<void> {
  const out = resolve(opts.output);
  const force = opts.force === true;
  const target = await getTarget(id, opts.capability === true);
  if (!force) await checkOutputFree(out, { shownAs: opts.output });
  const body = { ...target, out, force };
  const bar = createProgress();
  const result = await (await clientOf(cmd)).job<
    { id: string; size: number }
  >("/v1/retrieve", body, { onProgress: (e) => bar.update(e) })
    .finally(() => bar.finish());
  print(
    opts.json
      ? JSON.stringify({ ...result, output: out })
      : `wrote ${formatBytes(result.size)} to ${out}`,
  );
}

/** The id, or the id and key of a capability read from standard input. */
async function getTarget(
  id: string | undefined,
  fromStdin: boolean,
): Promise<{ id: string; key?: string }> {
  if (id !== undefined && looksLikeCapability(id)) {
    throw new TesserasError(
      "INVALID_INPUT",
      "a read capability is a secret and command lines are visible to others: pass it on standard input with `tesseras get --capability -o FILE`",
    );
  }
  if (!fromStdin) {
    if (id === undefined) {
      throw new TesserasError(
        "INVALID_INPUT",
        "get needs a tessera id, or --capability with the token on standard input",
      );
    }
    return { id: requireId(id) };
  }
  if (id !== undefined) {
    throw new TesserasError(
      "INVALID_INPUT",
      "give either a tessera id or --capability, not both",
    );
  }
  prompt("paste the read capability (tsr1…), then press Enter and Ctrl-D");
  const capability = parseCapability(await readStdin());
  return { id: capability.id, key: toHex(capability.key) };
}

async function shareTessera(
  id: string,
  opts: JsonOption,
  cmd: Command,
): Promise<void> {
  const body = await (await clientOf(cmd)).get<
    { id: string; capability: string }
  >(`/v1/share/${requireId(id)}`);
  print(opts.json ? JSON.stringify(body) : body.capability);
}

async function showStatus(
  id: string | undefined,
  opts: JsonOption,
  cmd: Command,
): Promise<void> {
  const path = id ? `/v1/tesseras/${requireId(id)}` : "/v1/tesseras";
  const body = await (await clientOf(cmd)).get(path);
  print(opts.json ? JSON.stringify(body) : formatStatus(body));
}

// ---- the recovery phrase: recovery-phrase, recover ----

function addKeyCommands(program: Command): void {
  program.command("recovery-phrase")
    .description(
      "print this node's 24-word recovery phrase (keep it on paper, never online)",
    )
    .option(
      "--shares <n>",
      "instead, print N share lines for heirs (with --threshold)",
      parseCount,
    )
    .option(
      "--threshold <k>",
      "share lines needed to recover (2 to N)",
      parseCount,
    )
    .option(
      "--rekey",
      "give a node created before recovery phrases a phrase and the identity derived from it (node stopped; its peer id changes, its tesseras stay)",
    )
    .action(showRecoveryPhrase);

  program.command("recover")
    .description(
      "make a new data directory the node of a recovery phrase read from standard input",
    )
    .option("--shares", "read share lines (one per line) instead of the phrase")
    .option("--json", "print JSON")
    .action(recoverNode);
}

async function showRecoveryPhrase(
  opts: { shares?: number; threshold?: number; rekey?: boolean },
  cmd: Command,
): Promise<void> {
  const dataDir = dataDirOf(cmd);
  if ((opts.shares === undefined) !== (opts.threshold === undefined)) {
    throw new TesserasError(
      "INVALID_INPUT",
      "--shares and --threshold go together, e.g. --shares 3 --threshold 2",
    );
  }
  let phrase: string;
  if (opts.rekey) {
    const done = await rekeyDataDir(dataDir);
    console.error(
      `re-keyed: peer id ${done.oldPeerId} is now ${done.peerId} (the old key is kept as identity.key.pre-phrase)`,
    );
    phrase = done.phrase;
  } else {
    phrase = await readRecoveryPhrase(dataDir);
  }
  if (opts.shares === undefined || opts.threshold === undefined) {
    return print(phrase);
  }
  const lines = await splitPhrase(parsePhrase(phrase), {
    shares: opts.shares,
    threshold: opts.threshold,
  });
  console.error(
    `${opts.shares} share lines; any ${opts.threshold} of them recover the phrase (give each heir one line):`,
  );
  print(lines.join("\n"));
}

async function recoverNode(
  opts: JsonOption & { shares?: boolean },
  cmd: Command,
): Promise<void> {
  const dataDir = dataDirOf(cmd);
  prompt(
    opts.shares
      ? "type or paste the share lines, one per line, then press Ctrl-D"
      : `type or paste the ${PHRASE_WORDS} words, then press Ctrl-D`,
  );
  const text = await readStdin();
  // Everything is checked before the data directory is touched.
  const entropy = opts.shares
    ? await combineShares(
      text.split("\n").filter((line) => normaliseWords(line).length > 0),
    )
    : parsePhrase(text);
  const { peerId } = await recoverDataDir(dataDir, entropy);
  entropy.fill(0);
  print(
    opts.json
      ? JSON.stringify({ dataDir, peerId })
      : `recovered node ${peerId} in ${dataDir}: start it with \`tesseras start\``,
  );
}

/** All of standard input as text. */
async function readStdin(): Promise<string> {
  return await new Response(Deno.stdin.readable).text();
}

/** A hint on standard error, only when a person types at a terminal. */
function prompt(text: string): void {
  if (Deno.stdin.isTerminal()) console.error(text);
}

// ---- fairness and upkeep: ledger, repair ----

function addLedgerCommand(program: Command): void {
  program.command("ledger")
    .description("the reciprocity ledger: bytes stored for and by each peer")
    .option("--json", "print JSON")
    .action(async (opts: JsonOption, cmd: Command) => {
      const rows = await (await clientOf(cmd)).get<Row[]>("/v1/ledger");
      print(opts.json ? JSON.stringify(rows) : formatLedger(rows));
    });
}

function addRepairCommand(program: Command): void {
  program.command("repair")
    .description("check and repair one tessera, or all, now")
    .argument("[id]", "tessera id")
    .option("--json", "print JSON")
    .action(repairNow);
}

async function repairNow(
  id: string | undefined,
  opts: JsonOption,
  cmd: Command,
): Promise<void> {
  const body = id ? { id: requireId(id) } : {};
  const bar = createProgress();
  const report = await (await clientOf(cmd)).job<Row>("/v1/repair", body, {
    onProgress: (e) => bar.update(e),
  }).finally(() => bar.finish());
  print(opts.json ? JSON.stringify(report) : formatRepairReport(report));
}

/** Runs the command line, mapping errors to exit statuses. */
async function main(args: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(args, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      Deno.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    if (isTesserasError(err)) {
      console.error(`error: ${err.message}`);
      Deno.exit(exitCodeFor(err.code));
    }
    console.error(`error: ${err instanceof Error ? err.message : err}`);
    Deno.exit(EXIT_FAILURE);
  }
}

if (import.meta.main) await main(Deno.args);
