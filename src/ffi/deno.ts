/**
 * Deno adapter: `Deno.dlopen` over the neutral symbol table.
 *
 * Deno's own FFI objects are reached through `globalThis` with the few shapes typed here, so
 * that this file type-checks under Bun's tooling too and no other file touches `Deno.*`.
 *
 * @module
 */
import type {
  LibraryIdentity,
  NativePointer,
  NativeRuntime,
  ThreadSafeCallback,
  TimelogSymbols,
} from "./runtime.ts";
import { SYMBOLS, VERSION_SYMBOLS } from "./symbols.ts";

interface DenoCallback {
  readonly pointer: unknown;
  unref(): void;
}

interface DenoApi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: readonly string[]; result: string }>,
  ): { symbols: Record<string, unknown>; close(): void };
  UnsafePointer: { create(value: bigint): unknown };
  UnsafePointerView: { getCString(ptr: unknown): string };
  UnsafeCallback: {
    threadSafe(
      def: { parameters: readonly string[]; result: string },
      fn: (token: number) => void,
    ): DenoCallback;
  };
  env: { get(name: string): string | undefined };
  permissions: { querySync(desc: { name: "env"; variable: string }): { state: string } };
}

const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

/** An environment variable, or undefined when unset or not permitted (no prompt, no throw). */
export function env(name: string): string | undefined {
  try {
    if (deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return deno.env.get(name);
  } catch {
    return undefined;
  }
}

type Fn = (...args: unknown[]) => unknown;

/** BigInt(x) for a Number, x otherwise. */
function big(x: unknown): unknown {
  return typeof x === "number" ? BigInt(x) : x;
}

/**
 * Wraps a symbol so that Numbers passed to its 64-bit integer parameters arrive as BigInts.
 * Deno registers FFI symbols as V8 fast calls with int64 in BigInt representation; a Number
 * there falls back to the slow call path (measured: 1082 vs 277 ns for tl_read_f64 with a
 * Number `cap`). The wrapper calls with a fixed argument list — a spread call would itself
 * leave the fast path — and converts only the 64-bit slots. Bun takes Numbers natively.
 */
function bigIntArgs(fn: Fn, arity: number, slots: number[]): Fn {
  if (slots.length === 0) return fn;
  const m = (i: number): (x: unknown) => unknown => (slots.includes(i) ? big : (x) => x);
  const [c0, c1, c2, c3, c4, c5, c6, c7] = [0, 1, 2, 3, 4, 5, 6, 7].map(m);
  switch (arity) {
    case 2:
      return (a, b) => fn(c0(a), c1(b));
    case 3:
      return (a, b, c) => fn(c0(a), c1(b), c2(c));
    case 4:
      return (a, b, c, d) => fn(c0(a), c1(b), c2(c), c3(d));
    case 5:
      return (a, b, c, d, e) => fn(c0(a), c1(b), c2(c), c3(d), c4(e));
    case 6:
      return (a, b, c, d, e, f) => fn(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f));
    case 7:
      return (a, b, c, d, e, f, g) => fn(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f), c6(g));
    case 8:
      return (a, b, c, d, e, f, g, h) => fn(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f), c6(g), c7(h));
    default:
      throw new Error(`timelog: no fast wrapper for ${arity} parameters`);
  }
}

/** Reads `tl_abi_version()` and `tl_version()` of the library at `path`, then closes it. */
export function probeLibrary(path: string): LibraryIdentity {
  const lib = deno.dlopen(path, VERSION_SYMBOLS);
  try {
    const abi = (lib.symbols.tl_abi_version as () => number)();
    const ptr = (lib.symbols.tl_version as () => unknown)();
    return { abi, version: ptr === null ? "" : deno.UnsafePointerView.getCString(ptr) };
  } finally {
    lib.close();
  }
}

/**
 * Opens libtimelog at `path` with `Deno.dlopen`, after `probeLibrary` loaded it and checked its
 * ABI (so an unloadable library fails there, at load, not at a first call).
 *
 * Each symbol is bound on its first call: `Deno.dlopen` compiles a fast-call trampoline per
 * symbol, ~0.14 ms each, so binding all of them made a process's first `new Timelog()` cost
 * 9–10 ms; a process now pays for the symbols it calls. The first call replaces the symbol's
 * entry with the bound function (the object keeps its shape), so later calls go straight to
 * it; the ABI check at load (tl_abi_version) vouches that every symbol is there.
 */
export function openLibrary(path: string): NativeRuntime {
  const wrapped: Record<string, Fn> = {};
  for (const [name, spec] of Object.entries(SYMBOLS)) {
    const slots = spec.parameters.flatMap((
      t,
      i,
    ) => (t === "i64" || t === "u64" || t === "usize" ? [i] : []));
    let bound: Fn | undefined;
    const bind = (): Fn => {
      const lib = deno.dlopen(path, { [name]: spec });
      bound = bigIntArgs(lib.symbols[name] as Fn, spec.parameters.length, slots);
      wrapped[name] = bound;
      return bound;
    };
    wrapped[name] = (...args: unknown[]) => (bound ?? bind())(...args);
  }
  const symbols = wrapped as unknown as TimelogSymbols;
  return {
    name: "deno",
    symbols,
    readPointer(cell: BigUint64Array): NativePointer {
      return deno.UnsafePointer.create(cell[0]) as NativePointer;
    },
    readCString(ptr: NativePointer): string {
      return ptr === null ? "" : deno.UnsafePointerView.getCString(ptr);
    },
    threadSafeCallback(fn: (token: number) => void): ThreadSafeCallback {
      // threadSafe() refs the event loop; unref so a process that forgets close() can exit.
      const cb = deno.UnsafeCallback.threadSafe({ parameters: ["u32"], result: "void" }, fn);
      cb.unref();
      return { pointer: cb.pointer as NativePointer };
    },
    onBeforeExit(fn: () => boolean): void {
      // "beforeunload" fires when the loop is empty; scheduling a timer keeps it running.
      globalThis.addEventListener("beforeunload", () => {
        if (fn()) setTimeout(() => {}, 1);
      });
    },
    env,
    gc(): boolean {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) return false;
      gc();
      return true;
    },
  };
}
