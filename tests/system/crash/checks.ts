/**
 * Consistency checks on a stopped node's data directory, run after every
 * kill: `tesseras verify` as a user runs it, then an independent look at
 * the same files — every listed fragment against its file, every file in
 * the fragment directory, every blob against its id, and the reciprocity
 * ledger against the fragments actually held.
 *
 * @module
 */
import { join } from "node:path";
import { blake3Hex } from "../../../lib/codec/mod.ts";
import {
  FsFragmentStore,
  type LedgerReconciliation,
  openDatabase,
  type ScanReport,
  SqliteReciprocityLedger,
} from "../../../lib/storage/mod.ts";
import { PROBE_BYTES } from "../../../lib/replication/probe.ts";
import { runTesseras } from "../daemon_process.ts";

/** Kinds of verify issues that are the designed residue of a crash. */
export const RESIDUE_KINDS: ReadonlySet<string> = new Set([
  "stray_temp",
  "orphan_file",
]);

/** One problem found on disk. */
export interface Finding {
  /** What kind of problem. */
  readonly kind:
    | "verify_issue"
    | "verify_failed"
    | "listed_fragment_broken"
    | "unexpected_file"
    | "ledger_mismatch"
    | "ledger_total_mismatch"
    | "unattributed_fragment"
    | "sender_mismatch"
    | "blob_corrupt"
    | "restart_failed"
    | "residue_not_cleaned";
  /** The file, peer or tessera concerned. */
  readonly subject: string;
  /** What was found. */
  readonly detail: string;
  /**
   * Identity of the problem across checks: the same key after the next
   * kill means the same (persisting) problem, not a new one.
   */
  readonly key: string;
  /** Ledger findings: credited minus held bytes (negative: uncredited). */
  readonly difference?: number;
}

/** `tesseras verify --json`'s output: the scan, the ledger check, the count. */
export type VerifyJson = ScanReport & {
  readonly ledger?: LedgerReconciliation;
  readonly inconsistencies?: number;
};

/** What `tesseras verify --json` said. */
export interface VerifyOutcome {
  /** Exit status. */
  readonly code: number;
  /** The parsed report, when the output was JSON. */
  readonly report: VerifyJson | null;
  /** Issues that are crash residue (stray temp files, files without a row). */
  readonly residue: { kind: string; path: string }[];
  /** Everything else: real inconsistencies. */
  readonly findings: Finding[];
  /** Wall time of the command, ms. */
  readonly ms: number;
}

/**
 * Runs `tesseras verify --data-dir dir --json` (a separate process, as a
 * user would) and splits its issues into crash residue and findings; every
 * ledger correction it reports is a finding. The exit status must be 0
 * when it reports nothing and 1 otherwise (residue counts: a killed
 * daemon's directory is checked before the restart that removes it).
 */
export async function runVerify(dataDir: string): Promise<VerifyOutcome> {
  const t0 = performance.now();
  const out = await runTesseras(["verify", "--data-dir", dataDir, "--json"]);
  const ms = performance.now() - t0;
  let report: VerifyJson | null = null;
  try {
    report = JSON.parse(out.stdout) as VerifyJson;
  } catch {
    report = null;
  }
  if (report === null) {
    return {
      code: out.code,
      report,
      residue: [],
      findings: [{
        kind: "verify_failed",
        subject: dataDir,
        detail: `exit ${out.code}, no JSON report: ${out.stderr.slice(0, 800)}`,
        key: `verify_failed:${performance.now()}`,
      }],
      ms,
    };
  }
  const residue: { kind: string; path: string }[] = [];
  const findings: Finding[] = [];
  for (const issue of report.issues) {
    if (RESIDUE_KINDS.has(issue.kind)) {
      residue.push({ kind: issue.kind, path: issue.path });
    } else {
      findings.push({
        kind: "verify_issue",
        subject: issue.path,
        detail: `${issue.kind}: ${issue.detail}`,
        key: `verify:${issue.kind}:${issue.path}:${issue.detail}`,
      });
    }
  }
  const corrections = report.ledger?.corrections ?? [];
  for (const c of corrections) {
    findings.push({
      kind: "verify_issue",
      subject: c.peerId,
      detail:
        `ledger_mismatch: credited ${c.before} bytes, shards held from it total ${c.attributedBytes}`,
      key: `verify:ledger:${c.peerId}:${c.before - c.attributedBytes}`,
      difference: c.before - c.attributedBytes,
    });
  }
  if (report.ledger === undefined) {
    findings.push({
      kind: "verify_failed",
      subject: dataDir,
      detail: "verify --json printed no ledger check",
      key: "verify_no_ledger",
    });
  }
  const reported = report.issues.length + corrections.length;
  const expectedCode = reported === 0 ? 0 : 1;
  if (out.code !== expectedCode || report.inconsistencies !== reported) {
    findings.push({
      kind: "verify_failed",
      subject: dataDir,
      detail:
        `exit ${out.code}, "inconsistencies": ${report.inconsistencies}, with ${report.issues.length} issues and ${corrections.length} ledger corrections: ${
          out.stderr.slice(0, 400)
        }`,
      key: `verify_exit:${out.code}:${report.inconsistencies}:${reported}`,
    });
  }
  return { code: out.code, report, residue, findings, ms };
}

/**
 * The sender a probe's fragment records (lib/replication/probe.ts): a
 * holder's random shard of at most `PROBE_BYTES`, which no caller pushed
 * and so none can attribute; its row's sender must still match the
 * ledger. `undefined` for anything else.
 */
function probeSender(
  f: { readonly sizeBytes: number; readonly sender?: string | null },
): string | undefined {
  return f.sizeBytes <= PROBE_BYTES && f.sender ? f.sender : undefined;
}

/** Options of {@linkcode inspectDataDir}. */
export interface InspectOptions {
  /**
   * The peer that pushed a tessera's fragments, as the caller knows it
   * (checked against the sender each row records, migration 004).
   * Fragments it cannot attribute are reported as `unattributed_fragment`
   * unless `allowUnattributed`.
   */
  readonly senderOf?: (tesseraId: string) => string | undefined;
  /** Do not report fragments `senderOf` cannot attribute. */
  readonly allowUnattributed?: boolean;
  /** Recompute every listed shard's BLAKE3 (default true). */
  readonly hashShards?: boolean;
}

/** What {@linkcode inspectDataDir} found. */
export interface Inspection {
  /** Fragments listed by `FsFragmentStore.list`. */
  readonly listed: number;
  /** Their total size, bytes. */
  readonly listedBytes: number;
  /** Temp files in the fragment directory (never listed). */
  readonly tempFiles: string[];
  /** Shard files without a row (never listed). */
  readonly orphanFiles: string[];
  /** Blobs whose bytes hash to their id. */
  readonly blobs: number;
  /** Ledger rows: peer → bytes stored for them / they store for us. */
  readonly ledger: Map<string, { storedForThem: number; theyStore: number }>;
  /** Bytes of held fragments per attributed sender. */
  readonly heldBySender: Map<string, number>;
  /**
   * Owner side, per peer: bytes of our shards the holder registry says
   * the peer holds (holder records × shard size).
   */
  readonly placedOnPeer: Map<string, number>;
  /** Problems. */
  readonly findings: Finding[];
}

const SHARD_NAME = /^\d{3}\.shard$/;
/** A shard's outboard (docs/proofs.md), beside it. */
const OUTBOARD_NAME = /^\d{3}\.obao$/;
const TEMP_NAME = /\.tmp-[0-9a-f]{16}$/;
const BLOB_NAME = /^([0-9a-f]{64})\.blob$/;

async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return out;
}

/**
 * Looks at a stopped node's data directory through `FsFragmentStore` and
 * the raw files: every listed fragment must be a regular `NNN.shard` file
 * of the row's size and BLAKE3; every other file must be crash residue
 * (a temp file or a shard file without a row); every blob must hash to its
 * id; and for each sender the ledger's `bytes_stored_for_them` must equal
 * the bytes of the fragments held from it, and over all peers the total
 * must equal the bytes held.
 */
export async function inspectDataDir(
  dataDir: string,
  options: InspectOptions = {},
): Promise<Inspection> {
  const findings: Finding[] = [];
  const fragmentsRoot = join(dataDir, "fragments");
  const db = await openDatabase(join(dataDir, "db", "tesseras.db"));
  try {
    const store = new FsFragmentStore(db, { root: fragmentsRoot });
    const stored = await store.listStored();
    const rows = new Set<string>();
    const heldBySender = new Map<string, number>();
    let listedBytes = 0;
    for (const f of stored) {
      const path = store.shardPath(f.tesseraId, f.index);
      rows.add(path);
      listedBytes += f.sizeBytes;
      const name = path.slice(path.lastIndexOf("/") + 1);
      let problem: string | null = null;
      try {
        const st = await Deno.lstat(path);
        if (!st.isFile) problem = "listed path is not a regular file";
        else if (!SHARD_NAME.test(name) || TEMP_NAME.test(name)) {
          problem = "listed path is not a shard file name";
        } else if (st.size !== f.sizeBytes) {
          problem = `file has ${st.size} bytes, row says ${f.sizeBytes}`;
        } else if (options.hashShards ?? true) {
          const sum = blake3Hex(await Deno.readFile(path));
          if (sum !== f.checksum) {
            problem = `BLAKE3 ${sum} differs from the row's ${f.checksum}`;
          }
        }
      } catch (err) {
        problem = err instanceof Deno.errors.NotFound
          ? "listed fragment has no file"
          : `cannot check: ${err}`;
      }
      if (problem) {
        findings.push({
          kind: "listed_fragment_broken",
          subject: path,
          detail: problem,
          key: `listed:${path}:${problem}`,
        });
      }
      const sender = options.senderOf?.(f.tesseraId) ?? probeSender(f);
      if (sender !== undefined) {
        heldBySender.set(sender, (heldBySender.get(sender) ?? 0) + f.sizeBytes);
        if (f.sender !== sender) {
          findings.push({
            kind: "sender_mismatch",
            subject: `${f.tesseraId}/${f.index}`,
            detail: `row records sender ${f.sender}; ${sender} pushed it`,
            key: `sender:${f.tesseraId}/${f.index}:${f.sender}`,
          });
        }
      } else if (options.senderOf && !options.allowUnattributed) {
        findings.push({
          kind: "unattributed_fragment",
          subject: `${f.tesseraId}/${f.index}`,
          detail: "held fragment of a tessera no known sender pushed",
          key: `unattributed:${f.tesseraId}/${f.index}`,
        });
      }
    }

    // Everything on disk that is not a listed shard must be residue.
    const tempFiles: string[] = [];
    const orphanFiles: string[] = [];
    for (const top of await listDir(fragmentsRoot)) {
      const p = join(fragmentsRoot, top.name);
      if (top.isFile && TEMP_NAME.test(top.name)) {
        tempFiles.push(p);
        continue;
      }
      if (!top.isDirectory || !/^[0-9a-f]{64}$/.test(top.name)) {
        findings.push({
          kind: "unexpected_file",
          subject: p,
          detail: "not a tessera directory",
          key: `unexpected:${p}`,
        });
        continue;
      }
      for (const e of await listDir(p)) {
        const fp = join(p, e.name);
        if (e.isFile && TEMP_NAME.test(e.name)) tempFiles.push(fp);
        else if (e.isFile && SHARD_NAME.test(e.name)) {
          if (!rows.has(fp)) orphanFiles.push(fp);
        } else if (e.isFile && OUTBOARD_NAME.test(e.name)) {
          if (!rows.has(fp.replace(/\.obao$/, ".shard"))) orphanFiles.push(fp);
        } else {
          findings.push({
            kind: "unexpected_file",
            subject: fp,
            detail: "neither a shard nor a temp file",
            key: `unexpected:${fp}`,
          });
        }
      }
    }

    // Blobs: each must be whole (hash to its id); temp files are residue.
    let blobs = 0;
    for (const e of await listDir(join(dataDir, "blobs"))) {
      const m = BLOB_NAME.exec(e.name);
      if (!m) continue;
      const sum = blake3Hex(
        await Deno.readFile(join(dataDir, "blobs", e.name)),
      );
      if (sum !== m[1]) {
        findings.push({
          kind: "blob_corrupt",
          subject: join(dataDir, "blobs", e.name),
          detail: `listed blob hashes to ${sum}`,
          key: `blob:${e.name}:${sum}`,
        });
      } else blobs++;
    }

    // The ledger against what is held.
    const ledger = new Map<
      string,
      { storedForThem: number; theyStore: number }
    >();
    let ledgerTotal = 0;
    for (const row of await new SqliteReciprocityLedger(db).list()) {
      ledger.set(row.peerId, {
        storedForThem: row.bytesStoredForThem,
        theyStore: row.bytesTheyStoreForUs,
      });
      ledgerTotal += row.bytesStoredForThem;
    }
    if (options.senderOf) {
      const peers = new Set([...heldBySender.keys()]);
      for (const [peer, row] of ledger) {
        if (row.storedForThem !== 0) peers.add(peer);
      }
      for (const peer of peers) {
        const held = heldBySender.get(peer) ?? 0;
        const credited = ledger.get(peer)?.storedForThem ?? 0;
        if (held !== credited) {
          findings.push({
            kind: "ledger_mismatch",
            subject: peer,
            detail:
              `ledger says we store ${credited} bytes for this peer; its fragments held total ${held} bytes (difference ${
                credited - held
              })`,
            key: `ledger:${peer}:${credited - held}`,
            difference: credited - held,
          });
        }
      }
    }
    if (ledgerTotal !== listedBytes) {
      findings.push({
        kind: "ledger_total_mismatch",
        subject: dataDir,
        detail:
          `sum of bytes_stored_for_them is ${ledgerTotal}; fragments held total ${listedBytes} bytes`,
        key: `ledger_total:${ledgerTotal - listedBytes}`,
        difference: ledgerTotal - listedBytes,
      });
    }

    // Owner side: what the holder registry says each peer holds for us.
    const placedOnPeer = new Map<string, number>();
    const placed = db.prepare(
      `SELECT h.peer_id AS peer, SUM(p.shard_size) AS bytes
       FROM holder_fragments h JOIN fragment_plans p USING (tessera_id)
       GROUP BY h.peer_id`,
    ).all() as { peer: string; bytes: number }[];
    for (const r of placed) placedOnPeer.set(String(r.peer), Number(r.bytes));

    return {
      listed: stored.length,
      listedBytes,
      tempFiles,
      orphanFiles,
      blobs,
      ledger,
      heldBySender,
      placedOnPeer,
      findings,
    };
  } finally {
    db.close();
  }
}
