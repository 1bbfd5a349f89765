// The read path's compiled code survives a full garbage collection that finds no iterator
// alive (src/iter.ts, SHAPE_ANCHORS): Deno's V8 used to drop the shapes of the per-read
// objects then, and with them every optimized function of the read path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog, TimelogIterator } from "../mod.ts";

type Fn = (...args: unknown[]) => unknown;

/** The runtime's JIT, for one function: get it compiled by an optimizing tier, then ask whether
 * that compiled code is still the function's. */
interface Jit {
  optimize(fn: Fn, call: () => void): void;
  optimized(fn: Fn): boolean;
  gc(): void;
}

async function jit(): Promise<Jit> {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) {
    const name = "bun:jsc"; // not a static import: Deno would try to resolve it
    const jsc = await import(name) as {
      optimizeNextInvocation(fn: Fn): void;
      numberOfDFGCompiles(fn: Fn): number;
    };
    const bun = g.Bun;
    let compiles = 0;
    return {
      optimize(fn, call) {
        for (let i = 0; i < 5000 && jsc.numberOfDFGCompiles(fn) === 0; i++) {
          if (i % 100 === 0) jsc.optimizeNextInvocation(fn); // compiled concurrently
          call();
        }
        compiles = jsc.numberOfDFGCompiles(fn);
      },
      // The same compilation is still in use: nothing was thrown away and compiled again.
      optimized: (fn) => compiles > 0 && jsc.numberOfDFGCompiles(fn) === compiles,
      gc: () => bun.gc(true),
    };
  }
  assert.ok(g.gc, "run Deno with --v8-flags=--expose-gc,--allow-natives-syntax");
  const gc = g.gc;
  // %-natives are V8 syntax, so they live in strings compiled at run time.
  const native = (body: string) => new Function("f", body) as (f: Fn) => number;
  const prepare = native("%PrepareFunctionForOptimization(f); return 0;");
  const next = native("%OptimizeFunctionOnNextCall(f); return 0;");
  const status = native("return %GetOptimizationStatus(f);");
  // V8's OptimizationStatus: kOptimized | kMaglevved | kTurboFanned.
  const OPTIMIZED = 16 | 32 | 64;
  return {
    optimize(fn, call) {
      prepare(fn);
      for (let i = 0; i < 50; i++) call();
      next(fn);
      call();
    },
    optimized: (fn) => (status(fn) & OPTIMIZED) !== 0,
    gc,
  };
}

/** Reads a few short ranges; nothing it makes outlives the call. */
function readSome(log: Timelog<number>): number {
  let n = 0;
  for (let t = 0; t < 64; t += 8) {
    const it = log.range(t, t + 8);
    for (let b = it.nextBatch(); b; b = it.nextBatch()) n += b.ts.length;
  }
  return n;
}

/** Runs fn on a new log of 1,000 records, closed when fn returns (and then unreachable). */
function onNewLog<R>(fn: (log: Timelog<number>) => R): R {
  using log = new Timelog<number>({ values: "f64" });
  const ts = Array.from({ length: 1000 }, (_, i) => i);
  log.appendMany(ts, ts.map((t) => t / 2));
  return fn(log);
}

/** fn, just optimized, stays compiled through two full collections and the reads of `again`
 * (which must find 64 records). */
function staysCompiled(j: Jit, fn: Fn, name: string, again: () => number): void {
  assert.ok(j.optimized(fn), `${name} was optimized`);
  j.gc();
  j.gc();
  assert.ok(j.optimized(fn), `${name} is still optimized after a full collection`);
  assert.equal(again(), 64);
  assert.ok(j.optimized(fn), `${name} is still optimized after the next reads`);
}

test("a full collection with no iterator alive keeps the read path compiled", async () => {
  const j = await jit();
  // No iterator may be alive at the collection, as in a program between two reads: the
  // function is taken from the class, not from an instance.
  const nextBatch = TimelogIterator.prototype.nextBatch as Fn;
  onNewLog((log) => {
    j.optimize(nextBatch, () => readSome(log));
    staysCompiled(j, nextBatch, "nextBatch", () => readSome(log));
  });
});

// A caller's loop over nextBatch() results is compiled against the shape of the frozen
// views a short read returns. Those views live in their log's batch pool, so when the logs
// that read had closed (another log, which had not read yet, still open), a full collection
// found none alive: Deno's V8 dropped the frozen shape and threw away the caller's compiled
// code. The peers bench, which opens a new log per run, read ~100-record ranges at 1.0-1.6
// µs a query instead of 0.55 for it.
test("a full collection after the reading logs closed keeps the caller's loop compiled", async () => {
  const j = await jit();
  using idle = new Timelog<number>({ values: "f64" }); // open throughout; never reads
  idle.append(1, 1);
  const loop = readSome as Fn;
  onNewLog((log) => j.optimize(loop, () => readSome(log)));
  staysCompiled(j, loop, "the read loop", () => onNewLog(readSome));
});

/** Takes a snapshot per query, as a caller wanting several reads to agree does. */
function snapshotReads(log: Timelog<number>): number {
  let n = 0;
  for (let t = 0; t < 64; t += 8) {
    using snap = log.snapshot();
    const it = snap.range(t, t + 8);
    for (let b = it.nextBatch(); b; b = it.nextBatch()) n += b.ts.length;
  }
  return n;
}

// The shapes of Snapshot and its native state went as the iterators' did (src/snapshot.ts,
// SNAPSHOT_ANCHOR): a collection with no snapshot alive threw away such a loop's compiled code.
test("a full collection with no snapshot alive keeps a snapshot-per-query loop compiled", async () => {
  const j = await jit();
  const loop = snapshotReads as Fn;
  onNewLog((log) => {
    j.optimize(loop, () => snapshotReads(log));
    staysCompiled(j, loop, "the snapshot loop", () => snapshotReads(log));
  });
});
