/**
 * Options for opening a Timelog: names, defaults, validation with clear messages, the three
 * presets, and their translation into the engine's `tl_config_t` keys.
 *
 * @module
 */
import { describe, type TimeUnit } from "./time.ts";
import { BYTES_CODEC, JSON_CODEC, type ValueCodec } from "./values.ts";

/**
 * What a log stores as values: any JS value by identity (a handle table), f64 numbers in the
 * engine, or values the engine stores as bytes: `Uint8Array`s ("bytes"), JSON values
 * ("json"), or whatever a {@link ValueCodec} encodes.
 *
 * @example
 * ```ts
 * import type { ValueMode } from "@timelog/timelog";
 * const mode: ValueMode = "json";
 * ```
 */
export type ValueMode = "any" | "f64" | "bytes" | "json";

/**
 * When a durable log's writes reach the disk (see {@link TimelogOptions.durability}).
 *
 * @example
 * ```ts
 * import type { Durability } from "@timelog/timelog";
 * const mode: Durability = "interval";
 * ```
 */
export type Durability = "sync" | "interval" | "none";

/** What to do when a write is accepted under backpressure (engine status TL_EBUSY). */
export type BusyPolicy = "flush" | "silent" | "raise";

/**
 * Options of {@link Timelog}. Every field is optional.
 *
 * @example
 * ```ts
 * import { Timelog } from "@timelog/timelog";
 * using log = new Timelog<string>({ timeUnit: "us", maintenance: "manual", busyPolicy: "flush" });
 * log.append(1, "a");
 * ```
 */
export interface TimelogOptions {
  /** Unit of every timestamp (default "ms"). Only informs `append(value)`'s clock and windows. */
  timeUnit?: TimeUnit;
  /**
   * "any" (default): any JS value, held by identity; "f64": numbers stored in the engine, no
   * handle table; "bytes": `Uint8Array`s stored in the engine (read back as views of one
   * buffer a batch); "json": any JSON value, stored as UTF-8 (a value JSON cannot represent
   * exactly, such as `undefined`, `NaN` or a function, is a TypeError); or a
   * `{ encode, decode }` codec (msgpack, CBOR, ...). The byte-valued modes keep values out of
   * the JS heap, in memory and on disk.
   */
  values?: ValueMode | ValueCodec<unknown>;
  /** Type of returned timestamps: "number" (default for s/ms/us) or "bigint" (default for ns). */
  timestamps?: "number" | "bigint";
  /** "background" (default): a C thread flushes and compacts. "manual": only on request. */
  maintenance?: "background" | "manual";
  /** On backpressure: "flush" (default) relieves it inline, "silent" ignores, "raise" throws. */
  busyPolicy?: BusyPolicy;
  /**
   * Records per storage page (default 4096, min 64). Pages of 1024 to 65535 records carry a
   * search table that lets a lookup read about one cache line of the page.
   */
  pageRecords?: number;
  /** Memtable records that trigger a seal (default 262144). */
  memtableRecords?: number;
  /** Out-of-order records buffered before sorting (default 2048). */
  oooHeadRecords?: number;
  /** Sorted out-of-order runs before a seal (default 32). */
  oooRunsMax?: number;
  /** Sealed memtables queued before writes report backpressure (default 4). */
  sealedMax?: number;
  /** L0 segments that trigger compaction (default 4). */
  l0Max?: number;
  /** Background mode: ms a writer waits for the worker before reporting backpressure (20). */
  busyWaitMs?: number;
  /** Background worker's idle period in ms (default 100). */
  maintIntervalMs?: number;
  /**
   * Background mode: after this many ms without a write, maintenance brings the log to its
   * read-optimal shape on its own (memtable flushed, everything compacted, tombstones
   * applied, memory given back), as `compact()` would, without blocking reads or the next
   * write (default 300; 0 = never).
   */
  idleMs?: number;
  /**
   * Whether maintenance stores immutable pages compressed (default true): timestamps
   * delta/bit-packed, f64 values by ALP or an XOR codec, handles delta/bit-packed; reads
   * decode as they go. `false` keeps every page raw (16 B a record: more memory, no decoding).
   */
  compress?: boolean;
  /** Width of an L1 window in time units (default: one hour). */
  windowSize?: number | bigint;
  /** Origin of the window grid (default 0). */
  windowOrigin?: number | bigint;
  /**
   * Directory of a durable log, created if missing (relative paths resolve against the current
   * directory). Opening it recovers what it holds; one live log per directory (`ELOCKED`).
   * Without `path` the log is in memory. A durable log needs `values: "f64"`.
   */
  path?: string;
  /**
   * Durable logs: when writes reach the disk. `"interval"` (default): within `syncIntervalMs`,
   * and `await log.sync()` waits for it; `"sync"`: before each write call returns; `"none"`:
   * when the OS writes them (`sync()`, `checkpoint()` and `close()` still make them durable).
   */
  durability?: Durability;
  /** Durable logs, `"interval"`: the longest a write stays volatile, in ms (default 100). */
  syncIntervalMs?: number;
  /** Durable logs: bytes per WAL segment file (default 64 MiB; 4 KiB to 1 GiB, multiple of 8). */
  walSegmentBytes?: number;
  /** Durable logs: WAL bytes after which maintenance writes a checkpoint (default 64 MiB). */
  checkpointBytes?: number;
  /**
   * Durable logs: open a damaged directory by keeping its longest consistent prefix (what was
   * cut is in `stats()`: `recoveryCutBytes`, `recoveryCutRecords`) instead of failing with
   * `ECORRUPT` (default false).
   */
  repair?: boolean;
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  readonly timeUnit: TimeUnit;
  /** How values are kept: by the handle table, as doubles, or as bytes in the engine. */
  readonly values: "any" | "f64" | "bytes";
  /** Byte-valued logs: how values become bytes and back; null otherwise. */
  readonly codec: ValueCodec<unknown> | null;
  readonly timestamps: "number" | "bigint";
  readonly maintenance: "background" | "manual";
  readonly busyPolicy: BusyPolicy;
  /** The durable log's directory, or null in memory. */
  readonly path: string | null;
  /** The durability mode of a durable log, or null in memory. */
  readonly durability: Durability | null;
  /** Engine keys (TL_CFG_*) and values, for those the user set. */
  readonly engine: ReadonlyArray<readonly [number, number | bigint]>;
}

const ENUMS = {
  timeUnit: ["s", "ms", "us", "ns"],
  values: ["any", "f64", "bytes", "json"],
  timestamps: ["number", "bigint"],
  maintenance: ["background", "manual"],
  busyPolicy: ["flush", "silent", "raise"],
  durability: ["sync", "interval", "none"],
} as const;

/** Numeric options: engine key, minimum, maximum. */
const NUMERIC: Record<string, readonly [number, number, number]> = {
  pageRecords: [3, 64, 1 << 24],
  memtableRecords: [4, 64, 2 ** 31],
  oooHeadRecords: [5, 16, 1 << 24],
  oooRunsMax: [6, 1, 4096],
  sealedMax: [7, 1, 4096],
  l0Max: [8, 1, 4096],
  busyWaitMs: [9, 0, 60_000],
  maintIntervalMs: [10, 1, 3_600_000],
  idleMs: [14, 0, 3_600_000],
  syncIntervalMs: [18, 1, 3_600_000],
  walSegmentBytes: [19, 4096, 2 ** 30],
  checkpointBytes: [20, 1, Number.MAX_SAFE_INTEGER],
};

/** Options that only a durable log (one with a path) takes. */
const DURABLE_ONLY = [
  "durability",
  "syncIntervalMs",
  "walSegmentBytes",
  "checkpointBytes",
  "repair",
];

const DURABILITY_KEYS: Record<Durability, number> = { interval: 0, sync: 1, none: 2 };

/** Largest path in bytes (TL_PATH_CAP - 1: the engine stores it NUL-terminated). */
const PATH_BYTES_MAX = 1023;

const UNIT_KEYS: Record<TimeUnit, number> = { s: 0, ms: 1, us: 2, ns: 3 };

function checkEnum(name: keyof typeof ENUMS, value: unknown): void {
  const allowed: readonly string[] = ENUMS[name];
  if (typeof value !== "string" || !allowed.includes(value)) {
    const list = allowed.map((a) => `"${a}"`).join(", ");
    const got = typeof value === "string" ? JSON.stringify(value) : describe(value);
    const codec = name === "values" ? " or a { encode, decode } codec" : "";
    throw new TypeError(`Option ${name} must be one of ${list}${codec}, got ${got}`);
  }
}

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Option ${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Option ${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function checkWindow(name: string, value: unknown, min: bigint): bigint {
  if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    throw new RangeError(`Option ${name} ${value} is beyond 2^53 - 1 as a number; pass a bigint`);
  }
  const v = typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof v !== "bigint") {
    throw new TypeError(`Option ${name} must be an integer or bigint, got ${describe(value)}`);
  }
  if (v < min || v > 2n ** 63n - 1n) {
    throw new RangeError(`Option ${name} must be between ${min} and 2^63 - 1, got ${v}`);
  }
  return v;
}

/** Validates user options; unknown keys are a TypeError (typos should not pass silently). */
export function resolveOptions(options: TimelogOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Timelog options must be an object, got ${describe(options)}`);
  }
  const engine: Array<readonly [number, number | bigint]> = [];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (name === "values" && isCodec(value)) continue;
    if (name in ENUMS) checkEnum(name as keyof typeof ENUMS, value);
    else if (name in NUMERIC) {
      const [key, min, max] = NUMERIC[name];
      engine.push([key, checkInt(name, value, min, max)]);
    } else if (name === "compress") {
      if (typeof value !== "boolean") {
        throw new TypeError(`Option compress must be a boolean, got ${describe(value)}`);
      }
      engine.push([16, value ? 0 : 1]);
    } else if (name === "repair") {
      if (typeof value !== "boolean") {
        throw new TypeError(`Option repair must be a boolean, got ${describe(value)}`);
      }
      engine.push([21, value ? 1 : 0]);
    } else if (name === "path") checkPath(value);
    else if (name === "windowSize") engine.push([11, checkWindow(name, value, 1n)]);
    else if (name === "windowOrigin") engine.push([12, checkWindow(name, value, -(2n ** 63n))]);
    else throw new TypeError(`Unknown Timelog option "${name}"`);
  }
  const timeUnit = options.timeUnit ?? "ms";
  const maintenance = options.maintenance ?? "background";
  const given = options.values ?? "any";
  const codec = isCodec(given)
    ? given as ValueCodec<unknown>
    : given === "bytes"
    ? BYTES_CODEC
    : given === "json"
    ? JSON_CODEC
    : null;
  const values = codec !== null ? "bytes" : given as "any" | "f64";
  const path = options.path ?? null;
  const durability = checkDurable(options, values, path);
  engine.push([1, UNIT_KEYS[timeUnit]], [2, maintenance === "manual" ? 1 : 0]);
  if (values === "f64") engine.push([15, 1]); // value_kind: pages pack as doubles
  if (values === "bytes") engine.push([15, 2]); // value_kind: the engine stores the bytes
  if (durability !== null) engine.push([17, DURABILITY_KEYS[durability]]);
  return {
    timeUnit,
    values,
    codec,
    timestamps: options.timestamps ?? (timeUnit === "ns" ? "bigint" : "number"),
    maintenance,
    busyPolicy: options.busyPolicy ?? "flush",
    path,
    durability,
    engine,
  };
}

/** A `{ encode, decode }` value codec (checked by shape: both are functions). */
function isCodec(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  const c = v as { encode?: unknown; decode?: unknown };
  if (typeof c.encode === "function" && typeof c.decode === "function") return true;
  throw new TypeError(
    `Option values must be "any", "f64", "bytes", "json" or an object with encode and ` +
      `decode functions, got ${describe(v)}`,
  );
}

function checkPath(value: unknown): void {
  if (typeof value !== "string") {
    throw new TypeError(`Option path must be a string (a directory), got ${describe(value)}`);
  }
  if (value === "") {
    throw new TypeError("Option path must not be empty (omit it for a log in memory)");
  }
  if (value.includes("\0")) throw new TypeError("Option path must not contain a NUL character");
  const bytes = new TextEncoder().encode(value).length;
  if (bytes > PATH_BYTES_MAX) {
    throw new RangeError(
      `Option path must be at most ${PATH_BYTES_MAX} bytes (UTF-8), got ${bytes}`,
    );
  }
}

/** The cross-option rules of durable logs; returns the durability mode. */
function checkDurable(
  options: TimelogOptions,
  values: "any" | "f64" | "bytes",
  path: string | null,
): Durability | null {
  if (path === null) {
    const stray = DURABLE_ONLY.find((k) => options[k as keyof TimelogOptions] !== undefined);
    if (stray !== undefined) {
      throw new TypeError(`Option ${stray} applies to durable logs only: set path too`);
    }
    return null;
  }
  if (values === "any") {
    throw new TypeError(
      'A durable log (option path) cannot store values: "any" (JS values held by identity, ' +
        'the default): pass values: "f64", "bytes", "json" or a codec',
    );
  }

  const seg = options.walSegmentBytes;
  if (seg !== undefined && seg % 8 !== 0) {
    throw new RangeError(`Option walSegmentBytes must be a multiple of 8, got ${seg}`);
  }
  return options.durability ?? "interval";
}

/** Preset for continuous streams: background maintenance, backpressure relieved inline. */
export const STREAMING: TimelogOptions = { maintenance: "background", busyPolicy: "flush" };
/** Preset for loading a lot at once: manual maintenance, big memtable; call compact() after. */
export const BULK_INGEST: TimelogOptions = {
  maintenance: "manual",
  busyPolicy: "flush",
  memtableRecords: 1 << 20,
};
/** Preset for latency-sensitive writers: small memtable, writers never wait. */
export const LOW_LATENCY: TimelogOptions = {
  maintenance: "background",
  busyPolicy: "silent",
  memtableRecords: 1 << 16,
  busyWaitMs: 0,
};
