// Read bounds may name any point of the time line — ±Infinity, TS_MIN, TS_MAX, integers of any
// size — on every log, and select exactly the records a plain filter selects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog, type Timestamp, type Ts, TS_MAX, TS_MIN } from "../mod.ts";

const SAFE = 2 ** 53 - 1;
/** Bounds far and near, as numbers and bigints. */
const FAR: Timestamp[] = [
  -Infinity,
  Infinity,
  TS_MIN,
  TS_MAX,
  TS_MIN - 5n,
  TS_MAX + 5n,
  2 ** 53,
  -(2 ** 53),
  2n ** 53n,
  -(2n ** 53n),
  1e300,
  -1e300,
  2 ** 70,
  SAFE,
  -SAFE,
  0,
  5,
];

/** A bound as a point on the line (Infinity stays infinite) for the reference filter. */
function point(b: Timestamp): number | bigint {
  if (typeof b === "number" && !Number.isFinite(b)) return b;
  return typeof b === "bigint" ? b : BigInt(b as number);
}
const lt = (a: number | bigint, b: number | bigint): boolean => a < b;

for (const bigTs of [false, true]) {
  const kind = bigTs ? "bigint-timestamp" : "number-timestamp";
  const stored: Ts[] = bigTs
    ? [TS_MIN, TS_MIN + 1n, -5, 0, 5, 5, 7, TS_MAX - 1n, TS_MAX]
    : [-SAFE, -SAFE + 1, -5, 0, 5, 5, 7, SAFE - 1, SAFE];
  const make = () => {
    const log = new Timelog<number, Ts>({ timestamps: bigTs ? "bigint" : "number" });
    stored.forEach((t, i) => log.append(t, i));
    return log;
  };
  const pts = stored.map((t) => BigInt(t));

  test(`reads on a ${kind} log accept bounds anywhere on the time line, exactly`, () => {
    using log = make();
    using snap = log.snapshot();
    for (const r of [log, snap]) {
      for (const a of FAR) {
        const pa = point(a);
        const since = pts.filter((t) => !lt(t, pa)).length;
        const until = pts.filter((t) => lt(t, pa)).length;
        assert.equal([...r.since(a)].length, since, `since(${a})`);
        assert.equal([...r.until(a)].length, until, `until(${a})`);
        assert.equal(r.count(a), since, `count(${a})`);
        assert.deepEqual(r.at(a).length, pts.filter((t) => t === pa).length, `at(${a})`);
        const next = pts.filter((t) => lt(pa, t))[0];
        const prev = pts.filter((t) => lt(t, pa)).at(-1);
        assert.equal(r.next(a) === undefined ? undefined : BigInt(r.next(a)!), next, `next(${a})`);
        assert.equal(r.prev(a) === undefined ? undefined : BigInt(r.prev(a)!), prev, `prev(${a})`);
        for (const b of FAR) {
          const pb = point(b);
          const want = pts.filter((t) => !lt(t, pa) && lt(t, pb)).length;
          assert.equal([...r.range(a, b)].length, want, `range(${a}, ${b})`);
          assert.equal(r.count(a, b), want, `count(${a}, ${b})`);
          assert.equal(r.rangeColumns(a, b).ts.length, want, `rangeColumns(${a}, ${b})`);
        }
      }
    }
  });
}

test("writes on a number log still refuse timestamps it could not return exactly", () => {
  using log = new Timelog<number>();
  for (const t of [Infinity, -Infinity, 2 ** 53, -(2 ** 53), TS_MAX, TS_MIN, 2n ** 53n]) {
    assert.throws(
      () => log.append(t, 1),
      (e: unknown) => e instanceof RangeError || e instanceof TypeError,
    );
    assert.throws(() => log.appendMany([1, t as number], [1, 2]));
  }
  assert.equal(log.size, 0);
});
