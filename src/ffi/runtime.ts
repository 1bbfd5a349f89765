/**
 * The interface both FFI adapters implement, so that everything above `src/ffi/` is the same
 * code in Deno and in Bun.
 *
 * @module
 */
import type { NativeType, SymbolTable } from "./symbols.ts";

declare const nativePointerBrand: unique symbol;

/** An opaque C pointer as the runtime represents it (Deno: a pointer object; Bun: a number). */
export type NativePointer = { readonly [nativePointerBrand]: true } | number | null;

/** Arguments a native call accepts, by neutral type. */
type ArgOf<T extends NativeType> = T extends "i32" | "u32" | "f64" ? number
  : T extends "i64" | "u64" | "usize" ? number | bigint
  : T extends "buffer" ? ArrayBufferView | null
  : T extends "pointer" | "function" ? NativePointer
  : never;

type ResultOf<T extends NativeType> = T extends "i32" | "u32" | "f64" ? number
  : T extends "i64" | "u64" | "usize" ? number | bigint
  : T extends "pointer" ? NativePointer
  : T extends "void" ? void
  : never;

type Args<P extends readonly NativeType[]> = {
  [K in keyof P]: P[K] extends NativeType ? ArgOf<P[K]> : never;
};

/** Callable symbols, typed from the symbol table. */
export type TimelogSymbols = {
  [K in keyof SymbolTable]: (
    ...args: Args<SymbolTable[K]["parameters"]>
  ) => ResultOf<SymbolTable[K]["result"]>;
};

/** A C callback the engine may call from any thread; the call is queued to the JS thread. */
export interface ThreadSafeCallback {
  /** The C function pointer to hand to the engine. */
  readonly pointer: NativePointer;
}

/** What a runtime adapter provides. */
export interface NativeRuntime {
  /** "deno" or "bun". */
  readonly name: "deno" | "bun";
  /** The library's functions. */
  readonly symbols: TimelogSymbols;
  /** Reads the pointer a C function stored into an out-parameter cell. */
  readPointer(cell: BigUint64Array): NativePointer;
  /** Reads a NUL-terminated C string. */
  readCString(ptr: NativePointer): string;
  /**
   * Creates a callback `void fn(uint32_t)` that C may call from any thread. It never keeps the
   * process alive and is never closed (one per process; see src/drops.ts).
   */
  threadSafeCallback(fn: (token: number) => void): ThreadSafeCallback;
  /** Runs `fn` when the event loop is about to exit; `fn` returns true to keep it alive. */
  onBeforeExit(fn: () => boolean): void;
  /** The value of an environment variable, or undefined (also when not permitted). */
  env(name: string): string | undefined;
  /** Forces a full garbage collection when the runtime allows it (tests only). */
  gc(): boolean;
}

/** An adapter module's entry point: open the library at `path` or throw. */
export type OpenLibrary = (path: string) => NativeRuntime;

/** What a library says about itself before anything else is bound. */
export interface LibraryIdentity {
  /** `tl_abi_version()`. */
  readonly abi: number;
  /** `tl_version()`, e.g. `"0.1.0"`. */
  readonly version: string;
}

/** Opens the library at `path` with only the version symbols, reads them, closes it; throws
 * what the runtime's dlopen throws (a missing file, or a library without those symbols). */
export type ProbeLibrary = (path: string) => LibraryIdentity;
