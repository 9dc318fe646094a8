/**
 * The node's persistent Ed25519 identity and the `NodeIdentity` port over
 * it: the private key is created once per data directory, kept in a file
 * readable by its owner only, and its peer id survives restarts.
 *
 * @module
 */
import {
  type NodeIdentity,
  type PeerId as PeerIdString,
  type SignedBytes,
  TesserasError,
} from "../core/mod.ts";
import {
  generateKeyPair,
  generateKeyPairFromSeed,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
} from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import { getLogger } from "@logtape/logtape";
import { verifyEd25519, withCachedSigning } from "./ed25519_keys.ts";

const log = getLogger(["tesseras", "net"]);

/** The identity loaded (or created) from the key file. */
export interface LoadedIdentity {
  /** The libp2p private key (Ed25519). */
  readonly privateKey: PrivateKey;
  /** Our peer id string (base58btc, `12D3KooW…`). */
  readonly peerId: PeerIdString;
  /** True when the key file did not exist and was created now. */
  readonly created: boolean;
}

/** Options of {@linkcode loadOrCreateIdentity}. */
export interface LoadIdentityOptions {
  /** Aborts the operation. */
  readonly signal?: AbortSignal;
  /**
   * The 32-byte Ed25519 seed of a key to create (the recovery phrase's
   * node identity); without it a created key is random. An existing file
   * is loaded as it is either way.
   */
  readonly seed?: Uint8Array;
}

/**
 * Load the Ed25519 key stored (protobuf-marshalled) at `path`, or create
 * one there when the file does not exist. A new file is written to a
 * temporary name with mode 0600, synced, then linked into place, so a crash
 * never leaves a half-written key and two processes racing to create it end
 * up with the same key. An existing file with wider permissions is
 * tightened to 0600. A corrupt file is never overwritten: it raises
 * `STORAGE_ERROR` with what to do.
 *
 * @example
 * ```ts
 * const { privateKey, peerId } = await loadOrCreateIdentity(
 *   "/var/lib/tesseras/identity.key",
 * );
 * ```
 */
export async function loadOrCreateIdentity(
  path: string,
  options: LoadIdentityOptions = {},
): Promise<LoadedIdentity> {
  options.signal?.throwIfAborted();
  const existing = await readIfExists(path);
  if (existing !== null) return fromStored(path, existing, false);

  const dir = parentDir(path);
  if (dir !== "") await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const key = options.seed
    ? await generateKeyPairFromSeed("Ed25519", options.seed)
    : await generateKeyPair("Ed25519");
  const bytes = privateKeyToProtobuf(key);
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      let written = 0;
      while (written < bytes.length) {
        written += await file.write(bytes.subarray(written));
      }
      await file.sync();
    } finally {
      file.close();
    }
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o600);
    options.signal?.throwIfAborted();
    try {
      // link() fails when the target exists: create-if-absent, atomically.
      await Deno.link(tmp, path);
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      const winner = await readIfExists(path);
      if (winner === null) throw err;
      return fromStored(path, winner, false);
    }
    await syncDir(dir);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  const peerId = peerIdFromPrivateKey(key).toString();
  log.info("created node identity {peerId} in {path}", { peerId, path });
  return { privateKey: key, peerId, created: true };
}

async function fromStored(
  path: string,
  bytes: Uint8Array,
  created: boolean,
): Promise<LoadedIdentity> {
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (cause) {
    throw new TesserasError(
      "STORAGE_ERROR",
      `identity file ${path} is not a valid libp2p private key; restore it from a backup, or move it away to create a new identity (the peer id will change)`,
      { cause },
    );
  }
  if (key.type !== "Ed25519") {
    throw new TesserasError(
      "STORAGE_ERROR",
      `identity file ${path} holds a ${key.type} key; tesseras needs Ed25519: move it away to create a new identity`,
    );
  }
  await tightenMode(path);
  return {
    privateKey: key,
    peerId: peerIdFromPrivateKey(key).toString(),
    created,
  };
}

async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function tightenMode(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const info = await Deno.stat(path);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    log.warn(
      "identity file {path} was readable by others (mode {mode}); set it to 0600",
      { path, mode: (info.mode & 0o777).toString(8) },
    );
    await Deno.chmod(path, 0o600);
  }
}

async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    const handle = await Deno.open(dir === "" ? "." : dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the link is still done.
  }
}

function parentDir(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i <= 0 ? (i === 0 ? "/" : "") : path.slice(0, i);
}

/**
 * The `NodeIdentity` port over a libp2p Ed25519 key: signs with our key and
 * verifies other peers' signatures from their peer ids alone (an Ed25519
 * peer id embeds its public key).
 *
 * @example
 * ```ts
 * const { privateKey } = await loadOrCreateIdentity("identity.key");
 * const identity = new Libp2pNodeIdentity(privateKey);
 * const sig = await identity.sign(new Uint8Array([1, 2, 3]));
 * await identity.verify(identity.peerId, {
 *   data: new Uint8Array([1, 2, 3]),
 *   signature: sig,
 * }); // true
 * ```
 */
export class Libp2pNodeIdentity implements NodeIdentity {
  /** Our peer id string. */
  readonly peerId: PeerIdString;
  readonly #key: PrivateKey;

  /** @param privateKey our Ed25519 private key */
  constructor(privateKey: PrivateKey) {
    this.#key = withCachedSigning(privateKey);
    this.peerId = peerIdFromPrivateKey(privateKey).toString();
  }

  /** Sign `data` with our private key (64-byte Ed25519 signature). */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    return await this.#key.sign(data);
  }

  /** True when `signed.signature` over `signed.data` was made by `peer`'s key. */
  verify(peer: PeerIdString, signed: SignedBytes): Promise<boolean> {
    return verifyPeerSignature(peer, signed);
  }
}

/**
 * True when `signed.signature` over `signed.data` was made by the key
 * embedded in the peer id `peer`. False (never a throw) for malformed peer ids, peer ids
 * that do not embed a key (RSA), and bad signatures.
 *
 * @example
 * ```ts
 * declare const bytes: Uint8Array;
 * declare const signature: Uint8Array;
 * const ok = await verifyPeerSignature("12D3KooW…", { data: bytes, signature });
 * ```
 */
export async function verifyPeerSignature(
  peer: PeerIdString,
  signed: SignedBytes,
): Promise<boolean> {
  const fast = verifyEd25519(peer, signed);
  if (fast !== undefined) return fast;
  try {
    const publicKey = peerIdFromString(peer).publicKey;
    if (publicKey === undefined) return false;
    return await publicKey.verify(signed.data, signed.signature);
  } catch {
    return false;
  }
}
