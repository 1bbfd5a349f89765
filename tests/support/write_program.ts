// Deterministic write programs for durable logs, and the model that replays them.
//
// A program is an endless sequence of write calls generated from a seed: single appends,
// batches (a few of thousands of records, which the WAL splits into chunks), range deletes and
// retention. Every op is exactly one write call of the log, so it takes exactly one sequence
// number: after a crash, `stats().seq` of the reopened log says how many ops of the program it
// holds, and the model replays that prefix to say what it must hold. Used by crash_test.ts (in
// the parent and in tests/fixtures/crash_child.ts) and durable_test.ts.
import type { Timelog, ValueCodec } from "../../mod.ts";

/**
 * The program's numbers stored as byte values (crash_test.ts "json" mode): JSON text with a
 * padding of 0-60 bytes that the decoder checks, so a reopened log's values are compared
 * byte for byte through the numbers the model holds.
 */
export const NUMBER_AS_BYTES: ValueCodec<number> = {
  encode: (v) => new TextEncoder().encode(JSON.stringify({ v, pad: "p".repeat(v % 61) })),
  decode: (b) => {
    const o = JSON.parse(new TextDecoder().decode(b)) as { v: number; pad: string };
    if (o.pad !== "p".repeat(o.v % 61)) throw new Error(`value ${o.v}: damaged padding`);
    return o.v;
  },
};

/** One write call. */
export type Op =
  | { readonly kind: "append"; readonly ts: number; readonly v: number }
  | { readonly kind: "many"; readonly ts: number[]; readonly v: number[] }
  | { readonly kind: "delete"; readonly t1: number; readonly t2: number }
  | { readonly kind: "before"; readonly cutoff: number };

/** mulberry32: a small deterministic PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records kept behind the newest timestamp by the program's retention deletes. */
export const RETENTION = 20_000;

/**
 * The ops of the program (seed, t0), in order. Timestamps start at t0 and advance by 0-2 a
 * record (duplicates), 10% of records land up to 40 behind (out of order); values are unique
 * integers (seed * 2^20 + k), so order among equal timestamps is checked too.
 */
export class WriteProgram {
  readonly #rand: () => number;
  #t: number;
  #k = 0;
  #cutoff: number;
  readonly #base: number;

  constructor(seed: number, t0: number) {
    this.#rand = prng(seed);
    this.#t = t0;
    this.#cutoff = t0 - RETENTION;
    this.#base = (seed % 2 ** 20) * 2 ** 20;
  }

  #int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  #record(): [number, number] {
    this.#t += this.#int(3);
    const late = this.#rand() < 0.1 ? this.#int(41) : 0;
    return [this.#t - late, this.#base + this.#k++ % 2 ** 20];
  }

  next(): Op {
    const r = this.#rand();
    if (r < 0.55) {
      const [ts, v] = this.#record();
      return { kind: "append", ts, v };
    }
    if (r < 0.93) {
      const n = this.#rand() < 0.01 ? 2000 + this.#int(4000) : 1 + this.#int(64);
      const ts: number[] = [];
      const v: number[] = [];
      for (let i = 0; i < n; i++) {
        const [a, b] = this.#record();
        ts.push(a);
        v.push(b);
      }
      return { kind: "many", ts, v };
    }
    if (r < 0.98) {
      const t1 = this.#t - this.#int(100);
      return { kind: "delete", t1, t2: t1 + 1 + this.#int(30) };
    }
    this.#cutoff = Math.max(this.#cutoff + 1, this.#t - RETENTION);
    return { kind: "before", cutoff: this.#cutoff };
  }
}

/** Applies one op to a log (one write call). */
export function applyOp(log: Timelog<number>, op: Op): void {
  switch (op.kind) {
    case "append":
      return log.append(op.ts, op.v);
    case "many":
      return log.appendMany(op.ts, op.v);
    case "delete":
      return log.delete(op.t1, op.t2);
    case "before":
      return log.deleteBefore(op.cutoff);
  }
}

/**
 * The reference: records in insertion order. A delete hides exactly the records written before
 * it, so filtering them out at delete time is exact.
 */
export class WriteModel {
  ts: number[] = [];
  v: number[] = [];

  apply(op: Op): void {
    switch (op.kind) {
      case "append":
        this.ts.push(op.ts);
        this.v.push(op.v);
        return;
      case "many":
        for (let i = 0; i < op.ts.length; i++) {
          this.ts.push(op.ts[i]);
          this.v.push(op.v[i]);
        }
        return;
      case "delete":
        return this.#keep((t) => t < op.t1 || t >= op.t2);
      case "before":
        return this.#keep((t) => t >= op.cutoff);
    }
  }

  #keep(pred: (t: number) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.ts.length; i++) {
      if (pred(this.ts[i])) {
        this.ts[n] = this.ts[i];
        this.v[n] = this.v[i];
        n++;
      }
    }
    this.ts.length = n;
    this.v.length = n;
  }

  /** What a log must return: sorted by timestamp, ties in insertion order. */
  visible(): { ts: number[]; v: number[] } {
    const idx = this.ts.map((_, i) => i);
    idx.sort((a, b) => this.ts[a] - this.ts[b] || a - b);
    return { ts: idx.map((i) => this.ts[i]), v: idx.map((i) => this.v[i]) };
  }

  copy(): WriteModel {
    const m = new WriteModel();
    m.ts = [...this.ts];
    m.v = [...this.v];
    return m;
  }
}

/** Where a log's content first differs from the model's, or null when they are equal. */
export function diffLog(log: Timelog<number>, model: WriteModel): string | null {
  const want = model.visible();
  const got = log.rangeColumns(-Infinity, Infinity);
  const ts = got.ts as Float64Array;
  const v = got.values as ArrayLike<number>;
  const n = Math.min(ts.length, want.ts.length);
  for (let i = 0; i < n; i++) {
    if (ts[i] !== want.ts[i] || v[i] !== want.v[i]) {
      return `record ${i}: got [${ts[i]}, ${v[i]}], want [${want.ts[i]}, ${want.v[i]}]`;
    }
  }
  if (ts.length !== want.ts.length) {
    return `got ${ts.length} records, want ${want.ts.length}`;
  }
  return null;
}
