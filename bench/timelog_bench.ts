/**
 * `deno bench` over the binding's hot paths, so regressions show in ordinary runs:
 *   deno bench --allow-ffi --allow-env --allow-read bench/      (or ./dev bench deno)
 * The full figures with verification and both runtimes come from `./dev bench api`.
 *
 * @module
 */
import { Timelog } from "../mod.ts";
import { generate } from "./workload.ts";

const bench = (globalThis as unknown as {
  Deno: { bench(name: string, fn: () => void): void };
}).Deno.bench;

const N = 200_000;
const data = generate(N, 0.05);
const objs = Array.from({ length: 4096 }, (_, i) => ({ i }));

const f64 = new Timelog<number>({ values: "f64" });
f64.appendMany(data.ts, data.values);
f64.compact();
const obj = new Timelog<{ i: number }>();
for (let off = 0; off < N; off += 4096) obj.appendMany(data.ts.subarray(off, off + 4096), objs);
obj.compact();

let t = 0;
const sink = new Timelog<number>({ values: "f64" });
bench("append(ts, number) x1000", () => {
  for (let i = 0; i < 1000; i++) sink.append(t++, i);
});

bench("appendMany 4096 f64 records", () => {
  sink.appendMany(data.ts.subarray(0, 4096), data.values.subarray(0, 4096));
});

bench("range of ~100 records, iterated (object mode)", () => {
  const from = (t++ * 7919) % (N - 200);
  let n = 0;
  for (const _ of obj.range(from, from + 100)) n++;
});

bench("rangeColumns of ~100 records (f64 mode)", () => {
  const from = (t++ * 7919) % (N - 200);
  f64.rangeColumns(from, from + 100);
});

bench("at(ts) point lookup", () => {
  obj.at(data.ts[(t++ * 7919) % N]);
});

bench("snapshot() after a write", () => {
  sink.append(t++, 1);
  sink.snapshot().close();
});
