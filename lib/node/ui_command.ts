/**
 * `tesseras ui`: asks the running daemon for a one-time login link to its
 * dashboard and prints it (with `--open`, opens it in the browser too).
 * The link's secret comes from the API, authenticated by the token in
 * `api.json`, and goes only to standard output and, with `--open`, to the
 * system's opener.
 *
 * @module
 */
import { Command } from "commander";
import { TesserasError } from "../core/mod.ts";
import { readApiInfo } from "./api_info.ts";
import { dataLayout } from "./paths.ts";

/** What {@linkcode uiCommand} needs from the command line. */
export interface UiCommandOptions {
  /** The data directory a command names (flag, variable or default). */
  readonly dataDirOf: (cmd: Command) => string;
  /** Where text goes (standard output). */
  readonly print: (text: string) => void;
}

/** A wildcard bind address is not one a browser can open. */
function browsable(url: string): string {
  return url.replace("//0.0.0.0:", "//127.0.0.1:").replace(
    "//[::]:",
    "//[::1]:",
  );
}

/**
 * Asks the daemon behind `apiJson` for a login link.
 *
 * @example
 * ```ts
 * const { url } = await requestLoginLink("/home/me/.local/share/tesseras/api.json");
 * ```
 */
export async function requestLoginLink(
  apiJson: string,
): Promise<{ url: string; expiresInSeconds: number }> {
  const info = await readApiInfo(apiJson);
  const res = await fetch(`${info.url}/v1/ui/login-link`, {
    method: "POST",
    headers: { authorization: `Bearer ${info.token}` },
  }).catch((err) => {
    throw new TesserasError(
      "NOT_RUNNING",
      `the node at ${info.url} does not answer (${err.message}): is it running?`,
    );
  });
  const body = await res.json().catch(() => null);
  if (!res.ok || typeof body?.path !== "string") {
    throw new TesserasError(
      res.status === 401 ? "UNAUTHORIZED" : "INTERNAL",
      `the node refused a login link: ${body?.error?.message ?? res.status}`,
    );
  }
  return {
    url: browsable(info.url) + body.path,
    expiresInSeconds: Number(body.expiresInSeconds),
  };
}

/** The system's way to open a URL in the default browser. */
function openerFor(url: string): { cmd: string; args: string[] } {
  switch (Deno.build.os) {
    case "darwin":
      return { cmd: "open", args: [url] };
    case "windows":
      return { cmd: "rundll32", args: ["url.dll,FileProtocolHandler", url] };
    default:
      return { cmd: "xdg-open", args: [url] };
  }
}

async function openInBrowser(url: string): Promise<boolean> {
  const { cmd, args } = openerFor(url);
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * The `ui` command, ready to add to the program.
 *
 * @example
 * ```ts
 * import type { Command } from "commander";
 * declare const program: Command;
 * declare const dataDirOf: (cmd: Command) => string;
 * // The command line's own output function (main.ts: standard output).
 * declare const print: (text: string) => void;
 * program.addCommand(uiCommand({ dataDirOf, print }));
 * ```
 */
export function uiCommand(options: UiCommandOptions): Command {
  return new Command("ui")
    .description(
      "print a one-time login link to this node's dashboard in the browser",
    )
    .option("--open", "also open the link in the default browser")
    .action(async (opts, cmd) => {
      const link = await requestLoginLink(
        dataLayout(options.dataDirOf(cmd)).apiInfo,
      );
      const minutes = Math.round(link.expiresInSeconds / 60);
      options.print(
        `Open this link in a browser on this computer (it works once, within ${minutes} minutes):`,
      );
      options.print(link.url);
      if (opts.open && !(await openInBrowser(link.url))) {
        options.print("could not open a browser: open the link above yourself");
      }
    });
}
