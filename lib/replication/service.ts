/**
 * The replication service: one per node. It places our tesseras on peers,
 * answers peers' pushes, attestation requests and fetches, checks health,
 * repairs and retrieves. It sees only ports, so the same code runs on
 * libp2p and in the simulator.
 *
 * @module
 */
import type {
  Attestation,
  AttestRequest,
  FragmentEnvelope,
  InboundHandlers,
  IoOptions,
  PeerId,
  PeerInfo,
  ProofAnswer,
  ReplicateAck,
  ReplicationConfig,
  ServedShard,
  ShardRef,
  TesseraHealth,
  TesseraId,
  TierThresholds,
} from "../core/mod.ts";
import { makeContext, type ServiceContext } from "./context.ts";
import { loadStanding } from "./standing.ts";
import { probeTakers } from "./probe.ts";
import { type AttestationCheck, attestPeer } from "./attest.ts";
import { answerAttestation } from "./answer_attest.ts";
import { answerProofChallenge } from "./answer_prove.ts";
import {
  answerFetch,
  answerVerifiedFetch,
  receiveFragment,
} from "./receive.ts";
import { putTessera, putTesseraFile, replicateTessera } from "./replicate.ts";
import { inspectTessera } from "./health.ts";
import { repairSweep, repairTessera } from "./repair.ts";
import { scrubHeld, type ScrubReport } from "./scrub.ts";
import { retrieveTessera, retrieveTesseraTo } from "./retrieve.ts";
import { type AdoptionClaim, adoptTessera } from "./adopt.ts";

import type {
  CheckOptions,
  HealthReport,
  RepairReport,
  ReplicateOptions,
  ReplicationReport,
  ReplicationServiceInit,
  RetrieveOptions,
  RetrieveToReport,
  SweepOptions,
  SweepReport,
  TesseraSink,
} from "./types.ts";

/**
 * One node's replication layer. Also the {@linkcode InboundHandlers} the
 * network adapter calls for `Replicate`, `AttestRequest` and `Fetch`.
 *
 * @example
 * ```ts
 * import type {
 *   BlobStore,
 *   DhtPort,
 *   FragmentStore,
 *   HolderRegistry,
 *   NodeIdentity,
 *   ReciprocityLedger,
 * } from "../core/mod.ts";
 * declare const dht: DhtPort;
 * declare const fragments: FragmentStore;
 * declare const ledger: ReciprocityLedger;
 * declare const blobs: BlobStore;
 * declare const holders: HolderRegistry;
 * declare const identity: NodeIdentity;
 * declare const bytes: Uint8Array;
 * const service = new ReplicationService({
 *   dht, fragments, ledger, blobs, holders, identity,
 * });
 * const { tesseraId } = await service.putTessera(bytes);
 * const back = await service.retrieveTessera(tesseraId);
 * ```
 */
export class ReplicationService implements InboundHandlers {
  readonly #ctx: ServiceContext;
  #sweeping: Promise<unknown> = Promise.resolve();
  /** The standing load under way or done; `null` before it starts. */
  #loading: Promise<void> | null = null;
  /** Whether the standing store was read (always, without one). */
  #loaded: boolean;

  /**
   * Build the service; throws `INVALID_INPUT` when the DHT's self id and
   * the identity differ or the settings are out of range. With
   * `standingStore`, what the owner remembers of its peers' conduct
   * (liar bans, refusal back-offs, proofs, unproven shards) persists
   * there and is loaded before the first placement, receive or repair
   * (or by {@linkcode ReplicationService.loadStanding}).
   *
   * @param init ports, identity, clock, randomness, settings and the
   *   optional standing store
   */
  constructor(init: ReplicationServiceInit) {
    this.#ctx = makeContext(init);
    this.#loaded = init.standingStore === undefined;
  }

  /**
   * Read the standing store into memory, once (later calls return the
   * same promise; after a failure the next call tries again). The
   * service does this by itself before the first operation that needs
   * it; a daemon calls it at start so a broken store stops the start.
   * Resolves at once without a store.
   *
   * @example
   * ```ts
   * import type { PeerStandingStore } from "../core/mod.ts";
   * import type { ReplicationServiceInit } from "./types.ts";
   * declare const init: ReplicationServiceInit;
   * declare const standingStore: PeerStandingStore;
   * const service = new ReplicationService({ ...init, standingStore });
   * await service.loadStanding();
   * ```
   */
  loadStanding(options: IoOptions = {}): Promise<void> {
    if (this.#loaded) return Promise.resolve();
    if (!this.#loading) {
      const loading = loadStanding(this.#ctx, options).then(() => {
        this.#loaded = true;
      });
      this.#loading = loading;
      loading.catch(() => {
        if (this.#loading === loading) this.#loading = null;
      });
    }
    return this.#loading;
  }

  /**
   * Resolves once every standing change so far has been written to the
   * store (failures are logged, never thrown): call it before closing
   * the store's database.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const db: { close(): void };
   * await service.flushStanding();
   * db.close();
   * ```
   */
  flushStanding(): Promise<void> {
    return this.#ctx.standingStore
      ? this.#ctx.standing.flush()
      : Promise.resolve();
  }

  /** Runs `fn` once the standing is loaded (at once when it is). */
  #ready<T>(fn: () => Promise<T>): Promise<T> {
    return this.#loaded ? fn() : this.loadStanding().then(fn);
  }

  /** Our peer id. */
  get selfId(): PeerId {
    return this.#ctx.selfId;
  }

  /** The settings in force (SPEC §6 defaults plus overrides). */
  get config(): ReplicationConfig {
    return this.#ctx.config;
  }

  /** The tier thresholds in force. */
  get thresholds(): TierThresholds {
    return this.#ctx.thresholds;
  }

  /**
   * Store `data` as our own tessera (blob store) and replicate it.
   *
   * @example
   * ```ts
   * import type { ReplicateOptions } from "./types.ts";
   * declare const service: ReplicationService;
   * declare const bytes: Uint8Array;
   * declare const onProgress: ReplicateOptions["onProgress"];
   * const report = await service.putTessera(bytes, { onProgress });
   * const { tesseraId, tolerance } = report;
   * ```
   */
  putTessera(
    data: Uint8Array,
    options: ReplicateOptions = {},
  ): Promise<ReplicationReport> {
    return this.#ready(() => putTessera(this.#ctx, data, options));
  }

  /**
   * The streaming put: store the file at `path` as our own tessera and
   * replicate it without ever holding it in memory. The file is copied
   * into a staging area of the blob store, stream-encoded from the copy
   * (parity shards written to staging files), the copy becomes our blob,
   * and shards are pushed one per transfer (at most `concurrentTransfers`
   * in memory). The staging area is removed at the end, also on failure.
   * Any blob store does (memory stages in memory); rejects `NOT_FOUND`
   * when the file cannot be read and `TOO_LARGE` above 1 GiB.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * const report = await service.putTesseraFile("/photos/2019.tar", {
   *   onEncode: (done, total) => {},
   *   onProgress: (p) => {},
   * });
   * ```
   */
  putTesseraFile(
    path: string,
    options: ReplicateOptions = {},
  ): Promise<ReplicationReport> {
    return this.#ready(() => putTesseraFile(this.#ctx, path, options));
  }

  /**
   * Encode our blob `id`, find the closest diverse peers, push the shards
   * (at most `concurrentTransfers` at once, replacing peers that refuse,
   * looking farther when the closest all refuse), record plan, checksums
   * and holders, and credit the ledger. Every peer that acknowledged
   * shards is challenged once right away; shards it cannot show are
   * placed elsewhere (`NOT_STORED` in `failures`) and the peer is banned
   * from placement (see standing.ts). Peers order by reciprocity: those
   * we store for first, then proven holders, then the tightest free
   * tolerance; peers that refused shards this large back off. Rejects
   * `NOT_FOUND` when the blob is absent and `UNREACHABLE` when no peer is
   * known; shards nobody takes are reported in `unplaced` (repair retries
   * them).
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const id: string;
   * const report = await service.replicateTessera(id);
   * ```
   */
  replicateTessera(
    id: TesseraId,
    options: ReplicateOptions = {},
  ): Promise<ReplicationReport> {
    return this.#ready(() => replicateTessera(this.#ctx, id, options));
  }

  /**
   * A peer pushes a fragment. Refusals come back as a not-accepted ack
   * with `errorCode`: `TOO_LARGE`, `INVALID_INPUT`, `CHECKSUM_MISMATCH`,
   * `DEFICIT_EXCEEDED`, `INSUFFICIENT_SPACE`, `PEER_LIMIT_EXCEEDED`.
   *
   * @example
   * ```ts
   * import type { FragmentEnvelope, PeerInfo } from "../core/mod.ts";
   * declare const service: ReplicationService;
   * declare const envelope: FragmentEnvelope;
   * declare const sender: PeerInfo;
   * const ack = await service.receiveFragment(envelope, sender);
   * ```
   */
  receiveFragment(
    envelope: FragmentEnvelope,
    sender: PeerInfo,
    options: IoOptions = {},
  ): Promise<ReplicateAck> {
    return this.#ready(() =>
      receiveFragment(this.#ctx, { envelope, sender }, options)
    ).catch(async (err) => {
      // Not even started (the standing failed to load): the file is ours.
      if (envelope?.spooled) await this.discardSpool(envelope.spooled.path);
      throw err;
    });
  }

  /** {@linkcode InboundHandlers.onReplicate}: same as `receiveFragment`. */
  onReplicate(
    envelope: FragmentEnvelope,
    from: PeerInfo,
    options: IoOptions = {},
  ): Promise<ReplicateAck> {
    return this.receiveFragment(envelope, from, options);
  }

  /**
   * {@linkcode InboundHandlers.spoolTarget}: a temp file of the fragment
   * store for a pushed shard, when the store can take one
   * (`storeSpooledForPeer`); else `null` (the shard comes in memory).
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * const path = await service.spoolTarget(); // null on a memory store
   * ```
   */
  spoolTarget(options: IoOptions = {}): Promise<string | null> {
    const fragments = this.#ctx.fragments;
    if (!fragments.tempPath || !fragments.storeSpooledForPeer) {
      return Promise.resolve(null);
    }
    return fragments.tempPath(undefined, options);
  }

  /** {@linkcode InboundHandlers.discardSpool}: removes such a file. */
  async discardSpool(path: string): Promise<void> {
    await this.#ctx.fragments.discardTemp?.(path);
  }

  /**
   * Prove possession: per shard held (of those asked), the stored checksum
   * and a BLAKE3 of the bytes keyed by the request's nonce, signed with
   * our key. Rejects `INVALID_INPUT` on a malformed request.
   */
  async onAttest(
    request: AttestRequest,
    from: PeerInfo,
    options: IoOptions = {},
  ): Promise<Attestation> {
    const answer = await answerAttestation(this.#ctx, request, options);
    await this.#challenged(request, from, options);
    return answer;
  }

  /**
   * Prove possession with chunk proofs (docs/proofs.md): per shard held
   * (of those asked), the groups the nonce samples for us with their
   * sibling paths, signed with our key; checkable from the checksums
   * alone. Rejects `INVALID_INPUT` on a malformed request.
   */
  async onProve(
    request: AttestRequest,
    from: PeerInfo,
    options: IoOptions = {},
  ): Promise<ProofAnswer> {
    const answer = await answerProofChallenge(this.#ctx, request, options);
    await this.#challenged(request, from, options);
    return answer;
  }

  /** An owner's or a steward's audit of what we hold (docs/stewards.md). */
  #challenged(
    request: AttestRequest,
    from: PeerInfo,
    options: IoOptions,
  ): Promise<void> {
    return this.#ctx.stewards.challenged(this.#ctx, {
      tesseraId: request.tesseraId,
      from: from.id,
    }, options);
  }

  /** Same as {@linkcode ReplicationService.onAttest} (the original's name). */
  handleAttestationRequest(
    request: AttestRequest,
    from: PeerInfo,
    options: IoOptions = {},
  ): Promise<Attestation> {
    return this.onAttest(request, from, options);
  }

  /** A peer fetches one shard we hold; `null` when we do not hold it. */
  onFetch(
    shard: ShardRef,
    _from: PeerInfo,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    return answerFetch(this.#ctx, shard, options);
  }

  /**
   * A peer fetches one shard verified as it streams: its bytes, the
   * outboard stored with them and its checksum; `null` when not held.
   */
  onVerifiedFetch(
    shard: ShardRef,
    _from: PeerInfo,
    options: IoOptions = {},
  ): Promise<ServedShard | null> {
    return answerVerifiedFetch(this.#ctx, shard, options);
  }

  /**
   * Challenge `peer` with a fresh nonce for the tessera's shards and check
   * the signed answer (signature, nonce, holder, freshness, checksums, and
   * proofs when our blob lets us recompute them).
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const id: string;
   * declare const peerId: string;
   * const check = await service.attestHolder(id, peerId);
   * check.proven; // indices proven
   * ```
   */
  attestHolder(
    id: TesseraId,
    peer: PeerId,
    options: IoOptions & { readonly indices?: readonly number[] } = {},
  ): Promise<AttestationCheck> {
    return attestPeer(this.#ctx, { tesseraId: id, peer }, options);
  }

  /**
   * The health verdict of a tracked tessera: `corrupt_local` when a local
   * shard fails verification, `needs_replication{deficit}` when copies
   * (Small) or shards (others) have no live holder, else `healthy`.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const id: string;
   * const health = await service.checkTesseraHealth(id);
   * ```
   */
  async checkTesseraHealth(
    id: TesseraId,
    options: CheckOptions = {},
  ): Promise<TesseraHealth> {
    return (await this.inspectTessera(id, options)).health;
  }

  /**
   * The health check with every detail: per holder, live and lost
   * indices, loss tolerance. Rejects `NOT_FOUND` for untracked tesseras.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const id: string;
   * const report = await service.inspectTessera(id);
   * report.lostIndices;
   * ```
   */
  inspectTessera(
    id: TesseraId,
    options: CheckOptions = {},
  ): Promise<HealthReport> {
    return inspectTessera(this.#ctx, id, options);
  }

  /**
   * Check one tessera and repair it: drop lost holders, rebuild missing or
   * corrupt shards from our blob or from `dataShards` fetched survivors,
   * and place them on new diverse peers.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const id: string;
   * const report = await service.repairTessera(id);
   * ```
   */
  repairTessera(
    id: TesseraId,
    options: CheckOptions = {},
  ): Promise<RepairReport> {
    return this.#exclusive(() =>
      this.#ready(() => repairTessera(this.#ctx, id, options))
    );
  }

  /**
   * The holder's scrub: read every shard we hold for others in full and
   * hash it against its checksum (and its outboard); a damaged one is
   * `CorruptLocal`: removed with its credit and reported, so its owner's
   * next audit finds it gone and places it again (docs/proofs.md). The
   * daemon runs it every `scrubIntervalMs` (`ScrubLoop`).
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * const { checked, corrupt } = await service.scrubHeld();
   * ```
   */
  async scrubHeld(options: IoOptions = {}): Promise<ScrubReport> {
    await this.loadStanding(options);
    const own = new Set(
      (await this.#ctx.holders.list()).map((t) => t.tesseraId),
    );
    return await scrubHeld(this.#ctx, own, options);
  }

  /**
   * Check and repair every tracked tessera (most urgent first: fewest
   * tolerated losses, then most shards lost), then verify shards held for
   * others and drop only those that fail verification (their ledger
   * credit goes with them). With `ids`, only those tesseras, and held
   * shards are not re-verified unless `verifyHeld: true`. Shards held for
   * free riders are never deleted; free riders lose redundancy because
   * their peers refuse their repair pushes once their deficit passes the
   * tolerance (`DEFICIT_EXCEEDED`), so their tesseras heal last, if at
   * all. A holder that answers a challenge but proves none of its shards
   * loses their credit, is banned from placement and is extended no
   * credit of ours for a long time; one that proves them all is
   * preferred for placements. Sweeps never overlap: a second call waits
   * for the first.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * const report = await service.repairSweep();
   * const { repaired, degraded } = report;
   * ```
   */
  repairSweep(options: SweepOptions = {}): Promise<SweepReport> {
    return this.#exclusive(() =>
      this.#ready(async () => {
        const report = await repairSweep(this.#ctx, options);
        // Then look after silent owners' tesseras we hold, and tell the
        // DHT what we hold, for stewards (docs/stewards.md).
        const stewards = options.ids === undefined
          ? await this.#ctx.stewards.sweep(this.#ctx, options)
          : undefined;
        await this.#ctx.announcer.announceDue(this.#ctx, options);
        // Last: test the peers that took our free credit unseen (probe.ts).
        if (options.ids === undefined) {
          await probeTakers(this.#ctx, options);
        }
        return stewards ? { ...report, stewards } : report;
      })
    );
  }

  /**
   * The tessera's bytes: our blob if we have it, else shards fetched in
   * parallel from the fastest holders (from our registry, or found via
   * the closest peers of the id), reconstructed and checked against the
   * id. Rejects `INSUFFICIENT_SHARDS` or `NOT_FOUND` when not enough
   * verified shards can be had.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const id: string;
   * const bytes = await service.retrieveTessera(id);
   * ```
   */
  retrieveTessera(
    id: TesseraId,
    options: RetrieveOptions = {},
  ): Promise<Uint8Array> {
    return retrieveTessera(this.#ctx, id, options);
  }

  /**
   * The streaming retrieval: write the tessera's bytes to `sink` in order
   * without holding them in memory (our blob read in pieces, or shards
   * fetched into a staging area, rebuilt stripe by stripe and streamed
   * out), verified against the id on the way; the bytes written are
   * trustworthy only once this resolves. Same sources and errors as
   * {@linkcode ReplicationService.retrieveTessera}, which is this same
   * retrieval into memory.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const id: string;
   * const chunks: Uint8Array[] = [];
   * await service.retrieveTesseraTo(id, {
   *   write: (b) => Promise.resolve(void chunks.push(b.slice())),
   *   reset: () => Promise.resolve(void (chunks.length = 0)),
   * });
   * ```
   */
  retrieveTesseraTo(
    id: TesseraId,
    sink: TesseraSink,
    options: RetrieveOptions = {},
  ): Promise<RetrieveToReport> {
    return retrieveTesseraTo(this.#ctx, id, sink, options);
  }

  /**
   * Track tessera `id` as ours again without fetching it, from what its
   * holders answer, once their checksums match `claim`'s digest (a
   * recovered owner; adopt.ts). Rejects `INSUFFICIENT_SHARDS` when a
   * shard has no holder and `CHECKSUM_MISMATCH` when the digest differs.
   *
   * @example
   * ```ts
   * declare const service: ReplicationService;
   * declare const id: string;
   * declare const claim: import("./adopt.ts").AdoptionClaim;
   * const { holders } = await service.adoptTessera(id, claim);
   * ```
   */
  adoptTessera(
    id: TesseraId,
    claim: AdoptionClaim,
    options: IoOptions = {},
  ): Promise<{ holders: number }> {
    return this.#ready(() => adoptTessera(this.#ctx, id, claim, options));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#sweeping.then(fn, fn);
    this.#sweeping = run.catch(() => {});
    return run;
  }
}
