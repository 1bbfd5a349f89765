// Self-tuning maintenance: once writes pause for idleMs, the log reaches the shape compact()
// leaves on its own, and reads during and after it see every record.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog } from "../mod.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(10)) if (cond()) return true;
  return cond();
}

test("Timelog compacts on its own after idleMs without writes, and reads stay exact", async () => {
  using log = new Timelog<number>({ values: "f64", idleMs: 50, memtableRecords: 1 << 16 });
  const n = 20_000;
  const ts = new Float64Array(n), vs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = i % 20 === 3 ? i - 5000 : i; // 5% late
    vs[i] = i / 256;
  }
  const half = n / 2;
  for (let off = 0; off < n; off += 1000) {
    log.appendMany(ts.subarray(off, off + 1000), vs.subarray(off, off + 1000));
    if (off + 1000 === half) log.deleteBefore(0); // seals what came before; the rest stays
  }
  const expected = Array.from(ts).filter((t, i) => t >= 0 || i >= half).length;
  const before = log.stats();
  assert.ok(before.memtableRecords > 0 && before.idleJobsTotal === 0, "not compact at first");
  assert.ok(await until(() => log.stats().idleJobsTotal >= 1), "idle maintenance ran");
  const s = log.stats();
  assert.equal(s.memtableRecords, 0);
  assert.equal(s.sealedMemtables, 0);
  assert.equal(s.l0Segments, 0);
  assert.equal(s.tombstones, 0);
  assert.equal(s.records, expected);
  let seen = 0, prev = -Infinity;
  for (const [t] of log.all()) {
    assert.ok(t >= prev);
    prev = t;
    seen++;
  }
  assert.equal(seen, expected);
  log.append(1e9, 1); // a write re-arms it
  assert.ok(await until(() => log.stats().idleJobsTotal >= 2));
  assert.equal(log.stats().memtableRecords, 0);
});

test("idleMs: 0 and manual maintenance leave the memtable alone", async () => {
  using off = new Timelog<number>({ values: "f64", idleMs: 0 });
  using manual = new Timelog<number>({ values: "f64", maintenance: "manual", idleMs: 20 });
  for (let i = 0; i < 100; i++) off.append(i, i), manual.append(i, i);
  await sleep(200);
  for (const log of [off, manual]) {
    assert.equal(log.stats().idleJobsTotal, 0);
    assert.equal(log.stats().memtableRecords, 100);
  }
});

test("idleMs is checked like every numeric option", () => {
  assert.throws(() => new Timelog({ idleMs: -1 }), RangeError);
  assert.throws(() => new Timelog({ idleMs: 1.5 }), TypeError);
  assert.throws(() => new Timelog({ idleMs: "300" as unknown as number }), TypeError);
});
