/**
 * The recovery phrase between real daemon processes (issue 15): a new
 * node's identity comes back from its phrase, or from any two of three
 * heir shares, read from standard input into a fresh data directory; a
 * wrong phrase or too few shares exit 2 and create nothing; a node made
 * before recovery phrases is re-keyed by `recovery-phrase --rekey` and
 * keeps its tesseras.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parsePhrase } from "../../lib/crypto/mod.ts";
import { loadOrCreateIdentity } from "../../lib/net/mod.ts";
import {
  apiGet,
  LoopbackNet,
  runTesseras,
  startDaemon,
  tesserasOk,
  waitFor,
  withTempDir,
} from "./daemon_process.ts";

const cli = tesserasOk;

/** The phrases with two different neighbouring words swapped. */
function swapsOf(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < words.length; i++) {
    if (words[i] === words[i + 1]) continue;
    const w = [...words];
    [w[i], w[i + 1]] = [w[i + 1], w[i]];
    out.push(w.join(" "));
  }
  return out;
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

Deno.test({
  name:
    "recovery: the phrase or two of three shares restore the node's identity; bad input creates nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (root) => {
      const a = await startDaemon(join(root, "a"), [
        "--listen",
        "/ip4/127.0.140.1/tcp/0",
      ]);
      let phrase: string;
      let lines: string[];
      try {
        phrase = (await cli(a.dataDir, ["recovery-phrase"])).trim();
        assert.equal(phrase.split(" ").length, 24);
        const split = await runTesseras(
          [
            "--data-dir",
            a.dataDir,
            "recovery-phrase",
            "--shares",
            "3",
            "--threshold",
            "2",
          ],
        );
        assert.equal(split.code, 0, split.stderr);
        lines = split.stdout.trim().split("\n");
        assert.equal(lines.length, 3);
        for (const l of lines) assert.equal(l.split(" ").length, 32);
        assert.match(split.stderr, /any 2 of them/);
        // The phrase is nowhere in the daemon's output.
        assert.equal(
          a.stderr().includes(phrase.split(" ").slice(0, 4).join(" ")),
          false,
        );
      } finally {
        await a.stop();
      }

      // The phrase, messy as typed, on standard input.
      const b = join(root, "b");
      const messy = `  ${phrase.toUpperCase().replaceAll(" ", "\n")}\n`;
      const recovered = JSON.parse(await cli(b, ["recover", "--json"], messy));
      assert.equal(recovered.peerId, a.peerId);
      const restarted = await startDaemon(b, [
        "--listen",
        "/ip4/127.0.141.1/tcp/0",
      ]);
      try {
        assert.equal(restarted.peerId, a.peerId);
        assert.equal((await cli(b, ["recovery-phrase"])).trim(), phrase);
      } finally {
        await restarted.stop();
      }

      // Any two of the three shares, in any order.
      const c = join(root, "c");
      const fromShares = JSON.parse(
        await cli(
          c,
          ["recover", "--shares", "--json"],
          `${lines[2]}\n\n${lines[0]}\n`,
        ),
      );
      assert.equal(fromShares.peerId, a.peerId);

      // Refusals: exit 2, and the data directory is not created.
      const words = phrase.split(" ");
      // Two neighbours swapped; the 8-bit checksum misses 1 swap in 256, so
      // take the first swap it catches (the phrase is random every run).
      const swapped = swapsOf(words).find((p) => {
        try {
          parsePhrase(p);
          return false;
        } catch {
          return true;
        }
      })!;
      const refusals: [string[], string, RegExp][] = [
        [["recover"], swapped, /checksum/],
        [["recover"], words.slice(0, 23).join(" "), /24 words; got 23/],
        [
          ["recover"],
          [...words.slice(0, 23), "bitcoin"].join(" "),
          /"bitcoin"/,
        ],
        [["recover"], "", /got 0/],
        [["recover", "--shares"], lines[1], /needs 2 of its 3/],
        [["recover", "--shares"], `${lines[1]}\n${lines[1]}`, /given twice/],
      ];
      for (const [i, [args, stdin, message]] of refusals.entries()) {
        const dir = join(root, `refused-${i}`);
        const out = await runTesseras(["--data-dir", dir, ...args], { stdin });
        assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
        assert.match(out.stderr, message);
        assert.equal(await exists(dir), false, `${dir} was created`);
      }
      // Not into a directory that already holds a node, which is untouched.
      const before = await Deno.readFile(join(a.dataDir, "identity.key"));
      const over = await runTesseras(["--data-dir", a.dataDir, "recover"], {
        stdin: phrase,
      });
      assert.equal(over.code, 2);
      assert.match(over.stderr, /already holds a node/);
      assert.deepEqual(
        await Deno.readFile(join(a.dataDir, "identity.key")),
        before,
      );
    });
  },
});

Deno.test({
  name:
    "recovery: a node made before recovery phrases is re-keyed and keeps its tesseras",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (root) => {
      const net = new LoopbackNet(143);
      const start = (dir: string, n: number, bootstrap: string[]) =>
        net.start(dir, n, bootstrap);
      try {
        const boot = await start(join(root, "boot"), 0, []);
        const bootAddr =
          (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
        await start(join(root, "p1"), 1, [bootAddr]);
        await start(join(root, "p2"), 2, [bootAddr]);
        // An old node: an identity.key and no recovery.key, as before.
        const oldDir = join(root, "old");
        await Deno.mkdir(oldDir, { recursive: true });
        const { peerId: oldId } = await loadOrCreateIdentity(
          join(oldDir, "identity.key"),
        );
        let old = await start(oldDir, 3, [bootAddr]);
        assert.equal(old.peerId, oldId);
        await waitFor("the old node to see its peers", async () => {
          const h = await (await fetch(`${old.url}/health`)).json();
          return h.peer_count >= 3;
        });
        const file = join(root, "memory.txt");
        await Deno.writeTextFile(
          file,
          "kept across the re-keying ".repeat(1000),
        );
        const id = (await cli(oldDir, ["put", file])).trim();
        // Three holders for a 7-copy tier: checked live, as it stands.
        const live = async () => {
          const s = JSON.parse(await cli(oldDir, ["status", id, "--json"]));
          return { health: s.health, holders: s.holderCount };
        };
        const before = await live();
        assert.equal(before.holders, 3);
        // Without a phrase: no private puts, no phrase, with what to do.
        const noPhrase = await runTesseras([
          "--data-dir",
          oldDir,
          "recovery-phrase",
        ]);
        assert.equal(noPhrase.code, 2);
        assert.match(noPhrase.stderr, /--rekey/);
        const noPrivate = await runTesseras([
          "--data-dir",
          oldDir,
          "put",
          file,
          "--private",
        ]);
        assert.equal(noPrivate.code, 2);
        assert.match(noPrivate.stderr, /--rekey/);
        const running = await runTesseras([
          "--data-dir",
          oldDir,
          "recovery-phrase",
          "--rekey",
        ]);
        assert.equal(running.code, 6, running.stderr);
        await net.stop(old);

        const rekey = await runTesseras([
          "--data-dir",
          oldDir,
          "recovery-phrase",
          "--rekey",
        ]);
        assert.equal(rekey.code, 0, rekey.stderr);
        const phrase = rekey.stdout.trim();
        assert.equal(phrase.split(" ").length, 24);
        assert.match(
          rekey.stderr,
          new RegExp(`peer id ${oldId} is now 12D3KooW`),
        );
        assert.equal(
          await exists(join(oldDir, "identity.key.pre-phrase")),
          true,
        );
        const again = await runTesseras([
          "--data-dir",
          oldDir,
          "recovery-phrase",
          "--rekey",
        ]);
        assert.equal(again.code, 2);

        old = await start(oldDir, 3, [bootAddr]);
        assert.notEqual(old.peerId, oldId);
        assert.match(rekey.stderr, new RegExp(old.peerId));
        // Its tessera is still its own: listed, retrievable, audited.
        const status = JSON.parse(await cli(oldDir, ["status", "--json"]));
        assert.deepEqual(status.map((s: { id: string }) => s.id), [id]);
        const out = join(root, "back.txt");
        await cli(oldDir, ["get", id, "-o", out]);
        assert.equal(
          await Deno.readTextFile(out),
          await Deno.readTextFile(file),
        );
        // The holders answer the re-keyed owner's audits as before.
        assert.deepEqual(await live(), before);
        // And the phrase now restores the new identity.
        const restored = JSON.parse(
          await cli(join(root, "restored"), ["recover", "--json"], phrase),
        );
        assert.equal(restored.peerId, old.peerId);
      } finally {
        await net.stopAll();
      }
    });
  },
});
