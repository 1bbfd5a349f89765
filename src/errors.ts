/**
 * Errors thrown by Timelog, and the one place native statuses become exceptions.
 *
 * Bad arguments throw the built-in `TypeError` / `RangeError`; failures reported by the engine
 * throw {@link TimelogError} with the status name as `code`.
 *
 * @module
 */

/** Native status values (c/include/timelog.h); they never change. */
export const Status = {
  OK: 0,
  EOF: 1,
  EINVAL: 10,
  ESTATE: 20,
  EBUSY: 21,
  ENOMEM: 30,
  EOVERFLOW: 31,
  /** A durable log's I/O failed; the message names the operation, the file and the OS error. */
  EIO: 40,
  /** A durable log's file is corrupt (checksum, version, length); the message names the file. */
  ECORRUPT: 41,
  /** The directory is held by another live log, in this process or another. */
  ELOCKED: 42,
  EINTERNAL: 90,
} as const;

/** The `code` of a {@link TimelogError}. `ECLOSED`: used after close; `ENOLIB`: no library. */
export type TimelogErrorCode =
  | Exclude<keyof typeof Status, "OK">
  | "ECLOSED"
  | "ENOLIB"
  | "EUNKNOWN";

/**
 * An engine failure or misuse, with a stable `code` and the native `status` (0 when the error
 * was raised by the binding itself).
 *
 * @example
 * ```ts
 * import { Timelog, TimelogError } from "@timelog/timelog";
 * const log = new Timelog();
 * log.close();
 * try {
 *   log.append(1, "x");
 * } catch (err) {
 *   if (err instanceof TimelogError) console.log(err.code); // "ECLOSED"
 * }
 * ```
 */
export class TimelogError extends Error {
  override name = "TimelogError";
  /** Stable machine-readable code. */
  readonly code: TimelogErrorCode;
  /** The native status, or 0. */
  readonly status: number;
  constructor(code: TimelogErrorCode, status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.status = status;
  }
}

/**
 * A write was **accepted** while the engine is under backpressure (`busyPolicy: "raise"`).
 * Never retry that write: it is stored.
 *
 * @example
 * ```ts
 * import { Timelog, TimelogBusyError } from "@timelog/timelog";
 * using log = new Timelog({ busyPolicy: "raise", maintenance: "manual" });
 * try {
 *   log.append(1, "a");
 * } catch (err) {
 *   if (!(err instanceof TimelogBusyError)) throw err; // stored; relieve with log.flush()
 * }
 * ```
 */
export class TimelogBusyError extends TimelogError {
  override name = "TimelogBusyError";
  constructor(message: string) {
    super("EBUSY", Status.EBUSY, message);
  }
}

const NAMES: Record<number, TimelogErrorCode> = {
  1: "EOF",
  10: "EINVAL",
  20: "ESTATE",
  21: "EBUSY",
  30: "ENOMEM",
  31: "EOVERFLOW",
  40: "EIO",
  41: "ECORRUPT",
  42: "ELOCKED",
  90: "EINTERNAL",
};

/** The error for a non-OK native status; `detail` is the engine's own message, if any. */
export function statusError(status: number, action: string, detail = ""): TimelogError {
  const code = NAMES[status] ?? "EUNKNOWN";
  const text = detail ? `: ${detail}` : "";
  return new TimelogError(code, status, `Cannot ${action}: ${code} (status ${status})${text}`);
}

/** The error for using a closed Timelog, Snapshot or iterator. */
export function closedError(what: string, action: string): TimelogError {
  return new TimelogError("ECLOSED", 0, `Cannot ${action}: the ${what} is closed`);
}
