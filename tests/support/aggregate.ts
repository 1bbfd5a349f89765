// The JavaScript reference of Timelog.aggregate: a loop over records in read order (sorted by
// ts, ties in insertion order), with the documented rules (src/series.ts): count includes NaN,
// sum/mean IEEE, min/max as Math.min/Math.max (NaN wins, -0 < +0), first/last as stored.

/** Columns by op name, the bucket starts, and per bucket the sum of |v| (for sum checks). */
export interface AggregateRef {
  start: number[];
  count: number[];
  sum: number[];
  min: number[];
  max: number[];
  mean: number[];
  first: number[];
  last: number[];
  abs: number[];
}

/** Buckets of `every` aligned on `origin` over [t1, t2) ∩ [first record, last record]. */
export function aggregateRef(
  sorted: ReadonlyArray<readonly [number, number]>,
  t1: number,
  t2: number,
  every: number,
  origin: number,
): AggregateRef {
  const inRange = sorted.filter(([t]) => t >= t1 && t < t2);
  const r: AggregateRef = {
    start: [],
    count: [],
    sum: [],
    min: [],
    max: [],
    mean: [],
    first: [],
    last: [],
    abs: [],
  };
  if (inRange.length === 0) return r;
  const s0 = origin + Math.floor((inRange[0][0] - origin) / every) * every;
  const nb = Math.floor((inRange[inRange.length - 1][0] - s0) / every) + 1;
  for (let k = 0; k < nb; k++) {
    r.start.push(s0 + k * every);
    r.count.push(0);
    r.sum.push(0);
    r.abs.push(0);
    for (const col of [r.min, r.max, r.mean, r.first, r.last]) col.push(NaN);
  }
  for (const [t, v] of inRange) {
    const k = Math.floor((t - s0) / every);
    if (r.count[k] === 0) {
      r.min[k] = r.max[k] = r.first[k] = v;
    } else {
      r.min[k] = Math.min(r.min[k], v);
      r.max[k] = Math.max(r.max[k], v);
    }
    r.last[k] = v;
    r.sum[k] += v;
    r.abs[k] += Math.abs(v);
    r.count[k]++;
  }
  r.count.forEach((c, k) => (r.mean[k] = c ? r.sum[k] / c : NaN));
  return r;
}

/** Sums agree: the same bits, both NaN, or within rounding of a different summation order
 * (relative to the sum of magnitudes; an overflow in one order may not happen in another). */
export function sameSum(got: number, want: number, abs: number): boolean {
  if (Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))) return true;
  if (!Number.isFinite(abs)) return true;
  return Math.abs(got - want) <= abs * 1e-12;
}
