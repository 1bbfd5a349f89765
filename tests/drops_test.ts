// Values held by the handle table: released exactly once, and only when nothing can see them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog, TS_MAX } from "../mod.ts";

function counter<V>() {
  const seen = new Map<V, number>();
  return {
    onRelease: (v: V) => seen.set(v, (seen.get(v) ?? 0) + 1),
    count: () => seen.size,
    twice: () => [...seen.values()].filter((n) => n !== 1).length,
    has: (v: V) => seen.has(v),
  };
}

test("a dropped value is released only after the last snapshot that could see it closes", () => {
  const c = counter<string>();
  using log = new Timelog<string>({ maintenance: "manual", onRelease: c.onRelease });
  for (let i = 0; i < 100; i++) log.append(i, `v${i}`);
  const snap = log.snapshot();
  log.deleteBefore(50);
  log.compact();
  assert.equal(c.count(), 0, "pinned by the snapshot");
  assert.equal(log.stats().retiredValues, 50);
  assert.deepEqual(snap.at(10), ["v10"]);
  snap.close();
  assert.equal(c.count(), 50);
  assert.ok(c.has("v0") && c.has("v49") && !c.has("v50"));
  assert.equal(log.stats().heldValues, 50);
});

test("an open iterator pins dropped values too", () => {
  const c = counter<string>();
  using log = new Timelog<string>({ maintenance: "manual", onRelease: c.onRelease });
  log.extend([[1, "a"], [2, "b"]]);
  const it = log.all();
  log.delete(1, 3);
  log.compact();
  assert.equal(c.count(), 0);
  assert.deepEqual([...it], [[1, "a"], [2, "b"]]);
  assert.equal(c.count(), 2);
});

test("close() releases every held value once: visible, tombstoned, unflushed and INT64_MAX", () => {
  const c = counter<string>();
  const log = new Timelog<string, bigint>({
    maintenance: "manual",
    timestamps: "bigint",
    memtableRecords: 64,
    onRelease: c.onRelease,
  });
  for (let i = 0; i < 300; i++) log.append(BigInt(i), `a${i}`);
  log.flush();
  log.delete(0n, 100n);
  for (let i = 0; i < 50; i++) log.append(BigInt(1000 + i), `b${i}`);
  log.append(TS_MAX, "max");
  log.delete(TS_MAX);
  log.close();
  assert.equal(c.count(), 351);
  assert.equal(c.twice(), 0);
});

test("dropped values reach JS through the doorbell with no further calls", async () => {
  const c = counter<number>();
  using log = new Timelog<number>({ memtableRecords: 1024, l0Max: 1, onRelease: c.onRelease });
  for (let i = 0; i < 20_000; i++) log.append(i, i);
  log.deleteBefore(10_000);
  log.flush();
  const deadline = Date.now() + 10_000;
  while (c.count() < 10_000 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(c.count(), 10_000);
  assert.equal(c.twice(), 0);
});

test("close() with drops in flight returns and releases everything once", () => {
  const c = counter<number>();
  const log = new Timelog<number>({ memtableRecords: 256, l0Max: 1, onRelease: c.onRelease });
  let total = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 1000; i++) log.append(round * 1000 + i, total++);
    log.deleteBefore(round * 1000 + 500);
  }
  log.close();
  assert.equal(c.count(), total);
  assert.equal(c.twice(), 0);
});

test("stopMaintenance() with drops in flight returns", () => {
  using log = new Timelog<number>({ memtableRecords: 256, l0Max: 1 });
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 1000; i++) log.append(round * 1000 + i, i);
    log.deleteBefore(round * 1000);
    log.stopMaintenance();
    log.startMaintenance();
  }
  log.stopMaintenance();
  assert.ok(log.size > 0);
});

test("slots freed by thousands of drops are reused with fresh generations and the right values", () => {
  const c = counter<{ n: number }>();
  using log = new Timelog<{ n: number }>({ maintenance: "manual", onRelease: c.onRelease });
  const n = 5_000; // several growths of the free list (it starts at 1024)
  log.appendMany(
    Float64Array.from({ length: n }, (_, i) => i),
    Array.from({ length: n }, (_, i) => ({ n: i })),
  );
  log.deleteBefore(n);
  log.compact(); // drops every record; the values are released at the next safe point
  assert.equal(log.size, 0);
  assert.equal(log.stats().heldValues, 0);
  assert.equal(c.count(), n);
  const again = Array.from({ length: n }, (_, i) => ({ n: n + i }));
  log.appendMany(Float64Array.from({ length: n }, (_, i) => n + i), again);
  assert.equal(log.stats().heldValues, n);
  const back = log.rangeColumns(n, 2 * n).values as { n: number }[];
  for (let i = 0; i < n; i++) assert.equal(back[i], again[i]);
  assert.equal(c.twice(), 0);
});

test("close() releases each value once across table chunks, with freed and reused slots", () => {
  const c = counter<{ n: number }>();
  const log = new Timelog<{ n: number }>({ maintenance: "manual", onRelease: c.onRelease });
  const n = 9_000; // three 4096-slot chunks of the handle table
  const vals = Array.from({ length: n }, (_, i) => ({ n: i }));
  log.appendMany(Float64Array.from({ length: n }, (_, i) => i), vals);
  log.delete(3_000, 6_000); // frees slots in the middle chunk once compacted
  log.compact();
  assert.equal(c.count(), 3_000);
  const more = Array.from({ length: 100 }, (_, i) => ({ n: n + i }));
  log.appendMany(Float64Array.from({ length: 100 }, (_, i) => n + i), more); // reuses freed slots
  assert.equal(log.at(8_999)[0], vals[8_999]);
  assert.equal(log.at(n + 99)[0], more[99]);
  log.close();
  assert.equal(c.count(), n + 100);
  assert.equal(c.twice(), 0);
  for (const v of [...vals, ...more]) assert.ok(c.has(v));
});
