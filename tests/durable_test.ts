// Durable logs through the binding: what a reopen restores, the durability modes, sync()
// promises (resolved by the doorbell, rejected on a failed log, settled by close), checkpoints,
// the directory lock (in this process and from another), bad options, corrupt files and
// repair. Real crashes are in crash_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Timelog, TimelogError, type TimelogOptions } from "../mod.ts";
import { applyOp, diffLog, type Op, WriteModel, WriteProgram } from "./support/write_program.ts";

const isDeno = "Deno" in globalThis;

/** Runs fn with a path in a fresh temporary directory (removed afterwards); the path itself
 * does not exist yet, so the log creates it. */
async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "timelog-durable-"));
  try {
    await fn(join(root, "log"));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function open(dir: string, extra: TimelogOptions = {}): Timelog<number> {
  return new Timelog<number>({ path: dir, values: "f64", ...extra });
}

function childArgs(fixture: string, ...args: string[]): string[] {
  const path = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const flags = ["run", "--allow-ffi", "--allow-env", "--allow-read", "--allow-write"];
  return [...(isDeno ? flags : []), path, ...args];
}

/** Asserts that fn throws a TimelogError with this code (and message), and returns it. */
function throwsCode(fn: () => unknown, code: string, message?: RegExp): TimelogError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TimelogError, `expected a TimelogError, got ${err}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a TimelogError ${code}`);
}

/** Writes ops to the log and the model alike. */
function write(log: Timelog<number>, model: WriteModel, ops: Iterable<Op>): void {
  for (const op of ops) {
    applyOp(log, op);
    model.apply(op);
  }
}

function* take(program: WriteProgram, n: number): Generator<Op> {
  for (let i = 0; i < n; i++) yield program.next();
}

/** Ties across calls and inside one batch, then deletes that hide only older records. */
const TIES: Op[] = [
  { kind: "append", ts: 5e9, v: 1 },
  { kind: "many", ts: [5e9, 4e9, 5e9], v: [2, 3, 4] },
  { kind: "append", ts: 5e9, v: 5 },
  { kind: "delete", t1: 4e9, t2: 4e9 + 1 },
  { kind: "append", ts: 4e9, v: 6 },
];

test("a reopened durable log holds its records, deletes, equal-timestamp order and seq", async () => {
  await withDir((dir) => {
    const model = new WriteModel();
    const program = new WriteProgram(42, 1_000);
    let seq = 0;
    for (const round of [0, 1, 2]) {
      using log = open(dir, { maintenance: "manual" });
      assert.equal(log.stats().seq, seq, `round ${round}: seq restored`);
      assert.equal(diffLog(log, model), null, `round ${round}: records restored`);
      if (round === 1) write(log, model, TIES);
      write(log, model, take(program, 400));
      if (round === 1) log.checkpoint(); // round 2 opens from segment files + the WAL after
      if (round === 2) log.compact(); // flushed, compacted, tombstones applied: WAL only
      write(log, model, take(program, 100));
      assert.equal(diffLog(log, model), null);
      assert.equal(log.stats().seq, seq + 500 + (round === 1 ? TIES.length : 0));
      seq = log.stats().seq;
    }
    using log = open(dir);
    assert.equal(log.stats().seq, seq);
    assert.equal(log.durableSeq, seq);
    assert.equal(diffLog(log, model), null);
    assert.deepEqual(log.at(5e9), [1, 2, 4, 5]);
    assert.deepEqual(log.at(4e9), [6]);
    log.validate();
  });
});

test('durability "sync": each write is durable when it returns', async () => {
  await withDir(async (dir) => {
    using log = open(dir, { durability: "sync" });
    assert.equal(log.options.durability, "sync");
    for (let i = 1; i <= 20; i++) {
      if (i % 2) log.append(i, i / 2);
      else log.appendMany([i, i], [1, 2]);
      assert.equal(log.durableSeq, i);
      assert.equal(log.stats().durableSeq, i);
    }
    log.delete(3);
    assert.equal(log.durableSeq, 21);
    await log.sync();
  });
});

test('durability "interval" and "none": await sync() makes every earlier write durable', async () => {
  for (const durability of ["interval", "none"] as const) {
    await withDir(async (dir) => {
      // An interval far longer than the test: only sync() can make the writes durable.
      using log = open(dir, { durability, syncIntervalMs: 3_600_000 });
      assert.equal(log.options.durability, durability);
      for (let round = 1; round <= 5; round++) {
        log.appendMany([round, round], [round, -round]);
        log.append(round, 0);
        const seq = log.stats().seq;
        assert.ok(log.durableSeq < seq, `${durability}: not durable before sync()`);
        await log.sync();
        assert.ok(log.durableSeq >= seq, `${durability}: durable after sync()`);
      }
    });
  }
});

test('the default durability is "interval": writes become durable within syncIntervalMs', async () => {
  await withDir(async (dir) => {
    using log = open(dir, { syncIntervalMs: 5 });
    assert.equal(log.options.durability, "interval");
    assert.equal(log.options.path, dir);
    log.append(1, 1);
    const deadline = Date.now() + 5_000;
    while (log.durableSeq < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(log.durableSeq, 1);
  });
});

test("concurrent sync() promises all resolve; close() settles the pending ones", async () => {
  await withDir(async (dir) => {
    const log = open(dir, { syncIntervalMs: 3_600_000 });
    const order: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      log.append(i, i);
      all.push(log.sync().then(() => void order.push(i)));
    }
    await Promise.all(all);
    assert.deepEqual(order, [...Array(50).keys()], "settled in request order");
    // Pending at close: close makes everything durable, so they resolve.
    log.appendMany([100, 101], [1, 2]);
    const pending = [log.sync(), log.sync()];
    log.close();
    await Promise.all(pending);
    await assert.rejects(log.sync(), (e: TimelogError) => e.code === "ECLOSED");
    using again = open(dir);
    assert.equal(again.size, 52);
  });
});

test("a sync() already durable settles after the earlier ones its durable seq reached", async () => {
  await withDir(async (dir) => {
    using log = open(dir, { syncIntervalMs: 3_600_000 });
    const order: number[] = [];
    log.append(1, 1);
    const first = log.sync().then(() => void order.push(0)); // waits for the doorbell
    // The syncer makes it durable while this thread, busy, cannot hear the bell.
    const deadline = Date.now() + 5_000;
    while (log.durableSeq < 1 && Date.now() < deadline) { /* spin: no event loop turn */ }
    assert.equal(log.durableSeq, 1);
    const second = log.sync().then(() => void order.push(1)); // already durable
    await Promise.all([first, second]);
    assert.deepEqual(order, [0, 1]);
  });
});

test("sync() and checkpoint() on an in-memory log do nothing, durableSeq stays 0", async () => {
  using log = new Timelog<string>();
  log.append(1, "a");
  await log.sync();
  log.checkpoint();
  assert.equal(log.durableSeq, 0);
  assert.equal(log.options.path, null);
  assert.equal(log.options.durability, null);
  const s = log.stats();
  assert.equal(s.durableSeq + s.walBytes + s.diskBytes + s.checkpointsTotal, 0);
});

test("checkpoint() writes segment files and truncates the WAL; a reopen replays nothing", async () => {
  await withDir((dir) => {
    const model = new WriteModel();
    {
      using log = open(dir, { walSegmentBytes: 4096, maintenance: "manual" });
      write(log, model, take(new WriteProgram(7, 0), 300));
      const before = log.stats();
      assert.ok(before.walBytes > 4096, "several WAL segments");
      log.checkpoint();
      const after = log.stats();
      assert.equal(after.checkpointsTotal, before.checkpointsTotal + 1);
      assert.ok(after.walBytes < 4096, `WAL truncated: ${after.walBytes} bytes`);
      assert.ok(after.diskBytes > after.walBytes, "segment files written");
      assert.equal(log.durableSeq, log.stats().seq, "a checkpoint makes everything durable");
    }
    assert.ok(readdirSync(dir).includes("MANIFEST"));
    using log = open(dir);
    assert.equal(log.stats().replayedRecords, 0);
    assert.equal(log.stats().seq, 300);
    assert.equal(diffLog(log, model), null);
  });
});

test("a directory held by a live log is ELOCKED in this process, and free after close", async () => {
  await withDir((dir) => {
    const log = open(dir);
    const err = throwsCode(() => open(dir), "ELOCKED", /held by another live log/);
    assert.ok(err.message.includes(dir), err.message);
    assert.equal(err.status, 42);
    log.append(1, 2);
    log.close();
    using again = open(dir);
    assert.deepEqual(again.at(1), [2]);
  });
});

test("a directory held by another process is ELOCKED; its lock dies with the process", async () => {
  await withDir(async (dir) => {
    const child = spawn(process.execPath, childArgs("hold_lock.ts", dir), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let errText = "";
    child.stderr.on("data", (d) => (errText += d));
    const closed = new Promise((resolve) => child.on("close", resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("held")) resolve();
      });
      child.on("close", () => reject(new Error(`child exited: ${errText}`)));
    });
    try {
      throwsCode(() => open(dir), "ELOCKED", /held by another live log/);
    } finally {
      child.kill("SIGKILL");
      await closed;
    }
    using log = open(dir);
    assert.deepEqual([...log], [[7, 0.5]], 'the child\'s "sync" write survived its SIGKILL');
  });
});

test("a script awaiting sync() exits by itself, and writes after it survive the exit", async () => {
  await withDir((dir) => {
    const r = spawnSync(process.execPath, childArgs("durable_exit.ts", dir), {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.signal, null, `killed by ${r.signal} (did it hang?): ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /synced 1\ndone 3\n/);
    using log = open(dir);
    assert.deepEqual(log.rangeColumns(0, 10).ts, new Float64Array([1, 2, 3, 4, 5]));
  });
});

/** A log whose directory is gone: the next WAL segment it needs cannot be created (EIO). */
async function doomedLog(dir: string, durability: "sync" | "interval"): Promise<Timelog<number>> {
  const log = open(dir, { durability, walSegmentBytes: 4096, syncIntervalMs: 3_600_000 });
  log.append(1, 1);
  await log.sync();
  rmSync(dir, { recursive: true });
  return log;
}

function assertFailedLog(log: Timelog<number>, err: unknown): void {
  assert.ok(err instanceof TimelogError, `expected a TimelogError, got ${err}`);
  assert.equal(err.code, "EIO", err.message);
  assert.equal(err.status, 40);
  assert.match(err.message, /wal-0+2\.log: No such file or directory/, "names file and OS error");
  throwsCode(() => log.append(1, 1), "EIO", /the log's disk failed/);
  throwsCode(() => log.appendMany([1], [1]), "EIO");
  throwsCode(() => log.delete(1), "EIO");
  throwsCode(() => log.checkpoint(), "EIO");
  assert.ok(log.size > 1, "reads still work");
  assert.equal(log.at(1)[0], 1);
  assert.ok(log.durableSeq >= 1, "durableSeq still reports what was durable");
}

test('a failed "interval" log: a pending sync() rejects through the doorbell, writes throw EIO', async () => {
  await withDir(async (dir) => {
    const log = await doomedLog(dir, "interval");
    // 120 frames of 64 bytes (two-record batches: single appends would be staged into one
    // frame): more than the first 4 KiB segment holds, less than two, so they wait in the WAL
    // buffer (the writer does I/O only when a second roll would be pending).
    for (let i = 2; i < 122; i++) log.appendMany([i, i], [i, i]);
    const pending = log.sync(); // the syncer writes them out, needs a new segment, fails
    const later = log.sync();
    const results = await Promise.allSettled([pending, later]);
    const err = results[0].status === "rejected" ? results[0].reason : undefined;
    assert.equal(results[1].status, "rejected");
    assertFailedLog(log, err);
    await assert.rejects(log.sync(), (e: TimelogError) => e.code === "EIO");
    // Writes were acknowledged that never became durable: close releases, then says so.
    throwsCode(() => log.close(), "EIO", /durable at close/);
    assert.equal(log.closed, true);
    log.close(); // idempotent
  });
});

test('a failed "sync" log: the write that failed throws EIO, sync() rejects, reads work', async () => {
  await withDir(async (dir) => {
    const log = await doomedLog(dir, "sync");
    let err: unknown;
    try {
      for (let i = 2; i < 1000; i++) log.append(i, i);
    } catch (e) {
      err = e;
    }
    assertFailedLog(log, err);
    await assert.rejects(log.sync(), (e: TimelogError) => e.code === "EIO");
    throwsCode(() => log.close(), "EIO", /durable at close/);
  });
});

const BAD: Array<[TimelogOptions, typeof TypeError | typeof RangeError, RegExp]> = [
  [{ path: 5 as unknown as string, values: "f64" }, TypeError, /Option path must be a string/],
  [{ path: "", values: "f64" }, TypeError, /path must not be empty/],
  [{ path: "a\0b", values: "f64" }, TypeError, /NUL/],
  [{ path: "x".repeat(1024), values: "f64" }, RangeError, /at most 1023 bytes/],
  [{ path: "DIR" }, TypeError, /values: "any".*values: "f64"/],
  [{ path: "DIR", values: "any" }, TypeError, /cannot store values: "any"/],
  [{ durability: "sync" }, TypeError, /Option durability applies to durable logs only/],
  [{ repair: true }, TypeError, /Option repair applies to durable logs only/],
  [{ syncIntervalMs: 5 }, TypeError, /syncIntervalMs applies to durable logs only/],
  [
    { path: "DIR", values: "f64", durability: "fast" as "sync" },
    TypeError,
    /"sync", "interval", "none"/,
  ],
  [
    { path: "DIR", values: "f64", syncIntervalMs: 0 },
    RangeError,
    /syncIntervalMs must be between 1/,
  ],
  [
    { path: "DIR", values: "f64", syncIntervalMs: 1.5 },
    TypeError,
    /syncIntervalMs must be an integer/,
  ],
  [
    { path: "DIR", values: "f64", walSegmentBytes: 100 },
    RangeError,
    /walSegmentBytes must be between 4096/,
  ],
  [{ path: "DIR", values: "f64", walSegmentBytes: 4100 }, RangeError, /multiple of 8/],
  [{ path: "DIR", values: "f64", walSegmentBytes: 2 ** 31 }, RangeError, /walSegmentBytes/],
  [
    { path: "DIR", values: "f64", checkpointBytes: 0 },
    RangeError,
    /checkpointBytes must be between 1/,
  ],
  [
    { path: "DIR", values: "f64", checkpointBytes: "1" as unknown as number },
    TypeError,
    /checkpointBytes/,
  ],
  [
    { path: "DIR", values: "f64", repair: 1 as unknown as boolean },
    TypeError,
    /repair must be a boolean/,
  ],
];

test("bad durable options throw TypeError/RangeError naming the option, creating nothing", async () => {
  await withDir((dir) => {
    for (const [options, kind, message] of BAD) {
      const opts = options.path === "DIR" ? { ...options, path: dir } : options;
      assert.throws(() => new Timelog(opts), (e: Error) => {
        assert.ok(e instanceof kind, `${JSON.stringify(options)}: ${e}`);
        assert.match(e.message, message);
        return true;
      });
    }
    assert.equal(existsSync(dir), false);
  });
});

test("a path that is a file, or a directory of another time unit, fails to open with the reason", async () => {
  await withDir((dir) => {
    writeFileSync(dir, "not a directory");
    const err = throwsCode(() => open(dir), "EIO");
    assert.ok(err.message.includes(dir), err.message);
  });
  await withDir((dir) => {
    const log = open(dir, { timeUnit: "ms" });
    log.checkpoint(); // the manifest records the unit (a WAL-only directory does not yet)
    log.close();
    throwsCode(() => open(dir, { timeUnit: "us" }), "EINVAL", /written with time unit/);
  });
});

/** Writes 200 single-record calls (one WAL frame each) and closes without a checkpoint. */
function writeFrames(dir: string): WriteModel {
  const model = new WriteModel();
  using log = open(dir, { maintenance: "manual" });
  // Two-record batches: one WAL frame per call (single appends are staged into shared frames).
  for (let i = 0; i < 200; i++) {
    write(log, model, [{ kind: "many", ts: [i, i], v: [i * 10, i * 10 + 1] }]);
  }
  return model;
}

function flipByte(file: string, at: (size: number) => number): void {
  const bytes = readFileSync(file);
  bytes[at(bytes.length)] ^= 0x55;
  writeFileSync(file, bytes);
}

test("a corrupt WAL fails the open with ECORRUPT naming the file; repair keeps the prefix", async () => {
  await withDir((dir) => {
    writeFrames(dir);
    const wal = readdirSync(dir).filter((f) => f.startsWith("wal-"));
    assert.equal(wal.length, 1);
    flipByte(join(dir, wal[0]), (size) => Math.floor(size / 2)); // valid frames follow it
    const err = throwsCode(() => open(dir), "ECORRUPT");
    assert.ok(err.message.includes(join(dir, wal[0])), err.message);
    assert.equal(err.status, 41);

    using log = open(dir, { repair: true });
    const calls = log.size / 2;
    assert.ok(calls > 50 && calls < 150, `kept ${calls} of 200 calls`);
    const s = log.stats();
    assert.equal(s.seq, calls, "the prefix of the first write calls");
    assert.ok(s.recoveryCutBytes > 0);
    assert.equal(s.recoveryCutRecords, 200 - calls - 1, "the damaged frame is not well formed");
    const prefix = new WriteModel();
    for (let i = 0; i < calls; i++) {
      prefix.apply({ kind: "many", ts: [i, i], v: [i * 10, i * 10 + 1] });
    }
    assert.equal(diffLog(log, prefix), null);
    log.append(1_000, 1);
    log.close();
    using again = open(dir);
    assert.equal(again.size, 2 * calls + 1, "a repaired directory opens strictly again");
  });
});

test("a corrupt MANIFEST fails the open with ECORRUPT naming it", async () => {
  await withDir((dir) => {
    {
      using log = open(dir);
      log.appendMany([1, 2, 3], [1, 2, 3]);
      log.checkpoint();
    }
    flipByte(join(dir, "MANIFEST"), (size) => size - 3);
    throwsCode(() => open(dir), "ECORRUPT", /MANIFEST/);
  });
});

test("durable f64 logs keep nothing from the drop queue, with snapshots open or not", async () => {
  await withDir((dir) => {
    using log = open(dir, { maintenance: "manual" });
    using snap = log.snapshot();
    log.appendMany([1, 2, 3, 4], [1, 2, 3, 4]);
    log.deleteBefore(3);
    log.compact();
    assert.equal(log.stats().droppedTotal, 2);
    assert.equal(log.stats().retiredValues, 0);
    assert.equal(snap.size, 0);
    assert.deepEqual([...log], [[3, 3], [4, 4]]);
  });
});
