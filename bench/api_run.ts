/**
 * The API benchmark in the runtime running it (Deno or Bun): f64 bulk ingest and columnar
 * scan, object-mode ingest and iteration, single appends, point lookups. Every figure is
 * verified by count and checksum. Prints a table, and with --json one JSON object last.
 *
 *   deno run --allow-ffi --allow-env --allow-read bench/api_run.ts [--records N] [--runs K] [--json]
 *   bun bench/api_run.ts [--records N] [--runs K] [--json]
 *
 * @module
 */
import { Timelog } from "../mod.ts";
import { generate, median } from "./workload.ts";

function arg(name: string, fallback: number): number {
  const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
    (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}
const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const JSON_OUT = argv.includes("--json");
const N = arg("--records", 2_000_000);
const RUNS = arg("--runs", 5);
const BATCH = 4096;
const runtime = "Deno" in globalThis ? "deno" : "bun";
const data = generate(N, 0.05);
let verified = true;

function check(what: string, ok: boolean): void {
  if (!ok) {
    verified = false;
    console.error(`FAILED verification: ${what}`);
  }
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function f64Log(): Timelog<number> {
  const log = new Timelog<number>({ values: "f64" });
  for (let off = 0; off < N; off += BATCH) {
    log.appendMany(data.ts.subarray(off, off + BATCH), data.values.subarray(off, off + BATCH));
  }
  log.flush();
  return log;
}

function benchF64(): { ingest: number; scan: number; columns: number } {
  const ingest: number[] = [];
  const scan: number[] = [];
  const columns: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let log!: Timelog<number>;
    ingest.push(N / time(() => (log = f64Log())) / 1000);
    check("f64 ingest count", log.size === N);
    log.compact();
    // Columnar full scan: batches of 4096 into reused typed arrays, checksummed as read.
    let n = 0, tsSum = 0, valueSum = 0;
    scan.push(N / time(() => {
      using it = log.all();
      for (let b = it.nextBatch(); b; b = it.nextBatch()) {
        const ts = b.ts, values = b.values as Float64Array;
        for (let i = 0; i < ts.length; i++) {
          tsSum += ts[i];
          valueSum += values[i];
        }
        n += ts.length;
      }
    }) / 1000);
    check("f64 scan checksum", n === N && tsSum === data.tsSum && valueSum === data.valueSum);
    // rangeColumns: one call returning freshly allocated columns of every record.
    let cols!: { ts: Float64Array; values: Float64Array };
    columns.push(N / time(() => {
      cols = log.rangeColumns(-(2 ** 53) + 1, 2 ** 53 - 1) as { ts: Float64Array; values: Float64Array };
    }) / 1000);
    check("rangeColumns length", cols.ts.length === N && cols.values[N - 1] > 0);
    log.close();
  }
  return { ingest: median(ingest), scan: median(scan), columns: median(columns) };
}

function benchObjects(): { ingest: number; iter: number; point: number } {
  const objs = Array.from({ length: N }, (_, i) => ({ id: i + 1 }));
  const ingest: number[] = [];
  const iter: number[] = [];
  const point: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const log = new Timelog<{ id: number }>();
    ingest.push(N / time(() => {
      for (let off = 0; off < N; off += BATCH) {
        log.appendMany(data.ts.subarray(off, off + BATCH), objs.slice(off, off + BATCH));
      }
      log.flush();
    }) / 1000);
    log.compact();
    let n = 0, idSum = 0;
    iter.push(N / time(() => {
      for (const [, v] of log) {
        n++;
        idSum += v.id;
      }
    }) / 1000);
    check("object iteration checksum", n === N && idSum === data.valueSum);
    const Q = 100_000;
    let found = 0;
    point.push(time(() => {
      for (let q = 0; q < Q; q++) found += log.at(data.ts[(q * 7919) % N]).length;
    }) * 1000 / Q);
    check("point lookups found", found >= Q);
    log.close();
  }
  return { ingest: median(ingest), iter: median(iter), point: median(point) };
}

function benchAppend(): number {
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const log = new Timelog<number>({ values: "f64" });
    const M = Math.min(N, 2_000_000);
    rates.push(M / time(() => {
      for (let i = 0; i < M; i++) log.append(i, i);
    }) / 1000);
    check("single appends count", log.size === M);
    log.close();
  }
  return median(rates);
}

const f64 = benchF64();
const obj = benchObjects();
const append = benchAppend();
const result = {
  runtime,
  records: N,
  runs: RUNS,
  f64_ingest_mrec_s: +f64.ingest.toFixed(2),
  f64_scan_mrec_s: +f64.scan.toFixed(2),
  f64_columns_mrec_s: +f64.columns.toFixed(2),
  obj_ingest_mrec_s: +obj.ingest.toFixed(2),
  obj_iter_mrec_s: +obj.iter.toFixed(2),
  append_mcalls_s: +append.toFixed(2),
  point_us: +obj.point.toFixed(3),
  verified,
};
console.log(`${runtime}: ${N} records, median of ${RUNS} runs`);
for (const [k, v] of Object.entries(result)) if (typeof v === "number") console.log(`  ${k.padEnd(20)} ${v}`);
if (JSON_OUT) console.log(JSON.stringify(result));
