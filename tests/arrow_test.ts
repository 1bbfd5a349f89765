// Arrow interchange with apache-arrow: toArrow gives timestamp (the log's unit) and Float64
// columns holding exactly the records; fromArrow reads them back (and Int64 / other numeric
// columns, several record batches); a table written to Arrow IPC and read back matches.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { Timelog } from "../mod.ts";

test("toArrow and fromArrow round-trip an f64 log, through IPC too", async () => {
  using log = new Timelog<number>({ values: "f64", timeUnit: "us" });
  const n = 10_000;
  const ts = Float64Array.from({ length: n }, (_, i) => i * 3 - 5000);
  const vs = Float64Array.from({ length: n }, (_, i) => (i % 13 === 0 ? NaN : i / 8));
  log.appendMany(ts, vs);
  log.append(10, -0);
  const table = await log.toArrow();
  assert.equal(table.numRows, n + 1);
  const t = table.getChild("ts")!;
  assert.equal(String(t.type), "Timestamp<MICROSECOND>");
  const all = [...log.all()];
  assert.deepEqual(Array.from(t.toArray() as BigInt64Array, Number), all.map(([x]) => x));
  assert.deepEqual(
    [...(table.getChild("value")!.toArray() as Float64Array)],
    all.map(([, v]) => v),
  );
  const part = await log.toArrow(0, 30);
  assert.equal(part.numRows, log.count(0, 30));
  using back = Timelog.fromArrow(table);
  assert.equal(back.options.timeUnit, "us");
  assert.deepEqual([...back.all()], all);
  const ipc = arrow.tableFromIPC(arrow.tableToIPC(table as arrow.Table));
  using fromIpc = Timelog.fromArrow(ipc);
  assert.deepEqual([...fromIpc.all()], all);
});

test("fromArrow reads other column types, names and record batches", () => {
  const batches = [0, 1].map((b) =>
    new arrow.RecordBatch({
      t: arrow.makeData({
        type: new arrow.Int64(),
        length: 3,
        data: BigInt64Array.of(1n, 2n, 3n + BigInt(b * 10)),
      }),
      v: arrow.makeData({ type: new arrow.Int32(), length: 3, data: Int32Array.of(7, 8, 9 + b) }),
    })
  );
  const table = new arrow.Table(batches);
  using log = Timelog.fromArrow(table, { tsColumn: "t", valueColumn: "v", timeUnit: "s" });
  assert.equal(log.options.timeUnit, "s");
  assert.deepEqual([...log.all()], [[1, 7], [1, 7], [2, 8], [2, 8], [3, 9], [13, 10]]);
  assert.throws(() => Timelog.fromArrow(table), /no column "ts"/);
  const stamped = arrow.tableFromArrays({ value: Float64Array.of(1) });
  assert.throws(() => Timelog.fromArrow(stamped), /no column/);
});

test("toArrow needs an f64 log; fromArrow refuses a different unit", async () => {
  using objs = new Timelog<string>();
  await assert.rejects(objs.toArrow(), TypeError);
  using log = new Timelog<number>({ values: "f64" });
  log.append(1, 1);
  const table = await log.toArrow();
  assert.throws(() => Timelog.fromArrow(table, { timeUnit: "ns" }), RangeError);
});
