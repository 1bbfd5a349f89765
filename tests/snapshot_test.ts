// Snapshots and iterators: isolation, lifetimes, and closing order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog, TimelogError } from "../mod.ts";

test("Snapshot sees the log as it was, across writes, deletes, flush and compaction", () => {
  using log = new Timelog<string>({ maintenance: "manual", memtableRecords: 64, pageRecords: 64 });
  for (let i = 0; i < 500; i++) log.append(i, `v${i}`);
  using snap = log.snapshot();
  const before = [...snap.all()];
  log.delete(100, 300);
  for (let i = 0; i < 500; i++) log.append(i * 2, `w${i}`);
  log.flush();
  log.compact();
  log.deleteBefore(450);
  log.compact();
  assert.deepEqual([...snap.all()], before);
  assert.equal(snap.count(), 500);
  assert.equal(snap.max(), 499);
  assert.deepEqual(snap.at(200), ["v200"]);
  assert.notEqual(log.count(), 500);
});

test("iterators from Timelog reads are snapshot-consistent too", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual" });
  log.appendMany(Float64Array.from({ length: 10_000 }, (_, i) => i), new Float64Array(10_000));
  const it = log.all();
  const first = it.next();
  log.deleteBefore(20_000);
  log.compact();
  let n = first.done ? 0 : 1;
  for (const _ of it) n++;
  assert.equal(n, 10_000);
  assert.equal(log.size, 0);
});

test("break out of for…of releases the native iterator", () => {
  using log = new Timelog<string>();
  log.extend([[1, "a"], [2, "b"], [3, "c"]]);
  for (const [ts] of log.all()) if (ts === 2) break;
  assert.equal(log.stats().pins, 0);
  const it = log.all();
  it.next();
  assert.equal(log.stats().pins, 1);
  it.close();
  it.close();
  assert.equal(log.stats().pins, 0);
  assert.deepEqual(it.next(), { done: true, value: undefined });
});

test("Timelog.close() closes live snapshots and iterators; using them throws", () => {
  const log = new Timelog<string>();
  log.extend([[1, "a"], [2, "b"]]);
  const snap = log.snapshot();
  const it = snap.all();
  it.next();
  const liveIt = log.all();
  log.close();
  assert.equal(snap.closed, true);
  assert.throws(
    () => snap.count(),
    (e: unknown) => e instanceof TimelogError && e.code === "ECLOSED",
  );
  assert.throws(() => it.next(), /closed/);
  assert.throws(() => liveIt.next(), /closed/);
  snap.close();
  it.close();
});

test("Snapshot.close() closes its iterators first", () => {
  using log = new Timelog<string>();
  log.append(1, "a");
  const snap = log.snapshot();
  const it = snap.all();
  snap.close();
  assert.throws(() => it.next(), /closed/);
  assert.equal(log.stats().pins, 0);
});
