/**
 * Throughput of the private tessera's segmented encryption
 * (`lib/crypto/segments.ts`) beside a plain copy through the same kind of
 * stream in the same run, so the cost of `put --private` / `get` of a
 * private tessera reads as a ratio. Usage:
 * `deno run scripts/bench_crypto.ts [MiB, default 256]`.
 *
 * @module
 */
import {
  decryptingStream,
  encryptingStream,
  newContentKey,
} from "../lib/crypto/mod.ts";

const mib = Number(Deno.args[0] ?? 256);
const CHUNK = 1 << 20;
const source = crypto.getRandomValues(new Uint8Array(CHUNK / 16));
const chunk = new Uint8Array(CHUNK);
for (let at = 0; at < CHUNK; at += source.length) chunk.set(source, at);

/** `mib` MiB of 1 MiB chunks, each a fresh copy as a file read gives. */
function input(): ReadableStream<Uint8Array> {
  let left = mib;
  return new ReadableStream({
    pull(controller) {
      if (left-- === 0) return controller.close();
      controller.enqueue(chunk.slice());
    },
  });
}

/** A copy stream: what a pipeline without encryption still pays. */
function copying(): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(part, controller) {
      controller.enqueue(part.slice());
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const part of stream) total += part.length;
  return total;
}

async function timed(
  label: string,
  run: () => Promise<number>,
): Promise<number> {
  const t0 = performance.now();
  const bytes = await run();
  const seconds = (performance.now() - t0) / 1000;
  const rate = mib / seconds;
  console.log(
    `${label.padEnd(34)} ${rate.toFixed(0).padStart(6)} MiB/s  (${
      seconds.toFixed(2)
    } s, ${bytes} bytes out)`,
  );
  return rate;
}

const key = newContentKey();
console.log(`${mib} MiB through each stream, 1 MiB input chunks`);
const copy = await timed(
  "plain copy (baseline)",
  () => drain(input().pipeThrough(copying())),
);
for (const segmentBytes of [1 << 16, 1 << 18, 1 << 20]) {
  const kib = segmentBytes >> 10;
  const sealed: Uint8Array[] = [];
  const enc = await timed(`encrypt, ${kib} KiB segments`, async () => {
    for await (
      const part of input().pipeThrough(
        encryptingStream(key, { segmentBytes }),
      )
    ) sealed.push(part);
    return sealed.reduce((n, p) => n + p.length, 0);
  });
  const dec = await timed(
    `decrypt, ${kib} KiB segments`,
    () => drain(ReadableStream.from(sealed).pipeThrough(decryptingStream(key))),
  );
  console.log(
    `  encrypt ${(100 * copy / enc).toFixed(0)} %, decrypt ${
      (100 * copy / dec).toFixed(0)
    } % of the copy's time`,
  );
}
const again = await timed(
  "plain copy again (drift check)",
  () => drain(input().pipeThrough(copying())),
);
console.log(
  `copy varied ${(100 * Math.abs(again - copy) / copy).toFixed(0)} % ` +
    `between the first and last run (shared machine)`,
);
