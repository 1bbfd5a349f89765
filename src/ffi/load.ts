/**
 * Finds and opens libtimelog once per process, with the adapter of the runtime in use, and
 * checks that it speaks this binding's ABI before binding anything else.
 *
 * Search order:
 * 1. `TIMELOG_LIB`: an exact path; when set, nothing else is tried.
 * 2. The installed platform package `@timelog/timelog-<platform>` (an optional dependency of
 *    the npm package, so the package manager installs only the one matching the machine),
 *    found by node resolution from this module (`node_modules`, or Deno's npm cache for `npm:`
 *    imports); when this module was loaded from a registry URL (JSR), imported as
 *    `npm:@timelog/timelog-<platform>@<VERSION>` (./packages.ts), whose `libraryPath` it reads.
 * 3. A checkout's build: `zig-out/lib` (from `zig build`), then `zig-out/dist/<platform>`
 *    (from `zig build dist`).
 *
 * A library reporting another ABI fails at once with {@link TimelogError} code `ENOLIB` naming
 * both versions; no library at all fails with `ENOLIB` naming the platform package to install.
 *
 * @module
 */
import { TimelogError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { LibraryIdentity, NativeRuntime, OpenLibrary, ProbeLibrary } from "./runtime.ts";
import { importPlatformPackage } from "./packages.ts";
import { ABI_VERSION } from "./symbols.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

interface Adapter {
  openLibrary: OpenLibrary;
  probeLibrary: ProbeLibrary;
  env(name: string): string | undefined;
}

const adapter: Adapter = isDeno
  ? await import("./deno.ts")
  : isBun
  ? await import("./bun.ts")
  : { openLibrary: unsupportedRuntime, probeLibrary: unsupportedRuntime, env: () => undefined };

function unsupportedRuntime(): never {
  throw new TimelogError("ENOLIB", 0, "Timelog runs on Deno or Bun: no supported FFI found");
}

/** The machine as npm names it: `os` in {linux, darwin, win32}, `cpu` in {x64, arm64}. */
function machine(): { os: string; cpu: string } {
  const d = (globalThis as { Deno?: { build: { os: string; arch: string } } }).Deno;
  if (d) {
    const os = d.build.os === "windows" ? "win32" : d.build.os;
    const cpu = d.build.arch === "x86_64"
      ? "x64"
      : d.build.arch === "aarch64"
      ? "arm64"
      : d.build.arch;
    return { os, cpu };
  }
  const proc = (globalThis as unknown as { process?: { platform: string; arch: string } }).process;
  return { os: proc?.platform ?? "unknown", cpu: proc?.arch ?? "unknown" };
}

/** The platform package suffixes to try, best first; empty when none is built for this one. */
export function platformNames(os: string, cpu: string): string[] {
  if (cpu !== "x64" && cpu !== "arm64") return [];
  // glibc first, then musl: a package manager installs only the one whose `libc` matches,
  // and one that ignores `libc` leaves both, of which only the right one loads.
  if (os === "linux") return [`linux-${cpu}-gnu`, `linux-${cpu}-musl`];
  if (os === "darwin") return [`darwin-${cpu}`];
  if (os === "win32" && cpu === "x64") return ["win32-x64"];
  return [];
}

function libraryFile(os: string): string {
  if (os === "darwin") return "libtimelog.dylib";
  if (os === "win32") return "timelog.dll";
  return "libtimelog.so";
}

function urlPath(url: URL): string {
  return decodeURIComponent(url.pathname.replace(/^\/([A-Za-z]:)/, "$1"));
}

/** This module came from a registry URL (JSR) rather than a file on disk. */
const remote = !import.meta.url.startsWith("file:");

/** The library path exported by the platform package `name`, if it is installed. */
async function packagePath(name: string): Promise<string | undefined> {
  try {
    const mod = await importPlatformPackage(name, remote);
    return typeof mod.libraryPath === "string" ? mod.libraryPath : undefined;
  } catch {
    return undefined;
  }
}

/** The library of the first platform package that is installed and loads (a package manager
 * that ignores `libc` may have installed both Linux variants; only the right one loads), and
 * why each one before it did not. Nothing after it is imported: a JSR-loaded binding fetches
 * no package it does not need. */
async function packagedLibrary(names: string[]): Promise<{ path?: string; tried: string[] }> {
  const tried: string[] = [];
  for (const name of names) {
    const pkg = `@timelog/timelog-${name}`;
    const path = await packagePath(name);
    if (path === undefined) {
      tried.push(`  ${pkg}: not installed`);
      continue;
    }
    const id = probe(path);
    if (!(id instanceof Error)) return { path, tried };
    tried.push(`  ${pkg}: installed, but ${path} does not load: ${id.message.split("\n")[0]}`);
  }
  return { tried };
}

const { os, cpu } = machine();
const names = platformNames(os, cpu);
const envPath = adapter.env("TIMELOG_LIB");
// Resolved once at module load (a dynamic import is asynchronous; opening the library stays
// lazy in native()). Skipped when TIMELOG_LIB decides.
const packaged: { path?: string; tried: string[] } = envPath
  ? { tried: [] }
  : await packagedLibrary(names);

function checkoutCandidates(): string[] {
  const file = libraryFile(os);
  const dir = os === "win32" ? "bin" : "lib";
  const urls = [new URL(`../../zig-out/${dir}/${file}`, import.meta.url)];
  for (const name of names) {
    urls.push(new URL(`../../zig-out/dist/${name}/${file}`, import.meta.url));
  }
  return remote ? [] : urls.map(urlPath);
}

function mismatch(path: string, id: LibraryIdentity): TimelogError {
  const lib = id.abi === 0 ? "predates ABI versioning" : `implements ABI ${id.abi}`;
  return new TimelogError(
    "ENOLIB",
    0,
    `libtimelog at ${path} (version ${id.version || "unknown"}) ${lib}, but this binding ` +
      `(@timelog/timelog ${VERSION}) needs ABI ${ABI_VERSION}. Install matching versions ` +
      `(reinstall @timelog/timelog ${VERSION}, which brings its platform package), rebuild a ` +
      "checkout's library with `zig build`, or point TIMELOG_LIB at a library of the same release.",
  );
}

/** The library's identity, or a reason it cannot be loaded (ABI 0: no version symbols). */
function probe(path: string): LibraryIdentity | Error {
  try {
    return adapter.probeLibrary(path);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/tl_(abi_)?version/.test(msg)) return { abi: 0, version: "" };
    return err instanceof Error ? err : new Error(msg);
  }
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
  const errors: string[] = [...packaged.tried];
  const paths = envPath
    ? [envPath]
    : [...(packaged.path ? [packaged.path] : []), ...checkoutCandidates()];
  let lastError: unknown;
  for (const path of paths) {
    const id = probe(path);
    if (id instanceof Error) {
      lastError = id;
      errors.push(`  ${path}: ${id.message.split("\n")[0]}`);
      continue;
    }
    if (id.abi !== ABI_VERSION) throw mismatch(path, id);
    cached = adapter.openLibrary(path);
    return cached;
  }
  throw new TimelogError("ENOLIB", 0, missingMessage(errors), { cause: lastError });
}

function missingMessage(errors: string[]): string {
  const platform = `${os}-${cpu}`;
  const tried = errors.length ? `; tried:\n${errors.join("\n")}\n` : ".\n";
  if (envPath) return `Cannot load libtimelog from TIMELOG_LIB${tried}Check the path.`;
  if (names.length === 0) {
    return `Timelog has no prebuilt library for ${platform}${tried}` +
      "Build one from a checkout with `zig build` and set TIMELOG_LIB to its path.";
  }
  const pkgs = names.map((n) => `@timelog/timelog-${n}@${VERSION}`).join(" or ");
  return `Cannot find libtimelog for ${platform}${tried}Install ${pkgs} (an optional ` +
    "dependency of @timelog/timelog: reinstall without --omit=optional / --no-optional), " +
    "build a checkout's library with `zig build`, or set TIMELOG_LIB to the library's path.";
}

/**
 * The identity of the library the binding loads (opening it if needed).
 *
 * @example
 * ```ts ignore
 * console.log(libraryIdentity().version); // "0.1.0"
 * ```
 */
export function libraryIdentity(): LibraryIdentity {
  const rt = native();
  return { abi: rt.symbols.tl_abi_version(), version: rt.readCString(rt.symbols.tl_version()) };
}
