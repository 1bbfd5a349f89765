/**
 * The human tables of `./dev bench peers`, rendered from one runtime's flat JSON object (so
 * the per-runtime program and the driver print the same table from the same keys).
 *
 * JSON keys are `<prefix><workload>_<unit>_<peer>` with unit `per_s` (records or queries per
 * second, higher is better) or `ms` (lower is better), and `<prefix>mem_bytes_per_record_<peer>`.
 * The tables show rates as Mrec/s, queries as µs per query.
 *
 * @module
 */
import { PEER_LABELS, PEER_NAMES } from "./peer.ts";

/** One runtime's figures, as in the JSON line. */
export type RuntimeFigures = Record<string, unknown>;

/** A row: its JSON key (without prefix and peer), label and how the table shows it. */
interface Row {
  key: string;
  label: string;
  show: "Mrec/s" | "µs/q" | "ms" | "B/rec";
}

/** The users' shape rows, in the order of the run. */
export const USERS_ROWS: readonly Row[] = [
  { key: "ingest_per_s", label: "ingest, batches of 1,000", show: "Mrec/s" },
  { key: "ingest100_per_s", label: "ingest, batches of 100", show: "Mrec/s" },
  { key: "ingest_first_per_s", label: "first ingest, fresh process", show: "Mrec/s" },
  { key: "scan_per_s", label: "ordered scan", show: "Mrec/s" },
  { key: "range100_per_s", label: "range of ~100 records", show: "µs/q" },
  { key: "range1000_per_s", label: "range of ~1,000 records", show: "µs/q" },
  { key: "point_per_s", label: "point lookup, all duplicates", show: "µs/q" },
  { key: "retention_ms", label: "retention: deleteBefore(median)", show: "ms" },
  { key: "scan_after_retention_per_s", label: "scan after retention", show: "Mrec/s" },
  { key: "mem_bytes_per_record", label: "memory after ingest + settle", show: "B/rec" },
];

/** The baseline shape rows. */
export const BASELINE_ROWS: readonly Row[] = [
  { key: "ingest_per_s", label: "ingest (4096-record batches)", show: "Mrec/s" },
  { key: "scan_per_s", label: "ordered scan", show: "Mrec/s" },
  { key: "range100_per_s", label: "range [t, t+100)", show: "µs/q" },
  { key: "point_per_s", label: "point lookup", show: "µs/q" },
  { key: "count_per_s", label: "count, width N/10", show: "µs/q" },
  { key: "retention_ms", label: "retention: deleteBefore(median)", show: "ms" },
];

/** A number in 3-4 significant digits, without exponent. */
function fmt(v: number): string {
  if (!Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  return a >= 100
    ? v.toFixed(0)
    : a >= 10
    ? v.toFixed(1)
    : a >= 1
    ? v.toFixed(2)
    : v.toPrecision(3);
}

/** The cell of a JSON figure, converted to the row's display unit. */
function display(row: Row, v: number): number {
  if (row.show === "Mrec/s") return v / 1e6;
  if (row.show === "µs/q") return 1e6 / v;
  return v;
}

const line = (label: string, cells: string[]): string =>
  label.padEnd(34) + cells.map((c) => c.padStart(14)).join("");

/**
 * The table of one shape: a row per workload, a column per peer and the ratio Timelog vs the
 * sorted array (>1: Timelog better), then VERIFIED/FAILED per peer.
 *
 * @example
 * ```ts
 * const lines = formatTable({ runtime: "deno", ingest_per_s_timelog: 2e7 }, "", BASELINE_ROWS);
 * console.log(lines[1].includes("20.0")); // true
 * ```
 */
export function formatTable(fig: RuntimeFigures, prefix: string, rows: readonly Row[]): string[] {
  const num = (k: string): number => (typeof fig[k] === "number" ? (fig[k] as number) : NaN);
  const out = [line("workload", [...PEER_NAMES.map((p) => PEER_LABELS[p]), "Timelog ×"])];
  for (const row of rows) {
    const raw = PEER_NAMES.map((p) => num(`${prefix}${row.key}_${p}`));
    // Rates: Timelog / array; times and bytes: array / Timelog. Either way >1 = Timelog better.
    const ratio = row.key.endsWith("_per_s") ? raw[0] / raw[1] : raw[1] / raw[0];
    const cells = raw.map((v) => fmt(display(row, v)));
    out.push(line(`${row.label} (${row.show})`, [...cells, fmt(ratio)]));
  }
  const verified = PEER_NAMES.map((p) => (fig[`verified_${p}`] === false ? "FAILED" : "VERIFIED"));
  out.push(line("checks", verified));
  return out;
}

/**
 * Both shapes' tables of one runtime with their notes.
 *
 * @example
 * ```ts
 * const text = formatRuntime({ runtime: "bun", version: "1.4.5", records: 1000 });
 * console.log(text.includes("users' shape")); // true
 * ```
 */
export function formatRuntime(fig: RuntimeFigures): string {
  const get = (k: string): string => String(fig[k] ?? "—");
  const out = [
    `${get("runtime")} ${get("version")} — users' shape: ${get("records")} records (gaps of ` +
    `0-2 ms, 5% up to 10 s late, values k/256), background maintenance, no compact(); ` +
    `warm figures: median of ${get("runs")} runs after warm-up; first ingest and memory: ` +
    `median of ${get("fresh_processes")} fresh processes`,
    ...formatTable(fig, "", USERS_ROWS),
    `Timelog at the reads (after a ${get("settle_ms")} ms settle): ` +
    `${get("at_reads_memtable_records_timelog")} records in the memtable, ` +
    `${get("at_reads_l0_segments_timelog")} L0 and ${get("at_reads_l1_segments_timelog")} ` +
    `L1 segments.`,
    ...openNote(fig),
    ...cutNotes(fig, "", {
      range100: "range_queries",
      range1000: "range_queries",
      point: "point_queries",
    }),
    "",
    `${get("runtime")} ${get("version")} — baseline shape: ${get("records")} records ` +
    `(ts += 1, 5% up to 1024 late), batches of 4096, Timelog flushed and compact()ed before ` +
    `the reads; median of ${get("runs")} runs`,
    ...formatTable(fig, "baseline_", BASELINE_ROWS),
    `Timelog's compact(), untimed: ${get("baseline_compact_ms_timelog")} ms after ingest, ` +
    `${get("baseline_retention_compact_ms_timelog")} ms after retention (deleteBefore() ` +
    `only writes a tombstone).`,
    ...cutNotes(fig, "baseline_", { count: "baseline_queries" }),
  ];
  return out.join("\n");
}

/** Timelog's fixed cost in a fresh process, when the driver measured it. */
function openNote(fig: RuntimeFigures): string[] {
  const ms = fig.open_first_ms_timelog, bytes = fig.mem_open_bytes_timelog;
  if (typeof ms !== "number" || typeof bytes !== "number") return [];
  return [
    `Timelog's construction in a fresh process (loading the library; included in the first ` +
    `ingest and the memory): ${ms} ms, ${(bytes / 2 ** 20).toFixed(1)} MiB of RSS.`,
  ];
}

/**
 * Notes for the query workloads a peer did not finish within its time budget: `totals` maps a
 * workload to the JSON key of its number of queries.
 */
function cutNotes(fig: RuntimeFigures, prefix: string, totals: Record<string, string>): string[] {
  const notes: string[] = [];
  for (const [k, totalKey] of Object.entries(totals)) {
    for (const p of PEER_NAMES) {
      const done = fig[`${prefix}${k}_queries_${p}`], of = fig[totalKey];
      if (typeof done === "number" && typeof of === "number" && done < of) {
        notes.push(`  ${PEER_LABELS[p]}, ${k}: ${done} of ${of} queries (time budget)`);
      }
    }
  }
  return notes;
}
