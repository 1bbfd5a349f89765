/**
 * Timing and checking helpers shared by the shapes' runs.
 *
 * @module
 */
import type { Queries } from "./expect.ts";
import { newAcc, type Peer } from "./peer.ts";

/** One run's figures of one peer, by key (`ingest_per_s`, `retention_ms`, ...). */
export type Figures = Record<string, number>;

/** Records a failed check: `what` names the peer, the shape and the figure. */
export type Fail = (what: string) => void;

/** A query method of {@link Peer}. */
export type QueryOp = "range" | "point" | "count";

/**
 * Milliseconds `fn` takes.
 *
 * @example
 * ```ts
 * console.log(msOf(() => {}) >= 0); // true
 * ```
 */
export function msOf(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/**
 * Resolves after `ms` of idle time (timers, so background threads and the runtime's idle
 * tasks run, as in a user's process between a load and its reads).
 *
 * @example
 * ```ts
 * await sleep(1);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A full garbage collection when the runtime offers one (Bun always; Deno with
 * `--v8-flags=--expose-gc`), run untimed between peers: otherwise the collection of one peer's
 * garbage (SQLite's row arrays, the B-tree's nodes) lands in the next peer's timed section.
 *
 * @example
 * ```ts
 * collect(); // a no-op in Deno without --expose-gc
 * ```
 */
export function collect(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

const sumOf = (a: Float64Array, k: number): number => {
  let s = 0;
  for (let i = 0; i < k; i++) s += a[i];
  return s;
};

/**
 * Runs the queries of `qs` in chunks of 100 until all are done or `budgetMs` has passed,
 * then checks the records found (and, but for counts, their value sum) against the expected
 * answers of the queries done. Returns queries per second and the number done.
 *
 * @example
 * ```ts
 * import { makePeer } from "./make.ts";
 * import { Expect, uniform } from "./expect.ts";
 * import { usersShape } from "./shapes.ts";
 * const d = usersShape(1000), e = new Expect(d), rand = uniform(1);
 * const peer = makePeer("array", "users");
 * peer.ingest(d, 100);
 * const qs = e.queries(100, 1, () => d.ts[rand(1000)]);
 * console.log(timeQueries(peer, "point", qs, Infinity, console.error).done); // 100
 * ```
 */
export function timeQueries(
  peer: Peer,
  op: QueryOp,
  qs: Queries,
  budgetMs: number,
  fail: Fail,
): { perS: number; done: number } {
  const acc = newAcc(), q = qs.t.length;
  let done = 0;
  const t0 = performance.now();
  while (done < q && performance.now() - t0 < budgetMs) {
    const to = Math.min(q, done + 100);
    peer[op](qs, done, to, acc);
    done = to;
  }
  const ms = performance.now() - t0;
  if (acc[0] !== sumOf(qs.n, done)) fail(`${op} found ${acc[0]} records, not ${sumOf(qs.n, done)}`);
  if (op !== "count" && acc[1] !== sumOf(qs.sum, done)) fail(`${op} value checksum`);
  return { perS: (done * 1000) / ms, done };
}

/**
 * Times a full ordered scan and checks it: count, value and timestamp sums, order.
 * Returns records per second.
 *
 * @example
 * ```ts
 * import { makePeer } from "./make.ts";
 * import { usersShape } from "./shapes.ts";
 * const d = usersShape(1000), peer = makePeer("array", "users");
 * peer.ingest(d, 100);
 * const want = { n: 1000, sum: d.valueSum, tsSum: d.tsSum };
 * console.log(timeScan(peer, d.t0, want, console.error) > 0); // true
 * ```
 */
export function timeScan(
  peer: Peer,
  t0: number,
  want: { n: number; sum: number; tsSum: number },
  fail: Fail,
): number {
  const acc = newAcc();
  const ms = msOf(() => peer.scan(acc, t0));
  if (acc[0] !== want.n) fail(`scan found ${acc[0]} records, not ${want.n}`);
  if (acc[1] !== want.sum) fail("scan value checksum");
  if (acc[2] !== want.tsSum) fail("scan timestamp checksum");
  if (acc[3] !== 0) fail(`scan returned ${acc[3]} records out of order`);
  return (want.n * 1000) / ms;
}
