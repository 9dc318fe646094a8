/**
 * Raw wire framing for hostile-input tests: unsigned varint length
 * prefixes, as `lpStream` writes them.
 *
 * @module
 */

/** Unsigned LEB128 varint of `n`. */
export function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return new Uint8Array(out);
}

/** The byte strings joined. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `payload` with its varint length prefix. */
export function frame(payload: Uint8Array): Uint8Array {
  return concat(varint(payload.length), payload);
}
