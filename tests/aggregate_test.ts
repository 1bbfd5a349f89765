// Bucketed aggregates against a plain JavaScript reference (a loop over the records in read
// order): every op, random grids and ranges, records across memtable, L0 and packed L1 (with
// summaries), deletes, snapshots, NaN / ±Infinity / -0, bigint timestamps, count-only logs,
// and bad options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type AggregateColumns, type AggregateOp, Timelog, TS_MAX } from "../mod.ts";
import { aggregateRef, sameSum } from "./support/aggregate.ts";

const ALL: AggregateOp[] = ["count", "sum", "min", "max", "mean", "first", "last"];

function check(
  got: AggregateColumns,
  recs: Array<[number, number]>,
  t1: number,
  t2: number,
  every: number,
  origin: number,
  ops: AggregateOp[],
): void {
  const want = aggregateRef(recs, t1, t2, every, origin);
  assert.deepEqual([...got.start], want.start, "bucket starts");
  for (const op of ops) {
    const col = got[op] as Float64Array;
    assert.equal(col.length, want.start.length);
    want[op].forEach((w, k) => {
      const ok = op === "sum" || op === "mean"
        ? sameSum(col[k], w, want.abs[k])
        : Object.is(col[k], w);
      assert.ok(ok, `${op}[${k}] = ${col[k]}, want ${w}`);
    });
  }
}

test("aggregate matches a JavaScript loop over random data, grids and sources", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual", pageRecords: 64 });
  let recs: Array<[number, number]> = [];
  const special = [NaN, Infinity, -Infinity, -0, 0, 0.1, 1e300];
  for (let i = 0; i < 5000; i++) {
    const t = (i * 7919) % 9000;
    const v = i % 97 === 0 ? special[(i / 97) % special.length] : ((i * 31) % 2001) - 1000;
    log.append(t, v);
    recs.push([t, v]);
    if (i === 2500) log.compact();
    if (i === 4000) log.flush();
    if (i === 3000) {
      log.delete(4000, 4100);
      recs = recs.filter(([x]) => x < 4000 || x >= 4100);
    }
  }
  using snap = log.snapshot();
  const sorted = [...recs].sort((a, b) => a[0] - b[0]);
  for (
    const [t1, t2, every, origin] of [
      [-Infinity, Infinity, 100, 0],
      [-Infinity, Infinity, 1_000_000, 0],
      [123, 4567, 7, 3],
      [0, 9000, 1, 0],
      [8000, 8001, 60, -13],
      [500, 400, 10, 0],
    ]
  ) {
    check(log.aggregate(t1, t2, { every, origin, ops: ALL }), sorted, t1, t2, every, origin, ALL);
    check(snap.aggregate(t1, t2, { every, origin, ops: ALL }), sorted, t1, t2, every, origin, ALL);
  }
  log.append(4050, 5); // the log sees it; the snapshot does not
  const inside = recs.filter(([t]) => t >= 4000 && t < 4100).length;
  const after = log.aggregate(4000, 4100, { every: 100, ops: ALL });
  const later = [...sorted, [4050, 5] as [number, number]].sort((a, b) => a[0] - b[0]);
  check(after, later, 4000, 4100, 100, 0, ALL);
  assert.deepEqual([...after.count!], [inside + 1]);
  assert.deepEqual([...snap.aggregate(4000, 4100, { every: 100 }).count!], [inside]);
});

test("NaN, infinities and -0 follow the stated rules", () => {
  using log = new Timelog<number>({ values: "f64" });
  log.appendMany([0, 1, 2, 10, 11, 20, 21, 30, 31], [1, NaN, 3, Infinity, -Infinity, -0, 0, 0, -0]);
  const r = log.aggregate(0, 40, { every: 10, ops: ALL });
  assert.deepEqual([...r.count!], [3, 2, 2, 2]);
  assert.ok(Number.isNaN(r.sum![0]) && Number.isNaN(r.min![0]) && Number.isNaN(r.mean![0]));
  assert.deepEqual([r.first![0], r.last![0]], [1, 3]);
  assert.ok(Number.isNaN(r.sum![1]));
  assert.deepEqual([r.min![1], r.max![1]], [-Infinity, Infinity]);
  assert.ok(Object.is(r.min![2], -0) && Object.is(r.max![2], 0));
  assert.ok(Object.is(r.min![3], -0) && Object.is(r.max![3], 0) && Object.is(r.last![3], -0));
});

test("empty buckets, bigint logs, count-only logs and bad options", () => {
  using log = new Timelog<number>({ values: "f64" });
  assert.deepEqual(log.aggregate(-Infinity, Infinity, { every: 5 }).start.length, 0);
  log.appendMany([0, 50], [1, 2]);
  const r = log.aggregate(-Infinity, Infinity, { every: 10, ops: ["count", "sum", "max"] });
  assert.deepEqual([...r.count!], [1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...r.sum!], [1, 0, 0, 0, 0, 2]);
  assert.ok(Number.isNaN(r.max![1]));
  assert.equal(r.min, undefined);
  using big = new Timelog<number, bigint>({ values: "f64", timestamps: "bigint" });
  big.extend([[TS_MAX - 1n, 1], [TS_MAX, 2]]);
  const b = big.aggregate(-Infinity, Infinity, { every: 2n, ops: ["sum"] });
  assert.deepEqual([...b.start], [TS_MAX - 1n]);
  assert.deepEqual([...b.sum!], [3]);
  using objs = new Timelog<string>();
  objs.extend([[1, "a"], [2, "b"], [12, "c"]]);
  assert.deepEqual([...objs.aggregate(0, 20, { every: 10 }).count!], [2, 1]);
  assert.throws(() => objs.aggregate(0, 20, { every: 10, ops: ["sum"] }), /f64 log/);
  assert.throws(() => log.aggregate(0, 20, { every: 0 }), RangeError);
  assert.throws(() => log.aggregate(0, 20, { every: 1.5 }), RangeError);
  assert.throws(
    () => log.aggregate(0, 20, { every: 1, ops: ["median" as AggregateOp] }),
    TypeError,
  );
  assert.throws(() => log.aggregate(0, 20, { every: 1, ops: [] }), TypeError);
  assert.throws(() => log.aggregate(0, 20, null as unknown as { every: number }), TypeError);
});
