/**
 * Private tesseras between real daemon processes (issue 19): the owner
 * puts small and medium files with `--private`, gets them back, shares
 * one; a stranger reads it with the capability on standard input and is
 * refused without it or with a wrong key, leaving no file; no data
 * directory of any node (the owner's included) holds a run of the
 * plaintext. Eight nodes on distinct loopback /24s.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatCapability, parseCapability } from "../../lib/crypto/mod.ts";
import {
  apiGet,
  LoopbackNet,
  runTesseras,
  tesserasOk,
  waitFor,
} from "./daemon_process.ts";

const MARKER = "TESSERAS-PRIVATE-MARKER-7f3a";

const cli = tesserasOk;

/** `size` bytes: the marker every 4 KiB between random bytes. */
function memories(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) {
    crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65536)));
  }
  const marker = new TextEncoder().encode(MARKER);
  for (let at = 0; at + marker.length <= size; at += 4096) out.set(marker, at);
  return out;
}

/** Every file under `dir` holding the marker (or its first half). */
async function filesWithMarker(dir: string): Promise<string[]> {
  const found: string[] = [];
  const needles = [MARKER, MARKER.slice(0, 14)];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = join(path, entry.name);
      if (entry.isDirectory) await walk(full);
      else if (entry.isFile) {
        const text = new TextDecoder("latin1").decode(
          await Deno.readFile(full),
        );
        if (needles.some((n) => text.includes(n))) found.push(full);
      }
    }
  };
  await walk(dir);
  return found;
}

async function leftovers(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.filter((n) =>
    n.startsWith("out") || n.startsWith(".tesseras-get")
  );
}

Deno.test({
  name:
    "private tesseras: put, get, share between daemons; holders never see plaintext",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tesseras-private-" });
    const net = new LoopbackNet(150);
    const daemons = net.daemons;
    const start = (n: number, bootstrap: string[]) =>
      net.start(join(root, `n${n}`), n, bootstrap);
    try {
      const boot = await start(0, []);
      const bootAddr = (await apiGet<{ addresses: string[] }>(boot, "/v1/id"))
        .addresses[0];
      await Promise.all(
        Array.from({ length: 7 }, (_, i) => start(i + 1, [bootAddr])),
      );
      const [owner, stranger] = [daemons[1], daemons[7]];
      await waitFor("the bootstrap node to see every peer", async () => {
        const h = await (await fetch(`${boot.url}/health`)).json();
        return h.peer_count >= 7;
      });

      const inputs = join(root, "inputs");
      await Deno.mkdir(inputs);
      const files = [
        { name: "letters", data: memories(1 << 20), tier: "small" },
        { name: "photos", data: memories(6 * (1 << 20) + 123), tier: "medium" },
      ];
      const ids: string[] = [];
      for (const f of files) {
        const path = join(inputs, `${f.name}.bin`);
        await Deno.writeFile(path, f.data);
        const put = JSON.parse(
          await cli(owner.dataDir, [
            "put",
            path,
            "--private",
            "--name",
            f.name,
            "--json",
          ]),
        );
        assert.equal(put.tier, f.tier);
        assert.equal(put.size, f.data.length);
        assert.equal(put.private, true);
        assert.equal(put.unplaced, 0);
        ids.push(put.id);
      }
      // The same file put twice privately: two keys, two unrelated ids.
      const again = JSON.parse(
        await cli(owner.dataDir, [
          "put",
          join(inputs, "letters.bin"),
          "--private",
          "--json",
        ]),
      );
      assert.notEqual(again.id, ids[0]);

      // The owner gets each back, decrypted with the catalogue's key.
      for (const [i, f] of files.entries()) {
        const out = join(root, `owner-${f.name}.bin`);
        await cli(owner.dataDir, ["get", ids[i], "-o", out]);
        assert.deepEqual(await Deno.readFile(out), f.data);
        await Deno.remove(out);
      }

      // A stranger with the capability reads it; the token stays off argv.
      const token = (await cli(owner.dataDir, ["share", ids[1]])).trim();
      assert.match(token, /^tsr1[a-z0-9]{110}$/);
      assert.equal(parseCapability(token).id, ids[1]);
      const readDir = join(root, "stranger");
      await Deno.mkdir(readDir);
      const out = join(readDir, "out.bin");
      await cli(
        stranger.dataDir,
        ["get", "--capability", "-o", out],
        `${token}\n`,
      );
      assert.deepEqual(await Deno.readFile(out), files[1].data);
      await Deno.remove(out);

      // Without it, or with a wrong key, a clear refusal and no file.
      const bare = await runTesseras([
        "--data-dir",
        stranger.dataDir,
        "get",
        ids[1],
        "-o",
        out,
      ]);
      assert.equal(bare.code, 8, bare.stderr);
      assert.match(bare.stderr, /is private/);
      const forged = formatCapability({
        id: ids[1],
        key: crypto.getRandomValues(new Uint8Array(32)),
      });
      const wrong = await runTesseras(
        ["--data-dir", stranger.dataDir, "get", "--capability", "-o", out],
        { stdin: forged },
      );
      assert.equal(wrong.code, 8, wrong.stderr);
      assert.match(wrong.stderr, /this key does not open/);
      const typo = await runTesseras(
        ["--data-dir", stranger.dataDir, "get", "--capability", "-o", out],
        {
          stdin: token.slice(0, 50) + (token[50] === "q" ? "p" : "q") +
            token.slice(51),
        },
      );
      assert.equal(typo.code, 2, typo.stderr);
      const inArgv = await runTesseras([
        "--data-dir",
        stranger.dataDir,
        "get",
        token,
        "-o",
        out,
      ]);
      assert.equal(inArgv.code, 2);
      assert.match(inArgv.stderr, /standard input/);
      assert.deepEqual(await leftovers(readDir), []);

      // status names them and says which are private.
      const listed = JSON.parse(await cli(owner.dataDir, ["status", "--json"]));
      const byId = new Map<string, { name?: string; private?: boolean }>(
        listed.map((s: { id: string }) => [s.id, s]),
      );
      assert.equal(byId.get(ids[1])?.name, "photos");
      assert.equal(byId.get(ids[1])?.private, true);
      const text = await cli(owner.dataDir, ["status"]);
      assert.match(text, /photos/);
      assert.match(text, /medium private/);

      // share refuses what has no key to give.
      const publicPath = join(inputs, "public.txt");
      await Deno.writeTextFile(publicPath, "a public memory, meant to be read");
      const publicId =
        (await cli(owner.dataDir, ["put", publicPath, "--name", "note"]))
          .trim();
      const sharePublic = await runTesseras([
        "--data-dir",
        owner.dataDir,
        "share",
        publicId,
      ]);
      assert.equal(sharePublic.code, 2);
      assert.match(sharePublic.stderr, /is public/);
      const shareForeign = await runTesseras([
        "--data-dir",
        stranger.dataDir,
        "share",
        ids[0],
      ]);
      assert.equal(shareForeign.code, 4);

      // No data directory holds a run of the plaintext: not a holder's
      // shard files, not the owner's blobs, database or scratch space.
      for (const d of daemons) {
        assert.deepEqual(await filesWithMarker(d.dataDir), [], d.dataDir);
      }
      // The marker search does find plaintext where it is.
      assert.equal((await filesWithMarker(inputs)).length, 2);
    } finally {
      await net.stopAll();
      await Deno.remove(root, { recursive: true });
    }
  },
});
