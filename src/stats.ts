/**
 * `Timelog.stats()`: the engine's `tl_stats_t` (read as a uint64 array, fields in header order)
 * plus the binding's own counters, as a plain object.
 *
 * @module
 */
import type { LogCore } from "./core.ts";

/** Field names of `tl_stats_t`, in order (c/include/timelog.h; order never changes). */
const FIELDS = [
  "records",
  "recordsStored",
  "memtableRecords",
  "sealedMemtables",
  "l0Segments",
  "l1Segments",
  "pages",
  "tombstones",
  "bytesData",
  "seq",
  "sealsTotal",
  "flushesTotal",
  "compactionsTotal",
  "pagesRewrittenTotal",
  "pagesSharedTotal",
  "busyTotal",
  "droppedTotal",
  "maintErrorsTotal",
  "idleJobsTotal",
  "pagesPacked",
  "durableSeq",
  "walBytes",
  "diskBytes",
  "checkpointsTotal",
  "replayedRecords",
  "recoveryCutBytes",
  "recoveryCutRecords",
  "diskWrittenBytes",
] as const;

/**
 * Statistics of a log. The engine's fields follow `tl_stats_t` (c/include/timelog.h). Those of
 * durable logs are 0 in memory: `durableSeq` (every write call up to this seq is durable),
 * `walBytes` (the WAL's files), `diskBytes` (every file of the log), `checkpointsTotal`,
 * `replayedRecords` (replayed from the WAL at open), `recoveryCutBytes` (WAL bytes cut at open:
 * a torn tail after a crash, or what `repair` cut), `recoveryCutRecords` (well-formed
 * records among them: `repair` only) and `diskWrittenBytes` (bytes written to the log's files
 * since open — WAL records, segment files, manifests: write amplification).
 *
 * @example
 * ```ts
 * import { Timelog, type TimelogStats } from "@timelog/timelog";
 * using log = new Timelog<string>();
 * const s: TimelogStats = log.stats();
 * console.log(s.records, s.heldValues);
 * ```
 */
export type TimelogStats = { [K in (typeof FIELDS)[number]]: number } & {
  /** Values held by the handle table (object mode). */
  heldValues: number;
  /** Values dropped by the engine but still pinned by a live snapshot or iterator. */
  retiredValues: number;
  /** Live snapshots and iterators. */
  pins: number;
  /** Byte-valued logs ("bytes", "json", a codec): values the engine stores (0 otherwise). */
  storedValues: number;
  /** Their bytes, 4 bytes of length each included. */
  valueBytes: number;
  /** Bytes of the engine's value chunks (1 MiB each; freed when none of their values live). */
  valueChunkBytes: number;
};

/** Builds the stats object from the raw engine array. */
export function statsFrom<V>(raw: BigUint64Array, core: LogCore<V>): TimelogStats {
  const out: Record<string, number> = {};
  FIELDS.forEach((name, i) => (out[name] = Number(raw[i])));
  out.heldValues = core.table?.size ?? 0;
  out.retiredValues = core.retiredCount;
  out.pins = core.pins;
  const v = core.bytes?.stats();
  out.storedValues = v?.values ?? 0;
  out.valueBytes = v?.bytes ?? 0;
  out.valueChunkBytes = v?.heldBytes ?? 0;
  if (v) out.retiredValues = v.pinned; // the engine holds them, not the handle table
  return out as TimelogStats;
}
