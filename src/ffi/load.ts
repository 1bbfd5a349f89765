/**
 * Finds and opens libtimelog once per process, with the adapter of the runtime in use.
 *
 * Search order: `TIMELOG_LIB` (an exact path), then the library `zig build` installs next to
 * this package (`zig-out/lib`), then a prebuilt library from `zig build dist`. A missing
 * library throws a {@link TimelogError} with code `ENOLIB` that says how to build it.
 *
 * @module
 */
import { TimelogError } from "../errors.ts";
import type { NativeRuntime, OpenLibrary } from "./runtime.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

const adapter: { openLibrary: OpenLibrary; env(name: string): string | undefined } = isDeno
  ? await import("./deno.ts")
  : isBun
  ? await import("./bun.ts")
  : { openLibrary: unsupportedRuntime, env: () => undefined };

function unsupportedRuntime(): NativeRuntime {
  throw new TimelogError("ENOLIB", 0, "Timelog runs on Deno or Bun: no supported FFI found");
}

function platform(): { os: string; arch: string } {
  const nav = globalThis as { Deno?: { build: { os: string; arch: string } } };
  if (nav.Deno) return nav.Deno.build;
  const proc = (globalThis as unknown as { process: { platform: string; arch: string } }).process;
  const arch = proc.arch === "x64" ? "x86_64" : proc.arch === "arm64" ? "aarch64" : proc.arch;
  return { os: proc.platform === "win32" ? "windows" : proc.platform, arch };
}

function libraryFile(os: string): string {
  if (os === "darwin") return "libtimelog.dylib";
  if (os === "windows") return "timelog.dll";
  return "libtimelog.so";
}

function candidates(): string[] {
  const { os, arch } = platform();
  const file = libraryFile(os);
  const dir = os === "windows" ? "bin" : "lib";
  const triple = `${arch}-${os === "darwin" ? "macos" : os}${os === "linux" ? "-gnu" : ""}`;
  return [
    new URL(`../../zig-out/${dir}/${file}`, import.meta.url),
    new URL(`../../zig-out/dist/${triple}/${dir}/${file}`, import.meta.url),
  ].map((url) => decodeURIComponent(url.pathname.replace(/^\/([A-Za-z]:)/, "$1")));
}

let cached: NativeRuntime | undefined;

/**
 * The native runtime, opening the library on first use.
 *
 * @example
 * ```ts ignore
 * const rt = native();
 * console.log(rt.name); // "deno" or "bun"
 * ```
 */
export function native(): NativeRuntime {
  if (cached) return cached;
  const errors: string[] = [];
  const envPath = adapter.env("TIMELOG_LIB");
  const paths = envPath ? [envPath] : candidates();
  let lastError: unknown;
  for (const path of paths) {
    try {
      cached = adapter.openLibrary(path);
      return cached;
    } catch (err) {
      lastError = err;
      errors.push(`  ${path}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    }
  }
  throw new TimelogError(
    "ENOLIB",
    0,
    `Cannot load libtimelog${envPath ? " from TIMELOG_LIB" : ""}; tried:\n${errors.join("\n")}\n` +
      "Build it with `zig build` (or `./dev build`) in the timelog checkout, " +
      "or set TIMELOG_LIB to the library's path.",
    { cause: lastError },
  );
}
