// The FinalizationRegistry safety net: forgotten snapshots and iterators are released after GC.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Timelog } from "../mod.ts";

function forceGc(): boolean {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
  else return false;
  return true;
}

function forget(log: Timelog<string>): void {
  const snap = log.snapshot();
  snap.count();
  const it = log.all();
  it.next();
}

test("a forgotten snapshot and iterator are released after a forced GC", async () => {
  using log = new Timelog<string>();
  log.extend([[1, "a"], [2, "b"]]);
  forget(log);
  assert.equal(log.stats().pins, 2);
  assert.ok(forceGc(), "run Deno with --v8-flags=--expose-gc");
  for (let i = 0; i < 100 && log.stats().pins > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    forceGc();
  }
  assert.equal(log.stats().pins, 0);
});
