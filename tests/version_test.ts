// The release version agrees everywhere, and the loader refuses a library of another ABI (or
// none) with an error that says what to install.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Timelog, VERSION } from "../mod.ts";
import { platformNames } from "../src/ffi/load.ts";
import { ABI_VERSION } from "../src/ffi/symbols.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (file: string): string => readFileSync(join(root, file), "utf8");
const isDeno = "Deno" in globalThis;

/** Runs tests/fixtures/load_probe.ts (from `dir`, default the checkout) and parses its line. */
function probe(env: Record<string, string>, dir = root): Record<string, string> {
  const script = join(dir, "tests", "fixtures", "load_probe.ts");
  const args = isDeno ? ["run", "--allow-ffi", "--allow-env", "--allow-read", script] : [script];
  const childEnv: Record<string, string> = { ...process.env as Record<string, string>, ...env };
  // Empty, not deleted: Deno's spawnSync keeps a variable of the parent's environment that the
  // given env lacks, so a developer's TIMELOG_LIB reached the child; the loader reads an empty
  // TIMELOG_LIB as unset.
  if (!("TIMELOG_LIB" in env)) childEnv.TIMELOG_LIB = "";
  const r = spawnSync(process.execPath, args, { encoding: "utf8", env: childEnv, timeout: 60_000 });
  assert.equal(r.status, 0, `probe exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}");
}

function libName(stem: string): string {
  if (process.platform === "darwin") return `lib${stem}.dylib`;
  if (process.platform === "win32") return `${stem}.dll`;
  return `lib${stem}.so`;
}

test("VERSION equals the library's, package.json's, deno.json's, build.zig.zon's and the header's", () => {
  assert.match(VERSION, /^\d+\.\d+\.\d+$/);
  assert.equal(Timelog.version, VERSION);
  assert.equal(JSON.parse(read("package.json")).version, VERSION);
  assert.equal(JSON.parse(read("deno.json")).version, VERSION);
  assert.match(
    read("build.zig.zon"),
    new RegExp(`\\.version = "${VERSION.replaceAll(".", "\\.")}"`),
  );
  const header = read("c/include/timelog.h");
  const part = (p: string): string =>
    header.match(new RegExp(`#define TL_VERSION_${p} (\\d+)`))![1];
  assert.equal(`${part("MAJOR")}.${part("MINOR")}.${part("PATCH")}`, VERSION);
  assert.equal(Number(header.match(/#define TL_ABI_VERSION (\d+)/)![1]), ABI_VERSION);
});

test("a library reporting another ABI fails to load with ENOLIB naming both versions", () => {
  const lib = join(root, "zig-out", "test", libName("timelog_abi_mismatch"));
  const out = probe({ TIMELOG_LIB: lib });
  assert.equal(out.code, "ENOLIB", JSON.stringify(out));
  assert.match(out.message, /implements ABI 999/);
  assert.match(out.message, new RegExp(`needs ABI ${ABI_VERSION}\\b`));
  assert.match(out.message, new RegExp(`@timelog/timelog ${VERSION.replaceAll(".", "\\.")}`));
  assert.ok(out.message.includes(lib), out.message);
});

test("a missing library fails with ENOLIB naming the platform package to install", () => {
  const dir = mkdtempSync(join(tmpdir(), "timelog-noload-"));
  try {
    // The binding alone, with no zig-out/ beside it and no platform package installed.
    cpSync(join(root, "mod.ts"), join(dir, "mod.ts"));
    cpSync(join(root, "src"), join(dir, "src"), { recursive: true });
    cpSync(
      join(root, "tests", "fixtures", "load_probe.ts"),
      join(dir, "tests", "fixtures", "load_probe.ts"),
    );
    const out = probe({}, dir);
    assert.equal(out.code, "ENOLIB", JSON.stringify(out));
    const [first] = platformNames(process.platform, process.arch);
    assert.ok(first !== undefined, `no prebuilt platform for ${process.platform}-${process.arch}`);
    assert.ok(out.message.includes(`@timelog/timelog-${first}@${VERSION}`), out.message);
    assert.match(out.message, /not installed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a bad TIMELOG_LIB path fails with ENOLIB naming the path", () => {
  const out = probe({ TIMELOG_LIB: "/nonexistent/libtimelog.so" });
  assert.equal(out.code, "ENOLIB");
  assert.match(out.message, /TIMELOG_LIB[\s\S]*\/nonexistent\/libtimelog\.so/);
});

test("platformNames maps each supported machine to its npm package suffixes", () => {
  assert.deepEqual(platformNames("linux", "x64"), ["linux-x64-gnu", "linux-x64-musl"]);
  assert.deepEqual(platformNames("linux", "arm64"), ["linux-arm64-gnu", "linux-arm64-musl"]);
  assert.deepEqual(platformNames("darwin", "arm64"), ["darwin-arm64"]);
  assert.deepEqual(platformNames("darwin", "x64"), ["darwin-x64"]);
  assert.deepEqual(platformNames("win32", "x64"), ["win32-x64"]);
  assert.deepEqual(platformNames("win32", "arm64"), []);
  assert.deepEqual(platformNames("freebsd", "x64"), []);
  assert.deepEqual(platformNames("linux", "riscv64"), []);
});
