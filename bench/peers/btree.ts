/**
 * sorted-btree 2.1.0 as a peer: `BTree<number, number[]>` with `(a, b) => a - b`, key =
 * timestamp, value = that timestamp's values in insertion order (a multimap).
 *
 * @module
 */
import * as btreeModule from "sorted-btree";
import type { Queries } from "./expect.ts";
import type { Peer } from "./peer.ts";
import type { Dataset } from "./shapes.ts";

/** The part of sorted-btree's BTree<number, number[]> used here. */
interface Tree {
  get(k: number): number[] | undefined;
  set(k: number, v: number[]): boolean;
  forEach(cb: (v: number[], k: number) => void): number;
  forRange(lo: number, hi: number, incHi: boolean, cb: (k: number, v: number[]) => void): number;
  deleteRange(lo: number, hi: number, incHi: boolean): number;
  minKey(): number | undefined;
}
type TreeCtor = new (entries: undefined, compare: (a: number, b: number) => number) => Tree;
// The class is `default` in Bun and `default.default` in Deno (which hands `module.exports` to
// a CommonJS default import), and the two type checkers disagree the same way.
let found: unknown = btreeModule;
while (typeof found !== "function") found = (found as { default: unknown }).default;
const BTree = found as TreeCtor;

/**
 * sorted-btree behind the {@link Peer} interface.
 *
 * @example
 * ```ts
 * import { usersShape } from "./shapes.ts";
 * const peer = new BTreePeer();
 * peer.ingest(usersShape(1000), 100);
 * console.log(peer.size()); // 1000
 * ```
 */
export class BTreePeer implements Peer {
  tree: Tree = new BTree(undefined, (a, b) => a - b);

  /** Record by record: the tree has no bulk insert (batches change nothing). */
  ingest(d: Dataset, _batch: number): void {
    const tree = this.tree, ts = d.ts, vs = d.values;
    for (let i = 0; i < ts.length; i++) {
      const arr = tree.get(ts[i]);
      if (arr) arr.push(vs[i]);
      else tree.set(ts[i], [vs[i]]);
    }
  }

  scan(acc: Float64Array, t0: number): void {
    let n = 0, t = 0, v = 0, bad = 0, prev = -Infinity;
    this.tree.forEach((arr, k) => {
      if (k < prev) bad++;
      prev = k;
      for (let j = 0; j < arr.length; j++) v += arr[j];
      n += arr.length, t += (k - t0) * arr.length;
    });
    acc[0] += n, acc[1] += v, acc[2] += t, acc[3] += bad;
  }

  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const visit = (_k: number, arr: number[]): void => {
      for (let j = 0; j < arr.length; j++) acc[1] += arr[j];
      acc[0] += arr.length;
    };
    for (let i = lo; i < hi; i++) this.tree.forRange(qs.t[i], qs.t[i] + qs.w, false, visit);
  }

  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    for (let i = lo; i < hi; i++) {
      const arr = this.tree.get(qs.t[i]) ?? [];
      for (let j = 0; j < arr.length; j++) acc[1] += arr[j];
      acc[0] += arr.length;
    }
  }

  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    let c = 0;
    const visit = (_k: number, arr: number[]): void => void (c += arr.length);
    for (let i = lo; i < hi; i++) this.tree.forRange(qs.t[i], qs.t[i] + qs.w, false, visit);
    acc[0] += c;
  }

  retain(cutoff: number): void {
    const min = this.tree.minKey();
    if (min !== undefined) this.tree.deleteRange(min, cutoff, false);
  }

  size(): number {
    let n = 0;
    this.tree.forEach((arr) => void (n += arr.length));
    return n;
  }

  close(): void {}
}
