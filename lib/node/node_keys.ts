/**
 * The node's recovery phrase on disk and what it derives. The phrase's 32
 * bytes of entropy live in `recovery.key` beside `identity.key`, with the
 * same protection (mode 0600, written atomically); the node identity is
 * derived from them, so the phrase alone restores it (docs/keys.md).
 *
 * A node created before recovery phrases has an `identity.key` and no
 * `recovery.key`. It keeps running as it is; `tesseras recovery-phrase
 * --rekey` (node stopped) gives it a phrase and re-keys it: the identity
 * becomes the phrase's, the peer id changes once, the old key is kept as
 * `identity.key.pre-phrase`, and its tesseras, shards and ledger stay.
 *
 * @module
 */
import {
  derivePhraseKeys,
  ENTROPY_BYTES,
  generatePhrase,
  type PhraseKeys,
  phraseOf,
} from "../crypto/mod.ts";
import { TesserasError } from "../core/mod.ts";
import { loadOrCreateIdentity } from "../net/mod.ts";
import { writeFileAtomic } from "../storage/mod.ts";
import { acquireDaemonLock } from "./lock.ts";
import { type DataLayout, dataLayout } from "./paths.ts";

/**
 * The phrase keys of the node in `layout`, creating the phrase when the
 * directory has no identity yet; `null` for a node created before
 * recovery phrases (see the module doc). Called by the daemon, with its
 * lock held, before it loads the identity with
 * {@linkcode NodeKeys.identitySeed}.
 *
 * @example
 * ```ts
 * import { dataLayout } from "./paths.ts";
 * const keys = await prepareNodeKeys(dataLayout("/srv/tesseras"));
 * ```
 */
export async function prepareNodeKeys(
  layout: DataLayout,
): Promise<PhraseKeys | null> {
  const entropy = await readEntropy(layout.recovery);
  if (entropy !== null) return await derivePhraseKeys(entropy);
  if (await exists(layout.identity)) return null;
  const fresh = generatePhrase().entropy;
  await writeFileAtomic(layout.recovery, fresh, { mode: 0o600 });
  return await derivePhraseKeys(fresh);
}

/**
 * The recovery phrase of the node in `dataDir`. `NOT_FOUND` when the
 * directory has no node yet; `INVALID_INPUT` for a node created before
 * recovery phrases (with what to run).
 *
 * @example
 * ```ts
 * const phrase = await readRecoveryPhrase("/srv/tesseras");
 * ```
 */
export async function readRecoveryPhrase(dataDir: string): Promise<string> {
  const layout = dataLayout(dataDir);
  const entropy = await readEntropy(layout.recovery);
  if (entropy !== null) return phraseOf(entropy);
  if (!(await exists(layout.identity))) {
    throw new TesserasError(
      "NOT_FOUND",
      `no node in ${dataDir}: start it once (a new node gets a phrase), or restore one with \`tesseras recover\``,
    );
  }
  throw new TesserasError(
    "INVALID_INPUT",
    `the node in ${dataDir} was created before recovery phrases, and its identity cannot be derived from one. Stop it and run \`tesseras recovery-phrase --rekey\`: it gets a phrase and a new peer id derived from it; its tesseras stay`,
  );
}

/** What {@linkcode rekeyDataDir} did. */
export interface Rekeyed {
  /** The new recovery phrase. */
  readonly phrase: string;
  /** The peer id before. */
  readonly oldPeerId: string;
  /** The peer id now, derived from the phrase. */
  readonly peerId: string;
}

/**
 * Give the stopped pre-phrase node in `dataDir` a recovery phrase and
 * the identity derived from it. `ALREADY_RUNNING` while its daemon runs;
 * `INVALID_INPUT` when it already has a phrase.
 *
 * @example
 * ```ts
 * const { phrase, oldPeerId, peerId } = await rekeyDataDir("/srv/tesseras");
 * ```
 */
export async function rekeyDataDir(dataDir: string): Promise<Rekeyed> {
  const layout = dataLayout(dataDir);
  const lock = acquireDaemonLock(layout.lock);
  try {
    if (await exists(layout.recovery)) {
      throw new TesserasError(
        "INVALID_INPUT",
        `the node in ${dataDir} already has a recovery phrase: \`tesseras recovery-phrase\` prints it`,
      );
    }
    const old = await loadOrCreateIdentity(layout.identity);
    const { entropy, phrase } = generatePhrase();
    // The phrase first: a crash after this starts the node as the
    // phrase's identity (the daemon derives it when identity.key is gone).
    await writeFileAtomic(layout.recovery, entropy, { mode: 0o600 });
    await Deno.rename(layout.identity, `${layout.identity}.pre-phrase`);
    const keys = await derivePhraseKeys(entropy);
    const created = await loadOrCreateIdentity(layout.identity, {
      seed: keys.identitySeed,
    });
    return { phrase, oldPeerId: old.peerId, peerId: created.peerId };
  } finally {
    lock.release();
  }
}

/**
 * Make `dataDir` (absent, or empty of any node) the node of the phrase
 * whose entropy is `entropy`: its recovery key and identity. Creates
 * nothing when the directory already holds a node (`INVALID_INPUT`) or
 * its daemon runs (`ALREADY_RUNNING`).
 *
 * @example
 * ```ts
 * import { parsePhrase } from "../crypto/mod.ts";
 * declare const typed: string;
 * const { peerId } = await recoverDataDir("/srv/new", parsePhrase(typed));
 * ```
 */
export async function recoverDataDir(
  dataDir: string,
  entropy: Uint8Array,
): Promise<{ peerId: string }> {
  if (entropy.length !== ENTROPY_BYTES) {
    throw new TesserasError("INVALID_INPUT", "phrase entropy has 32 bytes");
  }
  const layout = dataLayout(dataDir);
  const existed = await exists(dataDir);
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireDaemonLock(layout.lock);
  try {
    for (const path of [layout.identity, layout.recovery, layout.database]) {
      if (await exists(path)) {
        throw new TesserasError(
          "INVALID_INPUT",
          `${dataDir} already holds a node (${path}); recover into a new data directory (--data-dir)`,
        );
      }
    }
    const keys = await derivePhraseKeys(entropy);
    await writeFileAtomic(layout.recovery, entropy, { mode: 0o600 });
    const { peerId } = await loadOrCreateIdentity(layout.identity, {
      seed: keys.identitySeed,
    });
    // The daemon takes the tesseras back from the network catalogue.
    await writeFileAtomic(layout.restorePending, new Uint8Array(0));
    return { peerId };
  } catch (err) {
    lock.release();
    if (!existed) {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
    throw err;
  } finally {
    lock.release();
  }
}

async function readEntropy(path: string): Promise<Uint8Array | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  if (bytes.length !== ENTROPY_BYTES) {
    throw new TesserasError(
      "STORAGE_ERROR",
      `${path} is not a recovery key (${bytes.length} bytes, not ${ENTROPY_BYTES}): restore it from your phrase with \`tesseras recover\` into a new data directory`,
    );
  }
  // Like identity.key: readable by its owner only, whatever a copy did.
  if (Deno.build.os !== "windows") {
    const mode = (await Deno.stat(path)).mode;
    if (mode !== null && (mode & 0o077) !== 0) await Deno.chmod(path, 0o600);
  }
  return bytes;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
