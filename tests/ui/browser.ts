/**
 * Headless Chromium for the dashboard's browser tests: Debian's
 * `chromium` driven by puppeteer-core, with a fresh profile, no network
 * of its own (no updates, sync or QUIC) and downloads into a folder.
 *
 * @module
 */
import { join } from "node:path";

/**
 * puppeteer-core is loaded by a dynamic import of a name held in a
 * variable: its type declarations reference Node's and, under Deno 2.9,
 * take `node:` modules' types away from the whole program. These are the
 * few parts of its API the tests use.
 */
const PUPPETEER = "puppeteer-core";

/** The parts of puppeteer's `HTTPResponse` used here. */
export interface Response {
  status(): number;
}

/** The parts of puppeteer's `ElementHandle` used here. */
export interface ElementHandle {
  uploadFile(...paths: string[]): Promise<void>;
}

/** The parts of puppeteer's `Page` used here. */
export interface Page {
  goto(url: string): Promise<Response | null>;
  url(): string;
  setViewport(v: { width: number; height: number }): Promise<void>;
  waitForSelector(
    selector: string,
    options?: { timeout?: number },
  ): Promise<ElementHandle | null>;
  // deno-lint-ignore no-explicit-any
  $eval(selector: string, fn: (el: any) => string): Promise<string>;
  evaluate<T>(fn: () => T): Promise<T>;
  waitForFunction<A extends unknown[]>(
    fn: (...args: A) => unknown,
    options: { timeout?: number },
    ...args: A
  ): Promise<unknown>;
  click(selector: string): Promise<void>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  readonly keyboard: { press(key: string): Promise<void> };
  createCDPSession(): Promise<
    { send(method: string, params: unknown): Promise<unknown> }
  >;
}

/** A cookie as puppeteer reports it. */
export interface Cookie {
  readonly name: string;
  readonly value: string;
  readonly httpOnly: boolean;
  readonly sameSite?: string;
}

/** The parts of puppeteer's `Browser` used here. */
export interface Browser {
  newPage(): Promise<Page>;
  pages(): Promise<Page[]>;
  cookies(): Promise<Cookie[]>;
  close(): Promise<void>;
}

interface Puppeteer {
  launch(options: {
    executablePath: string;
    headless: boolean;
    userDataDir: string;
    args: string[];
  }): Promise<Browser>;
}

/** Where Debian installs Chromium (`.ci/run` installs it when missing). */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium can be run here; the tests say skipped otherwise. */
export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** A launched browser and the folders it uses. */
export interface TestBrowser {
  readonly browser: Browser;
  /** Where downloads land. */
  readonly downloads: string;
  /** A new page whose downloads go to {@linkcode downloads}. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile under `root`. */
export async function launchBrowser(root: string): Promise<TestBrowser> {
  const profile = join(root, "chromium-profile");
  const downloads = join(root, "downloads");
  await Deno.mkdir(downloads, { recursive: true });
  const puppeteer = (await import(PUPPETEER)).default as Puppeteer;
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  return {
    browser,
    downloads,
    async newPage() {
      const page = await browser.newPage();
      const cdp = await page.createCDPSession();
      await cdp.send("Browser.setDownloadBehavior", {
        behavior: "allow",
        downloadPath: downloads,
      });
      return page;
    },
    close: () => browser.close(),
  };
}

/** Waits until `dir` holds one finished download; returns its path. */
export async function waitForDownload(
  dir: string,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && !e.name.endsWith(".crdownload")) return join(dir, e.name);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no download appeared in ${dir}`);
}
