/**
 * The crash harness: `kill -9` real `tesseras start` daemons at random
 * moments — the receiver while in-process libp2p peers push fragments to
 * it, the owner while it puts a tessera onto holder daemons and while it
 * repairs one — and after each kill check the victim's data directory
 * (`tesseras verify`, listed fragments against files, blobs against ids,
 * the ledger against the fragments held per sender), restart it on the
 * same directory and go on. Used by `scripts/crash_harness.ts` (long
 * run) and `tests/system/crash/crash_test.ts` (short run).
 *
 * @module
 */
import { join } from "node:path";
import { seededRng } from "../../../lib/memory/mod.ts";
import {
  type Finding,
  inspectDataDir,
  type Inspection,
  runVerify,
} from "./checks.ts";
import { freePort, job, ManagedDaemon, waitConnected } from "./cluster.ts";
import {
  fmtBytes,
  putAndKill,
  receiveAndKill,
  repairAndKill,
  victimOf,
} from "./scenarios.ts";
import { FragmentSender, randomBytes } from "./sender.ts";
import type { HarnessFinding, HarnessSummary, Run, Scenario } from "./state.ts";

export type {
  HarnessFinding,
  HarnessSummary,
  Scenario,
  ScenarioCounts,
} from "./state.ts";

/** Options of {@linkcode runCrashHarness}. */
export interface HarnessOptions {
  /** Kills of a victim (one per iteration). Default 105. */
  readonly iterations?: number;
  /** Seed of the schedule: scenario order, delays, sizes. Default 1. */
  readonly seed?: number;
  /** Holder daemons the owner puts onto. Default 4. */
  readonly holders?: number;
  /** In-process peers pushing fragments to the receiver. Default 3. */
  readonly senders?: number;
  /** Third octet of the first loopback address (127.0.N.1). Default 200. */
  readonly ipBase?: number;
  /** Keep the temp directory (for a post-mortem). */
  readonly keep?: boolean;
  /** Stop early (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

const MIB = 1024 * 1024;

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function emptySummary(seed: number, iterations: number): HarnessSummary {
  const counts = () => ({
    kills: 0,
    beforePush: 0,
    duringPush: 0,
    afterFinish: 0,
  });
  return {
    seed,
    iterations,
    kills: 0,
    bystanderKills: 0,
    restarts: 0,
    byScenario: { receive: counts(), put: counts(), repair: counts() },
    pushes: { sent: 0, accepted: 0, refused: {}, cut: 0, rePushed: 0 },
    operations: { putsFinished: 0, repairsFinished: 0 },
    residue: {
      strayTemp: 0,
      orphanFiles: 0,
      cleanedAtRestart: 0,
      survivingRestart: 0,
      verifyExit1ResidueOnly: 0,
    },
    findings: [],
    repeatedFindings: 0,
    finalStores: {},
    crossLedger: [],
    timing: { total: 0, meanIteration: 0, meanRestart: 0, meanVerify: 0 },
  };
}

/**
 * Runs the harness. Resolves with the figures (never rejects on an
 * inconsistency: they are in `findings`); rejects only when the set-up
 * itself fails. Every process is killed and the temp directory removed
 * (unless `keep`) on the way out, whatever happens.
 *
 * @example
 * ```ts
 * const summary = await runCrashHarness({ iterations: 5, seed: 7 });
 * if (summary.findings.length > 0) Deno.exit(1);
 * ```
 */
export async function runCrashHarness(
  options: HarnessOptions = {},
): Promise<HarnessSummary> {
  const iterations = options.iterations ?? 105;
  const seed = options.seed ?? 1;
  const nHolders = options.holders ?? 4;
  const nSenders = options.senders ?? 3;
  const base = options.ipBase ?? 200;
  const log = options.log ?? (() => {});
  const t0 = performance.now();
  const root = await Deno.makeTempDir({ prefix: "tesseras-crash-" });
  // Victims store for strangers who store nothing for them: no deficit
  // refusals, so every refusal seen is a real one.
  const env = { TESSERAS_DEFICIT_TOLERANCE: String(8 * 1024 * MIB) };
  const ipOf = (k: number) => `127.0.${base + k}.1`;
  const daemon = (name: string, k: number, args: string[] = []) =>
    new ManagedDaemon(name, {
      dataDir: join(root, name),
      listen: `/ip4/${ipOf(k)}/tcp/${freePort(ipOf(k))}`,
      args,
      env,
    });
  const summary = emptySummary(seed, iterations);
  const run: Run = {
    rng: seededRng(seed),
    log,
    root,
    receiver: daemon("receiver", 0),
    owner: daemon("owner", 1),
    holders: [],
    senders: [],
    senderOf: new Map(),
    unsure: new Map(),
    summary,
    seenFindings: new Set(),
    residueBefore: new Map(),
    firstPushMs: { put: 300, repair: 150 },
    restartMs: [],
    verifyMs: [],
    nextHolder: 0,
  };
  try {
    log(`crash harness: seed ${seed}, ${iterations} kills, root ${root}`);
    await run.receiver.start();
    await run.owner.start();
    for (let k = 0; k < nHolders; k++) {
      run.holders.push(
        daemon(`holder${k + 1}`, 2 + k, ["--bootstrap", run.owner.multiaddr]),
      );
    }
    await Promise.all(run.holders.map((h) => h.start()));
    for (let s = 0; s < nSenders; s++) {
      const sender = await FragmentSender.start({ ip: ipOf(2 + nHolders + s) });
      run.senders.push(sender);
      run.unsure.set(sender.peerId, []);
    }
    await warmUp(run);

    const cycle: Scenario[] = ["receive", "put", "repair"];
    for (let i = 1; i <= iterations; i++) {
      if (options.signal?.aborted) {
        log("stopped early");
        break;
      }
      const t = performance.now();
      const scenario = cycle[(i - 1) % cycle.length];
      const victim = victimOf(run, scenario);
      if (!victim.proc) await restart(run, victim, i, scenario);
      if (!victim.proc) break;
      const outcome = scenario === "receive"
        ? await receiveAndKill(run)
        : scenario === "put"
        ? await putAndKill(run, i)
        : await repairAndKill(run, (h) => checkHolder(run, h, i, "repair"));
      await victim.reap();
      summary.kills++;
      summary.byScenario[scenario].kills++;
      summary.byScenario[scenario][outcome.phase]++;
      const found = await checkDir(run, victim, {
        iteration: i,
        scenario,
        trackResidue: true,
      });
      // Restart at once: the next kill of this victim finds it up.
      await restart(run, victim, i, scenario);
      if (victim.proc) await checkResidueCleaned(run, victim, i, scenario);
      log(
        `#${i} ${scenario}: ${outcome.line}; ${found} (${
          Math.round(performance.now() - t)
        } ms)`,
      );
    }
    await finalChecks(run);
  } finally {
    await teardown(run);
    if (!options.keep) {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    } else log(`kept ${root}`);
    summary.timing.total = performance.now() - t0;
    summary.timing.meanIteration = summary.kills > 0
      ? summary.timing.total / summary.kills
      : 0;
    summary.timing.meanRestart = mean(run.restartMs);
    summary.timing.meanVerify = mean(run.verifyMs);
  }
  return summary;
}

/** Puts two tesseras and repairs one without kills. */
async function warmUp(run: Run): Promise<void> {
  const { owner, holders, log } = run;
  await waitConnected(owner, holders.map((h) => h.peerId), 20_000);
  for (const size of [512 * 1024, 5 * MIB]) {
    const file = join(run.root, `warmup-${size}.bin`);
    await Deno.writeFile(file, randomBytes(size));
    const t = performance.now();
    const out = await job(owner, "/v1/tesseras", { path: file });
    if (out.kind !== "result" || Number(out.result.placed) === 0) {
      throw new Error(`warm-up put failed: ${JSON.stringify(out)}`);
    }
    log(
      `warm-up put ${size} bytes: ${
        Math.round(performance.now() - t)
      } ms, placed ${out.result.placed}`,
    );
  }
  const r = await repairAndKill(
    run,
    (h) => checkHolder(run, h, 0, "setup"),
    true,
  );
  log(r.line);
}

async function restart(
  run: Run,
  victim: ManagedDaemon,
  iteration: number,
  scenario: HarnessFinding["scenario"],
): Promise<void> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      run.restartMs.push(await victim.start());
      run.summary.restarts++;
      return;
    } catch (e) {
      run.summary.findings.push({
        kind: "restart_failed",
        subject: victim.dataDir,
        detail: `attempt ${attempt}: ${String(e).slice(0, 1500)}`,
        key: `restart:${iteration}:${attempt}`,
        iteration,
        daemon: victim.name,
        scenario,
      });
    }
  }
}

/**
 * The daemon removes crash residue at start (`recoverAfterCrash`): every
 * temp file and shard file without a row seen after the kill must be gone
 * once the restarted daemon answers `/health`. Nothing writes to the
 * victim between the check and this look (senders and operations are
 * idle), so a path still there is residue the start left behind.
 */
async function checkResidueCleaned(
  run: Run,
  d: ManagedDaemon,
  iteration: number,
  scenario: HarnessFinding["scenario"],
): Promise<void> {
  const seen = run.residueBefore.get(d.name);
  if (!seen) return;
  for (const p of seen) {
    let present = true;
    try {
      await Deno.lstat(p);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) present = false;
      else throw e;
    }
    if (!present) {
      run.summary.residue.cleanedAtRestart++;
      continue;
    }
    run.summary.residue.survivingRestart++;
    const f = {
      kind: "residue_not_cleaned" as const,
      subject: p,
      detail: "crash residue still present after the daemon restarted",
      key: `residue:${p}`,
    };
    const key = `${d.name}|${f.key}`;
    if (run.seenFindings.has(key)) {
      run.summary.repeatedFindings++;
      continue;
    }
    run.seenFindings.add(key);
    run.summary.findings.push({ ...f, iteration, daemon: d.name, scenario });
    run.log(`  FINDING ${d.name} ${f.kind} ${f.subject}: ${f.detail}`);
  }
}

/** A holder killed while idle must be as consistent as any directory. */
async function checkHolder(
  run: Run,
  holder: ManagedDaemon,
  iteration: number,
  scenario: HarnessFinding["scenario"],
): Promise<void> {
  await checkDir(run, holder, { iteration, scenario });
}

/** Who pushed a held fragment: the senders, or the owner (to holders). */
function senderOf(run: Run, d: ManagedDaemon): (id: string) => string {
  return run.holders.includes(d)
    ? () => run.owner.peerId
    : (id) => run.senderOf.get(id) ?? "";
}

/** Runs every check on a stopped daemon's directory; returns a summary line. */
async function checkDir(
  run: Run,
  d: ManagedDaemon,
  where: {
    iteration: number;
    scenario: HarnessFinding["scenario"];
    trackResidue?: boolean;
  },
): Promise<string> {
  const { summary } = run;
  const verify = await runVerify(d.dataDir);
  run.verifyMs.push(verify.ms);
  let inspection: Inspection | null = null;
  const findings: Finding[] = [...verify.findings];
  try {
    const attribute = senderOf(run, d);
    inspection = await inspectDataDir(d.dataDir, {
      senderOf: (id) => attribute(id) || undefined,
    });
    findings.push(...inspection.findings);
  } catch (e) {
    findings.push({
      kind: "verify_failed",
      subject: d.dataDir,
      detail: `inspection failed: ${e}`,
      key: `inspection:${performance.now()}`,
    });
  }
  let fresh = 0;
  for (const f of findings) {
    // A problem left by an earlier kill shows again after every later
    // one; count it once (a ledger difference that grows is a new one).
    const key = `${d.name}|${f.key}`;
    if (run.seenFindings.has(key)) {
      summary.repeatedFindings++;
      continue;
    }
    run.seenFindings.add(key);
    fresh++;
    summary.findings.push({
      ...f,
      iteration: where.iteration,
      daemon: d.name,
      scenario: where.scenario,
    });
    run.log(`  FINDING ${d.name} ${f.kind} ${f.subject}: ${f.detail}`);
  }
  if (verify.residue.length > 0 && verify.findings.length === 0) {
    summary.residue.verifyExit1ResidueOnly++;
  }
  if (where.trackResidue && inspection) {
    const before = run.residueBefore.get(d.name) ?? new Set<string>();
    for (const p of inspection.tempFiles) {
      if (!before.has(p)) summary.residue.strayTemp++;
    }
    for (const p of inspection.orphanFiles) {
      if (!before.has(p)) summary.residue.orphanFiles++;
    }
    run.residueBefore.set(
      d.name,
      new Set([...inspection.tempFiles, ...inspection.orphanFiles]),
    );
  }
  const residue = inspection
    ? `${inspection.tempFiles.length} temp, ${inspection.orphanFiles.length} orphan`
    : "?";
  return `verify exit ${verify.code}, ${fresh} new findings (${findings.length} in all), residue ${residue}, ${
    inspection?.listed ?? "?"
  } fragments ${fmtBytes(inspection?.listedBytes ?? 0)}`;
}

/** Clean stop of everything, then the same checks on every directory. */
async function finalChecks(run: Run): Promise<void> {
  const { owner, receiver, holders, summary, log } = run;
  const all = [receiver, owner, ...holders];
  for (const d of all) if (d.proc) await d.stop("SIGTERM");
  const where = { iteration: -1, scenario: "final" as const };
  const seen = new Map<ManagedDaemon, Inspection>();
  for (const d of all) {
    log(`final ${d.name}: ${await checkDir(run, d, where)}`);
    const attribute = senderOf(run, d);
    seen.set(
      d,
      await inspectDataDir(d.dataDir, {
        senderOf: (id) => attribute(id) || undefined,
      }),
    );
  }
  for (const d of [receiver, owner]) {
    const s = seen.get(d)!;
    summary.finalStores[d.name] = {
      fragments: s.listed,
      bytes: s.listedBytes,
      blobs: s.blobs,
    };
  }
  const o = seen.get(owner)!;
  for (const h of holders) {
    const hi = seen.get(h)!;
    summary.crossLedger.push({
      holder: h.name,
      ownerCredits: o.ledger.get(h.peerId)?.theyStore ?? 0,
      ownerRegistry: o.placedOnPeer.get(h.peerId) ?? 0,
      holderLedger: hi.ledger.get(owner.peerId)?.storedForThem ?? 0,
      holderHeld: hi.listedBytes,
    });
  }
}

async function teardown(run: Run): Promise<void> {
  const all = [run.receiver, run.owner, ...run.holders].filter((d) => d.proc);
  await Promise.allSettled(all.map((d) => d.stop("SIGKILL")));
  await Promise.allSettled(run.senders.map((s) => s.stop()));
}
