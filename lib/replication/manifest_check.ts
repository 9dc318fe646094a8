/**
 * The manifest rules of the replication service (docs/stewards.md): the
 * owner signs one manifest per tessera from its registry and sends it
 * with every shard; a holder checks every pushed shard against the
 * manifest it keeps (or the one pushed with it) and keeps the manifest
 * beside its shard. A stranger's push that does not match is refused.
 *
 * @module
 */
import {
  checkShardInManifest,
  decodeManifest,
  type FragmentEnvelope,
  type IoOptions,
  type Manifest,
  type PeerId,
  type SignedManifest,
  signManifest,
  type TesseraId,
  validateManifest,
} from "../core/mod.ts";
import { bytesEqual } from "../codec/mod.ts";
import type { ServiceContext } from "./context.ts";

/**
 * Internal: the signed manifest to send with the shards of `tesseraId`:
 * the one kept, else (an owner that tracks the tessera) one signed now
 * from the registry and kept. `undefined` without a manifest store, or
 * for a tessera we neither own nor hold a manifest of.
 */
export async function manifestToSend(
  ctx: ServiceContext,
  tesseraId: TesseraId,
  options: IoOptions = {},
): Promise<SignedManifest | undefined> {
  const store = ctx.manifests;
  if (store === undefined) return undefined;
  const kept = await store.get(tesseraId, options);
  if (kept !== null) return kept;
  const tracked = await ctx.holders.get(tesseraId);
  if (tracked === null) return undefined;
  const signed = await signManifest(ctx.identity, {
    tesseraId,
    owner: ctx.selfId,
    createdAt: Math.max(0, Math.floor(tracked.createdAt)),
    plan: tracked.plan,
    checksums: tracked.checksums,
  });
  await store.put(tesseraId, signed, options);
  return signed;
}

/**
 * Internal: the manifest of a kept `signed` (validated before it was
 * kept), through the service's decoder when it has one.
 */
export function decodeKept(
  ctx: ServiceContext,
  signed: SignedManifest,
): Manifest {
  return ctx.manifestDecoder?.decode(signed.bytes) ??
    decodeManifest(signed.bytes);
}

/**
 * Internal: throws (`CHECKSUM_MISMATCH`, `UNAUTHORIZED`, `INVALID_INPUT`)
 * unless the pushed shard matches the manifest we keep for its tessera
 * and the manifest pushed with it, which must be validly signed. Returns the
 * pushed manifest to keep once the shard is stored (`null`: nothing new)
 * and the owner the pushed manifest names (`null`: none pushed).
 */
export async function checkPushedManifest(
  ctx: ServiceContext,
  envelope: FragmentEnvelope,
  options: IoOptions = {},
): Promise<{ keep: SignedManifest | null; owner: PeerId | null }> {
  const store = ctx.manifests;
  if (store === undefined) return { keep: null, owner: null };
  const { tesseraId } = envelope.fragment;
  const keptSigned = await store.get(tesseraId, options);
  const kept = keptSigned === null ? null : decodeKept(ctx, keptSigned);
  const pushedSigned = envelope.manifest;
  // What we keep was validated before it was kept: the very same signed
  // manifest pushed again (it comes with every shard) is not re-checked.
  const same = kept !== null && pushedSigned !== undefined &&
    sameSigned(keptSigned!, pushedSigned);
  let pushed: Manifest | null = same ? kept : null;
  if (pushedSigned !== undefined && !same) {
    pushed = await validateManifest(pushedSigned, {
      identity: ctx.identity,
      tesseraId,
      ...(ctx.manifestDecoder ? { decoder: ctx.manifestDecoder } : {}),
    });
  }
  // Both must hold: the kept one binds what we store, the pushed one is
  // what its signer vouches for. Two owners of the same public content
  // sign the same plan and checksums, so both pass; the first kept stays.
  if (kept !== null) checkShardInManifest(kept, envelope);
  if (pushed !== null && !same) checkShardInManifest(pushed, envelope);
  return {
    keep: kept === null && pushed !== null ? envelope.manifest! : null,
    owner: pushed?.owner ?? null,
  };
}

function sameSigned(a: SignedManifest, b: SignedManifest): boolean {
  return bytesEqual(a.signature, b.signature) && bytesEqual(a.bytes, b.bytes);
}
