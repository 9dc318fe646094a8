/// <reference lib="dom" />
/**
 * The dashboard in a real browser against real daemons: log in through
 * the one-time link `tesseras ui` prints, see a tessera and its health,
 * repair it, put a file through the page and download it back
 * byte-identical, use it by keyboard and at 360 px, and be refused with a
 * used link, without the cookie, from a foreign origin or host. Screenshots
 * of each page go to a folder the test prints.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  apiGet,
  type DaemonProcess,
  runTesseras,
  startDaemon,
  waitFor,
} from "../system/daemon_process.ts";
import {
  chromiumAvailable,
  launchBrowser,
  type Page,
  type TestBrowser,
  waitForDownload,
} from "./browser.ts";

const HAVE_CHROMIUM = chromiumAvailable();

interface Row {
  id: string;
}

/** A bootstrap node and two peers on distinct loopback /24s. */
async function network(root: string): Promise<DaemonProcess[]> {
  const start = (n: number, bootstrap: string[]) =>
    startDaemon(join(root, `n${n}`), [
      "--listen",
      `/ip4/127.0.${110 + n}.1/tcp/0`,
      ...(bootstrap.length ? ["--bootstrap", ...bootstrap] : []),
    ]);
  const boot = await start(0, []);
  const addr = (await apiGet<{ addresses: string[] }>(boot, "/v1/id"))
    .addresses[0];
  const others = await Promise.all([start(1, [addr]), start(2, [addr])]);
  await waitFor("the owner to see both peers", async () => {
    const h = await (await fetch(`${others[0].url}/health`)).json();
    return h.peer_count >= 2;
  });
  return [others[0], boot, others[1]];
}

async function loginLink(owner: DaemonProcess): Promise<string> {
  const out = await runTesseras(["--data-dir", owner.dataDir, "ui"]);
  assert.equal(out.code, 0, out.stderr);
  const url = out.stdout.trim().split("\n").pop()!;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/ui\/login\?t=[0-9a-f]{64}$/);
  return url;
}

async function textOf(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(selector, { timeout: 15_000 });
  return await page.$eval(selector, (el) => (el as HTMLElement).innerText);
}

async function shot(page: Page, dir: string, name: string): Promise<void> {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Tab through the page until the link `label` has focus, then Enter. */
async function goByKeyboard(page: Page, label: string): Promise<void> {
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() =>
      document.activeElement?.textContent?.trim() ?? ""
    );
    if (focused === label) {
      await page.keyboard.press("Enter");
      return;
    }
  }
  throw new Error(`could not reach "${label}" with the Tab key`);
}

async function putThroughPage(
  page: Page,
  owner: DaemonProcess,
  file: string,
): Promise<string> {
  const before = new Set(
    (await apiGet<Row[]>(owner, "/v1/tesseras")).map((r) => r.id),
  );
  const input = await page.waitForSelector("input[type=file]");
  await input!.uploadFile(file);
  await page.waitForFunction(
    () => document.querySelector(".notice")?.textContent?.startsWith("Added"),
    { timeout: 30_000 },
  );
  const after = await apiGet<Row[]>(owner, "/v1/tesseras");
  const added = after.find((r) => !before.has(r.id));
  if (!added) throw new Error("the page's put added no tessera");
  await page.waitForSelector(`tr[data-id="${added.id}"]`, { timeout: 15_000 });
  return added.id;
}

/**
 * The status of `GET /v1/tesseras` sent with `Host: host`, over a raw
 * socket: fetch sets the Host header itself.
 */
async function statusWithHost(
  url: string,
  headers: { host: string; cookie: string },
): Promise<number> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const request =
      `GET /v1/tesseras HTTP/1.1\r\nHost: ${headers.host}:${port}\r\n` +
      `Cookie: ${headers.cookie}\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(512);
    const n = await conn.read(buf);
    const line = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    return Number(line.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

async function refusals(owner: DaemonProcess, cookie: string): Promise<void> {
  const url = owner.url;
  const host = new URL(url).host;
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${url}${path}`, init);
    await res.body?.cancel();
    return res.status;
  };
  const repair = (headers: Record<string, string>) =>
    call("/v1/repair", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: "{}",
    });
  assert.equal(await call("/v1/tesseras"), 401, "no cookie, no token");
  assert.equal(await call("/v1/tesseras", { headers: { cookie } }), 200);
  assert.equal(await repair({ cookie, origin: "https://evil.example" }), 403);
  assert.equal(await repair({ cookie }), 403, "cookie without an Origin");
  assert.equal(await repair({ cookie, origin: `http://${host}` }), 200);
  assert.equal(
    await statusWithHost(url, { host: "evil.example", cookie }),
    403,
    "a rebinding host name",
  );
}

/** Prints how long each stage took, so a slow one shows in the log. */
function stopwatch(): (stage: string) => void {
  let last = Date.now();
  return (stage) => {
    const now = Date.now();
    console.log(`  ${stage}: ${now - last} ms`);
    last = now;
  };
}

interface Stage {
  readonly browser: TestBrowser;
  readonly owner: DaemonProcess;
  readonly page: Page;
  readonly dirs: { root: string; shots: string };
}

/** A tessera put by the CLI shows by id with its health; repair checks it. */
async function seeAndRepair(s: Stage, id: string): Promise<void> {
  const { page } = s;
  await goByKeyboard(page, "My tesseras");
  const row = `tr[data-id="${id}"]`;
  assert.match(await textOf(page, row), /Letter to my grandchild/);
  assert.match(await textOf(page, `${row} .state`), /Not checked yet|Safe/);
  await page.click(`${row} button[aria-label^="Repair"]`);
  await page.waitForFunction(
    () => document.querySelector(".notice")?.textContent?.startsWith("Checked"),
    { timeout: 30_000 },
  );
  // Two peers hold fewer copies than a small tessera's seven: checked, the
  // health says so in words (see healthWords), no longer "not checked".
  await page.waitForFunction(
    (sel: string) => {
      const text = document.querySelector(`${sel} .state`)?.textContent ?? "";
      return /^(Safe|Needs repair)/.test(text);
    },
    { timeout: 15_000 },
    row,
  );
  assert.match(
    await textOf(page, `${row} td[data-label="last check"]`),
    /just now/,
  );
}

/** A file put through the page comes back byte-identical as a download. */
async function putAndDownload(s: Stage): Promise<string> {
  const photo = join(s.dirs.root, "photo.bin");
  const bytes = new Uint8Array(300_000);
  for (let at = 0; at < bytes.length; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65536));
  }
  await Deno.writeFile(photo, bytes);
  const id = await putThroughPage(s.page, s.owner, photo);
  assert.match(await textOf(s.page, `tr[data-id="${id}"]`), /photo\.bin/);
  await shot(s.page, s.dirs.shots, "tesseras");
  await s.page.click(`tr[data-id="${id}"] button[aria-label^="Download"]`);
  const downloaded = await Deno.readFile(
    await waitForDownload(s.browser.downloads),
  );
  assert.deepEqual(downloaded, bytes, "downloaded bytes equal the put's");
  return id;
}

/** The tesseras page at phone width: no sideways scrolling. */
async function phoneWidth(s: Stage, id: string): Promise<void> {
  await s.page.setViewport({ width: 360, height: 740 });
  await s.page.goto(`${s.owner.url}/#/tesseras`);
  await s.page.waitForSelector(`tr[data-id="${id}"]`);
  const wide = await s.page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > 360.5)
      .map((el) => `${el.tagName}.${el.className}`).slice(0, 5).join(", ")
  );
  assert.equal(wide, "", "nothing reaches past 360 px");
  await shot(s.page, s.dirs.shots, "tesseras-360px");
}

/** The cookie's flags, the API's refusals and a used link's page. */
async function refusedAndReplayed(s: Stage, link: string): Promise<void> {
  const cookies = await s.browser.browser.cookies();
  const session = cookies.find((c) => c.name.startsWith("tesseras_session_"));
  if (!session) throw new Error("no session cookie was set");
  assert.ok(session.httpOnly, "the session cookie is HttpOnly");
  assert.equal(session.sameSite, "Strict");
  await refusals(s.owner, `${session.name}=${session.value}`);
  const replay = await s.browser.newPage();
  const res = await replay.goto(link);
  assert.equal(res?.status(), 403, "a used link is refused");
  assert.match(await textOf(replay, "h1"), /does not work/);
  await shot(replay, s.dirs.shots, "used-link");
}

async function scenario(
  browser: TestBrowser,
  daemons: DaemonProcess[],
  dirs: { root: string; shots: string },
): Promise<void> {
  const lap = stopwatch();
  const owner = daemons[0];
  const memory = join(dirs.root, "letter.txt");
  await Deno.writeTextFile(memory, "Dear grandchild, ".repeat(500));
  const put = await runTesseras([
    "--data-dir",
    owner.dataDir,
    "put",
    memory,
    "--name",
    "Letter to my grandchild",
  ]);
  assert.equal(put.code, 0, put.stderr);
  lap("put by the CLI");
  const link = await loginLink(owner);
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 800 });
  await page.goto(link);
  assert.equal(new URL(page.url()).pathname, "/", "the link redirects to /");
  assert.match(await textOf(page, "main h2"), /Overview/);
  await page.waitForSelector(".cards");
  await shot(page, dirs.shots, "overview");
  lap("login and overview");
  const s: Stage = { browser, owner, page, dirs };
  await seeAndRepair(s, put.stdout.trim());
  lap("health and repair");
  const id = await putAndDownload(s);
  lap("put and download through the page");
  await goByKeyboard(page, "Peers");
  await page.waitForSelector("table.rows tbody tr");
  await shot(page, dirs.shots, "peers");
  await page.goto(`${owner.url}/#/`);
  await page.waitForSelector("figure.chart");
  await shot(page, dirs.shots, "overview-after-sweeps");
  await phoneWidth(s, id);
  lap("peers, charts, phone width");
  await refusedAndReplayed(s, link);
  const secret = new URL(link).searchParams.get("t")!;
  for (const d of daemons) {
    assert.ok(!d.stderr().includes(secret), "the login secret is not logged");
  }
  lap("refusals");
}

Deno.test({
  name: HAVE_CHROMIUM
    ? "dashboard in chromium: login link, health, repair, put, download, keyboard, 360 px, refusals"
    : "dashboard in chromium: SKIPPED, /usr/bin/chromium is not installed",
  ignore: !HAVE_CHROMIUM,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tesseras-ui-test-" });
    const shots = join(root, "screenshots");
    await Deno.mkdir(shots);
    console.log(`dashboard screenshots: ${shots}`);
    const started = Date.now();
    const daemons = await network(root);
    console.log(`  three daemons up: ${Date.now() - started} ms`);
    const browser = await launchBrowser(root).catch(async (err) => {
      await Promise.all(daemons.map((d) => d.stop()));
      throw err;
    });
    try {
      await scenario(browser, daemons, { root, shots });
    } catch (err) {
      for (const [i, page] of (await browser.browser.pages()).entries()) {
        await page.screenshot({ path: join(shots, `failure-${i}.png`) });
      }
      throw err;
    } finally {
      await browser.close();
      await Promise.all(daemons.map((d) => d.stop()));
    }
  },
});
