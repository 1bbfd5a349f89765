/**
 * In-memory SQLite for bench/peers/sqlite.ts in either runtime: `bun:sqlite` in Bun,
 * `node:sqlite` in Deno, each loaded through a computed specifier so that neither type checker
 * resolves the other runtime's module, and typed by the minimal interfaces below.
 *
 * @module
 */

/** The part of bun:sqlite's Statement and node:sqlite's StatementSync used here. */
export interface SqlStatement {
  run(...params: number[]): unknown;
  get(...params: number[]): unknown;
  all(...params: number[]): unknown[];
  /** bun:sqlite: rows as arrays. */
  values?(...params: number[]): number[][];
  /** node:sqlite: all() returns rows as arrays from now on. */
  setReturnArrays?(on: boolean): void;
}

/** The part of bun:sqlite's Database and node:sqlite's DatabaseSync used here. */
export interface SqlDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): SqlStatement;
  close(): void;
}

type SqlCtor = new (path: string) => SqlDatabase;
const bun = !("Deno" in globalThis);
const spec = bun ? "bun:sqlite" : "node:sqlite";
const mod = (await import(spec)) as Record<string, SqlCtor>;
const Ctor: SqlCtor = bun ? mod.Database : mod.DatabaseSync;

/** A new in-memory database. */
export function openMemory(): SqlDatabase {
  return new Ctor(":memory:");
}

/**
 * A prepared query returning rows as arrays, the fastest row form of either module (in Deno
 * about 3x node:sqlite's row objects; in Bun values() and all() are on a par).
 */
export function rowsOf(db: SqlDatabase, sql: string): (...params: number[]) => number[][] {
  const st = db.prepare(sql);
  if (st.values) return (...p) => st.values!(...p);
  st.setReturnArrays!(true);
  return (...p) => st.all(...p) as number[][];
}
