/**
 * The three moments a victim is killed: while in-process peers push
 * fragments to it, while it puts a tessera, and while it repairs one. Put
 * and repair kills are aimed with the daemon's own `/metrics` (outbound
 * replicate requests started), so that most land in the middle of its
 * fragment pushes rather than before or after them.
 *
 * @module
 */
import { join } from "node:path";
import type { Rng } from "../../../lib/core/mod.ts";
import { get, job, type JobOutcome, waitConnected } from "./cluster.ts";
import type { ManagedDaemon } from "./cluster.ts";
import { DEFAULT_SHAPE, type FragmentSender, randomBytes } from "./sender.ts";
import { randomEnvelope } from "./sender.ts";
import type { Run, Scenario } from "./state.ts";

const KIB = 1024;
const MIB = 1024 * KIB;

/** Uniform integer in `lo..hi`. */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `1.2 MiB` / `300 KiB`. */
export function fmtBytes(n: number): string {
  return n >= MIB
    ? `${(n / MIB).toFixed(1)} MiB`
    : `${(n / KIB).toFixed(0)} KiB`;
}

/** Where a kill landed. */
export interface KillOutcome {
  /** The scenario's phase at the kill. */
  readonly phase: "beforePush" | "duringPush" | "afterFinish";
  /** A line for the log. */
  readonly line: string;
}

/** Outbound replicate requests the daemon has started (from /metrics). */
async function pushesStarted(d: ManagedDaemon): Promise<number> {
  const proc = d.proc;
  if (!proc) return -1;
  try {
    const text = await (await fetch(`${proc.url}/metrics`)).text();
    const m = text.match(
      /tesseras_protocol_messages_total\{protocol="replicate",direction="outbound"\} (\d+)/,
    );
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

/** When to kill: after `ms`, or `jitterMs` after the `k`-th push started. */
type KillPlan =
  | { readonly kind: "time"; readonly ms: number }
  | { readonly kind: "pushes"; readonly k: number; readonly jitterMs: number }
  | { readonly kind: "finish" };

/**
 * Runs `op` on `victim` and kills the victim per `plan` (at the latest
 * `limitMs` after the start, and at once if the operation finishes
 * first). Learns the time to the first push for later time plans.
 */
async function killDuring(
  run: Run,
  victim: ManagedDaemon,
  op: () => Promise<JobOutcome>,
  plan: KillPlan,
  which: "put" | "repair",
): Promise<{ phase: KillOutcome["phase"]; pushes: number; ms: number }> {
  const base = await pushesStarted(victim);
  const t0 = performance.now();
  let done = false;
  const running = op().finally(() => (done = true));
  let pushes = 0;
  let firstPushAt = -1;
  const limitMs = 20_000;
  for (;;) {
    const elapsed = performance.now() - t0;
    if (done || elapsed > limitMs) break;
    if (plan.kind === "time" && elapsed >= plan.ms) break;
    const n = await pushesStarted(victim);
    if (n >= 0 && base >= 0) pushes = n - base;
    if (pushes > 0 && firstPushAt < 0) firstPushAt = performance.now() - t0;
    if (plan.kind === "pushes" && pushes >= plan.k) {
      await sleep(plan.jitterMs);
      break;
    }
    await sleep(plan.kind === "time" ? 2 : 8);
  }
  const finished = done;
  victim.killNow();
  await running;
  if (firstPushAt >= 0) {
    run.firstPushMs[which] = 0.7 * run.firstPushMs[which] + 0.3 * firstPushAt;
  }
  return {
    phase: finished ? "afterFinish" : pushes > 0 ? "duringPush" : "beforePush",
    pushes,
    ms: Math.round(performance.now() - t0),
  };
}

/** A plan: 25% before the first push, 65% after k pushes, 10% after finish. */
function planKill(run: Run, which: "put" | "repair", maxK: number): KillPlan {
  const r = run.rng.next();
  if (r < 0.25) {
    return {
      kind: "time",
      ms: between(run.rng, 0, Math.round(run.firstPushMs[which] * 1.1)),
    };
  }
  if (r < 0.9) {
    return {
      kind: "pushes",
      k: between(run.rng, 1, maxK),
      jitterMs: between(run.rng, 0, 40),
    };
  }
  return { kind: "finish" };
}

function describePlan(p: KillPlan): string {
  return p.kind === "time"
    ? `at ${p.ms} ms`
    : p.kind === "pushes"
    ? `${p.jitterMs} ms after push ${p.k}`
    : "after it finished";
}

/** Senders push to the receiver; after `ms` it is killed mid-stream. */
export async function receiveAndKill(run: Run): Promise<KillOutcome> {
  const { receiver, senders, summary, rng } = run;
  const ms = between(rng, 80, 1200);
  const stop = new AbortController();
  let inFlight = 0;
  let sent = 0;
  let accepted = 0;
  await Promise.all(
    senders.map((s) => s.connect(receiver.multiaddr).catch(() => {})),
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
        const ack = await sender.push(receiver.peerId, env, stop.signal);
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
  receiver.killNow();
  stop.abort(new Error("victim killed"));
  await Promise.all(workers);
  return {
    phase: cut > 0 ? "duringPush" : "afterFinish",
    line:
      `killed after ${ms} ms with ${cut} pushes in flight (${accepted}/${sent} accepted)`,
  };
}

/** Random bytes of a file to put (sizes follow `rng`). */
function randomFile(rng: Rng): Uint8Array {
  const size = rng.next() < 0.35
    ? between(rng, 16 * KIB, 1536 * KIB)
    : between(rng, 4 * MIB, 7 * MIB);
  return randomBytes(size);
}

/** The owner puts a fresh file; it is killed per a random plan. */
export async function putAndKill(run: Run, i: number): Promise<KillOutcome> {
  const { owner, holders, rng } = run;
  const data = randomFile(rng);
  const file = join(run.root, `put-${i}.bin`);
  await Deno.writeFile(file, data);
  await waitConnected(owner, holders.map((h) => h.peerId), 10_000);
  // Small tesseras go to every holder (r = 7 > holders); Medium: 24 shards.
  const maxK = data.length < 4 * MIB ? holders.length : 24;
  const plan = planKill(run, "put", maxK);
  const out = await killDuring(
    run,
    owner,
    () => job(owner, "/v1/tesseras", { path: file }),
    plan,
    "put",
  );
  if (out.phase === "afterFinish") run.summary.operations.putsFinished++;
  await Deno.remove(file);
  return {
    phase: out.phase,
    line: `put ${fmtBytes(data.length)}, kill ${
      describePlan(plan)
    }: at ${out.ms} ms, ${out.pushes} pushes started (${out.phase})`,
  };
}

/**
 * A holder goes away (kill -9, checked while down); the owner repairs one
 * tracked tessera and is killed per a random plan; the holder comes back.
 * With `warmUp` the repair runs to its end instead.
 */
export async function repairAndKill(
  run: Run,
  checkHolder: (holder: ManagedDaemon) => Promise<void>,
  warmUp = false,
): Promise<KillOutcome> {
  const { owner, holders } = run;
  const tracked = await get<{ id: string }[]>(owner, "/v1/tesseras");
  if (tracked.length === 0) throw new Error("no tracked tessera to repair");
  const id = tracked[Math.floor(run.rng.next() * tracked.length)].id;
  const holder = holders[run.nextHolder++ % holders.length];
  holder.killNow();
  await holder.reap();
  run.summary.bystanderKills++;
  await checkHolder(holder);
  try {
    const live = holders.filter((h) => h !== holder).map((h) => h.peerId);
    await waitConnected(owner, live, 10_000);
    const plan: KillPlan = warmUp
      ? { kind: "finish" }
      : planKill(run, "repair", 6);
    const repair = () => job(owner, "/v1/repair", { id });
    if (warmUp) {
      const t0 = performance.now();
      const base = await pushesStarted(owner);
      const out = await repair();
      if (out.kind !== "result") {
        throw new Error(`warm-up repair failed: ${JSON.stringify(out)}`);
      }
      const pushed = (await pushesStarted(owner)) - base;
      return {
        phase: "afterFinish",
        line: `warm-up repair ${
          Math.round(performance.now() - t0)
        } ms, ${pushed} pushes`,
      };
    }
    const out = await killDuring(run, owner, repair, plan, "repair");
    if (out.phase === "afterFinish") run.summary.operations.repairsFinished++;
    return {
      phase: out.phase,
      line: `repair ${id.slice(0, 8)}… (${holder.name} down), kill ${
        describePlan(plan)
      }: at ${out.ms} ms, ${out.pushes} pushes started (${out.phase})`,
    };
  } finally {
    await holder.start();
  }
}

/** The victim of a scenario. */
export function victimOf(run: Run, scenario: Scenario): ManagedDaemon {
  return scenario === "receive" ? run.receiver : run.owner;
}
