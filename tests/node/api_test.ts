import assert from "node:assert/strict";
import { TesserasError } from "../../lib/core/mod.ts";
import {
  type ApiBackend,
  dataLayout,
  serveApi,
  writeApiInfo,
} from "../../lib/node/mod.ts";
import { ApiClient } from "../../lib/node/client/mod.ts";

const ID = "ab".repeat(32);

function fakeBackend(calls: string[]): ApiBackend {
  return {
    health: () => Promise.resolve({ status: "OK" }),
    metrics: () => Promise.resolve("tesseras_peers 3\n"),
    identity: () => Promise.resolve({ peerId: "12D3", addresses: [] }),
    peers: () => Promise.resolve({ connected: [], known: [] }),
    putFile(path, { onProgress, private: secret, name, localCopy }) {
      calls.push(
        `put ${path}${secret ? " private" : ""}${name ? ` ${name}` : ""}${
          localCopy === false ? " no-local-copy" : ""
        }`,
      );
      onProgress?.({ done: 1, total: 2, phase: "upload" });
      onProgress?.({ done: 2, total: 2, phase: "upload" });
      return Promise.resolve({ id: ID, size: 5, tier: "small" });
    },
    getToFile(id, { outPath, signal, key }) {
      calls.push(`get ${id} ${outPath}${key ? ` key ${key.length}` : ""}`);
      if (outPath !== "/tmp/slow") {
        return Promise.reject(new TesserasError("NOT_FOUND", "no holders"));
      }
      // A get that takes until its client goes away.
      return new Promise((_, reject) => {
        signal?.addEventListener("abort", () => {
          calls.push("get aborted");
          reject(signal.reason);
        });
      });
    },
    share: (id) => Promise.resolve({ id, capability: "tsr1test" }),
    status: (id) => Promise.resolve(id ? { id } : []),
    dropLocal: (id) => {
      calls.push(`drop-local ${id}`);
      if (id === "cd".repeat(32)) {
        return Promise.reject(
          new TesserasError("INSUFFICIENT_SHARDS", "only 3 of 10 proven"),
        );
      }
      return Promise.resolve({ id, localCopy: false, dropped: true });
    },
    ledger: () => Promise.resolve([]),
    repair: (id) => Promise.resolve({ tesseras: id ? [{ id }] : [] }),
  };
}

async function withServer(
  fn: (url: string, token: string, calls: string[]) => Promise<void>,
) {
  const calls: string[] = [];
  const token = "t".repeat(64);
  const server = serveApi(fakeBackend(calls), { token, port: 0 });
  try {
    await fn(server.url, token, calls);
  } finally {
    await server.shutdown();
  }
}

Deno.test("api binds to loopback by default", async () => {
  await withServer((url) => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    return Promise.resolve();
  });
});

Deno.test("health and metrics need no token; other routes do", async () => {
  await withServer(async (url, token) => {
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "OK" });
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(await metrics.text(), "tesseras_peers 3\n");
    const denied = await fetch(`${url}/v1/id`);
    assert.equal(denied.status, 401);
    assert.equal((await denied.json()).error.code, "UNAUTHORIZED");
    const wrong = await fetch(`${url}/v1/id`, {
      headers: { authorization: `Bearer ${"x".repeat(64)}` },
    });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const ok = await fetch(`${url}/v1/id`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.deepEqual(await ok.json(), { peerId: "12D3", addresses: [] });
  });
});

Deno.test("bodies declared over 1 GiB are refused before reading", async () => {
  await withServer(async (url, token) => {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(url).port),
    });
    const request = [
      "POST /v1/tesseras HTTP/1.1",
      "Host: localhost",
      `Authorization: Bearer ${token}`,
      "Content-Type: application/json",
      `Content-Length: ${2 ** 30 + 1}`,
      "",
      "",
    ].join("\r\n");
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    conn.close();
    const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    assert.match(text, /^HTTP\/1\.1 413/);
    assert.match(text, /TOO_LARGE/);
  });
});

Deno.test("client relays job progress and errors with codes", async () => {
  await withServer(async (url, token, calls) => {
    const dir = await Deno.makeTempDir();
    try {
      await writeApiInfo(dataLayout(dir).apiInfo, {
        url,
        token,
        pid: Deno.pid,
        peerId: "12D3",
      });
      const mode = (await Deno.stat(dataLayout(dir).apiInfo)).mode! & 0o777;
      assert.equal(mode, 0o600);
      const client = await ApiClient.forDataDir(dir);
      const seen: number[] = [];
      const result = await client.job("/v1/tesseras", { path: "/x" }, {
        onProgress: (e) => seen.push(e.done),
      });
      assert.deepEqual(result, { id: ID, size: 5, tier: "small" });
      assert.deepEqual(seen, [1, 2]);
      await assert.rejects(
        client.job("/v1/retrieve", { id: ID, out: "/tmp/o" }),
        (e) => e instanceof TesserasError && e.code === "NOT_FOUND",
      );
      await assert.rejects(
        client.get(`/v1/tesseras/not-an-id`),
        (e) => e instanceof TesserasError && e.code === "INVALID_ID",
      );
      assert.deepEqual(await client.get(`/v1/tesseras/${ID}`), { id: ID });
      // Private puts, names, keys and shares reach the backend as typed.
      await client.job("/v1/tesseras", {
        path: "/y",
        private: true,
        name: "n",
      });
      await assert.rejects(
        client.job("/v1/retrieve", {
          id: ID,
          out: "/tmp/p",
          key: "ab".repeat(32),
        }),
        (e) => e instanceof TesserasError && e.code === "NOT_FOUND",
      );
      for (
        const bad of [{ key: "AB".repeat(32) }, { key: "ab" }, { name: "" }]
      ) {
        await assert.rejects(
          client.job(bad.name === undefined ? "/v1/retrieve" : "/v1/tesseras", {
            id: ID,
            out: "/tmp/q",
            path: "/z",
            ...bad,
          }),
          (e) => e instanceof TesserasError && e.code === "INVALID_INPUT",
          JSON.stringify(bad),
        );
      }
      assert.deepEqual(await client.get(`/v1/share/${ID}`), {
        id: ID,
        capability: "tsr1test",
      });
      // Letting go: the put's flag, and drop-local's route and refusal.
      await client.job("/v1/tesseras", { path: "/w", localCopy: false });
      assert.deepEqual(await client.job(`/v1/tesseras/${ID}/drop-local`, {}), {
        id: ID,
        localCopy: false,
        dropped: true,
      });
      await assert.rejects(
        client.job(`/v1/tesseras/${"cd".repeat(32)}/drop-local`, {}),
        (e) => e instanceof TesserasError && e.code === "INSUFFICIENT_SHARDS",
      );
      await assert.rejects(
        client.job(`/v1/tesseras/not-an-id/drop-local`, {}),
        (e) => e instanceof TesserasError && e.code === "INVALID_ID",
      );
      assert.deepEqual(calls, [
        "put /x",
        `get ${ID} /tmp/o`,
        "put /y private n",
        `get ${ID} /tmp/p key 32`,
        "put /w no-local-copy",
        `drop-local ${ID}`,
        `drop-local ${"cd".repeat(32)}`,
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("client reports a missing daemon as NOT_RUNNING", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      ApiClient.forDataDir(dir),
      (e) => e instanceof TesserasError && e.code === "NOT_RUNNING",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a chunked JSON body is refused once it passes the limit", async () => {
  await withServer(async (url, token) => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Endless: the server must stop reading, not buffer it all.
        sent += 16384;
        if (sent > 8 * 1024 * 1024) controller.close();
        else controller.enqueue(new TextEncoder().encode(" ".repeat(16384)));
      },
    });
    const res = await fetch(`${url}/v1/tesseras`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "TOO_LARGE");
    assert.ok(sent < 8 * 1024 * 1024, `server read ${sent} bytes`);
  });
});

Deno.test("a get whose client goes away is aborted on the daemon", async () => {
  await withServer(async (url, token, calls) => {
    const client = new AbortController();
    const res = await fetch(`${url}/v1/retrieve`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ id: ID, out: "/tmp/slow" }),
      signal: client.signal,
    });
    assert.equal(res.status, 200);
    client.abort();
    await res.body?.cancel().catch(() => {});
    for (let i = 0; i < 50 && !calls.includes("get aborted"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(calls, [`get ${ID} /tmp/slow`, "get aborted"]);
  });
});
