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
export { Timelog, type TimelogInit } from "./src/timelog.ts";
export { Snapshot } from "./src/snapshot.ts";
export { TimelogIterator } from "./src/iter.ts";
export { type Columns, Reader } from "./src/reader.ts";
export { Status, TimelogBusyError, TimelogError, type TimelogErrorCode } from "./src/errors.ts";
export type { BusyPolicy, Durability, TimelogOptions, ValueMode } from "./src/options.ts";
export type { TimelogStats } from "./src/stats.ts";
export { VERSION } from "./src/version.ts";
export { type Timestamp, type TimeUnit, type Ts, TS_MAX, TS_MIN } from "./src/time.ts";
