// Table helpers for tests/bad_input_test.ts and tests/bad_input_closed_test.ts: run one bad
// call, check the error class and that its message names the argument, and check that the log
// is unchanged (contents, sequence number, held values, pins; tombstone counts
// move under background maintenance, so they are not compared).
import assert from "node:assert/strict";
import type { Reader, Timelog, Ts } from "../../mod.ts";

/** One bad call: the error class it must throw and the argument its message must name. */
export interface BadCase {
  readonly label: string;
  readonly err: typeof TypeError | typeof RangeError | (new (...args: never[]) => Error);
  readonly arg: string;
  /** For TimelogError: the code it must carry. */
  readonly code?: string;
  readonly call: (r: Reader<unknown, Ts>) => unknown;
}

let tried = 0;

/** What must not change when a call is rejected. */
export function fingerprint(log: Timelog<unknown, Ts>): unknown {
  const s = log.stats();
  return {
    all: [...log.all()],
    size: log.size,
    seq: s.seq,
    records: s.records,
    heldValues: s.heldValues,
    retiredValues: s.retiredValues,
    pins: s.pins,
  };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** True when `message` mentions `arg` as a whole token. */
export function names(message: string, arg: string): boolean {
  return new RegExp(`(?<![\\w])${escape(arg)}(?![\\w])`).test(message);
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : `no error (${String(e)})`;
}

/** Runs one case; returns a failure description, or null. */
export function tryBad(
  log: Timelog<unknown, Ts> | null,
  r: Reader<unknown, Ts> | null,
  c: BadCase,
): string | null {
  const before = log ? fingerprint(log) : null;
  let caught: unknown = "returned normally";
  try {
    c.call(r as Reader<unknown, Ts>);
  } catch (e) {
    caught = e;
  }
  tried++;
  if (!(caught instanceof c.err)) {
    return `${c.label}: expected ${c.err.name}, got ${describe(caught)}`;
  }
  const code = (caught as { code?: unknown }).code;
  if (c.code !== undefined && code !== c.code) {
    return `${c.label}: expected code ${c.code}, got ${String(code)}`;
  }
  if (!names(caught.message, c.arg)) {
    return `${c.label}: message "${caught.message}" does not name ${c.arg}`;
  }
  if (log) {
    try {
      assert.deepEqual(fingerprint(log), before);
    } catch {
      return `${c.label}: the log changed`;
    }
  }
  return null;
}

/** Runs a table of cases against one log/reader; fails listing every case that failed. */
export function expectBad(
  log: Timelog<unknown, Ts> | null,
  r: Reader<unknown, Ts> | null,
  ...cases: BadCase[]
): void {
  const failures = cases.map((c) => tryBad(log, r, c)).filter((f) => f !== null);
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${cases.length} bad inputs misbehaved:\n${failures.join("\n")}`,
  );
}

/** Bad inputs tried so far in this process (files may share it: take a baseline). */
export function triedSoFar(): number {
  return tried;
}

/** Prints the one-line count of bad inputs a file tried since `base`; returns it. */
export function report(file: string, base: number): number {
  console.log(`${file}: ${tried - base} bad inputs tried`);
  return tried - base;
}
