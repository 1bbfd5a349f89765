// Bad input at the TS boundary: the documented error, and the log unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog, TimelogBusyError, TimelogError } from "../mod.ts";

const BAD_TS: Array<[unknown, typeof TypeError | typeof RangeError]> = [
  [NaN, TypeError],
  [1.5, TypeError],
  [Infinity, TypeError],
  [-Infinity, TypeError],
  [2 ** 53, RangeError],
  [2n ** 63n, RangeError],
  [-(2n ** 63n) - 1n, RangeError],
  ["5", TypeError],
  [null, TypeError],
  [{}, TypeError],
  [new Date(NaN), RangeError],
];

test("Timelog.append() rejects bad timestamps with TypeError/RangeError and stores nothing", () => {
  using log = new Timelog<string>();
  for (const [ts, kind] of BAD_TS) {
    assert.throws(() => log.append(ts as number, "x"), kind, `ts ${String(ts)}`);
  }
  assert.equal(log.size, 0);
  assert.equal(log.stats().heldValues, 0);
});

test("Timelog.append() rejects bigints beyond 2^53 in a number-timestamp log", () => {
  using log = new Timelog<string>();
  assert.throws(() => log.append(2n ** 60n, "x"), /timestamps: "bigint"/);
  log.append(2n ** 40n, "ok");
  assert.deepEqual([...log], [[2 ** 40, "ok"]]);
});

test("Timelog.append() treats -0 as 0", () => {
  using log = new Timelog<string>();
  log.append(-0, "z");
  assert.deepEqual(log.at(0), ["z"]);
});

test("Timelog.appendMany() rejects mismatched columns and bad elements, storing nothing", () => {
  using log = new Timelog<string>();
  assert.throws(() => log.appendMany([1, 2, 3], ["a", "b"]), {
    name: "RangeError",
    message: "Cannot append records: ts has 3 items but values has 2",
  });
  assert.throws(() => log.appendMany([1, NaN], ["a", "b"]), /ts\[1\]/);
  assert.throws(() => log.appendMany(new Float64Array([1, 0.5]), ["a", "b"]), TypeError);
  assert.throws(() => log.appendMany("12" as unknown as number[], ["a", "b"]), TypeError);
  using f = new Timelog<number>({ values: "f64" });
  assert.throws(() => f.appendMany([1, 2], [1, "x" as unknown as number]), /values\[1\]/);
  assert.equal(log.size + f.size, 0);
  assert.equal(log.stats().heldValues, 0);
});

test("Timelog.extend() rejects non-pairs and bad timestamps before storing anything", () => {
  using log = new Timelog<string>();
  assert.throws(() => log.extend([[1, "a"], [2] as unknown as [number, string]]), TypeError);
  assert.throws(() => log.extend([[1, "a"], [1.5, "b"]]), TypeError);
  assert.throws(() => log.extend(5 as unknown as [number, string][]), TypeError);
  assert.equal(log.size, 0);
  assert.equal(log.stats().heldValues, 0);
});

test("Timelog.delete() with t1 > t2 is a RangeError; t1 == t2 is a no-op", () => {
  using log = new Timelog<string>();
  log.append(5, "a");
  assert.throws(() => log.delete(6, 5), {
    name: "RangeError",
    message: /t1 \(6\) is greater than t2 \(5\)/,
  });
  log.delete(5, 5);
  assert.equal(log.size, 1);
  assert.throws(() => log.deleteBefore(NaN), TypeError);
});

test("an f64 Timelog rejects non-number values", () => {
  using log = new Timelog<number>({ values: "f64" });
  assert.throws(() => log.append(1, "x" as unknown as number), TypeError);
  assert.equal(log.size, 0);
});

test("new Timelog() validates options with clear messages", () => {
  assert.throws(
    () => new Timelog({ timeUnit: "hours" as "s" }),
    /timeUnit must be one of "s", "ms", "us", "ns", got "hours"$/,
  );
  assert.throws(() => new Timelog({ timeUnit: 7 as unknown as "s" }), /got number$/);
  assert.throws(
    () => new Timelog({ values: "text" as "f64" }),
    /values must be one of "any", "f64", "bytes", "json" or a \{ encode, decode \} codec, got "text"$/,
  );
  assert.throws(() => new Timelog({ pageRecords: 8 }), /pageRecords must be between 64/);
  assert.throws(() => new Timelog({ memtableRecords: 1.5 }), /must be an integer/);
  assert.throws(
    () => new Timelog({ maintenence: "manual" } as object),
    /Unknown Timelog option "maintenence"/,
  );
  assert.throws(() => new Timelog({ onRelease: 5 as unknown as () => void }), TypeError);
});

test("every method of a closed Timelog throws TimelogError ECLOSED", () => {
  const log = new Timelog<string>();
  log.close();
  const calls: Array<() => unknown> = [
    () => log.append(1, "a"),
    () => log.appendMany([1], ["a"]),
    () => log.extend([[1, "a"]]),
    () => log.delete(1),
    () => log.deleteBefore(1),
    () => log.range(0, 1),
    () => log.at(1),
    () => log.count(),
    () => log.size,
    () => log.max(),
    () => log.snapshot(),
    () => log.flush(),
    () => log.compact(),
    () => log.stats(),
  ];
  for (const call of calls) {
    assert.throws(call, (err: unknown) => err instanceof TimelogError && err.code === "ECLOSED");
  }
  log.close();
});

test('busyPolicy "raise" throws TimelogBusyError and the write is stored', () => {
  using log = new Timelog<number>({
    values: "f64",
    maintenance: "manual",
    busyPolicy: "raise",
    memtableRecords: 64,
    sealedMax: 1,
  });
  let busy: TimelogBusyError | undefined;
  let written = 0;
  for (let i = 0; i < 1000 && !busy; i++) {
    try {
      log.append(i, i);
    } catch (err) {
      if (!(err instanceof TimelogBusyError)) throw err;
      busy = err;
    }
    written++;
  }
  assert.ok(busy, "expected backpressure with sealedMax 1 in manual mode");
  assert.equal(busy.code, "EBUSY");
  assert.match(busy.message, /accepted/);
  assert.equal(log.size, written, "the write that raised was stored");
  log.flush();
  log.append(5000, 1);
});

test('busyPolicy "flush" relieves backpressure inline', () => {
  using log = new Timelog<number>({
    values: "f64",
    maintenance: "manual",
    memtableRecords: 64,
    sealedMax: 1,
  });
  for (let i = 0; i < 5000; i++) log.append(i, i);
  assert.equal(log.size, 5000);
  assert.ok(log.stats().sealedMemtables <= 1);
});
