// Lifecycle under stress: thousands of open/close cycles with live snapshots, forgotten
// iterators, forced GC, drops in flight at close, start/stopMaintenance loops, and processes
// that exit without closing. Every cycle counts values appended vs released through
// onRelease: after close, each one exactly once (no leaked handle, no double release).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Timelog } from "../mod.ts";

function forceGc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
  else throw new Error("no GC hook: run Deno with --v8-flags=--expose-gc");
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** Values appended and released across logs; every value is a fresh object. */
class Ledger {
  appended = 0;
  readonly released = new Map<object, number>();
  readonly onRelease = (v: unknown): void => {
    this.released.set(v as object, (this.released.get(v as object) ?? 0) + 1);
  };
  value(): object {
    return { n: this.appended++ };
  }
  /** After every log is closed: each value released exactly once. */
  assertAllReleasedOnce(): void {
    const twice = [...this.released.values()].filter((n) => n !== 1).length;
    assert.equal(twice, 0, `${twice} values released more than once`);
    assert.equal(this.released.size, this.appended, "values never released (leaked handles)");
  }
}

test("Timelog survives 3000 open/close cycles with live snapshots and forgotten iterators", () => {
  const led = new Ledger();
  for (let cycle = 0; cycle < 3000; cycle++) {
    const log = new Timelog<unknown>({
      maintenance: cycle % 2 === 0 ? "manual" : "background",
      memtableRecords: 64,
      pageRecords: 64,
      l0Max: 1,
      onRelease: led.onRelease,
    });
    for (let i = 0; i < 40; i++) log.append((i * 7) % 31, led.value());
    const snap = log.snapshot();
    const it = log.range(0, 20);
    it.next();
    if (cycle % 3 === 0) log.deleteBefore(10);
    if (cycle % 4 === 0 && cycle % 2 === 0) log.compact();
    if (cycle % 5 === 0) snap.all().next();
    if (cycle % 7 !== 0) snap.count();
    log.close();
    assert.equal(snap.closed, true);
    if (cycle % 500 === 0) forceGc();
  }
  forceGc();
  led.assertAllReleasedOnce();
});

test("Timelog releases values pinned by forgotten snapshots and iterators after forced GC", async () => {
  const led = new Ledger();
  const logs: Timelog<unknown>[] = [];
  const forget = (log: Timelog<unknown>) => {
    log.snapshot().count();
    log.all().next();
  };
  for (let n = 0; n < 50; n++) {
    const log = new Timelog<unknown>({
      maintenance: "manual",
      memtableRecords: 64,
      onRelease: led.onRelease,
    });
    for (let i = 0; i < 100; i++) log.append(i, led.value());
    forget(log);
    log.deleteBefore(60);
    log.compact();
    assert.equal(log.stats().retiredValues, 60, "pinned by the forgotten snapshot");
    logs.push(log);
  }
  for (let i = 0; i < 200 && logs.some((l) => l.stats().pins > 0); i++) {
    forceGc();
    await tick();
  }
  for (const log of logs) {
    assert.equal(log.stats().pins, 0);
    assert.equal(log.stats().retiredValues, 0);
    assert.equal(log.stats().heldValues, 40);
  }
  assert.equal(led.released.size, 50 * 60, "the last unpin released the retired values");
  for (const log of logs) log.close();
  led.assertAllReleasedOnce();
});

test("Timelog.close() with drops in flight returns and releases every value once, 300 times", async () => {
  const led = new Ledger();
  for (let cycle = 0; cycle < 300; cycle++) {
    const log = new Timelog<unknown>({
      memtableRecords: 64,
      pageRecords: 64,
      l0Max: 1,
      onRelease: led.onRelease,
    });
    for (let round = 0; round < 8; round++) {
      const ts = Array.from({ length: 100 }, (_, i) => round * 100 + i);
      log.appendMany(ts, ts.map(() => led.value()));
      log.deleteBefore(round * 100 + 80);
    }
    if (cycle % 3 === 0) await tick(); // let doorbell rings and drains interleave with close
    if (cycle % 5 === 0) log.snapshot();
    log.close();
  }
  await tick();
  led.assertAllReleasedOnce();
});

test("Timelog start/stopMaintenance loops with drops in flight neither hang nor leak", async () => {
  const led = new Ledger();
  const log = new Timelog<unknown>({
    memtableRecords: 64,
    l0Max: 1,
    maintIntervalMs: 1,
    onRelease: led.onRelease,
  });
  for (let round = 0; round < 400; round++) {
    for (let i = 0; i < 50; i++) log.append(round * 50 + i, led.value());
    log.deleteBefore(round * 50 + 25);
    log.stopMaintenance();
    if (round % 2 === 0) log.stopMaintenance();
    log.startMaintenance();
    log.startMaintenance();
    if (round % 50 === 0) await tick();
  }
  assert.equal(log.size, 25, "each round's deleteBefore hid everything older");
  assert.equal(log.min(), 399 * 50 + 25);
  log.validate();
  log.stopMaintenance();
  log.close();
  led.assertAllReleasedOnce();
});

test("Timelog.close() with an onRelease that throws still releases every other value once", () => {
  const seen = new Map<unknown, number>();
  let thrown = false;
  const log = new Timelog<unknown>({
    maintenance: "manual",
    onRelease: (v) => {
      seen.set(v, (seen.get(v) ?? 0) + 1);
      if (!thrown) {
        thrown = true;
        throw new Error("onRelease failed");
      }
    },
  });
  for (let i = 0; i < 100; i++) log.append(i, { i });
  try {
    log.close();
  } catch (e) {
    assert.match(
      String(e),
      /onRelease failed/,
      "close() may rethrow the callback's error, nothing else",
    );
  }
  assert.equal(log.closed, true);
  assert.equal(seen.size, 100, "every value reaches onRelease despite one throw");
  assert.ok([...seen.values()].every((n) => n === 1));
});

test("processes that never close their logs exit cleanly, also through process.exit()", () => {
  const fixture = fileURLToPath(new URL("./fixtures/forget_many.ts", import.meta.url));
  const isDeno = "Deno" in globalThis;
  for (const mode of ["drain", "exit"]) {
    const args = isDeno
      ? ["run", "--allow-ffi", "--allow-env", "--allow-read", fixture, mode]
      : [fixture, mode];
    for (let i = 0; i < 4; i++) {
      const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
      assert.equal(r.signal, null, `${mode}: killed by ${r.signal}: ${r.stderr}`);
      assert.equal(r.status, 0, `${mode}: ${r.stderr}`);
      assert.match(r.stdout, /^done \d+/);
    }
  }
});
