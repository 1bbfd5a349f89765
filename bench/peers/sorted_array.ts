/**
 * The hand-written peer: two growable Float64Arrays kept sorted on ingest, the twenty lines a
 * user writes instead of a library. An in-order record is appended; a late one is inserted
 * after its equals by binary search + `copyWithin` (O(n) per late record: it shifts every
 * record newer than it, about lateness × rate records).
 *
 * @module
 */
import type { Queries } from "./expect.ts";
import { type Peer, sumBatch } from "./peer.ts";
import type { Dataset } from "./shapes.ts";

/** Records per view a scan hands to the consumer (Timelog's batch size). */
const SCAN_VIEW = 4096;

/**
 * A sorted pair of Float64Arrays behind the {@link Peer} interface.
 *
 * @example
 * ```ts
 * import { usersShape } from "./shapes.ts";
 * const peer = new SortedArrayPeer();
 * peer.ingest(usersShape(1000), 100);
 * console.log(peer.size(), peer.bound(peer.ts[0])); // 1000 0
 * ```
 */
export class SortedArrayPeer implements Peer {
  ts: Float64Array = new Float64Array(1024);
  vs: Float64Array = new Float64Array(1024);
  n = 0;

  /** The first index whose timestamp is >= t (strict: > t). */
  bound(t: number, strict = false): number {
    const a = this.ts;
    let lo = 0, hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < t || (strict && a[mid] === t)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  ingest(d: Dataset, batch: number): void {
    for (let off = 0; off < d.ts.length; off += batch) this.insert(d.ts, d.values, off, batch);
  }

  /** Inserts records [off, off + len) of the columns (one write call of a batch). */
  insert(ts: Float64Array, vs: Float64Array, off: number, len: number): void {
    const end = Math.min(ts.length, off + len);
    if (this.n + end - off > this.ts.length) {
      const cap = Math.max(2 * this.ts.length, this.n + end - off);
      const t2 = new Float64Array(cap), v2 = new Float64Array(cap);
      t2.set(this.ts.subarray(0, this.n)), v2.set(this.vs.subarray(0, this.n));
      this.ts = t2, this.vs = v2;
    }
    const T = this.ts, V = this.vs;
    for (let i = off, n = this.n; i < end; i++, this.n = ++n) {
      if (n === 0 || ts[i] >= T[n - 1]) {
        T[n] = ts[i], V[n] = vs[i];
      } else {
        const p = this.bound(ts[i], true); // after its equals: duplicates keep insertion order
        T.copyWithin(p + 1, p, n), V.copyWithin(p + 1, p, n);
        T[p] = ts[i], V[p] = vs[i];
      }
    }
  }

  /**
   * Through the consumer Timelog's batches go to (`sumBatch`), over 4096-record views: the same
   * per-record code for both. A single loop over all records, called once per run, is compiled
   * by on-stack replacement only, and V8 (Deno) drops that code at a major collection: each run
   * then scanned in the lower tiers at 10-200 Mrec/s instead of ~900 (Bun: ~1100 either way).
   */
  scan(acc: Float64Array, t0: number): void {
    const T = this.ts, V = this.vs, n = this.n;
    for (let off = 0; off < n; off += SCAN_VIEW) {
      const end = Math.min(n, off + SCAN_VIEW);
      sumBatch(T.subarray(off, end), V.subarray(off, end), t0, acc);
    }
  }

  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const T = this.ts, V = this.vs, n = this.n;
    for (let i = lo; i < hi; i++) {
      const end = qs.t[i] + qs.w;
      let j = this.bound(qs.t[i]), s = 0, c = 0;
      for (; j < n && T[j] < end; j++, c++) s += V[j];
      acc[0] += c, acc[1] += s;
    }
  }

  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const T = this.ts, V = this.vs, n = this.n;
    for (let i = lo; i < hi; i++) {
      for (let j = this.bound(qs.t[i]); j < n && T[j] === qs.t[i]; j++) acc[0]++, acc[1] += V[j];
    }
  }

  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) acc[0] += this.bound(qs.t[i] + qs.w) - this.bound(qs.t[i]);
  }

  /** Copies the survivors to the front (the capacity stays). */
  retain(cutoff: number): void {
    const p = this.bound(cutoff);
    this.ts.copyWithin(0, p, this.n), this.vs.copyWithin(0, p, this.n);
    this.n -= p;
  }

  size(): number {
    return this.n;
  }

  close(): void {}
}
