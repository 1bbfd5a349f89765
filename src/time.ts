/**
 * Timestamps at the boundary: validation of `number | bigint | Date` input, the int64 limits,
 * closed-interval bounds for the engine, and "now" in each unit.
 *
 * @module
 */

/** A timestamp as users pass it: a safe-integer number, a bigint, or (unit "ms") a Date. */
export type Timestamp = number | bigint | Date;

/** The unit of every timestamp in a log. */
export type TimeUnit = "s" | "ms" | "us" | "ns";

/** Smallest and largest int64: valid timestamps, never sentinels. */
export const TS_MIN = -(2n ** 63n);
/** Largest int64 timestamp. */
export const TS_MAX = 2n ** 63n - 1n;

/** A validated timestamp: a safe-integer number when it fits, else a bigint. */
export type Ts = number | bigint;

/**
 * Validates one timestamp argument. Numbers must be safe integers (-0 reads as 0); bigints
 * must fit in int64; Dates only in unit "ms". `bigOk = false` (number-mode logs) also rejects
 * values beyond ±2^53, which such a log could not return exactly.
 */
export function toTs(value: unknown, what: string, unit: TimeUnit, bigOk: boolean): Ts {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return value === 0 ? 0 : value;
    if (Number.isInteger(value)) {
      throw new RangeError(
        `${what} must be a safe integer (|ts| <= 2^53 - 1) or a bigint, got ${value}`,
      );
    }
    throw new TypeError(`${what} must be an integer timestamp, got ${String(value)}`);
  }
  if (typeof value === "bigint") {
    if (value < TS_MIN || value > TS_MAX) {
      throw new RangeError(`${what} must fit in int64, got ${value}`);
    }
    if (value >= -(2n ** 53n) + 1n && value <= 2n ** 53n - 1n) return Number(value);
    if (!bigOk) {
      throw new RangeError(
        `${what} ${value} is beyond ±2^53 - 1; open the log with timestamps: "bigint"`,
      );
    }
    return value;
  }
  if (value instanceof Date) {
    if (unit !== "ms") throw new TypeError(`${what}: a Date is accepted only in unit "ms"`);
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RangeError(`${what} is an invalid Date`);
    return ms;
  }
  throw new TypeError(`${what} must be a number, bigint or Date, got ${describe(value)}`);
}

/** 2^53: every stored timestamp of a number log lies strictly inside ±2^53. */
const LIMIT_53 = 2 ** 53;
const BIG_53 = 2n ** 53n;

/**
 * Validates one read bound. Unlike a timestamp to store, a bound may name any point of the
 * time line: ±Infinity, an integer number of any size and any bigint are accepted on every
 * log, and clamped to just outside the timestamps the log can hold, which selects exactly the
 * same records: ±2^53 (exact doubles) on a number-timestamp log, whose records all lie
 * strictly inside ±2^53; TS_MIN - 1 / TS_MAX + 1 (bigints) on a bigint log. Readers then clamp
 * their closed ranges to int64 (see Reader). NaN, fractions and non-timestamps are still
 * errors; a Date still needs unit "ms".
 */
export function toBound(value: unknown, what: string, unit: TimeUnit, bigOk: boolean): Ts {
  // The usual bound, a safe integer, is taken as it is (-0 reads as 0): reads are short.
  if (typeof value === "number" && Number.isSafeInteger(value)) return value === 0 ? 0 : value;
  let big: bigint | undefined;
  if (typeof value === "bigint") big = value;
  else if (typeof value === "number" && !Number.isSafeInteger(value)) {
    if (value === Infinity) big = TS_MAX + 1n;
    else if (value === -Infinity) big = TS_MIN - 1n;
    else if (Number.isInteger(value)) big = BigInt(value); // exact: an integer beyond 2^53
  }
  if (big === undefined) return toTs(value, what, unit, bigOk); // the usual checks and errors
  if (!bigOk) return big >= BIG_53 ? LIMIT_53 : big <= -BIG_53 ? -LIMIT_53 : Number(big);
  if (big > TS_MAX) return TS_MAX + 1n;
  if (big < TS_MIN) return TS_MIN - 1n;
  return big >= -BIG_53 + 1n && big <= BIG_53 - 1n ? Number(big) : big;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? (value.constructor?.name ?? "an object") : typeof value;
}

/**
 * Bound clamps for readers. A number bound always lies inside int64 (toBound keeps numbers
 * within ±2^53), so numbers skip the number-bigint comparison, which costs V8 and JSC about
 * 25 ns each: a sixth of a short read.
 */
export function atLeastMin(t: Ts): Ts {
  return typeof t === "number" || t >= TS_MIN ? t : TS_MIN;
}

/** `t` lowered to TS_MAX (see {@link atLeastMin}). */
export function atMostMax(t: Ts): Ts {
  return typeof t === "number" || t <= TS_MAX ? t : TS_MAX;
}

/** Whether a bound names a point of int64 (see {@link atLeastMin}). */
export function inInt64(t: Ts): boolean {
  return typeof t === "number" || (t >= TS_MIN && t <= TS_MAX);
}

/** t - 1 without leaving int64 (caller guarantees t > TS_MIN). */
export function pred(t: Ts): Ts {
  return typeof t === "number" ? (Number.isSafeInteger(t - 1) ? t - 1 : BigInt(t) - 1n) : t - 1n;
}

/** The current time in `unit`, as a number (ns: a bigint). */
export function now(unit: TimeUnit): Ts {
  const ms = performance.timeOrigin + performance.now();
  switch (unit) {
    case "s":
      return Math.floor(ms / 1000);
    case "ms":
      return Math.floor(ms);
    case "us":
      return Math.floor(ms * 1000);
    case "ns":
      return BigInt(Math.floor(ms * 1000)) * 1000n;
  }
}
