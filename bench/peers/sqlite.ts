/**
 * In-memory SQLite as a peer (sqlite_db.ts: `bun:sqlite` / `node:sqlite`): table
 * `(ts INTEGER, v REAL)` with an index on ts created first; one transaction per batch through
 * a prepared INSERT; prepared SELECTs whose rows (as arrays) are summed in JS.
 *
 * @module
 */
import type { Queries } from "./expect.ts";
import type { Peer } from "./peer.ts";
import type { Dataset } from "./shapes.ts";
import { openMemory, rowsOf, type SqlDatabase } from "./sqlite_db.ts";

/**
 * SQLite behind the {@link Peer} interface.
 *
 * @example
 * ```ts
 * import { usersShape } from "./shapes.ts";
 * const peer = new SqlitePeer();
 * peer.ingest(usersShape(1000), 100);
 * console.log(peer.size()); // 1000
 * peer.close();
 * ```
 */
export class SqlitePeer implements Peer {
  db: SqlDatabase = openMemory();

  constructor() {
    this.db.exec("CREATE TABLE t (ts INTEGER, v REAL); CREATE INDEX t_ts ON t (ts)");
  }

  ingest(d: Dataset, batch: number): void {
    const ins = this.db.prepare("INSERT INTO t (ts, v) VALUES (?, ?)");
    for (let off = 0; off < d.ts.length; off += batch) {
      this.db.exec("BEGIN");
      const end = Math.min(d.ts.length, off + batch);
      for (let i = off; i < end; i++) ins.run(d.ts[i], d.values[i]);
      this.db.exec("COMMIT");
    }
  }

  scan(acc: Float64Array, t0: number): void {
    const rows = rowsOf(this.db, "SELECT ts, v FROM t ORDER BY ts")();
    let t = 0, v = 0, bad = 0;
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && rows[i][0] < rows[i - 1][0]) bad++;
      t += rows[i][0] - t0;
      v += rows[i][1];
    }
    acc[0] += rows.length, acc[1] += v, acc[2] += t, acc[3] += bad;
  }

  #sum(rows: number[][], acc: Float64Array): void {
    for (let j = 0; j < rows.length; j++) acc[1] += rows[j][0];
    acc[0] += rows.length;
  }

  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const query = rowsOf(this.db, "SELECT v FROM t WHERE ts >= ? AND ts < ?");
    for (let i = lo; i < hi; i++) this.#sum(query(qs.t[i], qs.t[i] + qs.w), acc);
  }

  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const query = rowsOf(this.db, "SELECT v FROM t WHERE ts = ?");
    for (let i = lo; i < hi; i++) this.#sum(query(qs.t[i]), acc);
  }

  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void {
    const query = rowsOf(this.db, "SELECT count(*) FROM t WHERE ts >= ? AND ts < ?");
    for (let i = lo; i < hi; i++) acc[0] += query(qs.t[i], qs.t[i] + qs.w)[0][0];
  }

  retain(cutoff: number): void {
    this.db.prepare("DELETE FROM t WHERE ts < ?").run(cutoff);
  }

  size(): number {
    return rowsOf(this.db, "SELECT count(*) FROM t")()[0][0];
  }

  close(): void {
    this.db.close();
  }
}
