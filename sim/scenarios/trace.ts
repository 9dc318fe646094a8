/**
 * Trace-driven churn: no random churn; a scripted trace takes ten nodes
 * down for a day, removes five for good, and brings the ten back. Shows
 * the trace format and gives a run whose every event is known.
 * Promises zero lost tesseras.
 *
 * @module
 */
import type { Scenario, TraceEvent } from "../scenario.ts";

const trace: TraceEvent[] = [];
for (let n = 0; n < 10; n++) {
  trace.push({ atHours: 72 + n, node: n, action: "down" });
  trace.push({ atHours: 96 + n, node: n, action: "up" });
}
for (let n = 10; n < 15; n++) {
  trace.push({ atHours: 120 + n, node: n, action: "depart" });
}

/** See the module doc. */
export const scenario: Scenario = {
  name: "trace",
  description:
    "Scripted churn: 10 nodes down for a day, 5 gone for good; promises zero lost.",
  nodes: 80,
  days: 10,
  tesseras: 60,
  scale: 1 / 4096,
  seed: "trace",
  churn: { permanentPerMonth: 0 },
  trace,
  network: { latencyMs: [20, 80] },
  promises: { zeroLost: true },
};
