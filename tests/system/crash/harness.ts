/**
 * The crash harness: `kill -9` a real `tesseras start` daemon (the victim)
 * at random moments while it receives fragments from in-process libp2p
 * peers, while it puts a tessera onto holder daemons, and while it
 * repairs one; after each kill check its data directory (`tesseras
 * verify`, listed fragments against files, blobs against ids, ledger
 * against fragments per sender), restart it on the same directory and go
 * on. Used by `scripts/crash_harness.ts` (long run) and
 * `tests/system/crash/crash_test.ts` (short run).
 *
 * @module
 */
import { join } from "node:path";
import { blake3Hex } from "../../../lib/codec/mod.ts";
import type { FragmentEnvelope, Rng } from "../../../lib/core/mod.ts";
import { seededRng } from "../../../lib/memory/mod.ts";
import {
  type Finding,
  inspectDataDir,
  type Inspection,
  runVerify,
} from "./checks.ts";
import {
  freePort,
  get,
  job,
  type JobOutcome,
  ManagedDaemon,
  waitConnected,
} from "./cluster.ts";
import {
  DEFAULT_SHAPE,
  FragmentSender,
  randomBytes,
  randomEnvelope,
} from "./sender.ts";

/** What the victim is doing when it is killed. */
export type Scenario = "receive" | "put" | "repair";

/** Options of {@linkcode runCrashHarness}. */
export interface HarnessOptions {
  /** Kills of the victim (one per iteration). Default 105. */
  readonly iterations?: number;
  /** Seed of the schedule: scenario order, delays, sizes. Default 1. */
  readonly seed?: number;
  /** Holder daemons the victim puts onto. Default 4. */
  readonly holders?: number;
  /** In-process peers pushing fragments to the victim. Default 3. */
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

/** One problem, with where it was found. */
export interface HarnessFinding extends Finding {
  /** Iteration (0 = set-up, -1 = final check). */
  readonly iteration: number;
  /** Which daemon's directory. */
  readonly daemon: string;
  /** What the victim was doing. */
  readonly scenario: Scenario | "setup" | "final";
}

/** Per-scenario counts. */
export interface ScenarioCounts {
  /** Kills in this scenario. */
  kills: number;
  /** Kills that landed while the operation was still running. */
  during: number;
  /** Operations that finished before the kill. */
  finished: number;
}

/** The figures of a run. */
export interface HarnessSummary {
  /** Seed used. */
  readonly seed: number;
  /** Iterations asked for. */
  readonly iterations: number;
  /** `kill -9` of the victim that were followed by checks and a restart. */
  kills: number;
  /** Kills of holder daemons (repair scenario: a holder goes away). */
  bystanderKills: number;
  /** Restarts of the victim that came up healthy. */
  restarts: number;
  /** Per scenario. */
  readonly byScenario: Record<Scenario, ScenarioCounts>;
  /** Fragments pushed to the victim by in-process senders. */
  readonly pushes: {
    sent: number;
    accepted: number;
    refused: Record<string, number>;
    cut: number;
    rePushed: number;
  };
  /** Crash residue left by kills (harmless by design, never listed). */
  readonly residue: {
    /** Temp files found after a kill (new ones). */
    strayTemp: number;
    /** Shard files without a row found after a kill (new ones). */
    orphanFiles: number;
    /** Orphan files still present after a restart of the daemon. */
    orphansSurvivingRestart: number;
    /** Kills after which `tesseras verify` exited 1 because of residue only. */
    verifyExit1ResidueOnly: number;
  };
  /** Every inconsistency found (the run fails when non-empty). */
  readonly findings: HarnessFinding[];
  /** The victim's store at the end. */
  finalVictim: { fragments: number; bytes: number; blobs: number } | null;
  /**
   * Bilateral view at the end, per holder: what the victim's ledger
   * credits it with, what the victim's holder registry places on it, what
   * the holder's ledger says it stores for the victim, and what it holds.
   */
  readonly crossLedger: {
    holder: string;
    victimCredits: number;
    victimRegistry: number;
    holderLedger: number;
    holderHeld: number;
  }[];
  /** Timing, ms. */
  readonly timing: {
    total: number;
    meanIteration: number;
    meanRestart: number;
    meanVerify: number;
  };
}

const KIB = 1024;
const MIB = 1024 * KIB;

function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function fmtBytes(n: number): string {
  return n >= MIB
    ? `${(n / MIB).toFixed(1)} MiB`
    : `${(n / KIB).toFixed(0)} KiB`;
}

/** Random bytes of a file to put (CSPRNG: fast; sizes follow `rng`). */
function randomFile(rng: Rng): Uint8Array {
  const size = rng.next() < 0.35
    ? between(rng, 16 * KIB, 1536 * KIB)
    : between(rng, 4 * MIB, 7 * MIB);
  return randomBytes(size);
}

/** Mutable state of a run. */
interface Run {
  readonly rng: Rng;
  readonly log: (line: string) => void;
  readonly root: string;
  readonly victim: ManagedDaemon;
  readonly holders: ManagedDaemon[];
  readonly senders: FragmentSender[];
  /** tessera id → peer id of the sender that pushed it. */
  readonly senderOf: Map<string, string>;
  /** Envelopes whose push was cut by a kill, per sender: pushed again. */
  readonly unsure: Map<string, FragmentEnvelope[]>;
  readonly summary: HarnessSummary;
  /** Orphan files seen after the previous kill. */
  orphansBefore: Set<string>;
  /** Temp files seen after the previous kill. */
  tempsBefore: Set<string>;
  /** Typical duration of a put / repair (ms), to aim kills inside them. */
  readonly estimate: Record<"put" | "repair", number>;
  readonly restartMs: number[];
  readonly verifyMs: number[];
  nextHolder: number;
}

/**
 * Runs the harness. Resolves with the figures (never rejects on an
 * inconsistency: they are in `findings`); rejects only when the set-up
 * itself fails. Every process is killed and the temp directory removed
 * (unless `keep`) on the way out.
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
  const rng = seededRng(seed);
  const t0 = performance.now();
  const root = await Deno.makeTempDir({ prefix: "tesseras-crash-" });
  const env = {
    // The victim stores for strangers who store nothing for it: no
    // deficit refusals, so every refusal seen is a real one.
    TESSERAS_DEFICIT_TOLERANCE: String(8 * 1024 * MIB),
  };
  const ipOf = (k: number) => `127.0.${base + k}.1`;
  const daemon = (name: string, k: number, args: string[] = []) =>
    new ManagedDaemon(name, {
      dataDir: join(root, name),
      listen: `/ip4/${ipOf(k)}/tcp/${freePort(ipOf(k))}`,
      args,
      env,
    });
  const summary: HarnessSummary = {
    seed,
    iterations,
    kills: 0,
    bystanderKills: 0,
    restarts: 0,
    byScenario: {
      receive: { kills: 0, during: 0, finished: 0 },
      put: { kills: 0, during: 0, finished: 0 },
      repair: { kills: 0, during: 0, finished: 0 },
    },
    pushes: { sent: 0, accepted: 0, refused: {}, cut: 0, rePushed: 0 },
    residue: {
      strayTemp: 0,
      orphanFiles: 0,
      orphansSurvivingRestart: 0,
      verifyExit1ResidueOnly: 0,
    },
    findings: [],
    finalVictim: null,
    crossLedger: [],
    timing: { total: 0, meanIteration: 0, meanRestart: 0, meanVerify: 0 },
  };
  const victim = daemon("victim", 0);
  const holders: ManagedDaemon[] = [];
  const senders: FragmentSender[] = [];
  const run: Run = {
    rng,
    log,
    root,
    victim,
    holders,
    senders,
    senderOf: new Map(),
    unsure: new Map(),
    summary,
    orphansBefore: new Set(),
    tempsBefore: new Set(),
    estimate: { put: 1500, repair: 1000 },
    restartMs: [],
    verifyMs: [],
    nextHolder: 0,
  };
  try {
    log(`crash harness: seed ${seed}, ${iterations} kills, root ${root}`);
    run.restartMs.push(await victim.start());
    for (let k = 1; k <= nHolders; k++) {
      holders.push(
        daemon(`holder${k}`, k, ["--bootstrap", victim.multiaddr]),
      );
    }
    await Promise.all(holders.map((h) => h.start()));
    for (let s = 0; s < nSenders; s++) {
      const sender = await FragmentSender.start({
        ip: ipOf(nHolders + 1 + s),
      });
      senders.push(sender);
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
      if (!victim.proc) await restartVictim(run, i, scenario);
      if (!victim.proc) break;
      const line = await iterate(run, i, scenario);
      log(
        `#${i} ${scenario}: ${line} (${Math.round(performance.now() - t)} ms)`,
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

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Puts two tesseras and repairs one without kills, to time them. */
async function warmUp(run: Run): Promise<void> {
  const { victim, holders, log } = run;
  await waitConnected(victim, holders.map((h) => h.peerId), 20_000);
  const times: number[] = [];
  for (const size of [512 * KIB, 5 * MIB]) {
    const file = join(run.root, `warmup-${size}.bin`);
    await Deno.writeFile(file, randomBytes(size));
    const t = performance.now();
    const out = await job(victim, "/v1/tesseras", { path: file });
    times.push(performance.now() - t);
    if (out.kind !== "result" || Number(out.result.placed) === 0) {
      throw new Error(`warm-up put failed: ${JSON.stringify(out)}`);
    }
  }
  run.estimate.put = Math.max(...times);
  const repairTime = await timedRepair(run, null);
  if (repairTime !== null) run.estimate.repair = repairTime;
  log(
    `warm-up: put ${Math.round(run.estimate.put)} ms, repair ${
      Math.round(run.estimate.repair)
    } ms`,
  );
}

/**
 * Kills a holder, repairs one tessera and, with `killAfterMs` null, waits
 * for the repair (returning its duration); otherwise kills the victim
 * after that delay.
 */
async function timedRepair(
  run: Run,
  killAfter: { ms: number; iteration: number } | null,
): Promise<number | null> {
  const { victim, holders } = run;
  const tracked = await get<{ id: string }[]>(victim, "/v1/tesseras");
  if (tracked.length === 0) return null;
  const id = tracked[Math.floor(run.rng.next() * tracked.length)].id;
  const holder = holders[run.nextHolder++ % holders.length];
  holder.killNow();
  await holder.reap();
  run.summary.bystanderKills++;
  // A holder killed while idle must be as consistent as any.
  await checkDir(run, holder, {
    iteration: killAfter?.iteration ?? 0,
    scenario: killAfter ? "repair" : "setup",
    senderOf: () => victim.peerId,
  });
  try {
    const live = holders.filter((h) => h !== holder).map((h) => h.peerId);
    await waitConnected(victim, live, 10_000);
    const t = performance.now();
    const repair = job(victim, "/v1/repair", { id });
    if (killAfter === null) {
      const out = await repair;
      if (out.kind !== "result") {
        throw new Error(`warm-up repair failed: ${JSON.stringify(out)}`);
      }
      return performance.now() - t;
    }
    const { finished } = await killAfterDelay(run, repair, killAfter.ms);
    const c = run.summary.byScenario.repair;
    if (finished) c.finished++;
    else c.during++;
    return null;
  } finally {
    await holder.start();
  }
}

/**
 * Sleeps `ms`, then kills the victim — at once when `op` finished first
 * (an idle kill right after the operation). Returns whether it had
 * finished and how long it took.
 */
async function killAfterDelay(
  run: Run,
  op: Promise<JobOutcome>,
  ms: number,
): Promise<{ finished: boolean; tookMs: number }> {
  const t0 = performance.now();
  let tookMs = -1;
  const settled = op.then((o) => {
    tookMs = performance.now() - t0;
    return o;
  });
  await Promise.race([settled, sleep(ms)]);
  const finished = tookMs >= 0;
  run.victim.killNow();
  await settled;
  return { finished, tookMs };
}

async function restartVictim(
  run: Run,
  iteration: number,
  scenario: HarnessFinding["scenario"],
): Promise<void> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      run.restartMs.push(await run.victim.start());
      run.summary.restarts++;
      return;
    } catch (e) {
      run.summary.findings.push({
        kind: "restart_failed",
        subject: run.victim.dataDir,
        detail: `attempt ${attempt}: ${String(e).slice(0, 1500)}`,
        iteration,
        daemon: run.victim.name,
        scenario,
      });
    }
  }
}

/** One kill of the victim during `scenario`, then the checks. */
async function iterate(
  run: Run,
  i: number,
  scenario: Scenario,
): Promise<string> {
  const { rng, victim, summary } = run;
  let what = "";
  if (scenario === "receive") {
    const ms = between(rng, 80, 1200);
    const r = await receiveWindow(run, ms);
    if (r.inFlight > 0) summary.byScenario.receive.during++;
    else summary.byScenario.receive.finished++;
    what =
      `killed after ${ms} ms with ${r.inFlight} pushes in flight (${r.accepted}/${r.sent} accepted)`;
  } else if (scenario === "put") {
    const data = randomFile(rng);
    const file = join(run.root, `put-${i}.bin`);
    await Deno.writeFile(file, data);
    await waitConnected(victim, run.holders.map((h) => h.peerId), 10_000);
    const ms = between(rng, 0, Math.round(run.estimate.put * 1.2));
    const op = job(victim, "/v1/tesseras", { path: file });
    const { finished, tookMs } = await killAfterDelay(run, op, ms);
    const c = summary.byScenario.put;
    if (finished) {
      c.finished++;
      run.estimate.put = 0.8 * run.estimate.put + 0.2 * tookMs;
    } else c.during++;
    await Deno.remove(file);
    what = `${fmtBytes(data.length)} ${
      blake3Hex(data).slice(0, 8)
    }…, killed after ${ms} ms ${finished ? "(put had finished)" : "mid-put"}`;
  } else {
    const ms = between(rng, 0, Math.round(run.estimate.repair * 1.2));
    const before = summary.byScenario.repair.finished;
    await timedRepair(run, { ms, iteration: i });
    what = `killed after ${ms} ms ${
      summary.byScenario.repair.finished > before
        ? "(repair had finished)"
        : "mid-repair"
    }`;
  }
  await victim.reap();
  summary.kills++;
  summary.byScenario[scenario].kills++;
  const found = await checkDir(run, victim, {
    iteration: i,
    scenario,
    senderOf: (id) => run.senderOf.get(id),
    trackResidue: true,
  });
  return `${what}; ${found}`;
}

/** Senders push to the victim; after `ms` it is killed mid-stream. */
async function receiveWindow(
  run: Run,
  ms: number,
): Promise<{ sent: number; accepted: number; inFlight: number }> {
  const { victim, senders, summary, rng } = run;
  const stop = new AbortController();
  let inFlight = 0;
  let sent = 0;
  let accepted = 0;
  await Promise.all(
    senders.map((s) => s.connect(victim.multiaddr).catch(() => {})),
  );
  const worker = async (sender: FragmentSender) => {
    const retry = run.unsure.get(sender.peerId)!;
    while (!stop.signal.aborted) {
      const again = retry.shift();
      const env = again ?? randomEnvelope(rng, DEFAULT_SHAPE);
      if (again) summary.pushes.rePushed++;
      run.senderOf.set(env.fragment.tesseraId, sender.peerId);
      inFlight++;
      sent++;
      summary.pushes.sent++;
      try {
        const ack = await sender.push(victim.peerId, env, stop.signal);
        if (ack.accepted) {
          accepted++;
          summary.pushes.accepted++;
        } else {
          const code = ack.errorCode ?? "REFUSED";
          summary.pushes.refused[code] = (summary.pushes.refused[code] ?? 0) +
            1;
          if (code === "RATE_LIMITED") await sleep(250);
        }
      } catch {
        // Cut by the kill: the outcome is unknown, so push it again later
        // (an owner would retry too).
        summary.pushes.cut++;
        retry.push(env);
      } finally {
        inFlight--;
      }
      if (!stop.signal.aborted) await sleep(between(rng, 0, 25));
    }
  };
  const workers = senders.flatMap((s) => [worker(s), worker(s)]);
  await sleep(ms);
  const cut = inFlight;
  victim.killNow();
  stop.abort(new Error("victim killed"));
  await Promise.all(workers);
  return { sent, accepted, inFlight: cut };
}

/** Runs every check on a stopped daemon's directory; returns a summary line. */
async function checkDir(
  run: Run,
  d: ManagedDaemon,
  where: {
    iteration: number;
    scenario: HarnessFinding["scenario"];
    senderOf: (id: string) => string | undefined;
    trackResidue?: boolean;
  },
): Promise<string> {
  const { summary } = run;
  const verify = await runVerify(d.dataDir);
  run.verifyMs.push(verify.ms);
  let inspection: Inspection | null = null;
  const findings: Finding[] = [...verify.findings];
  try {
    inspection = await inspectDataDir(d.dataDir, { senderOf: where.senderOf });
    findings.push(...inspection.findings);
  } catch (e) {
    findings.push({
      kind: "verify_failed",
      subject: d.dataDir,
      detail: `inspection failed: ${e}`,
    });
  }
  for (const f of findings) {
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
    const temps = new Set(inspection.tempFiles);
    const orphans = new Set(inspection.orphanFiles);
    for (const p of temps) {
      if (!run.tempsBefore.has(p)) summary.residue.strayTemp++;
    }
    for (const p of orphans) {
      if (run.orphansBefore.has(p)) summary.residue.orphansSurvivingRestart++;
      else summary.residue.orphanFiles++;
    }
    run.tempsBefore = temps;
    run.orphansBefore = orphans;
  }
  const residue = inspection
    ? `${inspection.tempFiles.length} temp, ${inspection.orphanFiles.length} orphan`
    : "?";
  return `verify exit ${verify.code}, ${findings.length} findings, residue ${residue}, ${
    inspection?.listed ?? "?"
  } fragments ${fmtBytes(inspection?.listedBytes ?? 0)}`;
}

/** Clean stop of everything, then the same checks on every directory. */
async function finalChecks(run: Run): Promise<void> {
  const { victim, holders, summary, log } = run;
  // The last kill gets its restart too, then a clean stop.
  if (!victim.proc) await restartVictim(run, -1, "final");
  if (victim.proc) await victim.stop("SIGTERM");
  for (const h of holders) if (h.proc) await h.stop("SIGTERM");
  const where = { iteration: -1, scenario: "final" as const };
  const line = await checkDir(run, victim, {
    ...where,
    senderOf: (id) => run.senderOf.get(id),
  });
  log(`final victim: ${line}`);
  const v = await inspectDataDir(victim.dataDir, {
    senderOf: (id) => run.senderOf.get(id),
  });
  summary.finalVictim = {
    fragments: v.listed,
    bytes: v.listedBytes,
    blobs: v.blobs,
  };
  for (const h of holders) {
    log(
      `final ${h.name}: ${await checkDir(run, h, {
        ...where,
        senderOf: () => victim.peerId,
      })}`,
    );
    const hi = await inspectDataDir(h.dataDir, {
      senderOf: () => victim.peerId,
    });
    summary.crossLedger.push({
      holder: h.name,
      victimCredits: v.ledger.get(h.peerId)?.theyStore ?? 0,
      victimRegistry: v.placedOnPeer.get(h.peerId) ?? 0,
      holderLedger: hi.ledger.get(victim.peerId)?.storedForThem ?? 0,
      holderHeld: hi.listedBytes,
    });
  }
}

async function teardown(run: Run): Promise<void> {
  const all = [run.victim, ...run.holders].filter((d) => d.proc);
  await Promise.allSettled(all.map((d) => d.stop("SIGKILL")));
  await Promise.allSettled(run.senders.map((s) => s.stop()));
}
