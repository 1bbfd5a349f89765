// Calls in the wrong state, the other half of tests/bad_input_test.ts: every method after
// close (TimelogError "ECLOSED", whatever the arguments), and reentrant calls from inside an
// iteration (writes, deletes, maintenance, snapshots, close), which must work while the
// iteration keeps the snapshot view it started with.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Reader, Timelog, TimelogError, TS_MAX, TS_MIN } from "../mod.ts";
import { type BadCase, expectBad, report, triedSoFar } from "./support/bad.ts";
import { Model, pairs } from "./support/model.ts";

const BASE = triedSoFar();
type Big = Timelog<unknown, bigint>;

/** Reads with valid, non-empty arguments. */
const READS: Array<[string, (r: Reader<unknown, bigint>) => unknown]> = [
  ["range(0, 10)", (r) => r.range(0, 10)],
  ["since(0)", (r) => r.since(0)],
  ["until(10)", (r) => r.until(10)],
  ["all()", (r) => r.all()],
  ["[Symbol.iterator]()", (r) => r[Symbol.iterator]()],
  ["at(1)", (r) => r.at(1)],
  ["count()", (r) => r.count()],
  ["count(0)", (r) => r.count(0)],
  ["count(0, 10)", (r) => r.count(0, 10)],
  ["size", (r) => r.size],
  ["min()", (r) => r.min()],
  ["max()", (r) => r.max()],
  ["next(0)", (r) => r.next(0)],
  ["prev(10)", (r) => r.prev(10)],
  ["rangeColumns(0, 10)", (r) => r.rangeColumns(0, 10)],
];

/** Reads whose arguments make an empty range or an answer known without looking. */
const EMPTY_READS: Array<[string, (r: Reader<unknown, bigint>) => unknown]> = [
  ["range(5, 5)", (r) => r.range(5, 5)],
  ["range(9, 1)", (r) => r.range(9, 1)],
  ["until(TS_MIN)", (r) => r.until(TS_MIN)],
  ["count(5, 5)", (r) => r.count(5, 5)],
  ["count(9, 1)", (r) => r.count(9, 1)],
  ["next(TS_MAX)", (r) => r.next(TS_MAX)],
  ["prev(TS_MIN)", (r) => r.prev(TS_MIN)],
  ["rangeColumns(5, 5)", (r) => r.rangeColumns(5, 5)],
];

const WRITES: Array<[string, (l: Big) => unknown]> = [
  ["append(1, v)", (l) => l.append(1, "v")],
  ["append(v)", (l) => l.append("v")],
  ["appendMany()", (l) => l.appendMany([1], ["v"])],
  ["appendMany([], [])", (l) => l.appendMany([], [])],
  ["extend()", (l) => l.extend([[1, "v"]])],
  ["extend([])", (l) => l.extend([])],
  ["delete(1)", (l) => l.delete(1)],
  ["delete(0, 5)", (l) => l.delete(0, 5)],
  ["delete(5, 5)", (l) => l.delete(5, 5)],
  ["deleteBefore(5)", (l) => l.deleteBefore(5)],
  ["snapshot()", (l) => l.snapshot()],
  ["flush()", (l) => l.flush()],
  ["compact()", (l) => l.compact()],
  ["step()", (l) => l.step()],
  ["startMaintenance()", (l) => l.startMaintenance()],
  ["stopMaintenance()", (l) => l.stopMaintenance()],
  ["stats()", (l) => l.stats()],
  ["validate()", (l) => l.validate()],
];

function closedCase(label: string, call: (r: Reader<unknown, bigint>) => unknown): BadCase {
  return {
    label,
    err: TimelogError,
    code: "ECLOSED",
    arg: "closed",
    call: (r) => call(r as Reader<unknown, bigint>),
  };
}

function closedLog(): Big {
  const log = new Timelog<unknown, bigint>({ timestamps: "bigint", maintenance: "manual" });
  log.extend([[1, "a"], [2, "b"]]);
  log.close();
  return log;
}

test("every method of a closed Timelog throws TimelogError ECLOSED", () => {
  const log = closedLog();
  const cases = [
    ...READS.map(([name, call]) => closedCase(`Timelog.${name}`, call)),
    ...WRITES.map(([name, call]) => closedCase(`Timelog.${name}`, (r) => call(r as Big))),
  ];
  expectBad(null, log, ...cases);
  log.close();
  log[Symbol.dispose]();
});

test("a closed f64 Timelog throws ECLOSED for writes of numbers (the append fast path too)", () => {
  const log = new Timelog<number>({ values: "f64", maintenance: "manual" });
  log.append(1, 1.5);
  log.close();
  expectBad(
    null,
    log as unknown as Reader<unknown, bigint>,
    closedCase("f64 append(1, 2)", (r) => (r as unknown as Timelog<number>).append(1, 2)),
    closedCase("f64 append(2)", (r) => (r as unknown as Timelog<number>).append(2)),
    closedCase("f64 appendMany()", (r) => (r as unknown as Timelog<number>).appendMany([1], [2])),
  );
});

test("a closed Timelog throws ECLOSED even for reads whose range is empty", () => {
  const log = closedLog();
  expectBad(null, log, ...EMPTY_READS.map(([name, call]) => closedCase(`Timelog.${name}`, call)));
});

test("every read of a closed Snapshot throws TimelogError ECLOSED, also after its log closes", () => {
  const log = new Timelog<unknown, bigint>({ timestamps: "bigint" });
  log.extend([[1, "a"], [2, "b"]]);
  const mine = log.snapshot();
  const orphan = log.snapshot();
  mine.close();
  expectBad(null, mine, ...READS.map(([name, call]) => closedCase(`Snapshot.${name}`, call)));
  log.close();
  assert.equal(orphan.closed, true);
  expectBad(
    null,
    orphan,
    ...READS.map(([name, call]) => closedCase(`orphan Snapshot.${name}`, call)),
  );
});

test("a closed Snapshot throws ECLOSED even for reads whose range is empty", () => {
  using log = new Timelog<unknown, bigint>({ timestamps: "bigint" });
  const snap = log.snapshot();
  snap.close();
  expectBad(null, snap, ...EMPTY_READS.map(([name, call]) => closedCase(`Snapshot.${name}`, call)));
});

test("iterators of a closed Timelog throw ECLOSED; those closed by the user report done", () => {
  const log = new Timelog<string>();
  log.extend([[1, "a"], [2, "b"]]);
  const started = log.all();
  started.next();
  const fresh = log.range(0, 5);
  const mine = log.all();
  mine.close();
  log.close();
  for (const it of [started, fresh]) {
    assert.throws(
      () => it.next(),
      (e: unknown) => e instanceof TimelogError && e.code === "ECLOSED",
    );
  }
  assert.deepEqual(mine.next(), { done: true, value: undefined });
});

test("f64 ranges read up front pin nothing, yet throw ECLOSED once their log or snapshot closes", () => {
  const log = new Timelog<number>({ values: "f64" });
  log.appendMany([1, 2, 3], [10, 20, 30]);
  const forgotten = Array.from({ length: 100 }, () => log.range(0, 5));
  assert.equal(log.stats().pins, 0, "short f64 ranges hold no pin");
  assert.deepEqual(forgotten[0].next(), { done: false, value: [1, 10] });
  const snap = log.snapshot();
  const ofSnap = snap.range(0, 5);
  const ofSnapLater = snap.range(0, 5);
  const ofLog = log.range(0, 5);
  const isClosed = (e: unknown) => e instanceof TimelogError && e.code === "ECLOSED";
  snap.close();
  assert.throws(() => ofSnap.next(), isClosed);
  assert.throws(() => ofSnapLater.nextBatch(), isClosed);
  assert.deepEqual(ofLog.next(), { done: false, value: [1, 10] }, "the log's own still reads");
  log.close();
  assert.throws(() => ofLog.next(), isClosed);
  assert.throws(() => forgotten[1].nextBatch(), isClosed);
  ofLog.close(); // closing after the log closed is fine
});

/** Counts releases; `check()` asserts held values = appended - released and none twice. */
function ledger() {
  const released = new Map<unknown, number>();
  return {
    onRelease: (v: unknown) => void released.set(v, (released.get(v) ?? 0) + 1),
    released,
    check(log: Timelog<unknown>, appended: number, closed = false) {
      for (const [v, n] of released) {
        assert.equal(n, 1, `released ${n} times: ${JSON.stringify(v)}`);
      }
      if (closed) assert.equal(released.size, appended, "every value released at close");
      else assert.equal(log.stats().heldValues, appended - released.size, "held values leaked");
    },
  };
}

for (const maintenance of ["manual", "background"] as const) {
  test(`for…of over Timelog.range() keeps its view while the loop writes, deletes and compacts (${maintenance})`, () => {
    const led = ledger();
    const log = new Timelog<unknown>({
      maintenance,
      memtableRecords: 64,
      pageRecords: 64,
      l0Max: 1,
      onRelease: led.onRelease,
    });
    const model = new Model();
    let appended = 0;
    const add = (t: number) => {
      const v = { n: appended++ };
      log.append(t, v);
      model.append(BigInt(t), v);
    };
    for (let i = 0; i < 400; i++) add(i % 50);
    const want = pairs(model.range(10n, 40n), "number");
    const got: Array<[number, unknown]> = [];
    let i = 0;
    for (const rec of log.range(10, 40)) {
      got.push(rec);
      i++;
      add(20 + (i % 30));
      if (i % 11 === 0) (log.delete(15, 25), model.deleteRange(15n, 25n));
      if (i % 13 === 0) (log.deleteBefore(i % 40), model.deleteRange(null, BigInt(i % 40)));
      if (i % 17 === 0) log.compact();
      if (i % 19 === 0) log.flush();
      if (i % 23 === 0 && maintenance === "manual") { while (log.step()); }
      if (i % 29 === 0 && maintenance === "background") {
        (log.stopMaintenance(), log.startMaintenance());
      }
      if (i % 31 === 0) {
        using snap = log.snapshot();
        assert.deepEqual([...snap.range(0, 50)], pairs(model.range(0n, 50n), "number"));
      }
      if (i % 37 === 0) {
        assert.deepEqual(
          [...log.range(0, 50)],
          pairs(model.range(0n, 50n), "number"),
          "nested read",
        );
      }
    }
    assert.deepEqual(got, want, "the iteration kept its snapshot view");
    assert.deepEqual(
      [...log],
      pairs(model.sorted(), "number"),
      "the writes made inside the loop landed",
    );
    log.validate();
    led.check(log, appended);
    assert.equal(log.stats().pins, 0);
    log.close();
    led.check(log, appended, true);
  });
}

test("for…of over a Snapshot keeps its view while the loop writes to the log", () => {
  using log = new Timelog<number>({ values: "f64", maintenance: "manual", memtableRecords: 64 });
  log.appendMany(
    Float64Array.from({ length: 300 }, (_, i) => i),
    Float64Array.from({ length: 300 }, (_, i) => -i),
  );
  using snap = log.snapshot();
  let n = 0;
  for (const [ts, v] of snap.since(100)) {
    assert.equal(v, -ts);
    assert.equal(ts, 100 + n++);
    log.deleteBefore(ts + 1);
    log.append(ts + 1000, 1);
    if (n % 50 === 0) log.compact();
  }
  assert.equal(n, 200);
  assert.equal(snap.count(), 300);
  assert.equal(log.count(0, 300), 0);
  assert.equal(log.count(1000, 1300), 200, "one fresh record per visited timestamp");
});

test("Timelog.close() inside for…of: the next step throws ECLOSED, every value released once", () => {
  const led = ledger();
  const log = new Timelog<unknown>({ memtableRecords: 64, onRelease: led.onRelease });
  for (let i = 0; i < 500; i++) log.append(i, { i });
  log.deleteBefore(100);
  const seen: number[] = [];
  assert.throws(
    () => {
      for (const [ts] of log.all()) {
        seen.push(ts);
        if (seen.length === 3) log.close();
      }
    },
    (e: unknown) => e instanceof TimelogError && e.code === "ECLOSED",
  );
  assert.deepEqual(seen, [100, 101, 102]);
  led.check(log, 500, true);
});

test("Snapshot.close() inside for…of over it: the next step throws ECLOSED", () => {
  using log = new Timelog<string>();
  log.extend([[1, "a"], [2, "b"], [3, "c"]]);
  const snap = log.snapshot();
  const seen: number[] = [];
  assert.throws(() => {
    for (const [ts] of snap.all()) {
      seen.push(ts);
      snap.close();
    }
  }, /closed/);
  assert.deepEqual(seen, [1]);
  assert.equal(log.stats().pins, 0);
});

test("onRelease may write to the log while compact() drains", () => {
  const led = ledger();
  let appended = 0;
  const log: Timelog<unknown> = new Timelog<unknown>({
    maintenance: "manual",
    onRelease: (v) => {
      led.onRelease(v);
      if (!log.closed && (v as { n: number }).n % 2 === 0) {
        log.append(1000 + appended, { n: appended++ });
      }
    },
  });
  for (let i = 0; i < 200; i++) log.append(i, { n: appended++ });
  log.deleteBefore(100);
  log.compact();
  assert.equal(led.released.size, 100);
  assert.equal(log.size, 150, "100 left + 50 written from onRelease");
  led.check(log, appended);
  log.close();
  led.check(log, appended, true);
});

test("bad_input_state_test: report how many bad inputs were tried", () => {
  assert.ok(report("bad_input_state_test", BASE) > 50);
});

test("appendMany whose values throw mid-way stores and holds nothing; a nested appendMany from a getter lands whole", () => {
  const led = ledger();
  const log = new Timelog<unknown>({ onRelease: led.onRelease });
  log.appendMany([1, 2, 3, 4], ["a", "b", "c", "d"]);
  let appended = 4;
  // Values read through getters: the third one throws after two handles were made.
  const throwing = {
    length: 3,
    get 0() {
      return "x";
    },
    get 1() {
      return "y";
    },
    get 2(): string {
      throw new Error("boom");
    },
  };
  assert.throws(() => log.appendMany([5, 6, 7], throwing), /boom/);
  assert.equal(log.size, 4);
  led.check(log, appended);
  // A getter that writes to the same log in the middle of a batch (same batch size, so a
  // reused handle column would be overwritten): both batches keep their own values.
  const nested = {
    length: 4,
    get 0() {
      return "p";
    },
    get 1() {
      log.appendMany([20, 21, 22, 23], ["n0", "n1", "n2", "n3"]);
      return "q";
    },
    get 2() {
      return "r";
    },
    get 3() {
      return "s";
    },
  };
  log.appendMany([10, 11, 12, 13], nested);
  appended += 8;
  assert.deepEqual(log.rangeColumns(10, 30).values, ["p", "q", "r", "s", "n0", "n1", "n2", "n3"]);
  for (let round = 0; round < 3; round++) { // the reused column across equal-size batches
    log.appendMany([100 + round, 100 + round], [`v${round}a`, `v${round}b`]);
    appended += 2;
  }
  assert.deepEqual(log.rangeColumns(100, 103).values, ["v0a", "v0b", "v1a", "v1b", "v2a", "v2b"]);
  led.check(log, appended);
  log.close();
  led.check(log, appended, true);
});
