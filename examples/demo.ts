/**
 * A tour of Timelog on a seeded stream of market ticks: ingest (some ticks arrive late), range
 * queries, retention, a snapshot that stays consistent while writing goes on, and trades kept
 * as JSON in the engine, each priced as of its time in one call.
 *
 *   ./dev demo            (Deno)      ./dev demo --bun      (Bun)
 *   deno task demo                    bun examples/demo.ts
 *
 * @module
 */
import { Timelog } from "@timelog/timelog";

const TICKS = 2_000_000;
const LATE_RATE = 0.05; // 5% of ticks arrive up to 2 s late
const START = Date.UTC(2026, 0, 5, 14, 30); // ms

/** xorshift64*: a seeded generator, so every run shows the same data. */
function rng(seed: bigint): () => number {
  let s = seed;
  return () => {
    s ^= s >> 12n;
    s ^= (s << 25n) & 0xffff_ffff_ffff_ffffn;
    s ^= s >> 27n;
    return Number(((s * 0x2545f4914f6cdd1dn) & 0xffff_ffff_ffff_ffffn) >> 11n) / 2 ** 53;
  };
}

function ticks(n: number): { ts: Float64Array; price: Float64Array } {
  const rand = rng(12345n);
  const ts = new Float64Array(n);
  const price = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    const on = START + Math.floor(i / 2); // ~2 ticks per ms
    ts[i] = rand() < LATE_RATE ? on - 1 - Math.floor(rand() * 2000) : on;
    p = Math.max(1, p + (rand() - 0.5) * 0.02);
    price[i] = Math.round(p * 100) / 100;
  }
  return { ts, price };
}

function fmt(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function section(title: string): void {
  console.log(`\n== ${title}`);
}

const runtime = "Deno" in globalThis ? "Deno" : "Bun";
console.log(`Timelog demo on ${runtime}: ${fmt(TICKS)} seeded ticks, ${LATE_RATE * 100}% late`);
const data = ticks(TICKS);

using log = new Timelog<number>({ values: "f64" }); // prices stored in the engine itself

section("1. Ingest (batches of 4096, out-of-order, background maintenance on)");
let t0 = performance.now();
for (let off = 0; off < TICKS; off += 4096) {
  log.appendMany(data.ts.subarray(off, off + 4096), data.price.subarray(off, off + 4096));
}
log.flush();
let ms = performance.now() - t0;
console.log(`  ${fmt(TICKS)} ticks in ${fmt(ms)} ms = ${fmt(TICKS / ms / 1000)} M ticks/s`);
console.log(
  `  size ${fmt(log.size)}, first ${new Date(log.min()!).toISOString()}, ` +
    `last ${new Date(log.max()!).toISOString()}`,
);

section("2. Range queries [t1, t2)");
const minute = 60_000;
for (const m of [0, 5, 15]) {
  const from = START + m * minute;
  let n = 0, sum = 0, hi = -Infinity, lo = Infinity;
  for (const [, price] of log.range(from, from + minute)) {
    n++;
    sum += price;
    hi = Math.max(hi, price);
    lo = Math.min(lo, price);
  }
  console.log(
    `  minute ${String(m).padStart(2)}: ${fmt(n)} ticks, avg ${fmt(sum / n)}, ` +
      `low ${lo}, high ${hi}`,
  );
}
t0 = performance.now();
const Q = 20_000;
let found = 0;
for (let i = 0; i < Q; i++) {
  const from = START + ((i * 7919) % (TICKS / 2 - 100));
  found += log.count(from, from + 50);
}
ms = performance.now() - t0;
console.log(
  `  ${fmt(Q)} count() queries of 50 ms windows: ${fmt((ms * 1000) / Q)} µs each ` +
    `(${fmt(found / Q)} ticks per window)`,
);
t0 = performance.now();
const cols = log.rangeColumns(START, START + 10 * minute);
ms = performance.now() - t0;
console.log(
  `  rangeColumns over 10 minutes: ${fmt(cols.ts.length)} ticks as typed arrays in ` +
    `${fmt(ms)} ms`,
);

section("3. A snapshot stays consistent while writing goes on");
using snap = log.snapshot();
const frozen = snap.count();
const late = START + 7 * minute; // a tick arriving minutes late
log.append(late, 123.45);
log.delete(START, START + minute);
console.log(
  `  snapshot: ${fmt(snap.count())} ticks (was ${fmt(frozen)}); live log: ${fmt(log.size)}`,
);
console.log(
  `  late tick visible live (${log.at(late).includes(123.45)}), ` +
    `not in the snapshot (${snap.at(late).includes(123.45)})`,
);

section("4. Retention: drop everything older than the last 5 minutes");
const cutoff = (log.max() as number) - 5 * minute;
t0 = performance.now();
log.deleteBefore(cutoff);
log.compact();
ms = performance.now() - t0;
const s = log.stats();
console.log(
  `  deleteBefore + compact in ${fmt(ms)} ms: ${fmt(log.size)} ticks left, ` +
    `${fmt(s.recordsStored)} stored, ${s.l1Segments} L1 segment(s), ${s.tombstones} tombstones`,
);
console.log(`  the snapshot still reads ${fmt(snap.count())} ticks`);

section("5. Events of any shape, kept by the engine as JSON");
// Trades arrive as objects; a "json" log keeps them in the engine (not as JS objects), and
// asOfMany prices every trade at the quote in force when it happened, in one call.
type Trade = { side: "buy" | "sell"; qty: number };
using trades = new Timelog<Trade>({ values: "json" });
const pick = rng(7n);
const hi = log.max() as number;
const tradeTs = new Float64Array(100_000);
const tradeVals: Trade[] = [];
for (let i = 0; i < tradeTs.length; i++) {
  tradeTs[i] = cutoff + Math.floor(pick() * (hi - cutoff));
  tradeVals.push({ side: pick() < 0.5 ? "buy" : "sell", qty: 1 + Math.floor(pick() * 100) });
}
t0 = performance.now();
trades.appendMany(tradeTs, tradeVals);
ms = performance.now() - t0;
const ts5 = trades.stats();
console.log(
  `  ${fmt(trades.size)} trades stored as JSON in ${fmt(ms)} ms ` +
    `(${fmt(ts5.valueBytes / ts5.storedValues)} bytes a trade in the engine)`,
);
t0 = performance.now();
const quoted = log.asOfMany(tradeTs);
ms = performance.now() - t0;
let notional = 0;
for (let i = 0; i < tradeTs.length; i++) {
  notional += (quoted.values[i] as number) * tradeVals[i].qty;
}
const [firstTs, firstTrade] = trades.all().next().value as [number, Trade];
console.log(
  `  every trade priced as of its time with one asOfMany call: ${fmt(ms)} ms, ` +
    `notional ${fmt(notional)}; the earliest: ${firstTrade.side} ${firstTrade.qty} at ${
      fmt(firstTs - START)
    } ms`,
);

section("Summary");
console.log(
  `  engine: ${s.flushesTotal} flushes, ${s.compactionsTotal} compactions, ` +
    `${s.pagesRewrittenTotal} pages rewritten, ${s.pagesSharedTotal} shared without copying`,
);
