/**
 * The command line as a user meets it (issue 16 §3): `get -o` never
 * clobbers nor leaves half files, `verify` refuses a directory that is not
 * a node's, ids in either case, messages that name a path once, help that
 * says what is required and what each exit status means.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type DaemonProcess,
  runTesseras,
  startDaemon,
  tesserasArgs,
  withTempDir,
} from "./daemon_process.ts";

/** A lone daemon holding one small tessera of its own (no peers to place on). */
async function loneNodeWithTessera(
  dir: string,
): Promise<{ daemon: DaemonProcess; id: string; bytes: Uint8Array }> {
  const daemon = await startDaemon(join(dir, "node"), [
    "--listen",
    "/ip4/127.0.63.1/tcp/0", // a /24 no other test uses
  ]);
  const bytes = crypto.getRandomValues(new Uint8Array(5000));
  const input = join(dir, "memory.bin");
  await Deno.writeFile(input, bytes);
  // With no peer to place on, put fails (exit 1) but keeps the tessera.
  await runTesseras(["--data-dir", daemon.dataDir, "put", input]);
  const status = await runTesseras([
    "--data-dir",
    daemon.dataDir,
    "status",
    "--json",
  ]);
  const [tessera] = JSON.parse(status.stdout) as { id: string }[];
  return { daemon, id: tessera.id, bytes };
}

async function tempFilesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.endsWith(".tmp")) names.push(e.name);
  }
  return names;
}

Deno.test("get -o: refuses an existing file (exit 2, untouched) unless --force; ids in any case; no half file on failure", async () => {
  await withTempDir(async (dir) => {
    const { daemon, id, bytes } = await loneNodeWithTessera(dir);
    try {
      const cli = (...args: string[]) =>
        runTesseras(["--data-dir", daemon.dataDir, ...args]);
      const out = join(dir, "out.bin");

      // Upper case is accepted and normalised.
      const first = await cli("get", id.toUpperCase(), "-o", out);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(await Deno.readFile(out), bytes);

      await Deno.writeTextFile(out, "keep me");
      const refused = await cli("get", id, "-o", out);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /out\.bin already exists: pass --force/);
      assert.equal(await Deno.readTextFile(out), "keep me");

      // The daemon refuses too, for callers of the API that skip the CLI.
      const res = await fetch(`${daemon.url}/v1/retrieve`, {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.token}` },
        body: JSON.stringify({ id, out }),
      });
      const lines = (await res.text()).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.equal(lines.at(-1).error?.code, "INVALID_INPUT");
      assert.equal(await Deno.readTextFile(out), "keep me");

      const forced = await cli("get", id, "-o", out, "--force");
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(await Deno.readFile(out), bytes);
      // Piped: no progress bar.
      assert.doesNotMatch(forced.stderr, /\r|%/);

      // A get that fails leaves nothing under the name, and no temp file.
      const missing = join(dir, "never.bin");
      const failed = await cli("get", "ab".repeat(32), "-o", missing);
      assert.notEqual(failed.code, 0);
      await assert.rejects(Deno.lstat(missing), Deno.errors.NotFound);
      assert.deepEqual(await tempFilesIn(dir), []);

      const badId = await cli("status", "AB".repeat(31) + "ZZ");
      assert.equal(badId.code, 2);
      assert.match(badId.stderr, /is not a tessera id \(64 hex characters\)/);
      const upper = await cli("status", id.toUpperCase(), "--json");
      assert.equal(upper.code, 0, upper.stderr);
      assert.equal(JSON.parse(upper.stdout).id, id);
    } finally {
      await daemon.stop();
    }
  });
});

Deno.test("verify refuses a directory that is not a node's and creates nothing there", async () => {
  await withTempDir(async (dir) => {
    const typo = join(dir, "tesseras-typo");
    const missing = await runTesseras(["verify", "--data-dir", typo]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /is not a tesseras data directory/);
    await assert.rejects(Deno.lstat(typo), Deno.errors.NotFound);

    const empty = join(dir, "empty");
    await Deno.mkdir(empty);
    const json = await runTesseras(["verify", "--data-dir", empty, "--json"]);
    assert.equal(json.code, 4);
    assert.equal(json.stdout, "");
    const left = [];
    for await (const e of Deno.readDir(empty)) left.push(e.name);
    assert.deepEqual(left, [], "no daemon.lock, no db/");
  });
});

Deno.test("put: a missing file's message names the path once", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "no-such-memory.tar");
    const res = await runTesseras(["--data-dir", dir, "put", path]);
    assert.equal(res.code, 4);
    assert.equal(
      res.stderr.trim(),
      `error: cannot read ${path}: no such file or directory`,
    );
  });
});

Deno.test("help: get says -o is required; the exit statuses are listed", async () => {
  const get = await runTesseras(["get", "--help"]);
  assert.equal(get.code, 0);
  assert.match(get.stdout, /Usage: tesseras get <id> -o <file>/);
  assert.match(
    get.stdout,
    /-o, --output <file>\s+where to write the bytes \(required/,
  );
  assert.match(get.stdout, /--force/);
  const root = await runTesseras(["--help"]);
  assert.equal(root.code, 0);
  assert.match(root.stdout, /Exit statuses:/);
  for (const code of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    assert.match(root.stdout, new RegExp(`^  ${code}  \\S`, "m"));
  }
  const start = await runTesseras(["start", "--help"]);
  assert.match(start.stdout, /--repair-jitter-ms <ms>/);
});

Deno.test("a port in use: the error names the address and what sets it, and nothing says it listened", async () => {
  await withTempDir(async (dir) => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (taken.addr as Deno.NetAddr).port;
    try {
      const start = (name: string, args: string[]) =>
        runTesseras(["start", "--data-dir", join(dir, name), ...args]);
      const p2p = await start("p2p", [
        "--api",
        "127.0.0.1:0",
        "--listen",
        `/ip4/127.0.0.1/tcp/${port}`,
      ]);
      assert.equal(p2p.code, 1);
      assert.match(
        p2p.stderr,
        new RegExp(
          `error: cannot listen on /ip4/127\\.0\\.0\\.1/tcp/${port}: the address is already in use.*--listen MULTIADDR, TESSERAS_LISTEN`,
        ),
      );
      const api = await start("api", [
        "--api",
        `127.0.0.1:${port}`,
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
      ]);
      assert.equal(api.code, 1);
      assert.match(
        api.stderr,
        new RegExp(
          `error: cannot serve the local API on 127\\.0\\.0\\.1:${port}: the address is already in use.*--api HOST:PORT, TESSERAS_API`,
        ),
      );
      for (const out of [p2p, api]) {
        assert.doesNotMatch(out.stderr, /\b(listening|stopped|ready)\b/);
        assert.doesNotMatch(out.stderr, /os error 98|\n\s+at /);
      }
      await assert.rejects(
        Deno.lstat(join(dir, "api", "api.json")),
        Deno.errors.NotFound,
      );
    } finally {
      taken.close();
    }
  });
});

/** Runs `tesseras ARGS` on a pseudo-terminal (util-linux `script`). */
async function onTerminal(args: readonly string[]): Promise<string> {
  const line = tesserasArgs(args).map((a) => `'${a}'`).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", `${Deno.execPath()} ${line}`, "/dev/null"],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

const hasScript = await new Deno.Command("script", { args: ["--version"] })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "get and repair show progress on a terminal; the daemon streams it",
  ignore: !hasScript,
  async fn() {
    await withTempDir(async (dir) => {
      const { daemon, id } = await loneNodeWithTessera(dir);
      try {
        const res = await fetch(`${daemon.url}/v1/retrieve`, {
          method: "POST",
          headers: { authorization: `Bearer ${daemon.token}` },
          body: JSON.stringify({ id, out: join(dir, "api.bin") }),
        });
        const lines = (await res.text()).trim().split("\n").map((l) =>
          JSON.parse(l)
        );
        const progress = lines.filter((l) => l.progress).map((l) => l.progress);
        assert.deepEqual(progress.at(-1), {
          done: 5000,
          total: 5000,
          phase: "write",
        });
        assert.equal(lines.at(-1).result?.size, 5000);

        const screen = await onTerminal([
          "--data-dir",
          daemon.dataDir,
          "get",
          id,
          "-o",
          join(dir, "tty.bin"),
        ]);
        assert.match(screen, /write\s+\[#{30}\] 100%/);
        assert.match(screen, /wrote 4\.9 KiB to /);

        // With no peer the tessera stays needing replication: checked, then
        // a repair attempted, one tessera each.
        const sweep = await fetch(`${daemon.url}/v1/repair`, {
          method: "POST",
          headers: { authorization: `Bearer ${daemon.token}` },
          body: JSON.stringify({ id }),
        });
        const steps = (await sweep.text()).trim().split("\n").map((l) =>
          JSON.parse(l)
        ).filter((l) => l.progress).map((l) => l.progress);
        assert.deepEqual(steps, [
          { phase: "check", done: 1, total: 1 },
          { phase: "repair", done: 1, total: 1 },
        ]);
        const repairScreen = await onTerminal([
          "--data-dir",
          daemon.dataDir,
          "repair",
        ]);
        assert.match(repairScreen, /check\s+\[#{30}\] 100%/);
        assert.match(repairScreen, /repair\s+\[#{30}\] 100%/);
        assert.match(repairScreen, /checked 1 tessera\r?\n/);
        const piped = await runTesseras([
          "--data-dir",
          daemon.dataDir,
          "repair",
        ]);
        assert.doesNotMatch(piped.stderr, /\r|%/);
      } finally {
        await daemon.stop();
      }
    });
  },
});
