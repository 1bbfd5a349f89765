// Real crashes (issue 14, proof 2): child processes of the runtime running this test write
// durably (tests/fixtures/crash_child.ts) and report each acknowledged write on a pipe as it
// happens; this process SIGKILLs them at random moments, reopens the directory and checks the
// prefix property: the reopened log holds exactly the state after some prefix of the child's
// write calls, and that prefix includes every acknowledged one. The prefix is the one the
// reopened log's seq names (every write call takes one seq), or one op shorter when the crash
// tore a big batch between its WAL chunks (its seq is spent, its records never applied); the
// model replays it.
//
// Runs are chained: the next child opens what the last crash left (recovery of a recovered
// directory, torn tails cut, checkpoints interrupted), a few runs per directory. Kill moments:
// mostly 0-400 ms after the child reported "ready" (mid-write, mid-sync, mid-checkpoint),
// sometimes while it opens the log (during recovery).
//
// A third loop stores the program's numbers as byte values (NUMBER_AS_BYTES, "interval"): the
// WAL's value records and the value chunks of segment files go through the same crashes.
//
// TIMELOG_CRASH_KILLS sets the kills per durability mode (default 40, and half as many for
// byte values: 100 per runtime);
// TIMELOG_CRASH_SEED replays one run's choices.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Timelog } from "../mod.ts";
import {
  diffLog,
  NUMBER_AS_BYTES,
  type Op,
  prng,
  WriteModel,
  WriteProgram,
} from "./support/write_program.ts";

const CHILD = fileURLToPath(new URL("./fixtures/crash_child.ts", import.meta.url));
const isDeno = "Deno" in globalThis;
const env = (name: string): string | undefined => {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
};
const KILLS = Number(env("TIMELOG_CRASH_KILLS") ?? 40);
const SEED = Number(env("TIMELOG_CRASH_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const RUNS_PER_DIR = 8;

/** What one child run reported before it died. */
interface Run {
  /** Highest acknowledged op index, or -1. */
  acked: number;
  /** The seq the child reported after opening, or null when killed before. */
  readySeq: number | null;
  /** Child exit: the signal that killed it, or its exit code. */
  signal: string | null;
  code: number | null;
  stderr: string;
}

/** Milliseconds the last child took to open the log (recovery included). */
let openMs = 5;

/**
 * Runs the child once and SIGKILLs it at a random moment: 0-400 ms after the log is open
 * (mid-write, mid-sync, mid-checkpoint), or in 15% of runs while it opens (recovery: torn
 * tails cut, an interrupted checkpoint's files deleted), at a random point of the time the
 * last open took.
 */
function runChild(dir: string, mode: string, seed: number, t0: number, rand: () => number) {
  const args = isDeno
    ? ["run", "--allow-ffi", "--allow-env", "--allow-read", "--allow-write", CHILD]
    : [CHILD];
  const child = spawn(process.execPath, [...args, dir, mode, String(seed), String(t0)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: Run = { acked: -1, readySeq: null, signal: null, code: null, stderr: "" };
  const early = rand() < 0.15;
  const delay = rand() * (early ? openMs * 1.5 : 400);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let opening = 0;
  const kill = () => child.kill("SIGKILL");
  let pending = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const [word, num] = line.split(" ");
      if (word === "ack") run.acked = Math.max(run.acked, Number(num));
      else if (word === "opening") {
        opening = performance.now();
        if (early) timer = setTimeout(kill, delay);
      } else if (word === "ready") {
        run.readySeq = Number(num);
        openMs = Math.max(1, performance.now() - opening);
        if (!early) timer = setTimeout(kill, delay);
      }
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (run.stderr += chunk));
  return new Promise<Run>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

/** Diagnostics for a failed check: which prefix, if any, the log holds, and what differs. */
function explain(
  log: Timelog<number>,
  before: WriteModel,
  seed: number,
  t0: number,
  prefix: number,
  acked: number,
): string {
  const program = new WriteProgram(seed, t0);
  const m = before.copy();
  const ops: Op[] = [];
  const lines: string[] = [];
  for (let i = 0; i < prefix + 50; i++) {
    const op = program.next();
    ops.push(op);
    m.apply(op);
    if (diffLog(log, m) === null) lines.push(`log equals the prefix of ${i + 1} ops`);
  }
  const got = log.rangeColumns(-Infinity, Infinity);
  const want = new Map<number, number>();
  const m2 = before.copy();
  for (let i = 0; i < prefix; i++) m2.apply(ops[i]);
  for (let i = 0; i < m2.v.length; i++) want.set(m2.v[i], m2.ts[i]);
  const have = new Map<number, number>();
  for (let i = 0; i < got.ts.length; i++) have.set(got.values[i] as number, got.ts[i] as number);
  const missing = [...want].filter(([v]) => !have.has(v)).slice(0, 10);
  const extra = [...have].filter(([v]) => !want.has(v)).slice(0, 10);
  const opOf = (v: number) => {
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i];
      if (op.kind === "append" && op.v === v) return `${i} append`;
      if (op.kind === "many" && op.v.includes(v)) return `${i} many(${op.v.length})`;
    }
    return "?";
  };
  lines.push(
    `prefix ${prefix}, acked ${acked}, log ${got.ts.length} records, model ${m2.v.length}`,
  );
  lines.push(`missing: ${missing.map(([v, t]) => `[${t}, ${v}] op ${opOf(v)}`).join("; ")}`);
  lines.push(`extra: ${extra.map(([v, t]) => `[${t}, ${v}] op ${opOf(v)}`).join("; ")}`);
  lines.push(`ops ${prefix - 3}..${prefix + 1}: ${
    ops.slice(Math.max(0, prefix - 3), prefix + 2)
      .map((o) => o.kind === "many" ? `many(${o.ts.length})` : JSON.stringify(o)).join(" ")
  }`);
  return lines.join("\n");
}

async function crashLoop(mode: "sync" | "interval" | "bytes", kills = KILLS): Promise<void> {
  const rand = prng(SEED ^ (mode === "sync" ? 1 : mode === "interval" ? 2 : 3));
  const where = `seed ${SEED} (TIMELOG_CRASH_SEED), mode ${mode}`;
  let dir = "";
  let model = new WriteModel();
  let seq = 0;
  let t0 = 0;
  let killed = 0;
  let acked = 0;
  let torn = 0;
  let early = 0;
  const started = performance.now();
  try {
    for (let k = 0; k < kills; k++) {
      if (k % RUNS_PER_DIR === 0) {
        if (dir) rmSync(dir, { recursive: true, force: true });
        dir = mkdtempSync(join(tmpdir(), `timelog-crash-${mode}-`));
        model = new WriteModel();
        seq = 0;
        t0 = 1_000_000;
      }
      const seed = Math.floor(rand() * 2 ** 30);
      const run = await runChild(dir, mode, seed, t0, rand);
      const what = `${where}, kill ${k} (child seed ${seed}, t0 ${t0})`;
      assert.equal(run.signal, "SIGKILL", `${what}: child exited ${run.code}: ${run.stderr}`);
      killed++;
      if (run.readySeq !== null) assert.equal(run.readySeq, seq, `${what}: child opened at seq`);
      else early++;
      acked += run.acked + 1;

      const values = mode === "bytes" ? NUMBER_AS_BYTES : "f64";
      using log = new Timelog<number>({ path: dir, values, maintenance: "manual" });
      let spare: WriteModel | null = null;
      const got = log.stats().seq;
      const prefix = got - seq;
      assert.ok(
        prefix >= run.acked + 1,
        `${what}: reopened at seq ${got}: ${prefix} ops, but op ${run.acked} was acknowledged`,
      );
      const program = new WriteProgram(seed, t0);
      const before = model.copy();
      let last: Op | null = null;
      for (let i = 0; i < prefix; i++) {
        if (i === prefix - 1) spare = model.copy();
        last = program.next();
        model.apply(last);
      }
      let diff = diffLog(log, model);
      // A call the crash tore between its WAL chunks is not applied, but its seq is spent
      // (recover.c: the WAL's seqs must keep increasing): then the state is one op short of
      // the seq, and that op was never acknowledged. A big batch spans several chunks; with
      // byte values every append does (its VALUES record, then its APPEND record).
      const chunked = last?.kind === "many" || (mode === "bytes" && last?.kind === "append");
      if (diff !== null && chunked && run.acked < prefix - 1 && spare !== null) {
        if (diffLog(log, spare) === null) {
          model = spare;
          diff = null;
          torn++;
        }
      }
      if (diff !== null) console.log(explain(log, before, seed, t0, prefix, run.acked));
      assert.equal(diff, null, `${what}: reopened state is not the prefix of ${prefix} ops`);
      log.validate();
      seq = got;
      t0 += 10_000_000;
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `# crash ${mode}: ${killed} kills (${early} before the log was open), ${acked} ` +
      `acknowledged writes, ${torn} torn calls, ${secs} s (${isDeno ? "deno" : "bun"})`,
  );
}

test('SIGKILLed writers in "sync" mode reopen to a prefix holding every acknowledged write', async () => {
  await crashLoop("sync");
});

test('SIGKILLed writers in "interval" mode reopen to a prefix holding every synced write', async () => {
  await crashLoop("interval");
});

test("SIGKILLed writers of byte values reopen to a prefix holding every synced write, bytes intact", async () => {
  await crashLoop("bytes", Math.ceil(KILLS / 2));
});
