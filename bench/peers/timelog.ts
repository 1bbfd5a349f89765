/**
 * Timelog as a peer: `{ values: "f64" }` with the default background maintenance; writes with
 * `appendMany` of column slices, reads through the public API only.
 *
 * @module
 */
import { Timelog } from "../../mod.ts";
import type { Queries } from "./expect.ts";
import { type Peer, sumBatch } from "./peer.ts";
import type { Dataset } from "./shapes.ts";

/**
 * Timelog behind the {@link Peer} interface.
 *
 * @example
 * ```ts
 * import { usersShape } from "./shapes.ts";
 * using peer = new TimelogPeer({ flush: false });
 * peer.ingest(usersShape(1000), 100);
 * console.log(peer.size()); // 1000
 * ```
 */
export class TimelogPeer implements Peer {
  readonly log: Timelog<number> = new Timelog<number>({ values: "f64" });
  readonly #flush: boolean;

  /** `flush`: end the ingest with `flush()` (the baseline shape; a user's loop does not). */
  constructor(opts: { flush: boolean }) {
    this.#flush = opts.flush;
  }

  ingest(d: Dataset, batch: number): void {
    const log = this.log;
    for (let off = 0; off < d.ts.length; off += batch) {
      log.appendMany(d.ts.subarray(off, off + batch), d.values.subarray(off, off + batch));
    }
    if (this.#flush) log.flush();
  }

  scan(acc: Float64Array, t0: number): void {
    using it = this.log.all();
    for (let b = it.nextBatch(); b; b = it.nextBatch()) {
      sumBatch(b.ts, b.values as Float64Array, t0, acc);
    }
  }

  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) {
      // Read to the end, which closes the iterator: `using` would add 0.3-0.5 µs a query in
      // Deno 2.9 (its disposal protocol), more than the engine's read.
      // The consumer every peer's range runs: count and sum the values (the scan's consumer,
      // sumBatch, also sums timestamps and checks their order: more work than the others do).
      const it = this.log.range(qs.t[i], qs.t[i] + qs.w);
      for (let b = it.nextBatch(); b; b = it.nextBatch()) {
        const vs = b.values as Float64Array;
        let s = 0;
        for (let j = 0; j < vs.length; j++) s += vs[j];
        acc[0] += vs.length, acc[1] += s;
      }
    }
  }

  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) {
      const vs = this.log.at(qs.t[i]);
      for (let j = 0; j < vs.length; j++) acc[1] += vs[j];
      acc[0] += vs.length;
    }
  }

  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) acc[0] += this.log.count(qs.t[i], qs.t[i] + qs.w);
  }

  retain(cutoff: number): void {
    this.log.deleteBefore(cutoff);
  }

  size(): number {
    return this.log.count();
  }

  close(): void {
    this.log.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
