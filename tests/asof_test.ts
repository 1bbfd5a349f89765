// As-of lookups: asOf(ts) and asOfMany(column) against a plain reference (the last record
// written at the largest timestamp <= the query), across sources, deletes, snapshots, object
// values, bigint timestamps, out-of-range queries and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog, TS_MAX, TS_MIN } from "../mod.ts";

/** The reference: index of the as-of record in insertion order, or -1. */
function asOf(recs: Array<[number, number]>, q: number): number {
  let best = -1;
  recs.forEach(([t], i) => {
    if (t <= q && (best < 0 || t >= recs[best][0])) best = i;
  });
  return best;
}

test("asOf and asOfMany match the reference across sources and deletes", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual", pageRecords: 64 });
  let recs: Array<[number, number]> = [];
  for (let i = 0; i < 3000; i++) {
    const t = ((i * 104729) % 5000) - 100;
    log.append(t, i);
    recs.push([t, i]);
    if (i === 1000) log.compact();
    if (i === 2000) log.flush();
    if (i % 700 === 699) {
      log.delete(t, t + 40);
      recs = recs.filter(([x]) => x < t || x >= t + 40);
    }
  }
  const queries = Array.from({ length: 2000 }, (_, i) => ((i * 7907) % 5400) - 200);
  const many = log.asOfMany(queries);
  queries.forEach((q, i) => {
    const w = asOf(recs, q);
    assert.equal(many.found[i], w < 0 ? 0 : 1);
    if (w < 0) {
      assert.ok(Number.isNaN(many.ts[i]) && Number.isNaN(many.values[i]));
      assert.equal(log.asOf(q), undefined);
    } else {
      assert.deepEqual([many.ts[i], many.values[i]], recs[w]);
      assert.deepEqual(log.asOf(q), recs[w]);
    }
  });
  const sortedQ = Float64Array.from(queries).sort();
  const again = log.asOfMany(sortedQ);
  sortedQ.forEach((q, i) => assert.equal(again.found[i], asOf(recs, q) < 0 ? 0 : 1));
});

test("asOfMany of a long column (two engine threads) matches asOf, values and handles", () => {
  // 30,000 queries: past the column length the engine walks with two threads.
  using log = new Timelog<number>({ values: "f64", maintenance: "manual", pageRecords: 256 });
  using objs = new Timelog<{ i: number }>({ maintenance: "manual", pageRecords: 256 });
  for (let i = 0; i < 20_000; i++) {
    const t = ((i * 7919) % 25_000) - 50; // late records and gaps
    log.append(t, i);
    objs.append(t, { i });
  }
  log.delete(1000, 1500);
  log.compact();
  objs.compact();
  const queries = Array.from({ length: 30_000 }, (_, i) => ((i * 104729) % 26_000) - 100);
  for (const q of [queries, Float64Array.from(queries).sort()]) {
    const many = log.asOfMany(q);
    const mo = objs.asOfMany(q);
    for (let i = 0; i < q.length; i++) {
      const one = log.asOf(q[i]);
      assert.equal(many.found[i], one === undefined ? 0 : 1);
      if (one === undefined) assert.ok(Number.isNaN(many.ts[i]) && Number.isNaN(many.values[i]));
      else assert.deepEqual([many.ts[i], many.values[i]], one);
      const oo = objs.asOf(q[i]);
      assert.deepEqual(mo.values[i], oo?.[1]);
    }
  }
});

test("asOf sees the newest duplicate, snapshots stay frozen, bounds past the line clamp", () => {
  using log = new Timelog<string>({ maintenance: "manual" });
  log.extend([[10, "a"], [20, "b"]]);
  log.flush();
  log.append(20, "c");
  using snap = log.snapshot();
  log.append(20, "d");
  assert.deepEqual(log.asOf(25), [20, "d"]);
  assert.deepEqual(snap.asOf(25), [20, "c"]);
  assert.deepEqual(log.asOf(Infinity), [20, "d"]);
  assert.deepEqual(log.asOf(TS_MAX), [20, "d"]);
  assert.equal(log.asOf(-Infinity), undefined);
  assert.equal(log.asOf(9), undefined);
  const m = snap.asOfMany([19, 5, 1e300]);
  assert.deepEqual(m.values, ["a", undefined, "c"]);
  assert.deepEqual([...m.found], [1, 0, 1]);
  log.delete(15, 30);
  assert.deepEqual(log.asOf(100), [10, "a"]);
});

test("bigint logs answer as-of at the int64 ends", () => {
  using log = new Timelog<number, bigint>({ values: "f64", timestamps: "bigint" });
  log.extend([[TS_MIN, 1], [0n, 2], [TS_MAX, 3]]);
  const m = log.asOfMany([TS_MIN, -1n, TS_MAX - 1n, TS_MAX, TS_MAX + 10n, -Infinity]);
  assert.deepEqual([...m.ts], [TS_MIN, TS_MIN, 0n, TS_MAX, TS_MAX, 0n]);
  assert.deepEqual([...m.values], [1, 1, 2, 3, 3, NaN]);
  assert.deepEqual(log.asOf(5n), [0n, 2]);
});

test("asOfMany refuses bad queries and names them", () => {
  using log = new Timelog<number>({ values: "f64" });
  log.append(1, 1);
  assert.throws(() => log.asOfMany(new Float64Array([1, NaN])), /ts\[1\]/);
  assert.throws(() => log.asOfMany([1, 2.5]), TypeError);
  assert.throws(() => log.asOfMany(["x" as unknown as number]), TypeError);
  assert.deepEqual(log.asOfMany([]).found.length, 0);
  log.close();
  assert.throws(() => log.asOf(1), /closed/);
});
