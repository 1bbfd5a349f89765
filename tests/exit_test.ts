// A process that never calls close() exits cleanly, with maintenance and drops in flight.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

function runChild(fixture: string, times: number): void {
  const path = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const isDeno = "Deno" in globalThis;
  const args = isDeno ? ["run", "--allow-ffi", "--allow-env", "--allow-read", path] : [path];
  for (let i = 0; i < times; i++) {
    const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.signal, null, `run ${i}: killed by ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, `run ${i}: exit ${r.status}: ${r.stderr}`);
    assert.match(r.stdout, /^done \d+/);
  }
}

test("a process that never calls close() exits cleanly with drops in flight", () => {
  runChild("forget_close.ts", 3);
});

// Regression: Deno unloads FFI libraries at exit; a maintenance thread still inside the
// library crashed the process (SIGSEGV 6 runs in 6) until libtimelog pinned itself (libpin.c).
test("a process exits cleanly while background workers of unclosed f64 logs run", () => {
  runChild("forget_close_f64.ts", 5);
});
