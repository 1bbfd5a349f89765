/**
 * A TTL cache built on retention.
 *
 * Entries live in a `Map`; a Timelog indexes them by expiry time. Expiring is one range read of
 * everything due (`until(now)`) and one `deleteBefore(now)` — a tombstone, not a scan — so a
 * sweep costs what expires, however many entries the cache holds. Setting a key again gives it
 * a new expiry; the stale index record is recognised (its expiry no longer matches) and skipped.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/ttl_cache.ts
 *   bun examples/ttl_cache.ts
 *
 * @module
 */
import { Timelog } from "@timelog/timelog";

/** A cache whose entries expire `ttl` time units after they were last set. */
export class TtlCache<V> implements Disposable {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #byExpiry = new Timelog<string>({ maintenance: "background" });
  readonly #ttl: number;

  constructor(ttl: number) {
    this.#ttl = ttl;
  }

  /** Stores `value` under `key`, expiring at `now + ttl`. */
  set(key: string, value: V, now: number): void {
    const expires = now + this.#ttl;
    this.#entries.set(key, { value, expires });
    this.#byExpiry.append(expires, key);
  }

  /** The live value of `key` at time `now`, or undefined. */
  get(key: string, now: number): V | undefined {
    const e = this.#entries.get(key);
    return e !== undefined && e.expires > now ? e.value : undefined;
  }

  /** Removes every entry that expired at or before `now`; returns their keys in expiry order. */
  sweep(now: number): string[] {
    const expired: string[] = [];
    for (const [expires, key] of this.#byExpiry.until(now + 1)) {
      if (this.#entries.get(key)?.expires === expires) { // not set again since
        this.#entries.delete(key);
        expired.push(key);
      }
    }
    this.#byExpiry.deleteBefore(now + 1); // retention: one tombstone
    return expired;
  }

  /** Live entries (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Index records still stored (each `set` adds one; sweeps remove the due ones). */
  get indexed(): number {
    return this.#byExpiry.size;
  }

  [Symbol.dispose](): void {
    this.#byExpiry.close();
  }
}

/** One step of the scripted workload: a set, a get, or a sweep, at time `t`. */
export type CacheOp =
  | { op: "set"; t: number; key: string; value: number }
  | { op: "get"; t: number; key: string }
  | { op: "sweep"; t: number };

/** A seeded workload over `keys` keys: sets, gets, and a sweep every 100 ms of clock. */
export function workload(steps: number, keys = 50, seed = 11): CacheOp[] {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const ops: CacheOp[] = [];
  let t = 0;
  for (let i = 0; i < steps; i++) {
    const next = t + Math.floor(rand() * 20);
    if (Math.floor(next / 100) > Math.floor(t / 100)) ops.push({ op: "sweep", t: next });
    t = next;
    const key = `k${Math.floor(rand() * keys)}`;
    if (rand() < 0.4) ops.push({ op: "set", t, key, value: i });
    else ops.push({ op: "get", t, key });
  }
  return ops;
}

/** Runs the workload; returns per-sweep lines and the hit/miss totals. */
export function runCache(
  ops: CacheOp[],
  ttl: number,
): { lines: string[]; hits: number; misses: number } {
  using cache = new TtlCache<number>(ttl);
  const lines: string[] = [];
  let hits = 0, misses = 0;
  for (const o of ops) {
    if (o.op === "set") cache.set(o.key, o.value, o.t);
    else if (o.op === "get") cache.get(o.key, o.t) === undefined ? misses++ : hits++;
    else {
      const gone = cache.sweep(o.t);
      lines.push(
        `t=${o.t}: expired ${gone.length} [${gone.slice(0, 4).join(" ")}${
          gone.length > 4 ? " ..." : ""
        }]` +
          ` live=${cache.size} indexed=${cache.indexed}`,
      );
    }
  }
  return { lines, hits, misses };
}

if (import.meta.main) {
  const ops = workload(2000);
  const { lines, hits, misses } = runCache(ops, 1000);
  console.log(`TTL cache: ${ops.length} operations, ttl 1000 ms`);
  for (const line of lines.slice(0, 12)) console.log(line);
  console.log(`... ${lines.length} sweeps; hits=${hits} misses=${misses}`);
}
