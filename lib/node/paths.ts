/**
 * Where a node keeps its data: the platform's convention unless told
 * otherwise by `--data-dir` or `TESSERAS_DATA_DIR`.
 *
 * @module
 */
import { join } from "node:path";

/** Options of {@linkcode defaultDataDir}; defaults read the real environment. */
export interface DataDirOptions {
  /** Operating system, as `Deno.build.os`. */
  readonly os?: typeof Deno.build.os;
  /** Environment lookup. */
  readonly env?: (name: string) => string | undefined;
}

/**
 * The platform's data directory for tesseras: `$XDG_DATA_HOME/tesseras`
 * (else `~/.local/share/tesseras`) on Linux and the BSDs,
 * `~/Library/Application Support/tesseras` on macOS and
 * `%LOCALAPPDATA%\tesseras` on Windows.
 *
 * @example
 * ```ts
 * defaultDataDir({ os: "linux", env: () => undefined });
 * ```
 */
export function defaultDataDir(options: DataDirOptions = {}): string {
  const os = options.os ?? Deno.build.os;
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const home = env("HOME") ?? env("USERPROFILE") ?? ".";
  if (os === "windows") {
    const base = env("LOCALAPPDATA") ?? env("APPDATA") ??
      join(home, "AppData", "Local");
    return join(base, "tesseras");
  }
  if (os === "darwin") {
    return join(home, "Library", "Application Support", "tesseras");
  }
  const xdg = env("XDG_DATA_HOME");
  // XDG says relative values must be ignored.
  const base = xdg && xdg.startsWith("/") ? xdg : join(home, ".local", "share");
  return join(base, "tesseras");
}

/**
 * The data directory to use: the flag, else `TESSERAS_DATA_DIR`, else the
 * platform default.
 *
 * @example
 * ```ts
 * resolveDataDir(undefined); // e.g. /home/ana/.local/share/tesseras
 * ```
 */
export function resolveDataDir(
  flag: string | undefined,
  options: DataDirOptions = {},
): string {
  if (flag) return flag;
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  return env("TESSERAS_DATA_DIR") || defaultDataDir(options);
}

/** Well-known paths inside a data directory. */
export interface DataLayout {
  /** The data directory itself. */
  readonly root: string;
  /** SQLite database: `{root}/db/tesseras.db`. */
  readonly database: string;
  /** Shard files: `{root}/fragments`. */
  readonly fragments: string;
  /** The owner's tessera bytes: `{root}/blobs`. */
  readonly blobs: string;
  /** Node key (mode 0600): `{root}/identity.key`. */
  readonly identity: string;
  /**
   * The recovery phrase's 32 bytes of entropy (mode 0600), from which the
   * node key is derived: `{root}/recovery.key`.
   */
  readonly recovery: string;
  /** Private tesseras being encrypted before a put: `{root}/sealing`. */
  readonly sealing: string;
  /**
   * Present while a node recovered from its phrase has not yet taken its
   * tesseras back from the network catalogue: `{root}/restore.pending`.
   */
  readonly restorePending: string;
  /** Catalogue records kept for their owners: `{root}/records`. */
  readonly records: string;
  /** The running daemon's API address and token: `{root}/api.json`. */
  readonly apiInfo: string;
  /** Held exclusively by the running daemon: `{root}/daemon.lock`. */
  readonly lock: string;
  /** Optional settings file: `{root}/tesseras.json`. */
  readonly configFile: string;
}

/**
 * The paths inside data directory `root`.
 *
 * @example
 * ```ts
 * dataLayout("/srv/tesseras").database; // "/srv/tesseras/db/tesseras.db"
 * ```
 */
export function dataLayout(root: string): DataLayout {
  return {
    root,
    database: join(root, "db", "tesseras.db"),
    fragments: join(root, "fragments"),
    blobs: join(root, "blobs"),
    identity: join(root, "identity.key"),
    recovery: join(root, "recovery.key"),
    sealing: join(root, "sealing"),
    restorePending: join(root, "restore.pending"),
    records: join(root, "records"),
    apiInfo: join(root, "api.json"),
    lock: join(root, "daemon.lock"),
    configFile: join(root, "tesseras.json"),
  };
}
