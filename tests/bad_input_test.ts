// Bad input at the TS boundary, as a table: every public method × every kind of bad argument
// throws the documented error (TypeError / RangeError) with a message naming the argument, and
// leaves the log exactly as it was (contents, sequence number, held values: no leaked handle).
// Use after close and reentrant calls from inside an iteration are in
// tests/bad_input_state_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Reader, Timelog, type Ts, TS_MAX, TS_MIN } from "../mod.ts";
import { type BadCase, expectBad, fingerprint, report, triedSoFar } from "./support/bad.ts";

const BASE = triedSoFar();

type Ctor = typeof TypeError | typeof RangeError;
type Any = Timelog<unknown, Ts>;

/** Bad timestamps; `numberOnly` ones are valid in a bigint-timestamp log; `writeOnly` ones are
 * valid read bounds (any point of the time line: tests/bounds_test.ts). */
const BAD_TS: Array<{ value: unknown; err: Ctor; numberOnly?: boolean; writeOnly?: boolean }> = [
  { value: NaN, err: TypeError },
  { value: 0.5, err: TypeError },
  { value: -1.5, err: TypeError },
  { value: Number.MIN_VALUE, err: TypeError },
  { value: Infinity, err: TypeError, writeOnly: true },
  { value: -Infinity, err: TypeError, writeOnly: true },
  { value: 2 ** 53, err: RangeError, writeOnly: true },
  { value: -(2 ** 53), err: RangeError, writeOnly: true },
  { value: 1e300, err: RangeError, writeOnly: true },
  { value: 2n ** 53n, err: RangeError, numberOnly: true, writeOnly: true },
  { value: -(2n ** 53n), err: RangeError, numberOnly: true, writeOnly: true },
  { value: 2n ** 63n, err: RangeError, writeOnly: true },
  { value: -(2n ** 63n) - 1n, err: RangeError, writeOnly: true },
  { value: 2n ** 64n, err: RangeError, writeOnly: true },
  { value: "5", err: TypeError },
  { value: "", err: TypeError },
  { value: null, err: TypeError },
  { value: true, err: TypeError },
  { value: {}, err: TypeError },
  { value: [5], err: TypeError },
  { value: Symbol("t"), err: TypeError },
  { value: () => 5, err: TypeError },
  { value: Object(5), err: TypeError },
  { value: new Date(NaN), err: RangeError },
];

/** A method taking one timestamp argument, and the name its error message must use. */
interface TsMethod {
  name: string;
  arg: string;
  writes?: boolean;
  call(r: Reader<unknown, Ts>, t: unknown): unknown;
}

const T = (x: unknown): number => x as number;
const READS: TsMethod[] = [
  { name: "range(t1, 5)", arg: "t1", call: (r, t) => r.range(T(t), 5) },
  { name: "range(0, t2)", arg: "t2", call: (r, t) => r.range(0, T(t)) },
  { name: "since(t)", arg: "t", call: (r, t) => r.since(T(t)) },
  { name: "until(t)", arg: "t", call: (r, t) => r.until(T(t)) },
  { name: "at(ts)", arg: "ts", call: (r, t) => r.at(T(t)) },
  { name: "count(t1)", arg: "t1", call: (r, t) => r.count(T(t)) },
  { name: "count(t1, 5)", arg: "t1", call: (r, t) => r.count(T(t), 5) },
  { name: "count(0, t2)", arg: "t2", call: (r, t) => r.count(0, T(t)) },
  { name: "next(ts)", arg: "ts", call: (r, t) => r.next(T(t)) },
  { name: "prev(ts)", arg: "ts", call: (r, t) => r.prev(T(t)) },
  { name: "rangeColumns(t1, 5)", arg: "t1", call: (r, t) => r.rangeColumns(T(t), 5) },
  { name: "rangeColumns(0, t2)", arg: "t2", call: (r, t) => r.rangeColumns(0, T(t)) },
];

const log = (r: Reader<unknown, Ts>): Any => r as Any;
const WRITES: TsMethod[] = [
  { name: "append(ts, value)", arg: "ts", call: (r, t) => log(r).append(T(t), 1) },
  { name: "delete(ts)", arg: "ts", call: (r, t) => log(r).delete(T(t)) },
  { name: "delete(t1, 5)", arg: "t1", call: (r, t) => log(r).delete(T(t), 5) },
  { name: "delete(0, t2)", arg: "t2", call: (r, t) => log(r).delete(0, T(t)) },
  { name: "deleteBefore(cutoff)", arg: "cutoff", call: (r, t) => log(r).deleteBefore(T(t)) },
  {
    name: "appendMany([1, ts], ..)",
    arg: "ts[1]",
    call: (r, t) => log(r).appendMany([1, T(t)], [1, 2]),
  },
  {
    name: "extend([.., [ts, v]])",
    arg: "record 1 timestamp",
    call: (r, t) => log(r).extend([[1, 1], [T(t), 2]]),
  },
];

const LOGS: Array<[string, () => Any]> = [
  ["object log", () => new Timelog<unknown, Ts>({ maintenance: "manual" })],
  ["f64 log", () => new Timelog<unknown, Ts>({ values: "f64" })],
  [
    "bigint-timestamp log",
    () => new Timelog<unknown, Ts>({ timestamps: "bigint", maintenance: "manual" }),
  ],
];

function seeded(make: () => Any): Any {
  const l = make();
  l.extend([[1, 10], [5, 50], [5, 51], [9, 90]]);
  l.delete(8, 9);
  l.append(l.options.timestamps === "bigint" ? TS_MAX : 2 ** 53 - 1, 99);
  return l;
}

function tsCases(methods: TsMethod[], bigTs: boolean, reads = false): BadCase[] {
  const out: BadCase[] = [];
  for (const m of methods) {
    for (const bad of BAD_TS) {
      if ((bad.numberOnly && bigTs) || (bad.writeOnly && reads)) continue;
      out.push({
        label: `${m.name} with ${describeBad(bad.value)}`,
        err: bad.err,
        arg: m.arg,
        call: (r) => m.call(r, bad.value),
      });
    }
  }
  return out;
}

function describeBad(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "symbol" || typeof v === "function") return typeof v;
  if (v instanceof Date) return "Invalid Date";
  return typeof v === "object" && v !== null ? JSON.stringify(v) ?? "object" : String(v);
}

for (const [kind, make] of LOGS) {
  const bigTs = kind.startsWith("bigint");
  test(`Timelog writes on a ${kind} reject bad timestamps, naming the argument, storing nothing`, () => {
    using l = seeded(make);
    expectBad(l, l, ...tsCases(WRITES, bigTs));
  });
  test(`Timelog reads on a ${kind} reject bad timestamps, naming the argument`, () => {
    using l = seeded(make);
    expectBad(l, l, ...tsCases(READS, bigTs, true));
  });
  test(`Snapshot reads on a ${kind} reject bad timestamps, naming the argument`, () => {
    using l = seeded(make);
    using snap = l.snapshot();
    expectBad(l, snap, ...tsCases(READS, bigTs, true));
  });
}

test("Timelog accepts -0 as 0 everywhere a timestamp goes", () => {
  using l = new Timelog<string>({ maintenance: "manual" });
  l.append(-0, "a");
  l.appendMany([-0], ["b"]);
  l.appendMany(new Float64Array([-0]), ["c"]);
  l.extend([[-0, "d"]]);
  assert.deepEqual(l.at(-0), ["a", "b", "c", "d"]);
  assert.ok(Object.is([...l.range(-0, 1)][0][0], 0), "returned as +0");
  assert.equal(l.count(-0, 1), 4);
  assert.equal(l.next(-1), 0);
  assert.equal(l.prev(-0), undefined);
  assert.deepEqual([...l.rangeColumns(-0, 1).ts], [0, 0, 0, 0]);
  l.delete(-0);
  assert.equal(l.size, 0);
});

test("Timelog.append() in a non-ms log rejects a Date with TypeError", () => {
  using l = seeded(() => new Timelog<unknown, Ts>({ timeUnit: "us", maintenance: "manual" }));
  expectBad(l, l, {
    label: "append(Date) in us",
    err: TypeError,
    arg: "ts",
    call: () => l.append(new Date(0), 1),
  });
  expectBad(l, l, {
    label: "range(Date) in us",
    err: TypeError,
    arg: "t1",
    call: () => l.range(new Date(0), 5),
  });
});

const f64Ts = (xs: number[]) => new Float64Array(xs);
/** 5000 good timestamps but the last: past the engine's 4096-record stack chunk. */
const lateBad = (bad: number) => {
  const ts = new Float64Array(5000).map((_, i) => i);
  ts[4999] = bad;
  return ts;
};

test("Timelog.appendMany() rejects non-columns, mismatched and bad columns, storing nothing", () => {
  using l = seeded(() => new Timelog<unknown, Ts>({ maintenance: "manual" }));
  using f = seeded(() => new Timelog<unknown, Ts>({ values: "f64", maintenance: "manual" }));
  const am = (x: Any, ts: unknown, vs: unknown) => () =>
    x.appendMany(ts as number[], vs as unknown[]);
  const cases: Array<[Any, string, Ctor, string, () => unknown]> = [
    [l, "ts not array-like (number)", TypeError, "ts", am(l, 5, [1])],
    [l, "ts a string", TypeError, "ts", am(l, "12", [1, 2])],
    [l, "ts null", TypeError, "ts", am(l, null, [])],
    [l, "ts a Set", TypeError, "ts", am(l, new Set([1]), [1])],
    [l, "values undefined", TypeError, "values", am(l, [1], undefined)],
    [l, "values a Map", TypeError, "values", am(l, [1], new Map())],
    [l, "length mismatch", RangeError, "values", am(l, [1, 2, 3], [1, 2])],
    [
      l,
      "typed length mismatch",
      RangeError,
      "values",
      am(l, new Float64Array(3), new Float64Array(4)),
    ],
    [l, "i64 length mismatch", RangeError, "values", am(l, new BigInt64Array(2), [1])],
    // An f64 log given two Float64Arrays takes appendMany's short path (write.ts).
    [
      f,
      "typed length mismatch, f64 log",
      RangeError,
      "values",
      am(f, new Float64Array(3), new Float64Array(4)),
    ],
    [f, "f64 ts NaN, f64 log", TypeError, "ts[1]", am(f, f64Ts([1, NaN]), new Float64Array(2))],
    [
      f,
      "f64 ts 2^53, f64 log",
      RangeError,
      "ts[0]",
      am(f, f64Ts([2 ** 53]), new Float64Array(1)),
    ],
    [l, "f64 ts with a fraction", TypeError, "ts[1]", am(l, new Float64Array([1, 0.5]), [1, 2])],
    [l, "f64 ts with NaN", TypeError, "ts[0]", am(l, new Float64Array([NaN]), [1])],
    [l, "f64 ts with Infinity", TypeError, "ts[1]", am(l, new Float64Array([1, Infinity]), [1, 2])],
    [l, "f64 ts at 2^53", RangeError, "ts[0]", am(l, new Float64Array([2 ** 53]), [1])],
    [
      f,
      "f64 ts at -2^53, f64 log",
      RangeError,
      "ts[2]",
      am(f, f64Ts([1, 2, -(2 ** 53)]), [1, 2, 3]),
    ],
    [
      f,
      "f64 ts 0.5 at 4999 of 5000",
      TypeError,
      "ts[4999]",
      am(f, lateBad(0.5), new Float64Array(5000)),
    ],
    [
      l,
      "f64 ts 2^53 at 4999 of 5000",
      RangeError,
      "ts[4999]",
      am(l, lateBad(2 ** 53), new Array(5000)),
    ],
    [
      l,
      "i64 ts at 2^53 in a number log",
      RangeError,
      "ts[1]",
      am(l, new BigInt64Array([1n, 2n ** 53n]), [1, 2]),
    ],
    [
      l,
      "i64 ts at -2^53 in a number log",
      RangeError,
      "ts[0]",
      am(l, new BigInt64Array([-(2n ** 53n)]), [1]),
    ],
    [
      l,
      "i64 ts at TS_MIN in a number log",
      RangeError,
      "ts[0]",
      am(l, new BigInt64Array([TS_MIN]), [1]),
    ],
    [l, "sparse array-like ts", TypeError, "ts[0]", am(l, { length: 2 }, [1, 2])],
    [f, "f64 value a string", TypeError, "values[1]", am(f, [1, 2], [1, "x"])],
    [f, "f64 value a bigint", TypeError, "values[0]", am(f, [1], [1n])],
    [f, "f64 value null", TypeError, "values[0]", am(f, [1], [null])],
  ];
  for (const [x, label, err, arg, call] of cases) expectBad(x, x, { label, err, arg, call });
});

test("Timelog.appendMany() with an array-like of invalid length names the argument", () => {
  using l = seeded(() => new Timelog<unknown, Ts>({ maintenance: "manual" }));
  expectBad(
    l,
    l,
    ...[1.5, -1, 2 ** 40].map((length): BadCase => {
      const bad = { length } as ArrayLike<number>;
      return {
        label: `length ${length}`,
        err: RangeError,
        arg: "ts",
        call: () => l.appendMany(bad, bad),
      };
    }),
  );
});

test("Timelog.appendMany() and extend() reject huge batches with one bad element, storing nothing", () => {
  const n = 2 ** 20;
  using l = seeded(() => new Timelog<unknown, Ts>({ maintenance: "manual" }));
  using f = seeded(() => new Timelog<unknown, Ts>({ values: "f64", maintenance: "manual" }));
  const ts = Float64Array.from({ length: n }, (_, i) => i);
  const vals = new Float64Array(n);
  const lastBad = Float64Array.from(ts);
  lastBad[n - 1] = NaN;
  const arr = Array.from(ts);
  arr[n - 1] = 0.5;
  const big = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
  big[n - 1] = 2n ** 60n;
  const objs = Array.from({ length: n }, (_, i) => ({ i }));
  const pairs = arr.map((t, i) => [t, objs[i]] as [number, unknown]);
  const at = `ts[${n - 1}]`;
  for (const x of [l, f]) {
    const v = x === f ? vals : objs;
    expectBad(x, x, {
      label: "2^20 typed, last NaN",
      err: TypeError,
      arg: at,
      call: () => x.appendMany(lastBad, v),
    });
    expectBad(x, x, {
      label: "2^20 array, last 0.5",
      err: TypeError,
      arg: at,
      call: () => x.appendMany(arr, v),
    });
    expectBad(x, x, {
      label: "2^20 i64, last 2^60",
      err: RangeError,
      arg: at,
      call: () => x.appendMany(big, v),
    });
    expectBad(x, x, {
      label: "2^20 vs 2^20 - 1",
      err: RangeError,
      arg: "values",
      call: () => x.appendMany(ts, v.slice(1)),
    });
    expectBad(x, x, {
      label: "2^20 - 1 vs 2^20",
      err: RangeError,
      arg: "values",
      call: () => x.appendMany(ts.subarray(1), v),
    });
  }
  const rec = `record ${n - 1} timestamp`;
  expectBad(l, l, {
    label: "extend 2^20, last 0.5",
    err: TypeError,
    arg: rec,
    call: () => l.extend(pairs),
  });
});

test("Timelog.extend() rejects non-iterables and non-pairs, storing nothing", () => {
  using l = seeded(() => new Timelog<unknown, Ts>({ maintenance: "manual" }));
  const ex = (recs: unknown) => () => l.extend(recs as Array<[number, unknown]>);
  const cases: Array<[string, Ctor, string, () => unknown]> = [
    ["a number", TypeError, "records", ex(5)],
    ["null", TypeError, "records", ex(null)],
    ["a plain object", TypeError, "records", ex({ 0: [1, 1], length: 1 })],
    ["a string (pairs of chars)", TypeError, "record 0", ex("ab")],
    ["a short pair", TypeError, "record 1", ex([[1, 1], [2]])],
    ["a long pair", TypeError, "record 0", ex([[1, 1, 1]])],
    ["an array-like pair", TypeError, "record 0", ex([{ 0: 1, 1: 1, length: 2 }])],
    ["a bad timestamp", RangeError, "record 2 timestamp", ex([[1, 1], [2, 2], [2n ** 63n, 3]])],
  ];
  expectBad(l, l, ...cases.map(([label, err, arg, call]) => ({ label, err, arg, call })));
  function* throwing(): Generator<[number, unknown]> {
    yield [1, 1];
    throw new SyntaxError("source failed");
  }
  const before = fingerprint(l);
  assert.throws(() => l.extend(throwing()), SyntaxError);
  assert.deepEqual(fingerprint(l), before, "a throwing iterable stores nothing");
});

test("Timelog.append() in an f64 log rejects non-numbers with a TypeError naming the value", () => {
  using f = seeded(() => new Timelog<unknown, Ts>({ values: "f64", maintenance: "manual" }));
  const cases: BadCase[] = [];
  for (const v of ["x", 1n, null, undefined, {}, [1], Object(1)]) {
    const d = describeBad(v);
    cases.push({
      label: `append(1, ${d})`,
      err: TypeError,
      arg: "value",
      call: () => f.append(1, v),
    });
    cases.push({ label: `append(${d})`, err: TypeError, arg: "value", call: () => f.append(v) });
  }
  expectBad(f, f, ...cases);
});

test("new Timelog() rejects bad options with a message naming the option", () => {
  const opt = (o: unknown) => () => new Timelog(o as object).close();
  const cases: Array<[string, Ctor, string, () => unknown]> = [];
  for (const name of ["timeUnit", "values", "timestamps", "maintenance", "busyPolicy"]) {
    for (const v of ["", "MS", 1, null, true, ["ms"]]) {
      cases.push([`${name} ${String(v)}`, TypeError, name, opt({ [name]: v })]);
    }
  }
  const ints = [
    "pageRecords",
    "memtableRecords",
    "oooHeadRecords",
    "oooRunsMax",
    "sealedMax",
    "l0Max",
    "busyWaitMs",
    "maintIntervalMs",
  ];
  for (const name of ints) {
    for (const v of [NaN, Infinity, -Infinity, 1.5, "64", 64n, null, {}]) {
      cases.push([`${name} ${String(v)}`, TypeError, name, opt({ [name]: v })]);
    }
    for (const v of [-1, 2 ** 31 + 1, 2 ** 53]) {
      cases.push([`${name} ${v}`, RangeError, name, opt({ [name]: v })]);
    }
  }
  for (const v of [0, -0, 63, 1 << 25]) {
    cases.push([`pageRecords ${v}`, RangeError, "pageRecords", opt({ pageRecords: v })]);
  }
  for (const v of [0, -0]) cases.push([`l0Max ${v}`, RangeError, "l0Max", opt({ l0Max: v })]);
  for (const name of ["windowSize", "windowOrigin"]) {
    for (const v of [NaN, 1.5, Infinity, "1", null]) {
      cases.push([`${name} ${String(v)}`, TypeError, name, opt({ [name]: v })]);
    }
    for (const v of [2n ** 63n, -(2n ** 63n) - 1n]) {
      cases.push([`${name} ${v}n`, RangeError, name, opt({ [name]: v })]);
    }
  }
  for (const v of [0, -0, -1, 0n, -5n]) {
    cases.push([`windowSize ${String(v)}`, RangeError, "windowSize", opt({ windowSize: v })]);
  }
  cases.push(["onRelease 5", TypeError, "onRelease", opt({ onRelease: 5 })]);
  cases.push(["unknown option", TypeError, "maintenence", opt({ maintenence: "manual" })]);
  expectBad(null, null, ...cases.map(([label, err, arg, call]) => ({ label, err, arg, call })));
});

test("new Timelog() rejects options that are not an object", () => {
  const cases = [5, "manual", true, 1n, Symbol("o")].map((o): BadCase => ({
    label: `options ${describeBad(o)}`,
    err: TypeError,
    arg: "options",
    call: () => new Timelog(o as unknown as object).close(),
  }));
  expectBad(null, null, ...cases);
});

test("bad_input_test: report how many bad inputs were tried", () => {
  assert.ok(report("bad_input_test", BASE) > 1000);
});
