/**
 * `./dev bench durable [--json] [--records N] [--shape bench|users] [--runtime deno|bun]`:
 * durable logs beside the disk's own limit, the same ingest in memory, and SQLite, in one run
 * (issue 14's targets are ratios within that run).
 *
 * Data (`--shape`): `bench` (default) is bench/workload.ts, the records of `bench native` (ts +=
 * 1, 5% late by up to 1024) in calls of 4096; `users` is issue 13's users' shape
 * (bench/peers/shapes.ts: ms timestamps with gaps of 0-2, 5% late by up to 10,000 ms, values
 * k/256) in calls of 1,000, the batch of every figure below then being 1,000.
 * Figures (each verified by count and checksum after a reopen where it writes a log):
 *   disk_limit_mrec_s      sequential write of N x 16 B in 1 MiB writes + one fdatasync, as
 *                          records of 16 B per second
 *   sync_limit_mrec_s      a call's records per (write of 16 B a record + fdatasync): what
 *                          one fdatasync per call allows
 *   memory_ingest_mrec_s   appendMany of 4096, in memory, f64
 *   durable_ingest_mrec_s  the same into a durable log, "interval", until `await sync()`
 *   sync_ingest_mrec_s     appendMany of 4096 with durability "sync"
 *   sqlite_ingest_mrec_s   SQLite file, WAL mode, synchronous=NORMAL, one transaction per 4096
 *                          rows through a prepared insert (node:sqlite / bun:sqlite)
 *   open_10m_s             opening a checkpointed log of 2N records (in this process: warm
 *                          page cache, as a restart on the same machine)
 *   replay_mrec_s          records replayed from the WAL per second at open (N records, no
 *                          checkpoint)
 *   disk_bytes_per_record  disk bytes of a checkpointed log / records
 *   write_amplification    bytes the log wrote to its files (stats().diskWrittenBytes: WAL
 *                          records, segment files, manifests) / (16 B x records ingested) over a
 *                          steady ingest with retention (deleteBefore keeping the newest quarter)
 *   append_p99_over_median p99 / median latency of one appendMany of 4096 while checkpoints run
 *                          (checkpointBytes 512 KiB: the WAL stores this data compressed,
 *                          ~1.7 B a record, so 5-6 checkpoints a run, as 8 MiB of 16-byte
 *                          records gave before; the run checks there are at least 2),
 *                          ingesting at half the durable rate measured
 *                          above: a steady producer the disk keeps up with (at full speed the
 *                          disk, not the checkpoints, sets every call's wait); beside it
 *                          memory_append_p99_over_median, the same paced run in memory
 *   floor_loaded_p99_over_median  the machine's floor for that figure: p99 / median of spins
 *                          as long as the median append, half a slot after each append of the
 *                          durable paced run (what the machine does to a call that long while
 *                          the run's threads work); floor_idle_p99_over_median, the same spins
 *                          on the same schedule with nothing else running
 * With --json the last line is one JSON object with those keys, `shape`, `batch` and `verified`.
 *
 * @module
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { Timelog } from "../mod.ts";
import { type Data, generate, median } from "./workload.ts";
import { usersShape } from "./peers/shapes.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const get = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(get("--records", "5000000"));
const SHAPE = get("--shape", "bench");
if (SHAPE !== "bench" && SHAPE !== "users") {
  throw new Error(`--shape: bench or users, not ${SHAPE}`);
}
const BATCH = SHAPE === "users" ? 1000 : 4096;
/** The records, with the origin their timestamp checksum is taken from (epoch ms summed as they
 * are would pass 2^53). */
type Records = Data & { t0: number };
function records(): Records {
  if (SHAPE === "bench") return { ...generate(N, 0.05), t0: 0 };
  const u = usersShape(N);
  return { ts: u.ts, values: u.values, tsSum: u.tsSum, valueSum: u.valueSum, t0: u.t0 };
}
const root = fs.mkdtempSync(path.join(get("--dir", process.cwd()), ".bench-durable-"));
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
let verified = true;

function check(what: string, ok: boolean): void {
  if (!ok) {
    verified = false;
    process.stderr.write(`VERIFY FAILED: ${what}\n`);
  }
}

const now = (): number => performance.now() / 1000;
function log(msg: string): void {
  process.stderr.write(msg + "\n");
}

/** Sleeps the thread for `ms` (fractions allowed): paces a producer without spinning. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

// ---- the disk's own limits ----

function diskLimit(bytes: number): number {
  const file = path.join(root, "disk-limit.bin");
  const buf = new Uint8Array(1 << 20).fill(7);
  const fd = fs.openSync(file, "w");
  const t = now();
  for (let done = 0; done < bytes; done += buf.length) fs.writeSync(fd, buf);
  fs.fdatasyncSync(fd);
  const s = now() - t;
  fs.closeSync(fd);
  fs.rmSync(file);
  return bytes / s;
}

/** Seconds per (write of one 4096-record batch + fdatasync), median of `reps`. */
function syncLatency(reps: number): number {
  const file = path.join(root, "sync-limit.bin");
  const buf = new Uint8Array(BATCH * 16).fill(3);
  const fd = fs.openSync(file, "w");
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = now();
    fs.writeSync(fd, buf);
    fs.fdatasyncSync(fd);
    xs.push(now() - t);
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  return median(xs);
}

// ---- Timelog ----

type Opts = ConstructorParameters<typeof Timelog<number>>[0];

function ingest(d: Records, n: number, opts: Opts, lat?: number[]): Timelog<number> {
  const tl = new Timelog<number>(opts);
  for (let off = 0; off < n; off += BATCH) {
    const end = Math.min(n, off + BATCH);
    const t = lat ? now() : 0;
    tl.appendMany(d.ts.subarray(off, end), d.values.subarray(off, end));
    if (lat) lat.push(now() - t);
  }
  return tl;
}

/** Count and checksums over everything, through the columnar reader. */
function sums(tl: Timelog<number>, t0: number): [number, number, number] {
  let n = 0, t = 0, v = 0;
  using it = tl.all();
  for (let b = it.nextBatch(); b; b = it.nextBatch()) {
    const ts = b.ts as Float64Array, vs = b.values as Float64Array;
    for (let i = 0; i < ts.length; i++) {
      t += ts[i] - t0;
      v += vs[i];
    }
    n += ts.length;
  }
  return [n, t, v];
}

function verifySums(what: string, tl: Timelog<number>, d: Records, copies = 1): void {
  const [n, t, v] = sums(tl, d.t0);
  check(`${what}: count ${n}`, n === N * copies);
  check(`${what}: ts checksum`, t === d.tsSum * copies);
  check(`${what}: value checksum`, v === d.valueSum * copies);
}

async function durableIngest(d: Records): Promise<number> {
  const dir = path.join(root, "interval");
  const t = now();
  const tl = ingest(d, N, { path: dir, values: "f64", durability: "interval" });
  await tl.sync();
  const s = now() - t;
  tl.close();
  log(`durable interval: ${(N / s / 1e6).toFixed(2)} Mrec/s`);
  const re = new Timelog<number>({ path: dir, values: "f64" });
  verifySums("durable ingest reopen", re, d);
  re.close();
  fs.rmSync(dir, { recursive: true });
  return N / s / 1e6;
}

/** Spins for `s` seconds and returns how long that took: a call of fixed work, so whatever
 * stretches it (the OS or the hypervisor taking the CPU, a timer) is the machine's doing. */
function spin(s: number): number {
  const t = now();
  let e = 0;
  while ((e = now() - t) < s);
  return e;
}

/** p99 / median of xs. */
function tailRatio(xs: ArrayLike<number>): number {
  const sorted = Array.from(xs).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.99)] / sorted[sorted.length >> 1];
}

/**
 * appendMany latencies at `rate` Mrec/s while checkpoints run, and the machine's floor under
 * that load: half a slot after each append (once 64 appends have given a median), a spin as
 * long as the median append so far, whose stretch shows what this machine does to a call that
 * long while the run's own threads work (its p99 / median is `floor`).
 */
async function pacedLatency(
  d: Records,
  rate: number,
  durable: boolean,
): Promise<{ p99: number; med: number; floor: number }> {
  const dir = path.join(root, "paced");
  const tl = new Timelog<number>(
    durable ? { path: dir, values: "f64", checkpointBytes: 512 << 10 } : { values: "f64" },
  );
  const lat: number[] = [];
  const stretch: number[] = [];
  let spinLen = 0;
  const perBatch = BATCH / (rate * 1e6);
  const t0 = now();
  for (let off = 0, k = 0; off < N; off += BATCH, k++) {
    sleep((t0 + k * perBatch - now()) * 1e3);
    const end = Math.min(N, off + BATCH);
    // The batch's views before the clock starts: what is timed is the call (allocating them
    // inside put the garbage collections they bring about into the call's time).
    const ts = d.ts.subarray(off, end), values = d.values.subarray(off, end);
    const t = now();
    tl.appendMany(ts, values);
    lat.push(now() - t);
    if (k % 256 === 63) spinLen = median(lat.slice(-64));
    if (spinLen > 0) {
      sleep((t0 + (k + 0.5) * perBatch - now()) * 1e3);
      stretch.push(spin(spinLen) / spinLen);
    }
  }
  await tl.sync();
  const ck = tl.stats().checkpointsTotal;
  if (durable) {
    tl.close();
    const re = new Timelog<number>({ path: dir, values: "f64" });
    verifySums("paced ingest reopen", re, d);
    re.close();
    fs.rmSync(dir, { recursive: true });
    check(`checkpoints during the paced run: ${ck}`, ck >= 2);
  } else {
    verifySums("paced ingest in memory", tl, d);
    tl.close();
  }
  const sorted = [...lat].sort((a, b) => a - b);
  const floor = tailRatio(stretch);
  log(
    `${durable ? "durable" : "in memory"}, paced at ${
      rate.toFixed(1)
    } Mrec/s: ${ck} checkpoints; appendMany median ${(median(lat) * 1e6).toFixed(0)} us, p99 ${
      (sorted[Math.floor(sorted.length * 0.99)] * 1e6).toFixed(0)
    } us, max ${(sorted[sorted.length - 1] * 1e3).toFixed(1)} ms; spins of the median: p99 ${
      floor.toFixed(2)
    }x their median`,
  );
  return { p99: sorted[Math.floor(sorted.length * 0.99)], med: median(lat), floor };
}

/**
 * The machine's floor with nothing else running: the paced run's schedule (same rate, same
 * number of calls) with each call a spin of the durable run's median append. Nothing is
 * allocated in the loop.
 */
function idleFloor(rate: number, med: number): number {
  const calls = Math.ceil(N / BATCH);
  const stretch = new Float64Array(calls);
  const perBatch = BATCH / (rate * 1e6);
  const t0 = now();
  for (let k = 0; k < calls; k++) {
    sleep((t0 + k * perBatch - now()) * 1e3);
    stretch[k] = spin(med) / med;
  }
  const floor = tailRatio(stretch);
  log(`idle machine, paced spins of ${(med * 1e6).toFixed(1)} us: p99 ${floor.toFixed(2)}x median`);
  return floor;
}

function syncIngest(d: Records, n: number): number {
  const dir = path.join(root, "sync");
  const t = now();
  const tl = ingest(d, n, { path: dir, values: "f64", durability: "sync" });
  const s = now() - t;
  tl.close();
  const re = new Timelog<number>({ path: dir, values: "f64" });
  check("sync ingest reopen count", re.size === n);
  re.close();
  fs.rmSync(dir, { recursive: true });
  return n / s / 1e6;
}

function memoryIngest(d: Records): number {
  const t = now();
  const tl = ingest(d, N, { values: "f64" });
  const s = now() - t;
  check("memory ingest count", tl.size === N);
  tl.close();
  return N / s / 1e6;
}

/** Open of a checkpointed log of 2N records; disk bytes per record. */
function openCheckpointed(d: Records): { open: number; bpr: number } {
  const dir = path.join(root, "open");
  const tl = new Timelog<number>({ path: dir, values: "f64" });
  for (let copy = 0; copy < 2; copy++) {
    for (let off = 0; off < N; off += BATCH) {
      const end = Math.min(N, off + BATCH);
      tl.appendMany(d.ts.subarray(off, end), d.values.subarray(off, end));
    }
  }
  tl.checkpoint();
  const st = tl.stats();
  const bpr = st.diskBytes / st.records;
  tl.close();
  const t = now();
  const re = new Timelog<number>({ path: dir, values: "f64" });
  const open = now() - t;
  verifySums("checkpointed reopen", re, d, 2);
  re.close();
  fs.rmSync(dir, { recursive: true });
  return { open, bpr };
}

/** N records left in the WAL (no checkpoint), then the open that replays them. */
function replay(d: Records): number {
  const dir = path.join(root, "replay");
  const opts: Opts = { path: dir, values: "f64", checkpointBytes: 2 ** 40, idleMs: 0 };
  ingest(d, N, opts).close();
  const t = now();
  const re = new Timelog<number>({ path: dir, values: "f64" });
  const s = now() - t;
  const replayed = re.stats().replayedRecords;
  check(`replay replayed ${replayed} of ${N}`, replayed === N);
  verifySums("replay reopen", re, d);
  re.close();
  fs.rmSync(dir, { recursive: true });
  return replayed / s / 1e6;
}

/** Steady ingest of 4N records keeping the newest quarter of the data's time span; bytes
 * written / 16 B per record. */
function amplification(d: Records): number {
  const dir = path.join(root, "retention");
  const tl = new Timelog<number>({ path: dir, values: "f64" });
  let ingested = 0;
  let lo = Infinity, hi = -Infinity;
  for (const t of d.ts) [lo, hi] = [Math.min(lo, t), Math.max(hi, t)];
  const span = hi - lo + 1, keepSpan = Math.floor(span / 4);
  for (let copy = 0; copy < 4; copy++) {
    const shift = copy * (span + 2048);
    const ts = d.ts.map((t) => t + shift);
    for (let off = 0; off < N; off += BATCH) {
      const end = Math.min(N, off + BATCH);
      tl.appendMany(ts.subarray(off, end), d.values.subarray(off, end));
      ingested += end - off;
      if ((off / BATCH) % 64 === 63) tl.deleteBefore(ts[end - 1] - keepSpan);
    }
  }
  const w = tl.stats().diskWrittenBytes;
  tl.close();
  fs.rmSync(dir, { recursive: true });
  return w / (16 * ingested);
}

// ---- SQLite ----

interface Stmt {
  run(...a: number[]): unknown;
}
interface Db {
  exec(sql: string): unknown;
  prepare(sql: string): Stmt;
  close(): void;
}

async function openSqlite(file: string): Promise<Db> {
  if (isBun) {
    const { Database } = await import("bun:sqlite" as string);
    const db = new Database(file);
    return { exec: (s) => db.exec(s), prepare: (s) => db.prepare(s), close: () => db.close() };
  }
  const { DatabaseSync } = await import("node:sqlite" as string);
  return new DatabaseSync(file) as Db;
}

async function sqliteIngest(d: Records, n: number): Promise<number> {
  const file = path.join(root, "bench.sqlite");
  const db = await openSqlite(file);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  db.exec("CREATE TABLE ticks (ts INTEGER NOT NULL, v REAL NOT NULL)");
  const ins = db.prepare("INSERT INTO ticks (ts, v) VALUES (?, ?)");
  const t = now();
  for (let off = 0; off < n; off += BATCH) {
    const end = Math.min(n, off + BATCH);
    db.exec("BEGIN");
    for (let i = off; i < end; i++) ins.run(d.ts[i], d.values[i]);
    db.exec("COMMIT");
  }
  const s = now() - t;
  db.close();
  for (const f of [file, file + "-wal", file + "-shm"]) fs.rmSync(f, { force: true });
  return n / s / 1e6;
}

// ---- the run ----

try {
  log(`bench durable: ${N} records under ${isBun ? "Bun" : "Deno"}, in ${root} (${os.platform()})`);
  const d = records();
  const diskBps = diskLimit(N * 16);
  const lat1 = syncLatency(200);
  log(
    `disk: ${(diskBps / 1e6).toFixed(0)} MB/s sequential + fdatasync; write ${
      (BATCH * 16) >> 10
    } KiB + fdatasync ${(lat1 * 1e6).toFixed(0)} us`,
  );
  const mem = memoryIngest(d);
  const dur = await durableIngest(d);
  const paced = await pacedLatency(d, dur / 2, true);
  const pacedMem = await pacedLatency(d, dur / 2, false);
  const idle = idleFloor(dur / 2, paced.med);
  const syncN = Math.min(N, 400 * BATCH);
  const sync = syncIngest(d, syncN);
  const sqlN = Math.min(N, 1_000_000);
  const sql = await sqliteIngest(d, sqlN);
  const oc = openCheckpointed(d);
  const rp = replay(d);
  const wa = amplification(d);
  const out = {
    records: N,
    shape: SHAPE,
    batch: BATCH,
    runtime: isBun ? "bun" : "deno",
    disk_limit_mrec_s: diskBps / 16 / 1e6,
    memory_ingest_mrec_s: mem,
    durable_ingest_mrec_s: dur,
    durable_pct_of_disk_limit: (100 * dur) / (diskBps / 16 / 1e6),
    sqlite_ingest_mrec_s: sql,
    durable_over_sqlite: dur / sql,
    sync_ingest_mrec_s: sync,
    sync_limit_mrec_s: BATCH / lat1 / 1e6,
    sync_pct_of_limit: (100 * sync) / (BATCH / lat1 / 1e6),
    open_10m_s: oc.open,
    open_records: 2 * N,
    replay_mrec_s: rp,
    disk_bytes_per_record: oc.bpr,
    write_amplification: wa,
    append_median_ms: paced.med * 1e3,
    append_p99_ms: paced.p99 * 1e3,
    append_p99_over_median: paced.p99 / paced.med,
    memory_append_p99_over_median: pacedMem.p99 / pacedMem.med,
    floor_loaded_p99_over_median: paced.floor,
    floor_idle_p99_over_median: idle,
    verified,
  };
  for (const [k, v] of Object.entries(out)) {
    log(`${k.padEnd(26)} ${typeof v === "number" ? +v.toFixed(3) : v}`);
  }
  if (json) console.log(JSON.stringify(out));
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
if (!verified) process.exit(1);
