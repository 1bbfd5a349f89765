// A process that never calls close() exits cleanly, with maintenance and drops in flight.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

test("a process that never calls close() exits cleanly with drops in flight", () => {
  const fixture = fileURLToPath(new URL("./fixtures/forget_close.ts", import.meta.url));
  const isDeno = "Deno" in globalThis;
  const args = isDeno ? ["run", "--allow-ffi", "--allow-env", "--allow-read", fixture] : [fixture];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^done \d+/);
  }
});
