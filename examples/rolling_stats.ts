/**
 * Rolling per-minute statistics over a stream of ticks.
 *
 * Ticks arrive in small batches, some of them late (up to 10 s), as a feed would deliver them.
 * Each time the stream's clock passes a minute boundary plus the lateness allowance, that
 * minute is final: its open / high / low / close / count / mean come from one range read of
 * the log, and everything older than the rolling window (5 minutes) is dropped with
 * `deleteBefore`, so memory stays bounded however long the stream runs.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/rolling_stats.ts
 *   bun examples/rolling_stats.ts
 *
 * @module
 */
import { Timelog } from "@timelog/timelog";

const MINUTE = 60_000;
const LATE_MAX = 10_000; // ms a tick may arrive after its time
const WINDOW_MINUTES = 5;

/** One finished minute. */
export interface MinuteStats {
  start: number;
  count: number;
  open: number;
  high: number;
  low: number;
  close: number;
  mean: number;
}

/** Seeded ticks: ~20 per second for `minutes`, 3% late, prices a random walk in cents. */
export function generateTicks(minutes: number, seed = 7): { ts: number[]; price: number[] } {
  let s = seed >>> 0 || 1;
  const rand = (): number => { // xorshift32: enough for a demo, identical in every runtime
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const ts: number[] = [];
  const price: number[] = [];
  let p = 100;
  for (let t = 0; t < minutes * MINUTE; t += 1 + Math.floor(rand() * 100)) {
    ts.push(rand() < 0.03 ? Math.max(0, t - Math.floor(rand() * LATE_MAX)) : t);
    p = Math.max(0.01, Math.round((p + (rand() - 0.5) * 0.1) * 100) / 100);
    price.push(p);
  }
  return { ts, price };
}

/** The statistics of [start, start + MINUTE) as the log holds them now. */
function minuteStats(log: Timelog<number>, start: number): MinuteStats | undefined {
  const { values } = log.rangeColumns(start, start + MINUTE);
  if (values.length === 0) return undefined;
  let high = -Infinity, low = Infinity, sum = 0;
  for (const v of values) {
    if (v > high) high = v;
    if (v < low) low = v;
    sum += v;
  }
  // Ties at one timestamp keep arrival order, so open/close are the first/last to arrive.
  const open = values[0], close = values[values.length - 1];
  return { start, count: values.length, open, high, low, close, mean: sum / values.length };
}

/**
 * Streams `ticks` into a log in batches of `batch` (in arrival order) and returns the stats of
 * every minute once it is final; at most `WINDOW_MINUTES` of data stay in the log.
 */
export function rollingStats(ticks: { ts: number[]; price: number[] }, batch = 50): MinuteStats[] {
  using log = new Timelog<number>({ values: "f64" });
  const out: MinuteStats[] = [];
  let clock = 0; // the stream's time: the newest on-time tick seen
  let next = 0; // start of the next minute to report
  const report = (upTo: number): void => {
    for (; next + MINUTE <= upTo; next += MINUTE) {
      const s = minuteStats(log, next);
      if (s) out.push(s);
    }
    log.deleteBefore(next - WINDOW_MINUTES * MINUTE); // the rolling window
  };
  for (let i = 0; i < ticks.ts.length; i += batch) {
    const ts = ticks.ts.slice(i, i + batch), price = ticks.price.slice(i, i + batch);
    log.appendMany(ts, price);
    for (const t of ts) clock = Math.max(clock, t);
    report(clock - LATE_MAX); // a minute is final once no late tick can still land in it
  }
  report(Math.floor(clock / MINUTE) * MINUTE + MINUTE); // end of stream: the last minute too
  return out;
}

function fmt(s: MinuteStats): string {
  const mm = String(s.start / MINUTE).padStart(2, "0");
  const f = (x: number): string => x.toFixed(2);
  return `minute ${mm}: n=${s.count} open=${f(s.open)} high=${f(s.high)} low=${f(s.low)} ` +
    `close=${f(s.close)} mean=${s.mean.toFixed(4)}`;
}

if (import.meta.main) {
  const ticks = generateTicks(12);
  console.log(`rolling stats over ${ticks.ts.length} ticks, ${WINDOW_MINUTES}-minute window`);
  for (const s of rollingStats(ticks)) console.log(fmt(s));
}
