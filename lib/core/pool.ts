/**
 * Bounded parallelism without timers: the one pool of the project.
 *
 * @module
 */

/**
 * `fn` over `items` with at most `limit` running at once; results in
 * input order. The first rejection rejects the whole (after the running
 * calls settle, so nothing floats).
 *
 * @example
 * ```ts
 * import { mapPool } from "./pool.ts";
 * const doubled = await mapPool([1, 2, 3], (n) => Promise.resolve(2 * n), {
 *   limit: 2,
 * });
 * ```
 */
export async function mapPool<T, R>(
  items: readonly T[],
  fn: (item: T, index: number) => Promise<R>,
  options: { readonly limit: number },
): Promise<R[]> {
  // Most pools of silent holders are empty: no worker for nothing.
  if (items.length === 0) return [];
  const { limit } = options;
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker),
  );
  for (const r of results) if (r.status === "rejected") throw r.reason;
  return out;
}
