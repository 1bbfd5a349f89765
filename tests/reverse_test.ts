// Newest-first reads and limits: range/since/until/all/rangeColumns with { reverse, limit } on
// logs and snapshots, checked against a plain reference (sorted records, reversed, sliced);
// ties come out in reverse insertion order across memtable, L0 and packed L1 sources; the
// iterator forms (for…of, nextBatch, close/using) behave as forward ones; bad options throw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog, TS_MAX, TS_MIN } from "../mod.ts";

/** Records in insertion order across flush, compaction and the memtable (ties everywhere). */
function build(log: Timelog<number>, n: number): Array<[number, number]> {
  const recs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const t = (i * 7919) % 300; // late and duplicated timestamps
    log.append(t, i);
    recs.push([t, i]);
    if (i === n / 3) log.compact();
    if (i === (2 * n) / 3) log.flush();
  }
  return recs;
}

/** The reference: sorted by ts, ties in insertion order (Array#sort is stable). */
function sorted(recs: Array<[number, number]>): Array<[number, number]> {
  return [...recs].sort((a, b) => a[0] - b[0]);
}

test("range/since/until/all with { reverse, limit } match the reversed reference", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual", pageRecords: 64 });
  const want = sorted(build(log, 6000));
  using snap = log.snapshot();
  log.append(150, -1); // after the snapshot: the log sees it, the snapshot does not
  const live = sorted([...want, [150, -1]]);
  for (const [reader, ref] of [[log, live], [snap, want]] as const) {
    for (const [a, b] of [[0, 300], [10, 11], [150, 151], [42, 260], [300, 400], [-5, 0]]) {
      const inRange = ref.filter(([t]) => t >= a && t < b).reverse();
      for (const limit of [undefined, 0, 1, 7, 100, 5000, 10_000]) {
        const got = [...reader.range(a, b, { reverse: true, limit })];
        assert.deepEqual(got, inRange.slice(0, limit ?? Infinity), `[${a}, ${b}) limit ${limit}`);
        const fwd = [...reader.range(a, b, { limit })];
        assert.deepEqual(fwd, inRange.slice().reverse().slice(0, limit ?? Infinity));
      }
    }
    assert.deepEqual(
      [...reader.since(200, { reverse: true })],
      ref.filter(([t]) => t >= 200).reverse(),
    );
    assert.deepEqual([...reader.until(3, { reverse: true })], ref.filter(([t]) => t < 3).reverse());
    assert.deepEqual([...reader.all({ reverse: true, limit: 3 })], ref.slice(-3).reverse());
    const cols = reader.rangeColumns(100, 200, { reverse: true, limit: 4500 });
    const wantCols = ref.filter(([t]) => t >= 100 && t < 200).reverse().slice(0, 4500);
    assert.deepEqual([...cols.ts], wantCols.map(([t]) => t));
    assert.deepEqual([...(cols.values as Float64Array)], wantCols.map(([, v]) => v));
  }
});

test("reverse iterators stream in batches, mix next() and nextBatch(), and close early", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual" });
  const n = 20_000;
  log.appendMany(Float64Array.from({ length: n }, (_, i) => i), new Float64Array(n).fill(1));
  log.compact();
  using it = log.all({ reverse: true, limit: 9000 });
  assert.deepEqual(it.next().value, [n - 1, 1]);
  let total = 1, last = n - 1;
  for (let b = it.nextBatch(); b; b = it.nextBatch()) {
    for (const t of b.ts) {
      assert.equal(t, last - 1);
      last = t;
    }
    total += b.ts.length;
  }
  assert.equal(total, 9000);
  const early = log.all({ reverse: true });
  for (const [t] of early) if (t < n - 10) break; // break closes it
  assert.equal(early.next().done, true);
});

test("object values and bigint timestamps read newest first too", () => {
  using log = new Timelog<string, bigint>({ timestamps: "bigint", maintenance: "manual" });
  log.extend([[TS_MIN, "min"], [5n, "a"], [5n, "b"], [TS_MAX, "max"], [TS_MAX, "max2"]]);
  log.flush();
  log.append(5n, "c");
  assert.deepEqual([...log.all({ reverse: true })].map(([, v]) => v), [
    "max2",
    "max",
    "c",
    "b",
    "a",
    "min",
  ]);
  assert.deepEqual([...log.range(TS_MIN, 6n, { reverse: true, limit: 2 })], [[5n, "c"], [5n, "b"]]);
  assert.deepEqual([...log.since(TS_MAX, { reverse: true })], [[TS_MAX, "max2"], [TS_MAX, "max"]]);
});

test("read options are checked", () => {
  using log = new Timelog<number>({ values: "f64" });
  log.append(1, 1);
  assert.throws(() => log.all({ limit: -1 }), RangeError);
  assert.throws(() => log.all({ limit: 1.5 }), RangeError);
  assert.throws(() => log.range(0, 5, { reverse: "yes" as unknown as boolean }), TypeError);
  assert.throws(() => log.since(0, 7 as unknown as { limit: number }), TypeError);
  assert.deepEqual([...log.all({ limit: Infinity })], [[1, 1]]);
  assert.deepEqual([...log.range(5, 0, { reverse: true })], []);
});
