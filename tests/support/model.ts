// The reference model for tests/model_test.ts: a plain array of records in insertion order.
//
// Semantics (DESIGN.md §2): reads return records sorted by timestamp, ties in insertion order;
// a delete hides only records written before it, so removing the matching records from the
// array at delete time is exact (later appends land after the delete and stay visible).
// Timestamps are bigints here whatever the log's mode; `out()` converts for comparison.

/** One record of the model. */
export interface Rec {
  readonly ts: bigint;
  readonly value: unknown;
}

/** The plain reference model. `frozen()` returns an independent, immutable copy. */
export class Model {
  #recs: Rec[] = [];
  #sorted: Rec[] | null = [];

  constructor(recs: Rec[] = []) {
    this.#recs = recs;
    this.#sorted = null;
  }

  /** A copy that later writes to this model never change (for snapshots). */
  frozen(): Model {
    return new Model([...this.#recs]);
  }

  append(ts: bigint, value: unknown): void {
    this.#recs.push({ ts, value });
    this.#sorted = null;
  }

  /** Removes records with lo <= ts < hi (hi exclusive; hi = null means +inf). */
  deleteRange(lo: bigint | null, hi: bigint | null): void {
    this.#recs = this.#recs.filter((r) =>
      !((lo === null || r.ts >= lo) && (hi === null || r.ts < hi))
    );
    this.#sorted = null;
  }

  /** Sorted by ts, ties in insertion order (Array.prototype.sort is stable). */
  sorted(): Rec[] {
    if (this.#sorted === null) {
      this.#sorted = [...this.#recs].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    }
    return this.#sorted;
  }

  /** Records with lo <= ts < hi (null bounds are unbounded). */
  range(lo: bigint | null, hi: bigint | null): Rec[] {
    return this.sorted().filter((r) => (lo === null || r.ts >= lo) && (hi === null || r.ts < hi));
  }

  get size(): number {
    return this.#recs.length;
  }

  min(): bigint | undefined {
    return this.sorted()[0]?.ts;
  }

  max(): bigint | undefined {
    const s = this.sorted();
    return s[s.length - 1]?.ts;
  }

  next(t: bigint): bigint | undefined {
    return this.sorted().find((r) => r.ts > t)?.ts;
  }

  prev(t: bigint): bigint | undefined {
    const s = this.sorted();
    for (let i = s.length - 1; i >= 0; i--) if (s[i].ts < t) return s[i].ts;
    return undefined;
  }

  /** Every value the model still holds (for the release checks). */
  values(): Set<unknown> {
    return new Set(this.#recs.map((r) => r.value));
  }
}

/** How a log returns timestamps. */
export type TsMode = "number" | "bigint";

/** A model timestamp as the log returns it. */
export function out(ts: bigint, mode: TsMode): number | bigint {
  return mode === "number" ? Number(ts) : ts;
}

/** Records as the `[ts, value]` pairs an iterator yields. */
export function pairs(recs: readonly Rec[], mode: TsMode): Array<[number | bigint, unknown]> {
  return recs.map((r) => [out(r.ts, mode), r.value]);
}

/** Normalizes whatever a log returned as a timestamp to a bigint (throws on a wrong type). */
export function tsOf(x: unknown, mode: TsMode): bigint {
  if (mode === "number" && typeof x === "number" && Number.isSafeInteger(x)) return BigInt(x);
  if (mode === "bigint" && typeof x === "bigint") return x;
  throw new TypeError(`expected a ${mode} timestamp, got ${typeof x} ${String(x)}`);
}
