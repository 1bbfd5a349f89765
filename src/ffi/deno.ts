/**
 * Deno adapter: `Deno.dlopen` over the neutral symbol table.
 *
 * Deno's own FFI objects are reached through `globalThis` with the few shapes typed here, so
 * that this file type-checks under Bun's tooling too and no other file touches `Deno.*`.
 *
 * @module
 */
import type { NativePointer, NativeRuntime, ThreadSafeCallback, TimelogSymbols } from "./runtime.ts";
import { SYMBOLS } from "./symbols.ts";

interface DenoCallback {
  readonly pointer: unknown;
  unref(): void;
}

interface DenoApi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: readonly string[]; result: string }>,
  ): { symbols: Record<string, unknown> };
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

/** Opens libtimelog at `path` with `Deno.dlopen`. Throws what dlopen throws. */
export function openLibrary(path: string): NativeRuntime {
  const lib = deno.dlopen(path, SYMBOLS);
  const symbols = lib.symbols as unknown as TimelogSymbols;
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
