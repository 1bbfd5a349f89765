/**
 * Bun adapter: `bun:ffi` over the neutral symbol table.
 *
 * `bun:ffi` is loaded with `import.meta.require` so that Deno's module graph never tries to
 * resolve it; the few shapes used are typed here.
 *
 * @module
 */
import type { NativeType } from "./symbols.ts";
import type {
  LibraryIdentity,
  NativePointer,
  NativeRuntime,
  ThreadSafeCallback,
  TimelogSymbols,
} from "./runtime.ts";
import { SYMBOLS, VERSION_SYMBOLS } from "./symbols.ts";

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: readonly string[]; returns: string }>,
  ): { symbols: Record<string, unknown>; close(): void };
  CString: new (ptr: number) => { toString(): string };
  JSCallback: new (
    fn: (token: number) => void,
    def: { args: readonly string[]; returns: string; threadsafe: boolean },
  ) => { readonly ptr: number };
}

interface BunProcess {
  env: Record<string, string | undefined>;
  on(event: "beforeExit", fn: () => void): void;
}

// Bun's synchronous require: `bun:ffi` never enters Deno's module graph (nor its publish check).
const ffi = (import.meta as unknown as { require(id: string): unknown }).require(
  "bun:ffi",
) as BunFfi;
const proc = (globalThis as unknown as { process: BunProcess }).process;

function bunType(t: NativeType): string {
  // Typed arrays go to "ptr" arguments directly: 4.5 ns per call (research/ffi-limits.md §1).
  if (t === "buffer" || t === "pointer") return "ptr";
  return t;
}

/** An environment variable, or undefined when unset. */
export function env(name: string): string | undefined {
  return proc.env[name];
}

function bunTable(
  symbols: Record<string, { parameters: readonly NativeType[]; result: NativeType }>,
): Record<string, { args: string[]; returns: string }> {
  const table: Record<string, { args: string[]; returns: string }> = {};
  for (const [name, spec] of Object.entries(symbols)) {
    table[name] = { args: spec.parameters.map(bunType), returns: bunType(spec.result) };
  }
  return table;
}

/** Reads `tl_abi_version()` and `tl_version()` of the library at `path`, then closes it. */
export function probeLibrary(path: string): LibraryIdentity {
  const lib = ffi.dlopen(path, bunTable(VERSION_SYMBOLS));
  try {
    const abi = (lib.symbols.tl_abi_version as () => number)();
    const ptr = (lib.symbols.tl_version as () => number | null)();
    return { abi, version: ptr ? new ffi.CString(ptr).toString() : "" };
  } finally {
    lib.close();
  }
}

/** Opens libtimelog at `path` with `bun:ffi`'s dlopen. Throws what dlopen throws. */
export function openLibrary(path: string): NativeRuntime {
  const lib = ffi.dlopen(path, bunTable(SYMBOLS));
  const symbols = lib.symbols as unknown as TimelogSymbols;
  return {
    name: "bun",
    symbols,
    readPointer(cell: BigUint64Array): NativePointer {
      return Number(cell[0]);
    },
    readCString(ptr: NativePointer): string {
      return ptr === null || ptr === 0 ? "" : new ffi.CString(ptr as number).toString();
    },
    threadSafeCallback(fn: (token: number) => void): ThreadSafeCallback {
      // Bun queues the call to the event loop and returns to C at once; never closed.
      const cb = new ffi.JSCallback(fn, { args: ["u32"], returns: "void", threadsafe: true });
      return { pointer: cb.ptr };
    },
    onBeforeExit(fn: () => boolean): void {
      proc.on("beforeExit", () => {
        if (fn()) setTimeout(() => {}, 1);
      });
    },
    env,
    gc(): boolean {
      (globalThis as unknown as { Bun: { gc(force: boolean): void } }).Bun.gc(true);
      return true;
    },
  };
}
