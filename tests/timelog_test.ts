// Timelog: writes and reads through the whole stack (TS -> FFI adapter -> libtimelog).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog, TS_MAX, TS_MIN } from "../mod.ts";

test("Timelog.append() then range() returns [t1, t2) in timestamp order", () => {
  using log = new Timelog<string>({ maintenance: "manual" });
  log.append(30, "c");
  log.append(10, "a");
  log.append(20, "b");
  log.append(40, "d");
  assert.deepEqual([...log.range(10, 40)], [[10, "a"], [20, "b"], [30, "c"]]);
  assert.deepEqual([...log.range(40, 10)], []);
  assert.deepEqual([...log.range(20, 20)], []);
});

test("Timelog keeps duplicates at one timestamp in insertion order", () => {
  using log = new Timelog<string>({ maintenance: "manual", memtableRecords: 64, pageRecords: 64 });
  const want: string[] = [];
  for (let i = 0; i < 300; i++) {
    log.append(i % 3 === 0 ? 7 : 1000 - i, `v${i}`);
    if (i % 3 === 0) want.push(`v${i}`);
    if (i === 150) log.flush();
  }
  assert.deepEqual(log.at(7), want);
  log.compact();
  assert.deepEqual(log.at(7), want);
});

test("Timelog.appendMany() stores columns from arrays and typed arrays", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual" });
  log.appendMany([3, 1, 2], [0.3, 0.1, 0.2]);
  log.appendMany(new Float64Array([5, 4]), new Float64Array([0.5, 0.4]));
  log.appendMany(new BigInt64Array([6n]), [0.6]);
  log.appendMany([], []);
  assert.deepEqual([...log], [[1, 0.1], [2, 0.2], [3, 0.3], [4, 0.4], [5, 0.5], [6, 0.6]]);
});

test("Timelog.extend() appends [ts, value] pairs from any iterable", () => {
  using log = new Timelog<{ n: number }>();
  function* gen() {
    for (let i = 0; i < 5; i++) yield [i * 10, { n: i }] as const;
  }
  log.extend(gen());
  assert.equal(log.size, 5);
  assert.deepEqual(log.at(30), [{ n: 3 }]);
});

test("Timelog.since(), until() and all() cover unbounded ends", () => {
  using log = new Timelog<string, bigint>({ timestamps: "bigint" });
  log.append(TS_MIN, "min");
  log.append(0, "zero");
  log.append(TS_MAX, "max");
  assert.deepEqual([...log.since(0)], [[0n, "zero"], [TS_MAX, "max"]]);
  assert.deepEqual([...log.until(0)], [[TS_MIN, "min"]]);
  assert.equal([...log.all()].length, 3);
  assert.deepEqual([...log.since(TS_MAX)], [[TS_MAX, "max"]]);
  assert.equal(log.max(), TS_MAX);
  assert.equal(log.min(), TS_MIN);
});

test("Timelog.count(), size, min(), max(), next() and prev()", () => {
  using log = new Timelog<string>({ maintenance: "manual" });
  assert.equal(log.size, 0);
  assert.equal(log.min(), undefined);
  assert.equal(log.max(), undefined);
  for (const t of [5, 1, 9, 9, 3]) log.append(t, `t${t}`);
  assert.equal(log.size, 5);
  assert.equal(log.count(3), 4);
  assert.equal(log.count(3, 9), 2);
  assert.equal(log.count(9, 3), 0);
  assert.equal(log.min(), 1);
  assert.equal(log.max(), 9);
  assert.equal(log.next(5), 9);
  assert.equal(log.next(9), undefined);
  assert.equal(log.prev(5), 3);
  assert.equal(log.prev(1), undefined);
});

test("Timelog.delete() hides only records written before it", () => {
  using log = new Timelog<string>({ maintenance: "manual" });
  log.append(10, "A");
  log.delete(5, 15);
  log.append(10, "B");
  assert.deepEqual(log.at(10), ["B"]);
  log.flush();
  assert.deepEqual(log.at(10), ["B"]);
  log.compact();
  assert.deepEqual(log.at(10), ["B"]);
  log.validate();
});

test("Timelog.delete(ts) removes one timestamp, INT64_MAX included", () => {
  using log = new Timelog<string, bigint>({ timestamps: "bigint", maintenance: "manual" });
  log.append(TS_MAX, "max");
  log.append(TS_MAX - 1n, "below");
  log.delete(TS_MAX);
  assert.deepEqual([...log.all()], [[TS_MAX - 1n, "below"]]);
  log.compact();
  assert.deepEqual([...log.all()], [[TS_MAX - 1n, "below"]]);
});

test("Timelog.deleteBefore() is retention: everything before the cutoff goes", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual", memtableRecords: 1024 });
  const ts = Float64Array.from({ length: 10_000 }, (_, i) => i);
  log.appendMany(ts, ts);
  log.deleteBefore(7_500);
  assert.equal(log.size, 2_500);
  assert.equal(log.min(), 7_500);
  log.compact();
  assert.equal(log.stats().recordsStored, 2_500);
  assert.equal(log.min(), 7_500);
});

test("Timelog.rangeColumns() returns typed-array columns", () => {
  using log = new Timelog<number>({ values: "f64" });
  log.appendMany([1, 2, 3, 4], [10, 20, 30, 40]);
  const { ts, values } = log.rangeColumns(2, 4);
  assert.ok(ts instanceof Float64Array && values instanceof Float64Array);
  assert.deepEqual([...ts], [2, 3]);
  assert.deepEqual([...values], [20, 30]);
  using objs = new Timelog<string>();
  objs.extend([[1, "a"], [2, "b"]]);
  assert.deepEqual(objs.rangeColumns(0, 5).values, ["a", "b"]);
});

test("Timelog.append(value) stamps the current time in the log's unit", () => {
  using log = new Timelog<string>();
  const before = Date.now();
  log.append("now");
  const after = Date.now();
  const ts = log.min() as number;
  assert.ok(ts >= before && ts <= after, `${ts} not in [${before}, ${after}]`);
  using sec = new Timelog<string>({ timeUnit: "s" });
  sec.append("now");
  assert.ok(Math.abs((sec.min() as number) - Date.now() / 1000) < 5);
});

test("Timelog accepts Date timestamps in unit ms", () => {
  using log = new Timelog<string>();
  const d = new Date(1_700_000_000_000);
  log.append(d, "d");
  assert.deepEqual(log.at(d), ["d"]);
});

test("Timelog presets open logs with their documented modes", () => {
  using a = Timelog.forStreaming<string>();
  using b = Timelog.forBulkIngest<string>();
  using c = Timelog.forLowLatency<string>();
  assert.equal(a.options.maintenance, "background");
  assert.equal(b.options.maintenance, "manual");
  assert.equal(c.options.busyPolicy, "silent");
});

test("Timelog.stats() reports records, levels and held values", () => {
  using log = new Timelog<string>({ maintenance: "manual" });
  log.extend([[1, "a"], [2, "b"], [3, "c"]]);
  let s = log.stats();
  assert.equal(s.records, 3);
  assert.equal(s.heldValues, 3);
  log.compact();
  s = log.stats();
  assert.equal(s.records, 3);
  assert.equal(s.l0Segments, 0);
  assert.ok(s.l1Segments >= 1);
});

test("Timelog background maintenance keeps every record readable while ingesting", () => {
  using log = new Timelog<number>({ values: "f64", memtableRecords: 4096, l0Max: 2 });
  const n = 200_000;
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = i % 1000 === 999 ? i - 500 : i;
  for (let off = 0; off < n; off += 10_000) {
    log.appendMany(ts.subarray(off, off + 10_000), ts.subarray(off, off + 10_000));
    assert.equal(log.size, off + 10_000);
  }
  const { ts: got } = log.rangeColumns(0, n);
  assert.equal(got.length, n);
  for (let i = 1; i < n; i++) assert.ok(got[i - 1] <= got[i]);
  log.validate();
});

test("Timelog.rangeColumns() beyond one batch (4096) keeps columns aligned", () => {
  const n = 10_000;
  const ts = Float64Array.from({ length: n }, (_, i) => i);
  using f = new Timelog<number>({ values: "f64", maintenance: "manual" });
  f.appendMany(ts, Float64Array.from(ts, (t) => t * 2));
  using o = new Timelog<{ t: number }>({ maintenance: "manual" });
  o.appendMany(ts, Array.from(ts, (t) => ({ t })));
  const a = f.rangeColumns(100, 9_100);
  const b = o.rangeColumns(100, 9_100);
  assert.equal(a.ts.length, 9_000);
  assert.equal(b.values.length, 9_000);
  for (let i = 0; i < 9_000; i++) {
    assert.equal(a.ts[i], 100 + i);
    assert.equal(a.values[i], (100 + i) * 2);
    assert.equal((b.values[i] as { t: number }).t, b.ts[i]);
  }
});

test("range() around the one-batch boundary (read up front below 4096, streamed above) returns every record", () => {
  const n = 9_000;
  const ts = Float64Array.from({ length: n }, (_, i) => Math.floor(i / 2)); // pairs of duplicates
  using f = new Timelog<number>({ values: "f64", maintenance: "manual" });
  f.appendMany(ts, Float64Array.from(ts, (_, i) => i));
  using o = new Timelog<{ i: number }>({ maintenance: "manual" });
  o.appendMany(ts, Array.from(ts, (_, i) => ({ i })));
  f.flush();
  for (const records of [0, 1, 4094, 4095, 4096, 4097, 8192, 8193, n]) {
    const end = Math.ceil(records / 2); // [0, end) holds 2 * end records
    const want = Math.min(2 * end, n);
    for (const reader of [f, f.snapshot(), o, o.snapshot()]) {
      const got: number[] = [];
      for (const [t, v] of reader.range(0, end)) {
        got.push(typeof v === "number" ? v : v.i);
        assert.equal(t, Math.floor(got[got.length - 1] / 2));
      }
      assert.equal(got.length, want, `range(0, ${end}) length`);
      for (let i = 0; i < got.length; i++) assert.equal(got[i], i);
      if (reader !== f && reader !== o) (reader as { close(): void }).close();
    }
  }
});

test("a range read up front still belongs to its snapshot: closing the snapshot ends it", () => {
  using log = new Timelog<string>();
  log.extend([[1, "a"], [2, "b"], [3, "c"]]);
  const snap = log.snapshot();
  const it = snap.range(0, 10);
  assert.deepEqual(it.next().value, [1, "a"]);
  snap.close();
  assert.throws(() => it.next(), /closed/i);
});

test("short f64 ranges: each nextBatch() holds its own read's records, for every count", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual" });
  const ts = Float64Array.from({ length: 10_000 }, (_, i) => i);
  log.appendMany(ts, ts.map((t) => t / 2));
  log.compact();
  // Counts 1..300 twice: past the views kept per batch (iter.ts), and each count again.
  for (let round = 0; round < 2; round++) {
    for (let w = 1; w <= 300; w++) {
      const start = (w * 37 + round * 1000) % 9000;
      const it = log.range(start, start + w);
      const b = it.nextBatch();
      assert.ok(b);
      assert.equal(b.ts.length, w);
      assert.equal(b.values.length, w);
      assert.equal(b.ts[0], start);
      assert.equal(b.ts[w - 1], start + w - 1);
      assert.equal(b.values[w - 1], (start + w - 1) / 2);
      assert.equal(it.nextBatch(), undefined);
    }
  }
  // Two open ranges of one count read into separate buffers: neither sees the other's records.
  const a = log.range(0, 10), c = log.range(500, 510);
  const ba = a.nextBatch(), bc = c.nextBatch();
  assert.ok(ba && bc);
  assert.deepEqual([...ba.ts], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...bc.values], [250, 250.5, 251, 251.5, 252, 252.5, 253, 253.5, 254, 254.5]);
  a.close(), c.close();
  // After next(), nextBatch() returns the rest of the batch.
  const it = log.range(20, 30);
  assert.deepEqual(it.next().value, [20, 10]);
  const rest = it.nextBatch();
  assert.ok(rest);
  assert.deepEqual([...rest.ts], [21, 22, 23, 24, 25, 26, 27, 28, 29]);
  assert.equal(it.nextBatch(), undefined);
});
