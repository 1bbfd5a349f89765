/**
 * Byte-valued logs against object mode: 1M small events `{ user, op, n }` appended in batches
 * of 1,000, then read back with `for…of`; RSS growth per event after ingest (collected, 600 ms
 * of idle maintenance). One mode per process, so each starts fresh:
 *
 *   deno run --allow-ffi --allow-env --allow-read --v8-flags=--expose-gc bench/values.ts json
 *   bun bench/values.ts any
 *
 * Prints one JSON line: mode, runtime, ingest_mrec_s, scan_mrec_s, rss_bytes_per_record. The
 * scan is checked (the sum of every event's n).
 *
 * @module
 */
import process from "node:process";
import { Timelog } from "../mod.ts";

const mode = process.argv[process.argv.length - 1];
if (mode !== "json" && mode !== "any" && mode !== "bytes") {
  throw new Error(`usage: bench/values.ts json|any|bytes, got ${mode}`);
}
const N = 1_000_000, B = 1000;
type Ev = { user: string; op: string; n: number };
const OPS = ["login", "logout", "deploy", "alert"];
const runtime = "Deno" in globalThis ? "deno" : "bun";
const gc = (): void => {
  const g = globalThis as { gc?: () => void; Bun?: { gc(full: boolean): void } };
  g.gc?.();
  g.Bun?.gc(true);
};
const enc = new TextEncoder();
const event = (i: number): Ev => ({ user: "u" + (i % 977), op: OPS[i & 3], n: i });

gc();
const r0 = process.memoryUsage().rss;
const t0 = performance.now();
// "bytes" stores each event's JSON text as a Uint8Array (what a msgpack/CBOR user does).
using log = mode === "bytes"
  ? new Timelog<Uint8Array>({ values: "bytes" })
  : new Timelog<Ev>({ values: mode });
for (let o = 0; o < N; o += B) {
  const ts = new Float64Array(B);
  const vs: unknown[] = new Array(B);
  for (let i = 0; i < B; i++) {
    ts[i] = o + i;
    vs[i] = mode === "bytes" ? enc.encode(JSON.stringify(event(o + i))) : event(o + i);
  }
  (log as Timelog<unknown>).appendMany(ts, vs);
}
const t1 = performance.now();
gc();
await new Promise((r) => setTimeout(r, 600));
gc();
const r1 = process.memoryUsage().rss;
let sum = 0;
const t2 = performance.now();
for (const [, e] of (log as Timelog<unknown>).all()) {
  sum += mode === "bytes" ? (e as Uint8Array).length : (e as Ev).n;
}
const t3 = performance.now();
if (mode !== "bytes" && sum !== ((N - 1) * N) / 2) throw new Error(`scan sum ${sum}`);
console.log(JSON.stringify({
  mode,
  runtime,
  ingest_mrec_s: +(N / (t1 - t0) / 1e3).toFixed(2),
  scan_mrec_s: +(N / (t3 - t2) / 1e3).toFixed(2),
  rss_bytes_per_record: +((r1 - r0) / N).toFixed(1),
}));
