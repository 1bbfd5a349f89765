/**
 * Timelog: an embedded, time-indexed multimap for Deno and Bun, in memory or durable on disk.
 *
 * @example
 * ```ts
 * import { Timelog } from "@timelog/timelog";
 * using log = new Timelog<string>();
 * log.append(1, "a");
 * log.append(2, "b");
 * for (const [ts, value] of log.range(0, 10)) console.log(ts, value);
 * ```
 *
 * @module
 */
export { type FromArrowOptions, Timelog, type TimelogInit } from "./src/timelog.ts";
export { Snapshot } from "./src/snapshot.ts";
export { TimelogIterator } from "./src/iter.ts";
export { type Columns, Reader, type ReadOptions } from "./src/reader.ts";
export {
  type AggregateColumns,
  type AggregateOp,
  type AggregateOptions,
  type AsOfColumns,
  SeriesReader,
} from "./src/series.ts";
export type { ArrowTable, ArrowVector } from "./src/arrow.ts";
export { Status, TimelogBusyError, TimelogError, type TimelogErrorCode } from "./src/errors.ts";
export type { BusyPolicy, Durability, TimelogOptions, ValueMode } from "./src/options.ts";
export type { ValueCodec } from "./src/values.ts";
export type { TimelogStats } from "./src/stats.ts";
export { VERSION } from "./src/version.ts";
export { type Timestamp, type TimeUnit, type Ts, TS_MAX, TS_MIN } from "./src/time.ts";
