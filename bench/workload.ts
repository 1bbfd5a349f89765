/**
 * The benchmark data set, identical to bench/native/main.c's generator: ts += 1 per record;
 * past record 1024, with probability `ooo` a record moves back by 1 + rand % 1024; xorshift64.
 *
 * @module
 */

/** Pre-generated columns: timestamps and f64 payloads (= record index + 1). */
export interface Data {
  ts: Float64Array;
  values: Float64Array;
  /** Sum of all timestamps and of all values, for verification. */
  tsSum: number;
  valueSum: number;
}

/** Generates `n` records with out-of-order rate `ooo` from `seed` (BigInt xorshift64). */
export function generate(n: number, ooo: number, seed = 12345n): Data {
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  let s = seed === 0n ? 1n : seed;
  const M = 0xffff_ffff_ffff_ffffn;
  const next = (): bigint => {
    s ^= (s << 13n) & M;
    s ^= s >> 7n;
    s ^= (s << 17n) & M;
    return s;
  };
  const threshold = BigInt(Math.floor(ooo * 2 ** 32));
  let cursor = 0;
  let tsSum = 0;
  let valueSum = 0;
  for (let i = 0; i < n; i++) {
    cursor += 1;
    let t = cursor;
    if (i > 1024 && (next() & 0xffff_ffffn) < threshold) t -= 1 + Number(next() % 1024n);
    ts[i] = t;
    values[i] = i + 1;
    tsSum += t;
    valueSum += i + 1;
  }
  return { ts, values, tsSum, valueSum };
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
