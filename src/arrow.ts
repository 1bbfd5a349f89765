/**
 * Apache Arrow interchange: an f64 log's records as an Arrow table (`toArrow`) and a table's
 * columns into a new log (`Timelog.fromArrow`).
 *
 * `apache-arrow` is an optional peer dependency: nothing here imports it statically, so a
 * program that never calls these functions needs neither the package nor its types. Export
 * loads it on first use (a dynamic import of the bare name, resolved from the program's own
 * dependencies); import reads the table it is given through the few members it needs.
 *
 * Both directions avoid copies: export sizes two buffers by a count, has the engine write
 * int64 timestamps and the values straight into them in one call, and wraps them as the
 * table's column data; import hands each record batch's buffers (an int64 or timestamp
 * column and a Float64 column) to `appendMany` as they are.
 *
 * @module
 */
import { Status } from "./errors.ts";
import type { ReadOwner } from "./reader.ts";
import { pred, type TimeUnit, type Ts, TS_MAX, TS_MIN } from "./time.ts";

/** The part of an `apache-arrow` Table this module uses (structural, so no import needed). */
export interface ArrowTable {
  readonly numRows: number;
  getChild(name: string): ArrowVector | null;
}

/** The part of an `apache-arrow` Vector this module uses. */
export interface ArrowVector {
  readonly type: { readonly typeId: number; readonly unit?: number; readonly precision?: number };
  readonly data: ReadonlyArray<{ readonly values: unknown; readonly nullCount: number }>;
  readonly length: number;
  toArray(): ArrayLike<unknown>;
}

// deno-lint-ignore no-explicit-any
type ArrowModule = any;
let loading: Promise<ArrowModule> | undefined;

/** apache-arrow, loaded once; a clear error when it is not installed. */
function loadArrow(): Promise<ArrowModule> {
  loading ??= import("apache-arrow").catch((cause) => {
    loading = undefined;
    throw new Error(
      "Timelog's Arrow functions need the optional peer dependency apache-arrow " +
        "(bun add apache-arrow / deno add npm:apache-arrow)",
      { cause },
    );
  });
  return loading;
}

/** Arrow's TimeUnit numbering: SECOND 0, MILLISECOND 1, MICROSECOND 2, NANOSECOND 3. */
export const ARROW_UNITS: readonly TimeUnit[] = ["s", "ms", "us", "ns"];

/** Reads [lo, end) of an f64 log into an Arrow table (see the module comment). */
export async function readArrow<V>(owner: ReadOwner<V>, lo: Ts, end: Ts): Promise<ArrowTable> {
  const core = owner.core;
  if (core.opts.values !== "f64") {
    throw new TypeError('toArrow() needs an f64 log (values: "f64")');
  }
  const arrow = await loadArrow();
  const action = "export to Arrow";
  owner.assertOpen(action); // the log may have closed while apache-arrow loaded
  if (lo < TS_MIN) lo = TS_MIN;
  if (end > TS_MAX) end = TS_MAX + 1n;
  const snap = owner.snapshot(action);
  let ts = new BigInt64Array(0), values = new Float64Array(0);
  try {
    const hi = pred(end);
    if (lo < end && lo <= TS_MAX) {
      core.check(core.sym.tl_snapshot_count(snap, lo, hi, core.u64), action);
      const n = Number(core.u64[0]);
      ts = new BigInt64Array(n);
      values = new Float64Array(n);
      if (n > 0) {
        core.check(core.sym.tl_iter_open(snap, lo, hi, core.cell), action);
        const it = core.rt.readPointer(core.cell);
        const raw = new BigUint64Array(values.buffer);
        const status = core.sym.tl_iter_next_batch(it, ts, raw, n, core.size);
        core.sym.tl_iter_destroy(it);
        if (status !== Status.OK) core.check(status, action);
      }
    }
  } finally {
    owner.done(snap);
  }
  const unit = ARROW_UNITS.indexOf(core.opts.timeUnit);
  const n = ts.length;
  const tsData = arrow.makeData({ type: new arrow.Timestamp(unit), length: n, data: ts });
  const vData = arrow.makeData({ type: new arrow.Float64(), length: n, data: values });
  return new arrow.Table({ ts: arrow.makeVector(tsData), value: arrow.makeVector(vData) });
}

/** Arrow type ids (apache-arrow's Type enum) of the columns fromArrow reads as they are. */
const TYPE_INT = 2, TYPE_FLOAT = 3, TYPE_TIMESTAMP = 10;

/** One batch of columns, ready for appendMany. */
export interface ArrowChunk {
  ts: BigInt64Array | Float64Array | ArrayLike<number | bigint>;
  values: Float64Array;
}

/** A table column by name, or a TypeError naming what is missing. */
function column(table: ArrowTable, name: string): ArrowVector {
  const col = table && typeof table.getChild === "function" ? table.getChild(name) : null;
  if (col === null || col === undefined) {
    throw new TypeError(`Cannot import from Arrow: the table has no column "${name}"`);
  }
  return col;
}

/**
 * The time unit a timestamp column is in (undefined for a plain integer column), and the
 * columns' record batches, each as the buffers themselves when their types allow (int64 or
 * timestamp, Float64) and as converted copies otherwise. Nulls are refused.
 */
export function arrowChunks(
  table: ArrowTable,
  tsName: string,
  valueName: string,
): { unit: TimeUnit | undefined; chunks: ArrowChunk[] } {
  const tsCol = column(table, tsName), vCol = column(table, valueName);
  const t = tsCol.type;
  const unit = t.typeId === TYPE_TIMESTAMP ? ARROW_UNITS[t.unit ?? 1] : undefined;
  for (const col of [tsCol, vCol]) {
    if (col.data.some((d) => d.nullCount > 0)) {
      throw new TypeError("Cannot import from Arrow: a column holds nulls");
    }
  }
  const same = tsCol.data.length === vCol.data.length &&
    tsCol.data.every((d, i) => lengthOf(d) === lengthOf(vCol.data[i])) &&
    [...tsCol.data, ...vCol.data].every((d) => (d as { offset?: number }).offset === 0);
  const direct = same && (t.typeId === TYPE_TIMESTAMP || t.typeId === TYPE_INT) &&
    tsCol.data.every((d) => d.values instanceof BigInt64Array) &&
    vCol.type.typeId === TYPE_FLOAT && vCol.data.every((d) => d.values instanceof Float64Array);
  if (direct) {
    const chunks = tsCol.data.map((d, i) => ({
      ts: (d.values as BigInt64Array).subarray(0, lengthOf(d)),
      values: (vCol.data[i].values as Float64Array).subarray(0, lengthOf(d)),
    }));
    return { unit, chunks };
  }
  const ts = tsCol.toArray() as ArrayLike<number | bigint>;
  const values = Float64Array.from(vCol.toArray() as ArrayLike<number>, Number);
  return { unit, chunks: [{ ts, values }] };
}

function lengthOf(d: unknown): number {
  return (d as { length: number }).length;
}
