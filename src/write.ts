/**
 * Columnar writes: validation of `appendMany` / `extend` input and the single native batch call.
 *
 * A bad element throws with its index and stores nothing. Everything is checked before the
 * engine sees it except a Float64Array of timestamps: a per-element check costs JavaScript
 * several ns a record, so the engine checks those (TL_F64_SAFE, the same safe-integer rule)
 * and only a refused batch is scanned here, for the message. Object-mode handles are rolled
 * back whenever the engine refuses a batch (EINVAL / ENOMEM / EOVERFLOW store nothing).
 *
 * @module
 */
import { Status } from "./errors.ts";
import type { HandleColumn, LogCore } from "./core.ts";
import { describe, toTs, type Ts } from "./time.ts";
import type { EncodedValues } from "./values.ts";

/** A validated batch, ready for one FFI call. */
export interface Columns {
  readonly n: number;
  readonly tsF: Float64Array | null;
  readonly tsI: BigInt64Array | null;
  readonly values: Float64Array;
  /** values as raw 64-bit words, as the engine takes them. */
  readonly raw: BigUint64Array;
  /** Object mode: the handle column, given back to the log after the call. */
  readonly column: HandleColumn | null;
  /** Byte-valued logs: the encoded values (values/raw are then empty). */
  readonly encoded: EncodedValues | null;
}

const NO_VALUES = new Float64Array(0);

const SAFE_HI = 2 ** 21; // int32 high word bound of |v| < 2^53

/** tl_append_batch_f64 flag: the engine accepts safe integers only, as Number.isSafeInteger. */
const F64_SAFE = 1;

function checkF64Ts(ts: Float64Array, action: string): void {
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (!Number.isSafeInteger(t)) {
      const err = Number.isInteger(t) ? RangeError : TypeError;
      throw new err(`Cannot ${action}: ts[${i}] must be a safe integer, got ${t}`);
    }
  }
}

function checkI64Ts(ts: BigInt64Array, action: string, bigOk: boolean): void {
  if (bigOk) return;
  const words = new Int32Array(ts.buffer, ts.byteOffset, ts.length * 2);
  for (let i = 0; i < ts.length; i++) {
    const hi = words[2 * i + 1];
    if (hi >= SAFE_HI || hi < -SAFE_HI || (hi === -SAFE_HI && words[2 * i] === 0)) {
      throw new RangeError(
        `Cannot ${action}: ts[${i}] = ${
          ts[i]
        } is beyond ±2^53 - 1; open the log with timestamps: "bigint"`,
      );
    }
  }
}

function timestamps(core: LogCore<unknown>, ts: unknown, n: number, action: string) {
  const bigOk = core.opts.timestamps === "bigint";
  if (ts instanceof Float64Array) return { tsF: ts, tsI: null }; // the engine checks these
  if (ts instanceof BigInt64Array) {
    checkI64Ts(ts, action, bigOk);
    return { tsF: null, tsI: ts };
  }
  const src = ts as ArrayLike<unknown>;
  const out: Ts[] = new Array(n);
  let big = false;
  for (let i = 0; i < n; i++) {
    const t = toTs(src[i], `Cannot ${action}: ts[${i}]`, core.opts.timeUnit, bigOk);
    if (typeof t === "bigint") big = true;
    out[i] = t;
  }
  if (!big) return { tsF: Float64Array.from(out as number[]), tsI: null };
  return { tsF: null, tsI: BigInt64Array.from(out, (t) => BigInt(t)) };
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return x !== null && typeof x === "object" &&
    typeof (x as { length?: unknown }).length === "number";
}

/** Validates columns and builds the native batch (allocating handles last). */
export function toColumns<V>(
  core: LogCore<V>,
  ts: unknown,
  values: unknown,
  action: string,
): Columns {
  if (!isArrayLike(ts)) {
    throw new TypeError(
      `Cannot ${action}: ts must be an array or typed array, got ${describe(ts)}`,
    );
  }
  if (!isArrayLike(values)) {
    throw new TypeError(
      `Cannot ${action}: values must be an array or typed array, got ${describe(values)}`,
    );
  }
  const n = ts.length;
  for (const [name, len] of [["ts", n], ["values", values.length]] as const) {
    if (!Number.isSafeInteger(len) || len < 0 || len >= 2 ** 32) {
      throw new RangeError(
        `Cannot ${action}: ${name}.length must be an integer in [0, 2^32), got ${len}`,
      );
    }
  }
  if (values.length !== n) {
    throw new RangeError(`Cannot ${action}: ts has ${n} items but values has ${values.length}`);
  }
  const { tsF, tsI } = timestamps(core as LogCore<unknown>, ts, n, action);
  if (core.bytes !== null) {
    const encoded = core.bytes.encode(values as ArrayLike<V>, n, action);
    const raw = new BigUint64Array(0);
    return { n, tsF, tsI, values: NO_VALUES, raw, column: null, encoded };
  }
  if (core.table !== null) {
    const column = core.takeColumn(n);
    try {
      core.table.addMany(values as ArrayLike<V>, column.values);
    } catch (e) {
      core.giveColumn(column);
      throw e;
    }
    return { n, tsF, tsI, values: column.values, raw: column.raw, column, encoded: null };
  }
  let vals: Float64Array;
  if (values instanceof Float64Array) vals = values;
  else {
    vals = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== "number") {
        throw new TypeError(
          `Cannot ${action}: values[${i}] must be a number in an f64 log, got ${describe(v)}`,
        );
      }
      vals[i] = v;
    }
  }
  const raw = new BigUint64Array(vals.buffer, vals.byteOffset, n);
  return { n, tsF, tsI, values: vals, raw, column: null, encoded: null };
}

/**
 * appendMany's short path: an f64 log given two Float64Arrays of one length. One native call
 * and nothing allocated (toColumns builds views and result objects: 0.5 µs a call in Deno,
 * a third of a 100-record batch). False when the call needs the general path (other
 * columns, a length mismatch to report); the values' bits go to the engine as they are.
 */
export function appendF64Columns<V>(
  core: LogCore<V>,
  ts: unknown,
  values: unknown,
  action: string,
): boolean {
  if (!(ts instanceof Float64Array) || !(values instanceof Float64Array)) return false;
  const n = ts.length;
  if (values.length !== n || n >= 2 ** 32) return false; // the general path says why
  if (n === 0) return true;
  settle(core, core.sym.tl_append_batch_f64(core.ptr, ts, values, n, F64_SAFE), ts, action);
  return true;
}

/** The outcome of a batch append: a refused f64 timestamp column is scanned to name the bad
 * element, then the status is raised (or backpressure handled) as for every write. */
function settle<V>(core: LogCore<V>, status: number, tsF: Float64Array | null, action: string) {
  if (status === Status.EINVAL && tsF) checkF64Ts(tsF, action); // says which ts
  core.afterWrite(status, action);
}

/** One native call for the whole batch; rolls back handles when nothing was stored. */
export function appendColumns<V>(core: LogCore<V>, cols: Columns, action: string): void {
  let status: number = Status.OK;
  const enc = cols.encoded;
  if (cols.n > 0 && enc !== null) {
    // The engine stores the bytes; a refused batch leaves neither records nor values.
    status = cols.tsF
      ? core.sym.tl_append_bytes_f64(core.ptr, cols.tsF, enc.data, enc.ends, cols.n, F64_SAFE)
      : core.sym.tl_append_bytes(core.ptr, cols.tsI, enc.data, enc.ends, cols.n, 0);
  } else if (cols.n > 0) {
    status = cols.tsF
      ? core.sym.tl_append_batch_f64(core.ptr, cols.tsF, cols.raw, cols.n, F64_SAFE)
      : core.sym.tl_append_batch(core.ptr, cols.tsI, cols.raw, cols.n, 0);
    if (status !== Status.OK && status !== Status.EBUSY && cols.column) {
      for (let i = 0; i < cols.n; i++) core.table?.release(cols.values[i]);
    }
  }
  if (cols.column) core.giveColumn(cols.column);
  if (cols.n > 0) settle(core, status, cols.tsF, action);
}
