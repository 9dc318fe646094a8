/**
 * The dashboard's gate: Host and Origin checks, one-time login links,
 * the session cookie, and what each kind of caller may do, over a real
 * HTTP server with a backend mocked at the port.
 */
import assert from "node:assert/strict";
import { Dashboard, DashboardSessions } from "../../lib/node/dashboard.ts";
import { guardRequest, hostAllowed } from "../../lib/node/request_guard.ts";
import { SweepHistory } from "../../lib/node/sweep_history.ts";
import { type ApiBackend, serveApi } from "../../lib/node/mod.ts";

Deno.test("hostAllowed takes IP addresses and localhost, no other name", () => {
  assert.equal(hostAllowed("127.0.0.1:7431"), true);
  assert.equal(hostAllowed("localhost:7431"), true);
  assert.equal(hostAllowed("localhost"), true);
  assert.equal(hostAllowed("[::1]:7431"), true);
  assert.equal(hostAllowed("192.168.1.4:7431"), true);
  assert.equal(hostAllowed("evil.example:7431"), false);
  assert.equal(hostAllowed("127.0.0.1.nip.io:7431"), false);
  assert.equal(hostAllowed("localhost.evil.example"), false);
  assert.equal(hostAllowed(null), false);
});

function post(headers: Record<string, string>): Request {
  return new Request("http://127.0.0.1:7431/v1/repair", {
    method: "POST",
    headers: { host: "127.0.0.1:7431", ...headers },
  });
}

Deno.test("guardRequest refuses foreign origins and, for sessions, none", () => {
  assert.equal(guardRequest(post({})), null);
  assert.equal(
    guardRequest(post({ origin: "http://127.0.0.1:7431" })),
    null,
  );
  assert.equal(
    guardRequest(post({ origin: "https://evil.example" })),
    "foreign origin https://evil.example",
  );
  assert.equal(
    guardRequest(post({}), { needsOrigin: true }),
    "state-changing request without Origin",
  );
  assert.equal(
    guardRequest(
      post({ origin: "http://127.0.0.1:7431", "sec-fetch-site": "cross-site" }),
    ),
    "cross-site request (cross-site)",
  );
  const get = new Request("http://127.0.0.1:7431/v1/tesseras", {
    headers: { host: "127.0.0.1:7431", origin: "https://evil.example" },
  });
  assert.equal(guardRequest(get), null, "reads change nothing");
});

Deno.test("login links work once and expire; sessions expire when idle", () => {
  let now = 1_000_000;
  const sessions = new DashboardSessions({ now: () => now });
  const link = sessions.issueLink();
  assert.match(link, /^[0-9a-f]{64}$/);
  const session = sessions.redeem(link);
  assert.ok(session);
  assert.equal(sessions.redeem(link), null, "a used link is refused");
  assert.equal(sessions.redeem("0".repeat(64)), null);
  assert.equal(sessions.valid(session), true);
  const late = sessions.issueLink();
  now += 5 * 60 * 1000 + 1;
  assert.equal(sessions.redeem(late), null, "a link older than 5 min");
  now += 12 * 60 * 60 * 1000 + 1;
  assert.equal(sessions.valid(session), false, "idle for over 12 h");
});

function backend(calls: string[]): ApiBackend {
  const none = () => Promise.resolve([]);
  return {
    health: () => Promise.resolve({ status: "OK", peer_id: "12D3" }),
    metrics: () => Promise.resolve(""),
    identity: () => Promise.resolve({ peerId: "12D3", addresses: [] }),
    peers: () => Promise.resolve({ connected: [], known: [] }),
    putFile: (path, options) => {
      calls.push(`put ${Deno.readTextFileSync(path)} as ${options.name}`);
      return Promise.resolve({ id: "ab".repeat(32), size: 5, tier: "small" });
    },
    getToFile: () => Promise.reject(new Error("not used")),
    share: () => Promise.reject(new Error("not used")),
    status: none,
    dropLocal: () => Promise.reject(new Error("not used")),
    ledger: none,
    repair: () => {
      calls.push("repair");
      return Promise.resolve({ tesseras: [] });
    },
  };
}

async function withDashboard(
  fn: (
    ctx: { url: string; token: string; calls: string[]; tmpDir: string },
  ) => Promise<void>,
): Promise<void> {
  const calls: string[] = [];
  const tmpDir = await Deno.makeTempDir();
  const dashboard = new Dashboard({
    backend: backend(calls),
    heldBytes: () => Promise.resolve(0),
    history: new SweepHistory(),
    tmpDir,
  });
  const token = "t".repeat(64);
  const server = serveApi(backend(calls), { token, port: 0, dashboard });
  try {
    await fn({ url: server.url, token, calls, tmpDir });
  } finally {
    await server.shutdown();
    await Deno.remove(tmpDir, { recursive: true });
  }
}

async function status(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

async function logIn(url: string, token: string): Promise<string> {
  const made = await fetch(`${url}/v1/ui/login-link`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  const { path } = await made.json();
  const res = await fetch(`${url}${path}`, { redirect: "manual" });
  await res.body?.cancel();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/");
  const cookie = res.headers.get("set-cookie") ?? "";
  assert.match(cookie, /HttpOnly; SameSite=Strict; Path=\//);
  const second = await fetch(`${url}${path}`, { redirect: "manual" });
  assert.equal(second.status, 403, "the link works once");
  const page = await second.text();
  assert.match(page, /This login link does not work/);
  assert.doesNotMatch(page, /at |Error/, "a page, not a stack");
  return cookie.split(";")[0];
}

Deno.test("a session reads and acts only from its own origin", async () => {
  await withDashboard(async ({ url, token, calls }) => {
    assert.equal(await status(fetch(`${url}/`)), 401);
    const cookie = await logIn(url, token);
    const page = await fetch(`${url}/`, { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(
      await page.text(),
      /<script type="module" src="\/ui\/app.js">/,
    );
    const read = fetch(`${url}/v1/tesseras`, { headers: { cookie } });
    assert.equal(await status(read), 200);
    const repair = (headers: Record<string, string>) =>
      status(fetch(`${url}/v1/repair`, { method: "POST", headers }));
    assert.equal(await repair({ cookie }), 403, "no Origin");
    assert.equal(
      await repair({ cookie, origin: "https://evil.example" }),
      403,
    );
    assert.equal(await repair({ cookie, origin: url }), 200);
    const more = fetch(`${url}/v1/ui/login-link`, {
      method: "POST",
      headers: { cookie, origin: url },
    });
    assert.equal(await status(more), 403, "a session makes no links");
    assert.deepEqual(calls, ["repair"]);
  });
});

Deno.test("the token still works without Origin, never with a foreign one", async () => {
  await withDashboard(async ({ url, token, calls }) => {
    const auth = { authorization: `Bearer ${token}` };
    const repair = (headers: Record<string, string>) =>
      status(fetch(`${url}/v1/repair`, { method: "POST", headers }));
    assert.equal(await repair(auth), 200);
    assert.equal(
      await repair({ ...auth, origin: "https://evil.example" }),
      403,
    );
    assert.equal(
      await repair({ origin: url }),
      401,
      "neither token nor cookie",
    );
    assert.deepEqual(calls, ["repair"]);
  });
});

Deno.test("an upload is staged, put and removed, with what a crash left", async () => {
  await withDashboard(async ({ url, token, calls, tmpDir }) => {
    await Deno.writeTextFile(`${tmpDir}/upload-left-by-a-crash.tmp`, "x");
    const res = await fetch(`${url}/v1/tesseras/upload?name=hi%20there.txt`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: "hello",
    });
    const lines = (await res.text()).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(lines.at(-1).result.id, "ab".repeat(32));
    assert.deepEqual(calls, ["put hello as hi there.txt"]);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(tmpDir)), []);
  });
});
