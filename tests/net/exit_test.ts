import assert from "node:assert/strict";

/** The project's config (import map), whatever the working directory. */
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

Deno.test("a process that starts and stops nodes exits on its own within seconds", async () => {
  const script = new URL("./fixtures/start_stop.ts", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      CONFIG,
      // The permissions the node needs on loopback: no -A.
      "--allow-net",
      "--allow-env",
      "--allow-read",
      script.pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Kill a hung child so the test fails instead of hanging.
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    let stoppedAt = 0;
    let output = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      output += decoder.decode(chunk);
      if (stoppedAt === 0 && output.includes("stopped\n")) {
        stoppedAt = performance.now();
      }
    }
    const status = await child.status;
    const exitedAt = performance.now();
    const stderr = new TextDecoder().decode(
      (await new Response(child.stderr).arrayBuffer()) as ArrayBuffer,
    );
    assert.equal(status.code, 0, `child failed: ${stderr}`);
    assert.equal(output, "stopped\n");
    assert.ok(stoppedAt > 0);
    const lingered = exitedAt - stoppedAt;
    assert.ok(lingered < 3_000, `process lingered ${lingered} ms after stop`);
  } finally {
    clearTimeout(killer);
  }
});

Deno.test("listening on 0.0.0.0 without --allow-sys=networkInterfaces fails clearly", async () => {
  const script = new URL("./fixtures/wildcard_without_sys.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      CONFIG,
      "--allow-net",
      "--allow-env",
      "--allow-read",
      script.pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout), "UNAUTHORIZED\n");
});
