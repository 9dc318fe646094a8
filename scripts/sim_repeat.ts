/**
 * Run one `tesseras sim` command many times in a row and count the runs
 * whose checks failed: the full-stack level is not reproducible (real
 * time, real libp2p), so a race shows only now and then. Each run is the
 * real command in its own process, as a user would type it.
 *
 * Usage: `deno task sim:repeat [--runs N] [-- SIM ARGS…]`; the default is
 * 20 runs of `sim --stack libp2p --nodes 20 --days 2` (the command whose
 * `subnet-cap` check failed once in three runs). Exits 1 when any run
 * failed, and prints each failing run's failed checks.
 *
 * @module
 */
const args = [...Deno.args];
const sep = args.indexOf("--");
const own = sep < 0 ? args : args.slice(0, sep);
const simArgs = sep < 0
  ? ["--stack", "libp2p", "--nodes", "20", "--days", "2"]
  : args.slice(sep + 1);
const runsAt = own.indexOf("--runs");
const runs = runsAt < 0 ? 20 : Number(own[runsAt + 1]);
if (!(Number.isInteger(runs) && runs > 0)) {
  console.error("--runs needs a whole number above 0");
  Deno.exit(2);
}

const main = new URL("../main.ts", import.meta.url).pathname;
const argv = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  main,
  "sim",
  ...simArgs,
  "--json",
];
let failed = 0;
for (let i = 1; i <= runs; i++) {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: argv,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const text = new TextDecoder().decode(out.stdout).trim();
  let bad: string[] = [];
  try {
    const summary = JSON.parse(text.split("\n").at(-1) ?? "");
    bad = (summary.checks as { name: string; ok: boolean; detail: string }[])
      .filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  } catch {
    bad = [
      `no summary (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr).slice(-400)
      }`,
    ];
  }
  if (out.code !== 0 && bad.length === 0) bad = [`exit ${out.code}`];
  if (bad.length > 0) failed++;
  console.log(
    `run ${i}/${runs}: ${bad.length === 0 ? "ok" : "FAIL"} (${seconds} s)${
      bad.map((b) => `\n  ${b}`).join("")
    }`,
  );
}
console.log(
  `sim ${simArgs.join(" ")}: ${
    runs - failed
  } of ${runs} runs passed every check`,
);
Deno.exit(failed === 0 ? 0 : 1);
