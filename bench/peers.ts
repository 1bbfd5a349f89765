/**
 * Timelog beside what a user would pick instead, on the same data (generate(N, 0.05) from
 * bench/workload.ts), in the runtime running it:
 *
 * - `timelog`: `{ values: "f64" }`; `appendMany` of 4096-record columns then `flush()`
 *   (background maintenance on); `compact()` untimed before the reads (its time is printed);
 *   reads: `all()` / `range()` + `nextBatch()` (faster than `rangeColumns()`, which counts
 *   first and allocates), `at()`, `count()`; retention `deleteBefore()`.
 * - `sorted-array`: two growable Float64Arrays kept sorted on ingest: an in-order record is
 *   appended, a late one inserted after its equals by binary search + `copyWithin` (cheap here,
 *   where records are at most 1024 late; O(n) per record for very late data).
 * - `sorted-btree`: sorted-btree 2.1.0, `BTree<number, number[]>` with `(a, b) => a - b`:
 *   key = timestamp, value = that timestamp's values in insertion order (a multimap).
 * - `sqlite`: in-memory SQLite (bench/peers_sqlite.ts: `bun:sqlite` / `node:sqlite`), table
 *   `(ts INTEGER, v REAL)` with an index on ts created first; one transaction per 4096-record
 *   batch through a prepared INSERT; prepared SELECTs whose rows (as arrays) are summed in JS;
 *   `SELECT count(*)`; `DELETE ... WHERE ts < ?`.
 *
 * Workloads, each run untimed 5 times on a 100K-record set first, medians of K runs: ingest;
 * ordered full scan with checksum; 10,000 ranges [t1, t1+100) summing values; 10,000 point
 * lookups of existing timestamps; count over 10,000 random [t1, t1 + N/10) (a structure that
 * must visit the records stops after COUNT_BUDGET_MS: the mean of the queries it did); retention:
 * delete everything before the median timestamp (timed), then check the remaining count. Every
 * answer is checked by count and checksum against prefix sums of the generator's columns.
 *
 *   deno run --allow-ffi --allow-env --allow-read bench/peers.ts [--records N] [--runs K] [--json]
 *   bun bench/peers.ts [--records N] [--runs K] [--json]
 *
 * @module
 */
import * as btreeModule from "sorted-btree";
import { Timelog } from "../mod.ts";
import { openMemory, rowsOf } from "./peers_sqlite.ts";
import { type Data, generate, median } from "./workload.ts";

const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
function arg(name: string, fallback: number): number {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}
const N = arg("--records", 1_000_000);
const RUNS = arg("--runs", 5);
const BATCH = 4096;
const Q = 10_000;
const COUNT_BUDGET_MS = 1500;
const runtime = "Deno" in globalThis ? "deno" : "bun";

/** The part of sorted-btree's BTree<number, number[]> used here. */
interface Tree {
  get(k: number): number[] | undefined;
  set(k: number, v: number[]): boolean;
  forEach(cb: (v: number[], k: number) => void): number;
  forRange(lo: number, hi: number, incHi: boolean, cb: (k: number, v: number[]) => void): number;
  deleteRange(lo: number, hi: number, incHi: boolean): number;
  minKey(): number | undefined;
}
type TreeCtor = new (entries: undefined, compare: (a: number, b: number) => number) => Tree;
// The class is `default` in Bun and `default.default` in Deno (which hands `module.exports` to
// a CommonJS default import), and the two type checkers disagree the same way.
let found: unknown = btreeModule;
while (typeof found !== "function") found = (found as { default: unknown }).default;
const BTree = found as TreeCtor;

/** A query set: start times, width, and per query the expected records and value sum. */
interface Queries {
  t: Float64Array;
  w: number;
  n: Float64Array;
  sum: Float64Array;
}
/** acc[0] += records, acc[1] += value sum (scan: acc[2] += ts sum, acc[3] += disorder). */
interface Structure {
  ingest(d: Data): void;
  scan(acc: Float64Array): void;
  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void;
  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void;
  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void;
  retain(cutoff: number): void;
  size(): number;
  close(): void;
}

/** A bulk reader's per-batch consumer: acc += [records, value sum, ts sum, disorder; last ts]. */
function sumBatch(ts: Float64Array, vs: Float64Array, acc: Float64Array): void {
  let v = acc[1], t = acc[2], bad = acc[3], prev = acc[4];
  for (let i = 0; i < ts.length; i++) {
    if (ts[i] < prev) bad++;
    prev = ts[i];
    t += ts[i];
    v += vs[i];
  }
  acc[0] += ts.length, acc[1] = v, acc[2] = t, acc[3] = bad, acc[4] = prev;
}

class TimelogPeer implements Structure {
  log = new Timelog<number>({ values: "f64" });
  ingest(d: Data): void {
    for (let off = 0; off < d.ts.length; off += BATCH) {
      this.log.appendMany(d.ts.subarray(off, off + BATCH), d.values.subarray(off, off + BATCH));
    }
    this.log.flush();
  }
  scan(acc: Float64Array): void {
    using it = this.log.all();
    for (let b = it.nextBatch(); b; b = it.nextBatch()) {
      sumBatch(b.ts, b.values as Float64Array, acc);
    }
  }
  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) {
      // Read to the end, which closes the iterator: `using` would add 0.3-0.5 µs a query in
      // Deno 2.9 (its disposal protocol), more than the engine's read.
      const it = this.log.range(qs.t[i], qs.t[i] + qs.w);
      for (let b = it.nextBatch(); b; b = it.nextBatch()) {
        sumBatch(b.ts, b.values as Float64Array, acc);
      }
    }
  }
  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) {
      const vs = this.log.at(qs.t[i]);
      for (let j = 0; j < vs.length; j++) acc[1] += vs[j];
      acc[0] += vs.length;
    }
  }
  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) acc[0] += this.log.count(qs.t[i], qs.t[i] + qs.w);
  }
  retain(cutoff: number): void {
    this.log.deleteBefore(cutoff);
  }
  size(): number {
    return this.log.count();
  }
  close(): void {
    this.log.close();
  }
}

class SortedArrayPeer implements Structure {
  ts = new Float64Array(1024);
  vs = new Float64Array(1024);
  n = 0;
  /** The first index whose timestamp is >= t (strict: > t). */
  bound(t: number, strict = false): number {
    const a = this.ts;
    let lo = 0, hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < t || (strict && a[mid] === t)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  ingest(d: Data): void {
    for (let off = 0; off < d.ts.length; off += BATCH) this.insert(d.ts, d.values, off, BATCH);
  }
  insert(ts: Float64Array, vs: Float64Array, off: number, len: number): void {
    const end = Math.min(ts.length, off + len);
    if (this.n + end - off > this.ts.length) {
      const cap = Math.max(2 * this.ts.length, this.n + end - off);
      const t2 = new Float64Array(cap), v2 = new Float64Array(cap);
      t2.set(this.ts.subarray(0, this.n)), v2.set(this.vs.subarray(0, this.n));
      this.ts = t2, this.vs = v2;
    }
    const T = this.ts, V = this.vs;
    for (let i = off, n = this.n; i < end; i++, this.n = ++n) {
      if (n === 0 || ts[i] >= T[n - 1]) {
        T[n] = ts[i], V[n] = vs[i];
      } else {
        const p = this.bound(ts[i], true); // after its equals: duplicates keep insertion order
        T.copyWithin(p + 1, p, n), V.copyWithin(p + 1, p, n);
        T[p] = ts[i], V[p] = vs[i];
      }
    }
  }
  scan(acc: Float64Array): void {
    const T = this.ts, V = this.vs, n = this.n;
    let t = 0, v = 0, bad = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0 && T[i] < T[i - 1]) bad++;
      t += T[i];
      v += V[i];
    }
    acc[0] += n, acc[1] += v, acc[2] += t, acc[3] += bad;
  }
  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const T = this.ts, V = this.vs, n = this.n;
    for (let i = lo; i < hi; i++) {
      const end = qs.t[i] + qs.w;
      let j = this.bound(qs.t[i]), s = 0, c = 0;
      for (; j < n && T[j] < end; j++, c++) s += V[j];
      acc[0] += c, acc[1] += s;
    }
  }
  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const T = this.ts, V = this.vs, n = this.n;
    for (let i = lo; i < hi; i++) {
      for (let j = this.bound(qs.t[i]); j < n && T[j] === qs.t[i]; j++) acc[0]++, acc[1] += V[j];
    }
  }
  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) acc[0] += this.bound(qs.t[i] + qs.w) - this.bound(qs.t[i]);
  }
  retain(cutoff: number): void {
    const p = this.bound(cutoff);
    this.ts.copyWithin(0, p, this.n), this.vs.copyWithin(0, p, this.n);
    this.n -= p;
  }
  size(): number {
    return this.n;
  }
  close(): void {}
}

class BTreePeer implements Structure {
  tree = new BTree(undefined, (a, b) => a - b);
  ingest(d: Data): void {
    const tree = this.tree, ts = d.ts, vs = d.values;
    for (let i = 0; i < ts.length; i++) {
      const arr = tree.get(ts[i]);
      if (arr) arr.push(vs[i]);
      else tree.set(ts[i], [vs[i]]);
    }
  }
  scan(acc: Float64Array): void {
    let n = 0, t = 0, v = 0, bad = 0, prev = -Infinity;
    this.tree.forEach((arr, k) => {
      if (k < prev) bad++;
      prev = k;
      for (let j = 0; j < arr.length; j++) v += arr[j];
      n += arr.length, t += k * arr.length;
    });
    acc[0] += n, acc[1] += v, acc[2] += t, acc[3] += bad;
  }
  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const visit = (_k: number, arr: number[]): void => {
      for (let j = 0; j < arr.length; j++) acc[1] += arr[j];
      acc[0] += arr.length;
    };
    for (let i = lo; i < hi; i++) this.tree.forRange(qs.t[i], qs.t[i] + qs.w, false, visit);
  }
  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) {
      const arr = this.tree.get(qs.t[i]) ?? [];
      for (let j = 0; j < arr.length; j++) acc[1] += arr[j];
      acc[0] += arr.length;
    }
  }
  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    let c = 0;
    const visit = (_k: number, arr: number[]): void => void (c += arr.length);
    for (let i = lo; i < hi; i++) this.tree.forRange(qs.t[i], qs.t[i] + qs.w, false, visit);
    acc[0] += c;
  }
  retain(cutoff: number): void {
    const min = this.tree.minKey();
    if (min !== undefined) this.tree.deleteRange(min, cutoff, false);
  }
  size(): number {
    let n = 0;
    this.tree.forEach((arr) => void (n += arr.length));
    return n;
  }
  close(): void {}
}

class SqlitePeer implements Structure {
  db = openMemory();
  constructor() {
    this.db.exec("CREATE TABLE t (ts INTEGER, v REAL); CREATE INDEX t_ts ON t (ts)");
  }
  ingest(d: Data): void {
    const ins = this.db.prepare("INSERT INTO t (ts, v) VALUES (?, ?)");
    for (let off = 0; off < d.ts.length; off += BATCH) {
      this.db.exec("BEGIN");
      for (let i = off; i < Math.min(d.ts.length, off + BATCH); i++) ins.run(d.ts[i], d.values[i]);
      this.db.exec("COMMIT");
    }
  }
  scan(acc: Float64Array): void {
    const rows = rowsOf(this.db, "SELECT ts, v FROM t ORDER BY ts")();
    let t = 0, v = 0, bad = 0;
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && rows[i][0] < rows[i - 1][0]) bad++;
      t += rows[i][0];
      v += rows[i][1];
    }
    acc[0] += rows.length, acc[1] += v, acc[2] += t, acc[3] += bad;
  }
  #sum(rows: number[][], acc: Float64Array): void {
    for (let j = 0; j < rows.length; j++) acc[1] += rows[j][0];
    acc[0] += rows.length;
  }
  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const query = rowsOf(this.db, "SELECT v FROM t WHERE ts >= ? AND ts < ?");
    for (let i = lo; i < hi; i++) this.#sum(query(qs.t[i], qs.t[i] + qs.w), acc);
  }
  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const query = rowsOf(this.db, "SELECT v FROM t WHERE ts = ?");
    for (let i = lo; i < hi; i++) this.#sum(query(qs.t[i]), acc);
  }
  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const query = rowsOf(this.db, "SELECT count(*) FROM t WHERE ts >= ? AND ts < ?");
    for (let i = lo; i < hi; i++) acc[0] += query(qs.t[i], qs.t[i] + qs.w)[0][0];
  }
  retain(cutoff: number): void {
    this.db.prepare("DELETE FROM t WHERE ts < ?").run(cutoff);
  }
  size(): number {
    return rowsOf(this.db, "SELECT count(*) FROM t")()[0][0];
  }
  close(): void {
    this.db.close();
  }
}

const NAMES = ["timelog", "sorted-array", "sorted-btree", "sqlite"] as const;
type Name = (typeof NAMES)[number];
const make: Record<Name, () => Structure> = {
  "timelog": () => new TimelogPeer(),
  "sorted-array": () => new SortedArrayPeer(),
  "sorted-btree": () => new BTreePeer(),
  "sqlite": () => new SqlitePeer(),
};

/** The data, the query sets with their expected answers, the retention cutoff. */
function workload(n: number) {
  const d = generate(n, 0.05);
  const maxTs = d.ts.reduce((a, b) => Math.max(a, b), 0);
  // cnt[t], sum[t]: records and value sum with timestamp < t (timestamps are integers >= 1).
  const cnt = new Float64Array(maxTs + 2), sum = new Float64Array(maxTs + 2);
  for (let i = 0; i < n; i++) cnt[d.ts[i] + 1]++, sum[d.ts[i] + 1] += d.values[i];
  for (let t = 1; t < cnt.length; t++) cnt[t] += cnt[t - 1], sum[t] += sum[t - 1];
  const at = (a: Float64Array, t: number) => a[Math.min(t, maxTs + 1)];
  let s = 0x9e3779b9;
  const rand = (m: number): number => {
    s ^= s << 13, s ^= s >>> 17, s ^= s << 5;
    return (s >>> 0) % Math.max(1, m);
  };
  const queries = (w: number, start: () => number): Queries => {
    const qs = { t: new Float64Array(Q), w, n: new Float64Array(Q), sum: new Float64Array(Q) };
    for (let i = 0; i < Q; i++) {
      const t = (qs.t[i] = start());
      qs.n[i] = at(cnt, t + w) - at(cnt, t);
      qs.sum[i] = at(sum, t + w) - at(sum, t);
    }
    return qs;
  };
  const width = Math.max(1, Math.floor(n / 10));
  let cutoff = 1;
  while (cnt[cutoff + 1] < n / 2) cutoff++; // the median timestamp
  return {
    d,
    range: queries(100, () => 1 + rand(maxTs - 100)),
    point: queries(1, () => d.ts[rand(n)]),
    count: queries(width, () => 1 + rand(maxTs - width)),
    cutoff,
    remaining: n - cnt[cutoff],
  };
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}
const total = (a: Float64Array, k: number): number => a.subarray(0, k).reduce((x, y) => x + y, 0);

const LABELS = {
  ingest_mrec_s: "ingest (Mrec/s)",
  scan_mrec_s: "ordered scan (Mrec/s)",
  range100_us: "range [t,t+100) (µs/q)",
  point_us: "point lookup (µs/q)",
  count_us: "count, width N/10 (µs/q)",
  retention_ms: "retention (ms)",
};
type Key = keyof typeof LABELS;
const KEYS = Object.keys(LABELS) as Key[];
type Figures = Record<Key | "countDone" | "compactMs" | "retCompactMs", number>;
type Workload = ReturnType<typeof workload>;
const failures: string[] = [];

function once(name: Name, w: Workload, countBudgetMs = COUNT_BUDGET_MS): Figures {
  const n = w.d.ts.length;
  const check = (what: string, ok: boolean) => {
    if (!ok) failures.push(`${name} (${n} records): ${what}`);
  };
  const s = make[name]();
  const f = {} as Figures;
  /** Queries [0, Q) in chunks of 100 until done or past the budget, verified; µs per query. */
  const run = (what: Key, qs: Queries, op: Structure["range"], budgetMs = Infinity): number => {
    const acc = new Float64Array(5);
    let done = 0;
    const t0 = performance.now();
    for (; done < Q && performance.now() - t0 < budgetMs; done = Math.min(Q, done + 100)) {
      op.call(s, qs, done, Math.min(Q, done + 100), acc);
    }
    const us = ((performance.now() - t0) * 1000) / done;
    check(`${what} count`, acc[0] === total(qs.n, done));
    if (what !== "count_us") check(`${what} checksum`, acc[1] === total(qs.sum, done));
    if (what === "count_us") f.countDone = done;
    return us;
  };
  try {
    f.ingest_mrec_s = n / time(() => s.ingest(w.d)) / 1000;
    f.compactMs = s instanceof TimelogPeer ? time(() => s.log.compact()) : 0;
    check("ingest count", s.size() === n);
    const sc = new Float64Array(5);
    f.scan_mrec_s = n / time(() => s.scan(sc)) / 1000;
    check("scan", sc[0] === n && sc[1] === w.d.valueSum && sc[2] === w.d.tsSum && sc[3] === 0);
    f.range100_us = run("range100_us", w.range, s.range);
    f.point_us = run("point_us", w.point, s.point);
    f.count_us = run("count_us", w.count, s.count, countBudgetMs);
    f.retention_ms = time(() => s.retain(w.cutoff));
    check("remaining count after retention", s.size() === w.remaining);
    f.retCompactMs = s instanceof TimelogPeer ? time(() => s.log.compact()) : 0;
    check("remaining count after compaction", s.size() === w.remaining);
    return f;
  } finally {
    s.close();
  }
}

const warm = workload(Math.min(100_000, N)); // 5 rounds: the JIT's top tier needs a few calls
for (let r = 0; r < 5; r++) for (const name of NAMES) once(name, warm, 100);
const w = workload(N);
const runs = Object.fromEntries(NAMES.map((x) => [x, [] as Figures[]])) as Record<Name, Figures[]>;
for (let r = 0; r < RUNS; r++) for (const name of NAMES) runs[name].push(once(name, w));

const med = (name: Name, k: keyof Figures) => +median(runs[name].map((f) => f[k])).toPrecision(4);
const results = Object.fromEntries(
  NAMES.map((x) => [x, Object.fromEntries(KEYS.map((k) => [k, med(x, k)]))]),
) as Record<Name, Record<Key, number>>;
const countQueries = Object.fromEntries(NAMES.map((x) => [x, med(x, "countDone")]));
const compactMs = med("timelog", "compactMs"), retCompactMs = med("timelog", "retCompactMs");
const verified = failures.length === 0;

const version = (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno ??
  (globalThis as unknown as { Bun: { version: string } }).Bun.version;
console.log(`${runtime} ${version}: ${N} records, median of ${RUNS} runs after warm-up`);
const row = (label: string, cells: (string | number)[]) =>
  console.log(label.padEnd(26) + cells.map((c) => String(c).padStart(15)).join(""));
row("workload", [...NAMES, "Timelog ×"]);
for (const k of KEYS) {
  const higher = k.endsWith("mrec_s");
  const peers = NAMES.slice(1).map((x) => results[x][k]);
  const best = higher ? Math.max(...peers) : Math.min(...peers);
  const ratio = higher ? results.timelog[k] / best : best / results.timelog[k];
  row(LABELS[k], [...NAMES.map((x) => results[x][k]), ratio.toFixed(2)]);
  if (k === "count_us") row("  (queries done)", NAMES.map((x) => countQueries[x]));
}
console.log(`Timelog × = Timelog vs the best peer (>1: Timelog faster). Count: as many of the
${Q} queries as fit in ${COUNT_BUDGET_MS} ms. deleteBefore() only writes a tombstone; Timelog's
compact(), untimed: ${compactMs} ms after ingest, ${retCompactMs} ms after retention.`);
for (const x of NAMES) {
  const ok = !failures.some((f) => f.startsWith(`${x} `));
  console.log(`  ${x.padEnd(13)} ${ok ? "VERIFIED" : "FAILED"}`);
}
for (const f of failures) console.error(`FAILED verification: ${f}`);
const json = { runtime, records: N, runs: RUNS, results, verified, count_queries: countQueries };
const extra = { timelog_compact_ms: compactMs, timelog_retention_compact_ms: retCompactMs };
if (argv.includes("--json")) console.log(JSON.stringify({ ...json, ...extra }));
if (!verified) {
  (globalThis as { Deno?: { exit(c: number): never } }).Deno?.exit(1);
  (globalThis as unknown as { process: { exit(c: number): never } }).process.exit(1);
}
