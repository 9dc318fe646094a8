/**
 * The dashboard's own API routes: the overview and peer table (read-only
 * views over the same backend, ledger, standing store and shard store the
 * command line reads), and putting or getting a tessera's bytes through
 * the browser, which cannot name a file on the daemon's disk.
 *
 * @module
 */
import { join } from "node:path";
import {
  assertTesseraId,
  MAX_TESSERA_SIZE,
  type PeerBalance,
  type PeerStandingStore,
  TesserasError,
} from "../core/mod.ts";
import { subnetKey } from "../replication/mod.ts";
import {
  type ApiBackend,
  errorResponse,
  ndjsonJob,
  optionalName,
} from "./api.ts";
import type { SweepHistory } from "./sweep_history.ts";

/** Where the dashboard's figures come from. */
export interface DashboardSources {
  /** The API's backend (health, peers, status, ledger, put, get). */
  readonly backend: ApiBackend;
  /** Bytes of shards we hold for others. */
  readonly heldBytes: () => Promise<number>;
  /** The owner's memory of peers' conduct; absent: standing unknown. */
  readonly standing?: PeerStandingStore;
  /** The last repair sweeps. */
  readonly history: SweepHistory;
  /** Where uploads and downloads are staged (created when needed). */
  readonly tmpDir: string;
}

/** A peer's standing with us, in a word the page explains. */
export type StandingWord = "banned" | "backed_off" | "proven" | "unproven";

interface KnownPeerRow {
  peerId: string;
  multiaddrs: string[];
  lastSeen: number;
}

interface ConnectedPeerRow {
  peerId: string;
  address: string;
  ip: string | null;
}

/** One row of the peers page. */
export interface DashboardPeer {
  /** Peer id. */
  readonly peerId: string;
  /** Connected now. */
  readonly connected: boolean;
  /** Its /24 or /48 (`v4:a.b.c`), `null` when no IP is known. */
  readonly subnet: string | null;
  /** Standing with us. */
  readonly standing: StandingWord;
  /** Until when a ban or back-off lasts, ms; `null` otherwise. */
  readonly standingUntil: number | null;
  /** Ledger: bytes we store for it. */
  readonly bytesStoredForThem: number;
  /** Ledger: bytes it stores for us. */
  readonly bytesTheyStoreForUs: number;
  /** Ledger balance (theirs for us minus ours for them). */
  readonly balance: number;
  /** Last seen, seconds since the epoch; `null` when never recorded. */
  readonly lastSeen: number | null;
}

function ipOfMultiaddr(addr: string): string | undefined {
  return addr.match(/^\/ip[46]\/([^/]+)\//)?.[1];
}

function standingOf(
  peerId: string,
  snapshot: Awaited<ReturnType<PeerStandingStore["load"]>> | null,
  now: number,
): { standing: StandingWord; standingUntil: number | null } {
  const liar = snapshot?.liars.find((l) => l.peerId === peerId);
  if (liar && liar.until > now) {
    return { standing: "banned", standingUntil: liar.until };
  }
  const refusal = snapshot?.refusals.find((r) => r.peerId === peerId);
  if (refusal && refusal.until > now) {
    return { standing: "backed_off", standingUntil: refusal.until };
  }
  const proven = snapshot?.proven.includes(peerId) ?? false;
  return { standing: proven ? "proven" : "unproven", standingUntil: null };
}

/** Routes of the dashboard's data; see the module doc. */
export class DashboardData {
  readonly #src: DashboardSources;
  #staging: Promise<void> | null = null;

  /** @param sources where the figures come from */
  constructor(sources: DashboardSources) {
    this.#src = sources;
  }

  /** Answers a dashboard data route, or `null` for other routes. */
  async serve(req: Request, url: URL): Promise<Response | null> {
    const path = url.pathname;
    if (req.method === "GET" && path === "/v1/ui/overview") {
      return Response.json(await this.overview());
    }
    if (req.method === "GET" && path === "/v1/ui/peers") {
      return Response.json(await this.peers());
    }
    if (req.method === "POST" && path === "/v1/tesseras/upload") {
      return await this.#upload(req, url);
    }
    const content = path.match(/^\/v1\/tesseras\/([^/]+)\/content$/);
    if (req.method === "GET" && content) {
      return await this.#download(content[1], req.signal);
    }
    return null;
  }

  /** Reachability, peers, space, balance and the last sweeps. */
  async overview(): Promise<Record<string, unknown>> {
    const { backend } = this.#src;
    const [health, peers, status, ledger, given] = await Promise.all([
      backend.health() as Promise<Record<string, unknown>>,
      backend.peers() as Promise<{ connected: unknown[]; known: unknown[] }>,
      backend.status() as Promise<{ size: number; health: string }[]>,
      backend.ledger() as Promise<PeerBalance[]>,
      this.#src.heldBytes(),
    ]);
    const byHealth: Record<string, number> = {};
    for (const t of status) byHealth[t.health] = (byHealth[t.health] ?? 0) + 1;
    const sum = (f: (r: PeerBalance) => number) =>
      ledger.reduce((n, r) => n + f(r), 0);
    return {
      peerId: health.peer_id ?? null,
      uptimeSeconds: health.uptime_seconds ?? null,
      reachability: health.reachability ?? null,
      peers: { connected: peers.connected.length, known: peers.known.length },
      tesseras: { count: status.length, byHealth },
      space: {
        mine: status.reduce((n, t) => n + t.size, 0),
        givenToOthers: given,
      },
      ledger: {
        bytesStoredForThem: sum((r) => r.bytesStoredForThem),
        bytesTheyStoreForUs: sum((r) => r.bytesTheyStoreForUs),
        balance: sum((r) => r.balance),
      },
      sweeps: this.#src.history.list(),
    };
  }

  /** Every peer we know of, are connected to, or keep a ledger row for. */
  async peers(): Promise<DashboardPeer[]> {
    const { backend, standing } = this.#src;
    const [peers, ledger, snapshot] = await Promise.all([
      backend.peers() as Promise<
        { connected: ConnectedPeerRow[]; known: KnownPeerRow[] }
      >,
      backend.ledger() as Promise<PeerBalance[]>,
      standing ? standing.load() : Promise.resolve(null),
    ]);
    const ids = new Set<string>([
      ...peers.connected.map((p) => p.peerId),
      ...peers.known.map((p) => p.peerId),
      ...ledger.map((r) => r.peerId),
    ]);
    const now = Date.now();
    return [...ids].map((peerId) => {
      const live = peers.connected.find((p) => p.peerId === peerId);
      const known = peers.known.find((p) => p.peerId === peerId);
      const row = ledger.find((r) => r.peerId === peerId);
      const ip = live?.ip ?? known?.multiaddrs.map(ipOfMultiaddr).find(Boolean);
      return {
        peerId,
        connected: live !== undefined,
        subnet: subnetKey(ip ?? undefined) ?? null,
        ...standingOf(peerId, snapshot, now),
        bytesStoredForThem: row?.bytesStoredForThem ?? 0,
        bytesTheyStoreForUs: row?.bytesTheyStoreForUs ?? 0,
        balance: row?.balance ?? 0,
        lastSeen: known?.lastSeen ?? null,
      };
    });
  }

  async #stagingPath(kind: string): Promise<string> {
    await (this.#staging ??= this.#removeStrays());
    return join(this.#src.tmpDir, `${kind}-${crypto.randomUUID()}.tmp`);
  }

  /**
   * Before this process stages its first file, whatever is in the staging
   * folder is left from a run that stopped mid-upload or mid-download.
   */
  async #removeStrays(): Promise<void> {
    const dir = this.#src.tmpDir;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".tmp")) {
        await Deno.remove(join(dir, entry.name)).catch(() => {});
      }
    }
  }

  /**
   * The request body (the file the person picked) staged to disk, then put
   * as the command line's `put --name` does (`?name=`, the file's name);
   * progress and the result as NDJSON.
   */
  async #upload(req: Request, url: URL): Promise<Response> {
    const path = await this.#stagingPath("upload");
    let name: string | undefined;
    try {
      name = optionalName({ name: url.searchParams.get("name") ?? undefined });
      await this.#stage(req, path);
    } catch (err) {
      await Deno.remove(path).catch(() => {});
      return errorResponse(err);
    }
    return ndjsonJob(async (onProgress) => {
      try {
        return await this.#src.backend.putFile(path, { onProgress, name });
      } finally {
        await Deno.remove(path).catch(() => {});
      }
    });
  }

  async #stage(req: Request, path: string): Promise<void> {
    if (!req.body) throw new TesserasError("INVALID_INPUT", "empty upload");
    const file = await Deno.open(path, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      let size = 0;
      for await (const chunk of req.body) {
        size += chunk.byteLength;
        if (size > MAX_TESSERA_SIZE) {
          throw new TesserasError(
            "TOO_LARGE",
            "a tessera holds at most 1 GiB: split the file first",
          );
        }
        for (let at = 0; at < chunk.length;) {
          at += await file.write(chunk.subarray(at));
        }
      }
      await file.sync();
    } finally {
      file.close();
    }
  }

  /** Retrieved as `get` does, then streamed; the staged copy is removed. */
  async #download(id: string, signal: AbortSignal): Promise<Response> {
    const path = await this.#stagingPath("download");
    try {
      assertTesseraId(id);
      // A browser that gives up (tab closed) stops the retrieval too.
      const { size } = await this.#src.backend.getToFile(id, {
        outPath: path,
        signal,
      });
      const file = await Deno.open(path, { read: true });
      // An open file stays readable once unlinked, so a download the
      // browser abandons leaves nothing behind; where unlinking an open
      // file fails (Windows) the copy goes when the stream ends.
      const removed = await Deno.remove(path).then(() => true, () => false);
      const body = file.readable.pipeThrough(
        new TransformStream({
          flush: () => removed ? undefined : Deno.remove(path).catch(() => {}),
        }),
      );
      return new Response(body, {
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(size),
          "content-disposition": `attachment; filename="${id}"`,
          "cache-control": "no-store",
        },
      });
    } catch (err) {
      await Deno.remove(path).catch(() => {});
      return errorResponse(err);
    }
  }
}
