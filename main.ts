/**
 * The `tesseras` command line: parses, calls `lib/node` or `sim/`, prints.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { resolve } from "node:path";
import {
  isTesseraId,
  isTesserasError,
  MAX_TESSERA_SIZE,
  TesserasError,
} from "./lib/core/mod.ts";
import {
  ApiClient,
  buildTarget,
  createProgress,
  EXIT_FAILURE,
  EXIT_USAGE,
  exitCodeFor,
  formatBytes,
  formatTable,
  loadNodeConfig,
  resolveDataDir,
  runDaemon,
  setupLogging,
  verifyDataDir,
  VERSION,
} from "./lib/node/mod.ts";
import { SIM_OPTIONS, simCommand } from "./sim/mod.ts";

interface GlobalOptions {
  dataDir?: string;
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

function parseNonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError("expected a non-negative integer");
  }
  return n;
}

function requireId(id: string): string {
  if (!isTesseraId(id)) {
    throw new TesserasError(
      "INVALID_ID",
      `"${id}" is not a tessera id (64 lowercase hex characters)`,
    );
  }
  return id;
}

type Row = Record<string, unknown>;

function printStatus(body: unknown): void {
  const rows = (Array.isArray(body) ? body : [body]) as Row[];
  if (rows.length === 0) {
    print("no tesseras yet: add one with `tesseras put FILE`");
    return;
  }
  print(formatTable(
    ["tessera", "tier", "size", "shards", "live", "lost", "holders", "health"],
    rows.map((r) => [
      String(r.id ?? ""),
      String(r.tier ?? ""),
      formatBytes(Number(r.size ?? 0)),
      String(r.shardCount ?? ""),
      String(r.liveShards ?? ""),
      String(r.lostShards ?? ""),
      String(r.holderCount ?? ""),
      String(r.health ?? ""),
    ]),
  ));
}

/** Builds the command tree; exported for tests. */
export function buildProgram(): Command {
  const program = new Command("tesseras")
    .description(
      "Keep memories alive: erasure-coded, peer-to-peer, repaired under churn.",
    )
    .version(`tesseras ${VERSION} (${buildTarget()})`, "-V, --version")
    .option(
      "-d, --data-dir <dir>",
      "data directory (default: $TESSERAS_DATA_DIR or the platform's data dir)",
    )
    .showHelpAfterError()
    .showSuggestionAfterError()
    .exitOverride();

  program.command("start")
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
      parseNonNegative,
    )
    .option("--public-only", "keep only public addresses in the DHT")
    .action(async (opts, cmd) => {
      await setupLogging();
      const config = await loadNodeConfig(dataDirOf(cmd), {
        listen: opts.listen,
        bootstrap: opts.bootstrap,
        api: opts.api,
        bootstrapMode: opts.bootstrapMode,
        staleAfterSeconds: opts.staleAfter,
        allowPrivateAddresses: opts.publicOnly ? false : undefined,
      });
      await runDaemon(config);
    });

  program.command("verify")
    .description(
      "check a stopped node's shard files against the database (exit 1 on any problem)",
    )
    .option("--repair", "remove unfinished writes and files without a row")
    .option("--json", "print JSON")
    .action(async (opts, cmd) => {
      const report = await verifyDataDir(dataDirOf(cmd), {
        repair: opts.repair,
      });
      const unrepaired = report.issues.filter((i) => !i.repaired).length +
        (report.ledger.repaired ? 0 : report.ledger.corrections.length);
      if (opts.json) {
        print(JSON.stringify({ ...report, inconsistencies: unrepaired }));
      } else {
        print(
          `checked ${report.rowsChecked} rows and ${report.filesSeen} files (${
            formatBytes(report.bytesHashed)
          } hashed) and ${report.ledger.peersChecked} ledger rows: ${unrepaired} inconsistencies`,
        );
        for (const issue of report.issues) {
          print(
            `${issue.kind}: ${issue.path}: ${issue.detail}${
              issue.repaired ? " (repaired)" : ""
            }`,
          );
        }
        for (const c of report.ledger.corrections) {
          print(
            `ledger_mismatch: ${c.peerId}: credited ${c.before} bytes, shards held from it total ${c.attributedBytes}${
              report.ledger.repaired ? ` (corrected to ${c.after})` : ""
            }`,
          );
        }
      }
      if (unrepaired > 0) Deno.exitCode = EXIT_FAILURE;
    });

  const sim = program.command("sim")
    .description(
      "simulate many nodes in virtual time: placement, churn, repair, fairness",
    );
  for (const [flags, help] of SIM_OPTIONS) sim.option(flags, help);
  sim.action(async (opts) => {
    const code = await simCommand(opts);
    if (code !== 0) Deno.exitCode = code;
  });

  program.command("id")
    .description("print this node's peer id and listen addresses")
    .option("--json", "print JSON")
    .action(async (opts, cmd) => {
      const body = await (await clientOf(cmd)).get<
        { peerId: string; addresses: string[] }
      >("/v1/id");
      if (opts.json) return print(JSON.stringify(body));
      print(body.peerId);
      for (const addr of body.addresses) print(addr);
    });

  program.command("peers")
    .description("list connected and known peers")
    .option("--json", "print JSON")
    .action(async (opts, cmd) => {
      const body = await (await clientOf(cmd)).get<
        {
          connected: Row[];
          known: Row[];
        }
      >("/v1/peers");
      if (opts.json) return print(JSON.stringify(body));
      print(`connected: ${body.connected.length}`);
      print(formatTable(
        ["peer", "address"],
        body.connected.map((p) => [String(p.peerId), String(p.address ?? "")]),
      ));
      print(`\nknown: ${body.known.length}`);
      print(formatTable(
        ["peer", "addresses", "last seen"],
        body.known.map((p) => [
          String(p.peerId),
          String((p.multiaddrs as string[] | undefined)?.length ?? 0),
          new Date(Number(p.lastSeen) * 1000).toISOString(),
        ]),
      ));
    });

  program.command("put")
    .description("store FILE as a tessera and print its id")
    .argument("<file>", "file to store (at most 1 GiB)")
    .option("--json", "print JSON")
    .action(async (file: string, opts, cmd) => {
      const path = resolve(file);
      const info = await Deno.stat(path).catch((err) => {
        throw new TesserasError("NOT_FOUND", `cannot read ${file}: ${err}`);
      });
      if (!info.isFile) {
        throw new TesserasError("INVALID_INPUT", `${file} is not a file`);
      }
      if (info.size > MAX_TESSERA_SIZE) {
        throw new TesserasError(
          "TOO_LARGE",
          `${file} is ${
            formatBytes(info.size)
          }; a tessera holds at most 1 GiB: split it first`,
        );
      }
      const bar = createProgress();
      const result = await (await clientOf(cmd)).job<
        { id: string; size: number; tier: string }
      >("/v1/tesseras", { path }, { onProgress: (e) => bar.update(e) })
        .finally(() => bar.finish());
      print(opts.json ? JSON.stringify(result) : result.id);
    });

  program.command("get")
    .description("retrieve tessera ID from the network into a file")
    .argument("<id>", "tessera id")
    .requiredOption("-o, --output <file>", "where to write the bytes")
    .option("--json", "print JSON")
    .action(async (id: string, opts, cmd) => {
      const out = resolve(opts.output);
      const body = { id: requireId(id), out };
      const result = await (await clientOf(cmd)).job<
        { id: string; size: number }
      >("/v1/retrieve", body);
      print(
        opts.json
          ? JSON.stringify({ ...result, output: out })
          : `wrote ${formatBytes(result.size)} to ${out}`,
      );
    });

  program.command("status")
    .description("health of one tessera, or of all")
    .argument("[id]", "tessera id")
    .option("--json", "print JSON")
    .action(async (id: string | undefined, opts, cmd) => {
      const path = id ? `/v1/tesseras/${requireId(id)}` : "/v1/tesseras";
      const body = await (await clientOf(cmd)).get(path);
      if (opts.json) return print(JSON.stringify(body));
      printStatus(body);
    });

  program.command("ledger")
    .description("the reciprocity ledger: bytes stored for and by each peer")
    .option("--json", "print JSON")
    .action(async (opts, cmd) => {
      const rows = await (await clientOf(cmd)).get<Row[]>("/v1/ledger");
      if (opts.json) return print(JSON.stringify(rows));
      print(formatTable(
        ["peer", "stored for them", "they store for us", "balance", "inst."],
        rows.map((r) => [
          String(r.peerId),
          formatBytes(Number(r.bytesStoredForThem)),
          formatBytes(Number(r.bytesTheyStoreForUs)),
          formatBytes(Number(r.balance)),
          r.institutional ? "yes" : "",
        ]),
      ));
    });

  program.command("repair")
    .description("check and repair one tessera, or all, now")
    .argument("[id]", "tessera id")
    .option("--json", "print JSON")
    .action(async (id: string | undefined, opts, cmd) => {
      const body = id ? { id: requireId(id) } : {};
      const report = await (await clientOf(cmd)).job<Row>("/v1/repair", body);
      if (opts.json) return print(JSON.stringify(report));
      print(formatRepairReport(report));
    });

  return program;
}

function formatRepairReport(report: Row): string {
  const items = (report.tesseras ?? []) as Row[];
  const lines = items.map((t) =>
    `${t.id}: ${t.before} -> ${t.after}` +
    (Number(t.rebuiltShards ?? 0) > 0
      ? ` (rebuilt ${t.rebuiltShards} shards, placed on ${t.newHolders} peers)`
      : "")
  );
  return [`checked ${items.length} tesseras`, ...lines].join("\n");
}

if (import.meta.main) {
  const program = buildProgram();
  try {
    await program.parseAsync(Deno.args, { from: "user" });
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
