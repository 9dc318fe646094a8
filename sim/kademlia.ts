/**
 * A compact Kademlia for thousands of simulated nodes: 64-bit ids (the
 * first 64 bits of the key space, enough to order peers by XOR distance),
 * k-buckets of node indices per node (about 2 KiB each at 10,000 nodes),
 * an iterative α-parallel lookup over those tables, and an exact oracle
 * over the global sorted id list to measure how often lookups find the
 * true closest peers.
 *
 * Node indices are dense small integers owned by the caller (the
 * network); whether a node answers is asked through `isOnline`.
 *
 * @module
 */
import type { SimRng } from "./rng.ts";

/** Options of {@linkcode Kademlia}. */
export interface KademliaOptions {
  /** Bucket size k (default 20, as libp2p's kad-dht). */
  readonly k?: number;
  /** Lookup parallelism α (default 3). */
  readonly alpha?: number;
  /** Expected peak node count, to size the bucket arrays (default 1,000). */
  readonly expectedNodes?: number;
  /** Randomness for bucket sampling. */
  readonly rng: SimRng;
  /** Whether a node answers right now. */
  readonly isOnline: (index: number) => boolean;
}

/** Counters of lookup work, for the report. */
export interface LookupStats {
  /** Lookups run. */
  lookups: number;
  /** Nodes queried in all lookups (answered or not). */
  queries: number;
  /** Queries to nodes that did not answer. */
  failedQueries: number;
}

/** A 64-bit key as two unsigned 32-bit halves. */
export interface Key64 {
  readonly hi: number;
  readonly lo: number;
}

/** The 64-bit prefix of a hex key (a tessera id or a peer's key). */
export function key64(hex: string): Key64 {
  return {
    hi: parseInt(hex.slice(0, 8), 16) >>> 0,
    lo: parseInt(hex.slice(8, 16), 16) >>> 0,
  };
}

/** Common-prefix length of two 64-bit keys (64 when equal). */
export function cpl(
  aHi: number,
  aLo: number,
  bHi: number,
  bLo: number,
): number {
  // XOR of signed or unsigned halves has the same bits; kept signed, the
  // result stays a small integer for the optimizer (an unsigned one above
  // 2^31 made it deoptimize again and again).
  const x = aHi ^ bHi;
  if (x !== 0) return Math.clz32(x);
  const y = aLo ^ bLo;
  return y === 0 ? 64 : 32 + Math.clz32(y);
}

/**
 * Routing tables and lookups.
 *
 * @example
 * ```ts
 * import { SimRng } from "./mod.ts";
 * const kad = new Kademlia({ rng: new SimRng(1), isOnline: () => true });
 * kad.add(0, 0x80000000, 0); kad.add(1, 0x40000000, 0);
 * kad.fill(0); kad.fill(1);
 * kad.lookup(0, { hi: 0x40000001, lo: 0 }, 1); // [1]
 * ```
 */
export class Kademlia {
  readonly k: number;
  readonly alpha: number;
  /** Buckets per node; the last one holds every deeper peer. */
  readonly buckets: number;
  readonly stats: LookupStats = { lookups: 0, queries: 0, failedQueries: 0 };
  readonly #rng: SimRng;
  readonly #isOnline: (index: number) => boolean;
  #hi = new Uint32Array(1024);
  #lo = new Uint32Array(1024);
  /** Node indices present in the key space, sorted by key. */
  #sorted: number[] = [];
  #tables: (Int32Array | undefined)[] = [];
  #counts: (Uint8Array | undefined)[] = [];
  /**
   * Each table's entries again, sorted by key: the entries closest to a
   * key by XOR are found by splitting on bits, as in the global list,
   * instead of sorting the table by distance per query.
   */
  #byKey: (Int32Array | undefined)[] = [];
  #byKeyCount: number[] = [];
  #scratch = new Float64Array(256);
  #marks = new Uint32Array(0);
  #stamp = 0;
  /** The candidates of the lookup running (its buffers reused by the next). */
  readonly #shortlist = new Shortlist();

  /** @param options see {@linkcode KademliaOptions} */
  constructor(options: KademliaOptions) {
    this.k = options.k ?? 20;
    this.alpha = options.alpha ?? 3;
    const n = Math.max(2, options.expectedNodes ?? 1000);
    this.buckets = Math.min(64, Math.ceil(Math.log2(n / this.k)) + 6);
    this.#rng = options.rng;
    this.#isOnline = options.isOnline;
  }

  /** Nodes present in the key space. */
  get size(): number {
    return this.#sorted.length;
  }

  /** The key of node `index`. */
  keyOf(index: number): Key64 {
    return { hi: this.#hi[index], lo: this.#lo[index] };
  }

  /** Bytes held in routing tables, summed over nodes. */
  tableBytes(): number {
    let total = 0;
    for (const t of this.#tables) if (t) total += t.byteLength + this.buckets;
    for (const t of this.#byKey) if (t) total += t.byteLength;
    return total;
  }

  /** Put node `index` with key `(hi, lo)` into the key space (no table yet). */
  add(index: number, hi: number, lo: number): void {
    if (index >= this.#hi.length) {
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(Math.max(index + 1, a.length * 2));
        b.set(a);
        return b;
      };
      this.#hi = grow(this.#hi);
      this.#lo = grow(this.#lo);
    }
    this.#hi[index] = hi >>> 0;
    this.#lo[index] = lo >>> 0;
    const pos = this.#lowerBound(hi >>> 0, lo >>> 0);
    this.#sorted.splice(pos, 0, index);
  }

  /** Remove node `index` for good: from the key space and its own table. */
  remove(index: number): void {
    const pos = this.#lowerBound(this.#hi[index], this.#lo[index]);
    if (this.#sorted[pos] === index) this.#sorted.splice(pos, 1);
    this.#tables[index] = undefined;
    this.#counts[index] = undefined;
    this.#byKey[index] = undefined;
    this.#byKeyCount[index] = 0;
  }

  /**
   * (Re)fill node `index`'s buckets: keep entries still in the key space,
   * top each bucket up with random present nodes of its range, preferring
   * online ones, as a bucket refresh lookup would.
   */
  fill(index: number): void {
    const K = this.k, B = this.buckets;
    let table = this.#tables[index];
    let counts = this.#counts[index];
    if (!table || !counts) {
      table = new Int32Array(B * K);
      counts = new Uint8Array(B);
      this.#tables[index] = table;
      this.#counts[index] = counts;
      this.#byKey[index] = new Int32Array(B * K);
      this.#byKeyCount[index] = 0;
    }
    const hi = this.#hi[index], lo = this.#lo[index];
    for (let b = 0; b < B; b++) {
      // Drop entries that left the key space for good.
      let c = 0;
      for (let i = 0; i < counts[b]; i++) {
        const e = table[b * K + i];
        if (this.#tables[e] !== undefined || this.#present(e)) {
          table[b * K + c++] = e;
        }
      }
      counts[b] = c;
      if (c >= K) continue;
      const [from, to] = this.#bucketRange(hi, lo, b);
      const size = to - from;
      if (size <= 0) continue;
      if (size <= 2 * K) {
        for (let p = from; p < to && counts[b] < K; p++) {
          const e = this.#sorted[p];
          if (e !== index && this.#isOnline(e)) this.#insert(index, b, e);
        }
        continue;
      }
      for (let tries = 0; tries < 4 * K && counts[b] < K; tries++) {
        const e = this.#sorted[from + this.#rng.int(size)];
        if (e !== index && this.#isOnline(e)) this.#insert(index, b, e);
      }
    }
    this.#rebuildByKey(index);
  }

  /** Re-sort node `index`'s entries by key from its buckets. */
  #rebuildByKey(index: number): void {
    const byKey = this.#byKey[index]!;
    const all = this.known(index);
    all.sort((a, b) => this.#compareKeys(a, b));
    byKey.set(all);
    this.#byKeyCount[index] = all.length;
  }

  #compareKeys(a: number, b: number): number {
    const ah = this.#hi[a], bh = this.#hi[b];
    if (ah !== bh) return ah < bh ? -1 : 1;
    const al = this.#lo[a], bl = this.#lo[b];
    return al < bl ? -1 : al > bl ? 1 : a - b;
  }

  /** Add `e` to node `index`'s key-sorted entries. */
  #addByKey(index: number, e: number): void {
    const byKey = this.#byKey[index]!;
    const n = this.#byKeyCount[index];
    const at = this.#searchByKey(byKey, n, e);
    byKey.copyWithin(at + 1, at, n);
    byKey[at] = e;
    this.#byKeyCount[index] = n + 1;
  }

  /** First position of `byKey[0, n)` whose entry does not sort before `e`. */
  #searchByKey(byKey: Int32Array, n: number, e: number): number {
    let a = 0, b = n;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.#compareKeys(byKey[m], e) < 0) a = m + 1;
      else b = m;
    }
    return a;
  }

  /** Remove `e` from node `index`'s key-sorted entries. */
  #dropByKey(index: number, e: number): void {
    const byKey = this.#byKey[index]!;
    const n = this.#byKeyCount[index];
    const at = this.#searchByKey(byKey, n, e);
    if (at >= n || byKey[at] !== e) return;
    byKey.copyWithin(at, at + 1, n);
    this.#byKeyCount[index] = n - 1;
  }

  /**
   * `observer` learned that `seen` is alive (it answered or called): add
   * it to the right bucket if there is room or an entry that is offline.
   */
  see(observer: number, seen: number): void {
    if (observer === seen) return;
    const table = this.#tables[observer], counts = this.#counts[observer];
    if (!table || !counts) return;
    const b = Math.min(
      this.buckets - 1,
      cpl(
        this.#hi[observer],
        this.#lo[observer],
        this.#hi[seen],
        this.#lo[seen],
      ),
    );
    const K = this.k, base = b * K, n = counts[b];
    let stale = -1;
    for (let i = 0; i < n; i++) {
      const e = table[base + i];
      if (e === seen) return;
      if (stale < 0 && !this.#isOnline(e)) stale = i;
    }
    if (n < K) {
      table[base + n] = seen;
      counts[b] = n + 1;
      this.#addByKey(observer, seen);
    } else if (stale >= 0) {
      this.#dropByKey(observer, table[base + stale]);
      table[base + stale] = seen;
      this.#addByKey(observer, seen);
    }
  }

  /** Entries of node `index`'s table (for tests and the report). */
  known(index: number): number[] {
    const table = this.#tables[index], counts = this.#counts[index];
    if (!table || !counts) return [];
    const out: number[] = [];
    for (let b = 0; b < this.buckets; b++) {
      for (let i = 0; i < counts[b]; i++) out.push(table[b * this.k + i]);
    }
    return out;
  }

  /**
   * Up to `n` entries of `index`'s table closest to `key`, closest first:
   * a walk of the key-sorted entries split on bits, nearest half first.
   */
  closestKnown(
    index: number,
    key: Key64,
    n: number,
    onlineOnly = false,
  ): number[] {
    const byKey = this.#byKey[index];
    if (!byKey) return [];
    const out: number[] = [];
    const accept = onlineOnly ? this.#isOnline : acceptAll;
    this.#collect(byKey, 0, this.#byKeyCount[index], 0, {
      key,
      count: n,
      accept,
      out,
    });
    return out;
  }

  /**
   * Iterative lookup from `asker`: query the α closest unqueried peers,
   * merge what they know (up to `max(k, count)` live peers each: answering
   * nodes are taken to know which of their contacts are alive), until the closest
   * k have all answered or failed. Returns up to `count` live peers,
   * closest first: those that answered, then (for `count > k`) further
   * candidates that answer a liveness probe, as a client that wants many
   * peers would ping the rest of its shortlist. Peers that answer learn
   * the asker.
   */
  lookup(asker: number, key: Key64, count: number): number[] {
    this.stats.lookups++;
    const want = Math.max(this.k, count);
    const list = this.#shortlist;
    const stamp = this.#nextStamp();
    list.reset({
      cap: 3 * want,
      key,
      hi: this.#hi,
      lo: this.#lo,
      marks: this.#marks,
      stamp,
    });
    list.mark(asker);
    list.merge(this.closestKnown(asker, key, want));
    for (;;) {
      const batch = list.nextBatch(this.k, this.alpha);
      if (batch.length === 0) break;
      for (const a of this.#ask(asker, { key, want, batch })) list.merge(a);
    }
    return this.#answeredOrAlive(list, count);
  }

  /**
   * Query the shortlist entries `batch`: each online one answers with its
   * closest known live peers, and it and the asker learn each other.
   */
  #ask(
    asker: number,
    q: { readonly key: Key64; readonly want: number; readonly batch: number[] },
  ): number[][] {
    const list = this.#shortlist;
    const answers: number[][] = [];
    for (const i of q.batch) {
      const e = list.ids[i];
      this.stats.queries++;
      if (!this.#isOnline(e) || !this.#tables[e]) {
        list.state[i] = FAILED;
        this.stats.failedQueries++;
        continue;
      }
      list.state[i] = ANSWERED;
      this.see(e, asker);
      this.see(asker, e);
      answers.push(this.closestKnown(e, q.key, q.want, true));
    }
    return answers;
  }

  /**
   * Up to `count` of the shortlist, closest first: those that answered,
   * and unqueried ones that pass a liveness probe.
   */
  #answeredOrAlive(list: Shortlist, count: number): number[] {
    const out: number[] = [];
    const ids = list.ids, state = list.state;
    for (let i = 0; i < list.n && out.length < count; i++) {
      if (state[i] === ANSWERED) out.push(ids[i]);
      else if (state[i] === UNQUERIED) {
        this.stats.queries++;
        const e = ids[i];
        if (this.#isOnline(e) && this.#tables[e]) out.push(e);
        else this.stats.failedQueries++;
      }
    }
    return out;
  }

  #nextStamp(): number {
    if (this.#marks.length < this.#hi.length) {
      this.#marks = new Uint32Array(this.#hi.length);
      this.#stamp = 0;
    }
    if (++this.#stamp === 0xffffffff) {
      this.#marks.fill(0);
      this.#stamp = 1;
    }
    return this.#stamp;
  }

  /**
   * The true `count` closest present nodes to `key` that pass `accept`,
   * closest first: the oracle lookups are measured against.
   */
  trueClosest(
    key: Key64,
    count: number,
    accept: (index: number) => boolean,
  ): number[] {
    const out: number[] = [];
    this.#collect(this.#sorted, 0, this.#sorted.length, 0, {
      key,
      count,
      accept,
      out,
    });
    return out;
  }

  /**
   * Append to `want.out` the entries of `list[from, to)` (sorted by key,
   * sharing their first `depth` bits) closest to `want.key`, closest
   * first, until it holds `want.count`.
   */
  #collect(
    list: ArrayLike<number>,
    from: number,
    to: number,
    depth: number,
    want: {
      key: Key64;
      count: number;
      accept: (index: number) => boolean;
      out: number[];
    },
  ): void {
    const { key, count, accept, out } = want;
    if (from >= to || out.length >= count) return;
    if (to - from <= 32 || depth >= 64) {
      const group: number[] = [];
      for (let p = from; p < to; p++) {
        const e = list[p];
        if (accept(e)) group.push(e);
      }
      this.#sortByDistance(group, key);
      for (const e of group) {
        if (out.length >= count) return;
        out.push(e);
      }
      return;
    }
    // [from, to) shares the first `depth` bits; split on bit `depth`.
    let lo = from, hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#bit(list[mid], depth) === 0) lo = mid + 1;
      else hi = mid;
    }
    const keyBit = depth < 32
      ? (key.hi >>> (31 - depth)) & 1
      : (key.lo >>> (63 - depth)) & 1;
    if (keyBit === 0) {
      this.#collect(list, from, lo, depth + 1, want);
      this.#collect(list, lo, to, depth + 1, want);
    } else {
      this.#collect(list, lo, to, depth + 1, want);
      this.#collect(list, from, lo, depth + 1, want);
    }
  }

  #bit(index: number, depth: number): number {
    return depth < 32
      ? (this.#hi[index] >>> (31 - depth)) & 1
      : (this.#lo[index] >>> (63 - depth)) & 1;
  }

  #present(index: number): boolean {
    const pos = this.#lowerBound(this.#hi[index], this.#lo[index]);
    return this.#sorted[pos] === index;
  }

  #insert(index: number, b: number, e: number): void {
    const table = this.#tables[index]!, counts = this.#counts[index]!;
    const base = b * this.k;
    for (let i = 0; i < counts[b]; i++) if (table[base + i] === e) return;
    table[base + counts[b]] = e;
    counts[b]++;
  }

  /** Sorted positions of the nodes in bucket `b` of a node with key (hi, lo). */
  #bucketRange(hi: number, lo: number, b: number): [number, number] {
    // Bucket b < B-1: share exactly b bits, so prefix = own first b bits
    // then bit b flipped. The last bucket: share at least b bits.
    const len = b === this.buckets - 1 ? b : b + 1;
    let phi = hi, plo = lo;
    if (b !== this.buckets - 1) {
      if (b < 32) phi = (phi ^ (1 << (31 - b))) >>> 0;
      else plo = (plo ^ (1 << (63 - b))) >>> 0;
    }
    const [minHi, minLo, maxHi, maxLo] = prefixBounds(phi, plo, len);
    return [
      this.#lowerBound(minHi, minLo),
      this.#upperBound(maxHi, maxLo),
    ];
  }

  #lowerBound(hi: number, lo: number): number {
    let a = 0, b = this.#sorted.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      const e = this.#sorted[m];
      const eh = this.#hi[e], el = this.#lo[e];
      if (eh < hi || (eh === hi && el < lo)) a = m + 1;
      else b = m;
    }
    return a;
  }

  #upperBound(hi: number, lo: number): number {
    let a = 0, b = this.#sorted.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      const e = this.#sorted[m];
      const eh = this.#hi[e], el = this.#lo[e];
      if (eh < hi || (eh === hi && el <= lo)) a = m + 1;
      else b = m;
    }
    return a;
  }

  #sortByDistance(list: number[], key: Key64): void {
    const n = list.length;
    if (n < 2) return;
    const H = this.#hi, L = this.#lo, kh = key.hi, kl = key.lo;
    if (this.#scratch.length < n) this.#scratch = new Float64Array(2 * n);
    const d = this.#scratch;
    for (let i = 0; i < n; i++) {
      const e = list[i];
      d[i] = ((H[e] ^ kh) >>> 0) * 4294967296 + ((L[e] ^ kl) >>> 0);
    }
    // Insertion sort: groups are small (a bucket or two).
    for (let i = 1; i < n; i++) {
      const e = list[i], de = d[i];
      let j = i - 1;
      while (j >= 0 && (d[j] > de || (d[j] === de && list[j] > e))) {
        list[j + 1] = list[j];
        d[j + 1] = d[j];
        j--;
      }
      list[j + 1] = e;
      d[j + 1] = de;
    }
  }
}

/** Smallest and largest 64-bit values with the first `len` bits of (hi, lo). */
function prefixBounds(
  hi: number,
  lo: number,
  len: number,
): [number, number, number, number] {
  if (len <= 0) return [0, 0, 0xffffffff, 0xffffffff];
  if (len <= 32) {
    const mask = len === 32 ? 0xffffffff : (~(0xffffffff >>> len)) >>> 0;
    const minHi = (hi & mask) >>> 0;
    return [minHi, 0, (minHi | (~mask >>> 0)) >>> 0, 0xffffffff];
  }
  const l = len - 32;
  const mask = l === 32 ? 0xffffffff : (~(0xffffffff >>> l)) >>> 0;
  const minLo = (lo & mask) >>> 0;
  return [hi >>> 0, minLo, hi >>> 0, (minLo | (~mask >>> 0)) >>> 0];
}

function acceptAll(): boolean {
  return true;
}

const UNQUERIED = 0, ANSWERED = 1, FAILED = 2;

/** What a {@linkcode Shortlist} is reset with for one lookup. */
interface ShortlistStart {
  /** Most candidates kept. */
  readonly cap: number;
  readonly key: Key64;
  /** Every node's key, high and low halves. */
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  /** "Seen" as a stamp per node index: no Set allocation per lookup. */
  readonly marks: Uint32Array;
  readonly stamp: number;
}

/**
 * The candidates of one lookup sorted by distance to the key, each with
 * its state (unqueried, answered, failed), in double-buffered typed arrays
 * that one lookup leaves to the next.
 */
class Shortlist {
  ids = new Int32Array(0);
  dist = new Float64Array(0);
  state = new Uint8Array(0);
  /** Entries in use. */
  n = 0;
  #ids2 = new Int32Array(0);
  #dist2 = new Float64Array(0);
  #state2 = new Uint8Array(0);
  #start: ShortlistStart | null = null;

  /** Empty, for a lookup of `start.key`. */
  reset(start: ShortlistStart): void {
    this.#start = start;
    this.n = 0;
    if (this.ids.length >= start.cap) return;
    this.ids = new Int32Array(start.cap);
    this.dist = new Float64Array(start.cap);
    this.state = new Uint8Array(start.cap);
    this.#ids2 = new Int32Array(start.cap);
    this.#dist2 = new Float64Array(start.cap);
    this.#state2 = new Uint8Array(start.cap);
  }

  /** Node `e` is never a candidate (the asker). */
  mark(e: number): void {
    const st = this.#start!;
    st.marks[e] = st.stamp;
  }

  /**
   * Merge the nodes of `list` not seen yet, by distance. Fresh arrays
   * beat reused ones here: truncating an array frees its store and costs
   * a runtime call (measured), and pushes grow it again.
   */
  merge(list: readonly number[]): void {
    const { marks, stamp, hi: H, lo: L, key, cap } = this.#start!;
    const kh = key.hi, kl = key.lo;
    const ne: number[] = [], nd: number[] = [];
    for (const e of list) {
      if (marks[e] === stamp) continue;
      marks[e] = stamp;
      ne.push(e);
      nd.push(((H[e] ^ kh) >>> 0) * 4294967296 + ((L[e] ^ kl) >>> 0));
    }
    if (ne.length === 0) return;
    const ce = this.ids, cd = this.dist, cs = this.state, n = this.n;
    const me = this.#ids2, md = this.#dist2, ms = this.#state2;
    let i = 0, j = 0, m = 0;
    while ((i < n || j < ne.length) && m < cap) {
      if (j >= ne.length || (i < n && cd[i] <= nd[j])) {
        me[m] = ce[i];
        md[m] = cd[i];
        ms[m++] = cs[i++];
      } else {
        me[m] = ne[j];
        md[m] = nd[j++];
        ms[m++] = UNQUERIED;
      }
    }
    this.#ids2 = ce;
    this.#dist2 = cd;
    this.#state2 = cs;
    this.ids = me;
    this.dist = md;
    this.state = ms;
    this.n = m;
  }

  /**
   * Up to `alpha` unqueried entries among the `width` closest that have
   * not failed (empty: the lookup is done).
   */
  nextBatch(width: number, alpha: number): number[] {
    const batch: number[] = [];
    const cs = this.state;
    let considered = 0;
    for (let i = 0; i < this.n; i++) {
      const s = cs[i];
      if (s === FAILED) continue;
      if (considered++ >= width) break;
      if (s === UNQUERIED) {
        batch.push(i);
        if (batch.length >= alpha) break;
      }
    }
    return batch;
  }
}
