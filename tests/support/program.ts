// Random programs for tests/model_test.ts: op records and their fast-check arbitraries.
//
// Timestamps are generated as bigints from a small domain (lots of duplicates, and the int64
// edges for bigint logs); `form` picks how each one crosses the API (number, bigint or -0).
import fc from "fast-check";

/** How a timestamp is passed: 0 number (when safe), 1 bigint, 2 number but -0 for zero. */
export type Form = 0 | 1 | 2;

/** A read, run against the log or a live snapshot. */
export type Read =
  | { k: "range"; a: bigint; b: bigint; fa: Form; fb: Form }
  | { k: "since" | "until" | "at" | "count1" | "next" | "prev"; t: bigint; f: Form }
  | { k: "count2" | "columns"; a: bigint; b: bigint; fa: Form; fb: Form }
  | { k: "all" | "iterator" | "count0" | "size" | "min" | "max" }
  | { k: "reverse"; a: bigint; b: bigint; fa: Form; fb: Form; limit: number | undefined }
  | { k: "reverseAll"; limit: number | undefined }
  | { k: "asOf"; t: bigint; f: Form }
  | { k: "asOfMany"; ts: bigint[] }
  | { k: "aggregate"; a: bigint; b: bigint; every: number; origin: number };

/** One step of a program. `v` are the f64 payloads (object logs wrap them in fresh objects). */
export type Op =
  | { k: "append"; t: bigint; f: Form; v: number }
  | { k: "extend"; recs: Array<[bigint, number]>; gen: boolean; f: Form }
  | {
    k: "appendMany";
    recs: Array<[bigint, number]>;
    tsForm: "array" | "f64" | "i64";
    typedValues: boolean;
  }
  | { k: "deleteRange"; a: bigint; b: bigint; fa: Form; fb: Form }
  | { k: "deleteAt" | "deleteBefore"; t: bigint; f: Form }
  | { k: "flush" | "compact" | "validate" }
  | { k: "step"; n: number }
  | { k: "snapshot" }
  | { k: "closeSnap"; i: number }
  | { k: "iterOpen"; src: number; a: bigint; b: bigint; take: number }
  | { k: "iterStep"; i: number; take: number }
  | { k: "read"; target: number; r: Read };

/** Smallest and largest int64. */
export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;
const SAFE = 2n ** 53n - 1n;

/** Timestamp domains: which values a program draws from. */
export type Domain = "small" | "wide" | "int64";

/** The timestamp arbitrary of a domain (number logs: small and wide; bigint logs: int64). */
export function tsArb(domain: Domain): fc.Arbitrary<bigint> {
  const small = fc.bigInt(-2n, 26n);
  if (domain === "small") return small;
  const edges = domain === "wide" ? [-SAFE, -SAFE + 1n, SAFE - 1n, SAFE] : [
    I64_MIN,
    I64_MIN + 1n,
    I64_MIN + 2n,
    -SAFE - 1n,
    SAFE + 1n,
    I64_MAX - 2n,
    I64_MAX - 1n,
    I64_MAX,
  ];
  return fc.oneof({ arbitrary: small, weight: 2 }, {
    arbitrary: fc.constantFrom(...edges),
    weight: 1,
  });
}

const form: fc.Arbitrary<Form> = fc.constantFrom<Form>(0, 0, 1, 2);
const f64: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: -1000, max: 1000 }), weight: 4 },
  { arbitrary: fc.double(), weight: 1 },
);

function readArb(t: fc.Arbitrary<bigint>): fc.Arbitrary<Read> {
  const pair = <K extends "range" | "count2" | "columns">(k: K) =>
    fc.record({ k: fc.constant(k), a: t, b: t, fa: form, fb: form });
  const one = fc.record({
    k: fc.constantFrom("since", "until", "at", "count1", "next", "prev" as const),
    t,
    f: form,
  });
  const bare = fc.record({
    k: fc.constantFrom("all", "iterator", "count0", "size", "min", "max" as const),
  });
  const limit = fc.option(fc.nat(40), { nil: undefined });
  const series = fc.oneof(
    fc.record({ k: fc.constant("reverse" as const), a: t, b: t, fa: form, fb: form, limit }),
    fc.record({ k: fc.constant("reverseAll" as const), limit }),
    fc.record({ k: fc.constant("asOf" as const), t, f: form }),
    fc.record({ k: fc.constant("asOfMany" as const), ts: fc.array(t, { maxLength: 12 }) }),
    fc.record({
      k: fc.constant("aggregate" as const),
      a: t,
      b: t,
      every: fc.integer({ min: 1, max: 12 }),
      origin: fc.integer({ min: -5, max: 5 }),
    }),
  );
  return fc.oneof(pair("range"), pair("count2"), pair("columns"), one, bare, series);
}

/** One op; `manual` enables `step`; `maxBatch` bounds extend/appendMany sizes. */
export function opArb(
  t: fc.Arbitrary<bigint>,
  manual: boolean,
  maxBatch: number,
): fc.Arbitrary<Op> {
  const recs = fc.array(fc.tuple(t, f64), { maxLength: maxBatch, size: "max" });
  const w = (weight: number, arbitrary: fc.Arbitrary<Op>) => ({ weight, arbitrary });
  const ops = [
    w(6, fc.record({ k: fc.constant("append" as const), t, f: form, v: f64 })),
    w(2, fc.record({ k: fc.constant("extend" as const), recs, gen: fc.boolean(), f: form })),
    w(
      3,
      fc.record({
        k: fc.constant("appendMany" as const),
        recs,
        tsForm: fc.constantFrom("array", "f64", "i64" as const),
        typedValues: fc.boolean(),
      }),
    ),
    w(2, fc.record({ k: fc.constant("deleteRange" as const), a: t, b: t, fa: form, fb: form })),
    w(1, fc.record({ k: fc.constantFrom("deleteAt", "deleteBefore" as const), t, f: form })),
    w(1, fc.record({ k: fc.constantFrom("flush", "compact", "validate" as const) })),
    w(2, fc.record({ k: fc.constant("snapshot" as const) })),
    w(1, fc.record({ k: fc.constant("closeSnap" as const), i: fc.nat(7) })),
    w(
      1,
      fc.record({
        k: fc.constant("iterOpen" as const),
        src: fc.integer({ min: -3, max: 3 }),
        a: t,
        b: t,
        take: fc.nat(40),
      }),
    ),
    w(1, fc.record({ k: fc.constant("iterStep" as const), i: fc.nat(7), take: fc.nat(300) })),
    w(
      8,
      fc.record({
        k: fc.constant("read" as const),
        target: fc.integer({ min: -2, max: 3 }),
        r: readArb(t),
      }),
    ),
  ];
  if (manual) {
    ops.push(
      w(2, fc.record({ k: fc.constant("step" as const), n: fc.integer({ min: 1, max: 4 }) })),
    );
  }
  return fc.oneof(...ops);
}

/** Engine config of one run: small, so seals, flushes and compactions happen. */
export interface SmallConfig {
  pageRecords: number;
  memtableRecords: number;
  oooHeadRecords: number;
  l0Max: number;
}

/** Small engine configs. */
export const configArb: fc.Arbitrary<SmallConfig> = fc.record({
  pageRecords: fc.constant(64),
  memtableRecords: fc.integer({ min: 64, max: 256 }),
  oooHeadRecords: fc.integer({ min: 16, max: 64 }),
  l0Max: fc.integer({ min: 1, max: 2 }),
});

/** A timestamp as the API receives it; `bigOk` says whether the log returns bigints. */
export function input(t: bigint, f: Form): number | bigint {
  const safe = t >= -SAFE && t <= SAFE;
  if (f === 1 || !safe) return t;
  if (f === 2 && t === 0n) return -0;
  return Number(t);
}
