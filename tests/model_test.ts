// Differential property tests: random programs run against a Timelog and a plain reference
// model (tests/support/model.ts), compared after every step, in both maintenance modes and both
// value modes. Object logs also check value release: never twice, never while the log or a
// live snapshot/iterator can still return the value, and every value exactly once by close.
//
// Replay a failure with TL_FC_SEED=<seed> (and TL_FC_PATH=<path>); TL_FC_RUNS=<n> runs more.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import {
  type AggregateOp,
  type SeriesReader,
  type Snapshot,
  Timelog,
  TimelogError,
  type TimelogIterator,
  type Ts,
} from "../mod.ts";
import { aggregateRef, sameSum } from "./support/aggregate.ts";
import { Model, out, pairs, type Rec, type TsMode, tsOf } from "./support/model.ts";
import {
  configArb,
  type Domain,
  input,
  type Op,
  opArb,
  type Read,
  type SmallConfig,
  tsArb,
} from "./support/program.ts";

let opsChecked = 0;
/** Engine work the programs caused, summed over runs (shows seals/flushes/compactions happen). */
const work = { seals: 0, flushes: 0, compactions: 0, dropped: 0 };

function fcParams(defaultRuns: number): fc.Parameters<[SmallConfig, Op[]]> {
  const env = (name: string): string | undefined => process.env[name];
  const seed = env("TL_FC_SEED");
  const runs = env("TL_FC_RUNS");
  const path = env("TL_FC_PATH");
  return {
    numRuns: runs ? Number(runs) : defaultRuns,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
    endOnFailure: false,
  };
}

interface LiveSnap {
  snap: Snapshot<unknown, Ts>;
  model: Model;
}

interface LiveIter {
  it: TimelogIterator<unknown, Ts>;
  remaining: Rec[];
  parent: LiveSnap | null;
}

interface Mode {
  values: "any" | "f64";
  maintenance: "manual" | "background";
  ts: TsMode;
}

/** One program run: the log under test, its model, live snapshots/iterators, release ledger. */
class Run {
  readonly log: Timelog<unknown, Ts>;
  readonly model = new Model();
  readonly snaps: LiveSnap[] = [];
  readonly iters: LiveIter[] = [];
  readonly released = new Map<unknown, number>();
  releasedNow: unknown[] = [];
  appended = 0;

  constructor(readonly mode: Mode, cfg: SmallConfig) {
    this.log = new Timelog<unknown, Ts>({
      ...cfg,
      values: mode.values,
      maintenance: mode.maintenance,
      timestamps: mode.ts,
      onRelease: mode.values === "any" ? (v) => this.#onRelease(v) : undefined,
    });
  }

  #onRelease(v: unknown): void {
    this.released.set(v, (this.released.get(v) ?? 0) + 1);
    this.releasedNow.push(v);
  }

  /** The stored value for payload `v`: a fresh object in object logs. */
  value(v: number): unknown {
    this.appended++;
    return this.mode.values === "any" ? { id: this.appended, v } : v;
  }

  #reader(target: number): [SeriesReader<unknown, Ts>, Model] {
    if (target < 0 || this.snaps.length === 0) return [this.log, this.model];
    const s = this.snaps[target % this.snaps.length];
    return [s.snap, s.model];
  }

  exec(op: Op): void {
    const { log, model } = this;
    switch (op.k) {
      case "append": {
        const value = this.value(op.v);
        log.append(input(op.t, op.f), value);
        model.append(op.t, value);
        return;
      }
      case "extend": {
        const recs = op.recs.map(([t, v]) => [t, this.value(v)] as const);
        const list = recs.map(([t, v]) => [input(t, op.f), v] as [number | bigint, unknown]);
        log.extend(
          op.gen
            ? (function* () {
              yield* list;
            })()
            : list,
        );
        for (const [t, v] of recs) model.append(t, v);
        return;
      }
      case "appendMany":
        return this.#appendMany(op);
      case "deleteRange": {
        if (op.a > op.b) {
          assert.throws(() => log.delete(input(op.a, op.fa), input(op.b, op.fb)), RangeError);
          return;
        }
        log.delete(input(op.a, op.fa), input(op.b, op.fb));
        return model.deleteRange(op.a, op.b);
      }
      case "deleteAt":
        log.delete(input(op.t, op.f));
        return model.deleteRange(op.t, op.t === 2n ** 63n - 1n ? null : op.t + 1n);
      case "deleteBefore":
        log.deleteBefore(input(op.t, op.f));
        return model.deleteRange(null, op.t);
      case "flush":
        return log.flush();
      case "compact":
        return log.compact();
      case "validate":
        return log.validate();
      case "step":
        for (let i = 0; i < op.n && log.step(); i++);
        return;
      case "snapshot":
        if (this.snaps.length >= 3) this.#closeSnap(0);
        this.snaps.push({ snap: log.snapshot(), model: model.frozen() });
        return;
      case "closeSnap":
        if (this.snaps.length > 0) this.#closeSnap(op.i % this.snaps.length);
        return;
      case "iterOpen":
        return this.#iterOpen(op);
      case "iterStep":
        if (this.iters.length > 0) this.#iterTake(this.iters[op.i % this.iters.length], op.take);
        return;
      case "read": {
        const [reader, m] = this.#reader(op.target);
        return this.#read(reader, m, op.r);
      }
    }
  }

  #appendMany(op: Extract<Op, { k: "appendMany" }>): void {
    const vals = op.recs.map(([, v]) => this.value(v));
    const times = op.recs.map(([t]) => t);
    const safe = times.every((t) => t >= -(2n ** 53n) + 1n && t <= 2n ** 53n - 1n);
    let ts: Array<number | bigint> | Float64Array | BigInt64Array;
    if (op.tsForm === "i64") ts = BigInt64Array.from(times);
    else if (op.tsForm === "f64" && safe) ts = Float64Array.from(times, Number);
    else ts = times.map((t, i) => input(t, i % 2 === 0 ? 0 : 1));
    const values = op.typedValues && this.mode.values === "f64"
      ? Float64Array.from(vals as number[])
      : vals;
    this.log.appendMany(ts, values);
    times.forEach((t, i) => this.model.append(t, vals[i]));
  }

  #closeSnap(i: number): void {
    const [s] = this.snaps.splice(i, 1);
    assert.deepEqual([...s.snap.all()], pairs(s.model.sorted(), this.mode.ts), "snapshot drifted");
    s.snap.close();
    for (const it of this.iters.filter((x) => x.parent === s)) {
      this.iters.splice(this.iters.indexOf(it), 1);
      if (it.remaining.length > 0) {
        assert.throws(
          () => it.it.next(),
          (e: unknown) => e instanceof TimelogError && e.code === "ECLOSED",
        );
      }
    }
  }

  #iterOpen(op: Extract<Op, { k: "iterOpen" }>): void {
    if (this.iters.length >= 3) this.#iterTake(this.iters[0], Infinity);
    const parent = op.src < 0 || this.snaps.length === 0
      ? null
      : this.snaps[op.src % this.snaps.length];
    const reader = parent ? parent.snap : this.log;
    const m = parent ? parent.model : this.model;
    const it = reader.range(input(op.a, 1), input(op.b, 1));
    const entry: LiveIter = { it, remaining: m.range(op.a, op.b), parent };
    this.iters.push(entry);
    this.#iterTake(entry, op.take);
  }

  /** Reads `take` records from a live iterator; exhausting it checks `done` and drops it. */
  #iterTake(entry: LiveIter, take: number): void {
    const want = entry.remaining.splice(0, take);
    const got: Array<[Ts, unknown]> = [];
    for (let i = 0; i < want.length; i++) {
      const r = entry.it.next();
      assert.ok(!r.done, "iterator ended early");
      got.push(r.value);
    }
    assert.deepEqual(got, pairs(want, this.mode.ts), "live iterator drifted");
    if (entry.remaining.length === 0 && take > want.length) {
      assert.equal(entry.it.next().done, true);
      this.iters.splice(this.iters.indexOf(entry), 1);
    }
  }

  #read(reader: SeriesReader<unknown, Ts>, m: Model, r: Read): void {
    const mode = this.mode.ts;
    const at = (t: bigint): bigint | null => (t === 2n ** 63n - 1n ? null : t + 1n);
    const opt = (x: bigint | undefined) => (x === undefined ? undefined : out(x, mode));
    switch (r.k) {
      case "range":
        return assert.deepEqual(
          [...reader.range(input(r.a, r.fa), input(r.b, r.fb))],
          pairs(m.range(r.a, r.b), mode),
        );
      case "since":
        return assert.deepEqual(
          [...reader.since(input(r.t, r.f))],
          pairs(m.range(r.t, null), mode),
        );
      case "until":
        return assert.deepEqual(
          [...reader.until(input(r.t, r.f))],
          pairs(m.range(null, r.t), mode),
        );
      case "all":
        return assert.deepEqual([...reader.all()], pairs(m.sorted(), mode));
      case "iterator":
        return assert.deepEqual([...reader], pairs(m.sorted(), mode));
      case "at":
        return assert.deepEqual(
          reader.at(input(r.t, r.f)),
          m.range(r.t, at(r.t)).map((x) => x.value),
        );
      case "count0":
        return assert.equal(reader.count(), m.size);
      case "count1":
        return assert.equal(reader.count(input(r.t, r.f)), m.range(r.t, null).length);
      case "count2":
        return assert.equal(
          reader.count(input(r.a, r.fa), input(r.b, r.fb)),
          m.range(r.a, r.b).length,
        );
      case "size":
        return assert.equal(reader.size, m.size);
      case "min":
        return assert.equal(reader.min(), opt(m.min()));
      case "max":
        return assert.equal(reader.max(), opt(m.max()));
      case "next":
        return assert.equal(reader.next(input(r.t, r.f)), opt(m.next(r.t)));
      case "prev":
        return assert.equal(reader.prev(input(r.t, r.f)), opt(m.prev(r.t)));
      case "columns":
        return this.#columns(reader, m, r.a, r.b, r.fa);
      case "reverse":
        return assert.deepEqual(
          [...reader.range(input(r.a, r.fa), input(r.b, r.fb), { reverse: true, limit: r.limit })],
          pairs(m.range(r.a, r.b).reverse().slice(0, r.limit ?? Infinity), mode),
        );
      case "reverseAll":
        return assert.deepEqual(
          [...reader.all({ reverse: true, limit: r.limit })],
          pairs([...m.sorted()].reverse().slice(0, r.limit ?? Infinity), mode),
        );
      case "asOf": {
        const w = m.range(null, at(r.t)).at(-1);
        return assert.deepEqual(reader.asOf(input(r.t, r.f)), w && pairs([w], mode)[0]);
      }
      case "asOfMany":
        return this.#asOfMany(reader, m, r.ts);
      case "aggregate":
        return this.#aggregate(reader, m, r);
    }
  }

  #asOfMany(reader: SeriesReader<unknown, Ts>, m: Model, ts: bigint[]): void {
    const got = reader.asOfMany(ts.map((t) => input(t, 1)));
    ts.forEach((t, i) => {
      const w = m.range(null, t === 2n ** 63n - 1n ? null : t + 1n).at(-1);
      assert.equal(got.found[i], w ? 1 : 0);
      if (!w) return;
      assert.equal(tsOf(got.ts[i], this.mode.ts), w.ts);
      assert.ok(Object.is((got.values as ArrayLike<unknown>)[i], w.value));
    });
  }

  /** Number-timestamp logs (bigint ones are covered by aggregate_test): every op on f64
   * logs, counts on object logs, against the JS reference loop. */
  #aggregate(
    reader: SeriesReader<unknown, Ts>,
    m: Model,
    r: Extract<Read, { k: "aggregate" }>,
  ): void {
    const far = (t: bigint) => t < -(2n ** 40n) || t > 2n ** 40n; // keep the reference exact
    if (this.mode.ts !== "number" || far(r.a) || far(r.b) || m.sorted().some((x) => far(x.ts))) {
      return;
    }
    const f64 = this.mode.values === "f64";
    const ops: AggregateOp[] = f64
      ? ["count", "sum", "min", "max", "mean", "first", "last"]
      : ["count"];
    const [a, b] = [Number(r.a), Number(r.b)];
    const got = reader.aggregate(a, b, {
      every: r.every,
      origin: r.origin,
      ops,
    });
    const recs = m.sorted().map((x) => [Number(x.ts), f64 ? (x.value as number) : 0] as const);
    const want = aggregateRef(recs, a, b, r.every, r.origin);
    assert.deepEqual([...got.start], want.start);
    for (const op of ops) {
      (got[op] as Float64Array).forEach((v, k) => {
        const w = want[op][k];
        const ok = op === "sum" || op === "mean" ? sameSum(v, w, want.abs[k]) : Object.is(v, w);
        assert.ok(ok, `aggregate ${op}[${k}] = ${v}, want ${w}`);
      });
    }
  }

  #columns(reader: SeriesReader<unknown, Ts>, m: Model, a: bigint, b: bigint, f: 0 | 1 | 2): void {
    const cols: { ts: unknown; values: unknown } = reader.rangeColumns(input(a, f), input(b, f));
    const want = m.range(a, b);
    assert.ok(
      this.mode.ts === "number"
        ? cols.ts instanceof Float64Array
        : cols.ts instanceof BigInt64Array,
    );
    assert.ok(
      this.mode.values === "f64" ? cols.values instanceof Float64Array : Array.isArray(cols.values),
    );
    const ts = cols.ts as ArrayLike<unknown>;
    assert.deepEqual(Array.from(ts, (t) => tsOf(t, this.mode.ts)), want.map((x) => x.ts));
    assert.deepEqual(Array.from(cols.values as ArrayLike<unknown>), want.map((x) => x.value));
  }

  /** After every op: contents, size, held values, and no premature or double release. */
  check(): void {
    assert.equal(this.log.size, this.model.size);
    assert.deepEqual([...this.log.all()], pairs(this.model.sorted(), this.mode.ts));
    if (this.mode.values !== "any") return;
    const stats = this.log.stats();
    assert.equal(
      stats.heldValues,
      this.appended - this.released.size,
      "held values leaked or lost",
    );
    if (this.releasedNow.length === 0) return;
    const visible = [this.model, ...this.snaps.map((s) => s.model)].map((m) => m.values());
    const pinned = new Set(this.iters.flatMap((x) => x.remaining.map((r) => r.value)));
    for (const v of this.releasedNow) {
      assert.equal(this.released.get(v), 1, `value released twice: ${JSON.stringify(v)}`);
      assert.ok(
        !pinned.has(v) && !visible.some((s) => s.has(v)),
        `released while visible: ${JSON.stringify(v)}`,
      );
    }
    this.releasedNow = [];
  }

  /** Drains live iterators and snapshots (checking them), closes; every value released once. */
  finish(): void {
    while (this.iters.length > 0) this.#iterTake(this.iters[0], Infinity);
    while (this.snaps.length > 0) this.#closeSnap(0);
    this.log.validate();
    const s = this.log.stats();
    work.seals += s.sealsTotal;
    work.flushes += s.flushesTotal;
    work.compactions += s.compactionsTotal;
    work.dropped += s.droppedTotal;
    this.log.close();
    if (this.mode.values !== "any") return;
    assert.equal(this.released.size, this.appended, "not every value was released at close");
    for (const [v, n] of this.released) {
      assert.equal(n, 1, `released ${n} times: ${JSON.stringify(v)}`);
    }
  }
}

function property(
  mode: Mode,
  domain: Domain,
  runs: number,
  maxOps: number,
  maxBatch: number,
): void {
  const ops = fc.array(opArb(tsArb(domain), mode.maintenance === "manual", maxBatch), {
    maxLength: maxOps,
    size: "max",
  });
  fc.assert(
    fc.property(configArb, ops, (cfg, program) => {
      const run = new Run(mode, cfg);
      try {
        for (const op of program) {
          run.exec(op);
          run.check();
          opsChecked++;
        }
        run.finish();
      } finally {
        if (!run.log.closed) run.log.close();
      }
    }),
    fcParams(runs),
  );
}

const CASES: Array<[string, Mode, Domain, number]> = [
  [
    "object values, manual maintenance",
    { values: "any", maintenance: "manual", ts: "number" },
    "small",
    150,
  ],
  [
    "object values, background maintenance",
    { values: "any", maintenance: "background", ts: "number" },
    "small",
    100,
  ],
  [
    "f64 values, manual maintenance",
    { values: "f64", maintenance: "manual", ts: "number" },
    "small",
    150,
  ],
  [
    "f64 values, background maintenance",
    { values: "f64", maintenance: "background", ts: "number" },
    "small",
    100,
  ],
  [
    "object values, timestamps at ±(2^53 - 1)",
    { values: "any", maintenance: "manual", ts: "number" },
    "wide",
    80,
  ],
  [
    "bigint timestamps reaching TS_MIN/TS_MAX, object values",
    { values: "any", maintenance: "manual", ts: "bigint" },
    "int64",
    100,
  ],
  [
    "bigint timestamps reaching TS_MIN/TS_MAX, f64 values",
    { values: "f64", maintenance: "background", ts: "bigint" },
    "int64",
    80,
  ],
];

for (const [name, mode, domain, runs] of CASES) {
  test(`Timelog matches the reference model: ${name}`, () => {
    property(mode, domain, runs, 80, 120);
  });
}

test("model_test: report how many random ops were checked", () => {
  const { seals, flushes, compactions, dropped } = work;
  console.log(
    `model_test: ${opsChecked} ops checked (engine: ${seals} seals, ${flushes} flushes, ` +
      `${compactions} compactions, ${dropped} records dropped)`,
  );
  assert.ok(opsChecked > 0 && seals > 0 && flushes > 0 && compactions > 0 && dropped > 0);
});
