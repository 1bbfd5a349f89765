/**
 * Byte-valued logs (`values: "bytes"`, `"json"`, a codec): every read path returns what was
 * written, bad values throw with their index and store nothing, a durable path is refused,
 * retention gives the engine's value memory back once no snapshot pins it, durable logs bring
 * every value back after a reopen (from segment files and from the WAL); a random model of
 * appends, deletes, maintenance and snapshots checks every read against a JS reference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Timelog, type ValueCodec } from "../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

test("bytes: every read path returns the bytes written", () => {
  using log = new Timelog<Uint8Array>({ values: "bytes" });
  const v = (s: string) => enc.encode(s);
  log.append(10, v("ten"));
  log.appendMany([30, 20, 20, 40], [v("thirty"), v("twenty"), v(""), v("forty")]);
  log.extend([[5, v("five")]]);
  const text = (xs: Iterable<Uint8Array>) => [...xs].map((b) => dec.decode(b));
  assert.deepEqual(text(log.at(20)), ["twenty", ""]);
  assert.deepEqual([...log.all()].map(([t, b]) => [t, dec.decode(b)]), [
    [5, "five"],
    [10, "ten"],
    [20, "twenty"],
    [20, ""],
    [30, "thirty"],
    [40, "forty"],
  ]);
  const it = log.range(10, 35);
  const b = it.nextBatch();
  assert.ok(b);
  assert.deepEqual([...b.ts], [10, 20, 20, 30]);
  assert.deepEqual(text(b.values as Uint8Array[]), ["ten", "twenty", "", "thirty"]);
  const rev = log.range(0, 100, { reverse: true, limit: 2 });
  assert.deepEqual([...rev].map(([t, x]) => [t, dec.decode(x)]), [[40, "forty"], [30, "thirty"]]);
  const asof = log.asOf(25);
  assert.ok(asof);
  assert.deepEqual([asof[0], dec.decode(asof[1])], [20, ""]);
  const many = log.asOfMany([1, 35, 20]);
  assert.deepEqual([...many.found], [0, 1, 1]);
  assert.equal(many.values[0], undefined);
  assert.deepEqual(text(many.values.slice(1) as Uint8Array[]), ["thirty", ""]);
  using snap = log.snapshot();
  log.deleteBefore(100);
  log.compact();
  assert.equal(log.count(), 0);
  assert.deepEqual(text(snap.at(40)), ["forty"]); // the snapshot still pins its values
  const s = log.stats();
  assert.equal(s.storedValues, 6);
  assert.equal(s.retiredValues, 6);
  snap.close();
  const after = log.stats();
  assert.equal(after.storedValues, 0);
  assert.equal(after.valueBytes, 0);
  assert.equal(after.retiredValues, 0);
});

test("bytes: values read are independent copies", () => {
  using log = new Timelog<Uint8Array>({ values: "bytes" });
  const src = new Uint8Array([1, 2, 3]);
  log.append(1, src);
  src[0] = 9; // the engine copied it at the call
  const [got] = log.at(1);
  assert.deepEqual([...got], [1, 2, 3]);
  got[1] = 7; // a reader's copy: the stored value stays
  assert.deepEqual([...log.at(1)[0]], [1, 2, 3]);
});

test("json: round trips; what JSON cannot represent is a TypeError and stores nothing", () => {
  using log = new Timelog<unknown>({ values: "json" });
  const vals = [{ a: 1, b: [true, null, "x"] }, "s", 0, -1.5e300, [], {}, null];
  log.appendMany(vals.map((_, i) => i), vals);
  assert.deepEqual([...log.all()].map(([, v]) => v), vals);
  const bad: unknown[] = [undefined, NaN, Infinity, () => 1, Symbol("s"), 10n, { a: undefined }];
  const cyc: Record<string, unknown> = {};
  cyc.self = cyc;
  bad.push(cyc);
  for (const b of bad) {
    assert.throws(() => log.appendMany([100, 101], [1, b]), TypeError);
    assert.throws(() => log.append(100, b), TypeError);
  }
  assert.equal(log.count(), vals.length);
  assert.throws(() => log.appendMany([1], [[1, NaN]]), /values\[0\].*NaN/);
});

test("a codec: encode and decode are used; a refusal names the value and stores nothing", () => {
  let encodes = 0;
  const upper: ValueCodec<string> = {
    encode: (s) => {
      encodes++;
      if (typeof s !== "string") throw new TypeError("must be a string");
      return enc.encode(s.toUpperCase());
    },
    decode: (b) => dec.decode(b),
  };
  using log = new Timelog<string>({ values: upper });
  log.appendMany([1, 2], ["ab", "cd"]);
  assert.equal(encodes, 2);
  assert.deepEqual(log.at(2), ["CD"]);
  assert.throws(
    () => log.appendMany([3, 4], ["ok", 5 as unknown as string]),
    /values\[1\] must be a string/,
  );
  const notBytes = { encode: () => "x" as unknown as Uint8Array, decode: (b: Uint8Array) => b };
  using bad = new Timelog<Uint8Array>({ values: notBytes });
  assert.throws(() => bad.append(1, new Uint8Array(1)), /encode must return a Uint8Array/);
  assert.equal(bad.count(), 0);
  assert.equal(log.count(), 2);
});

test("json on disk: every value comes back after reopen, from segment files and the WAL", () => {
  const root = mkdtempSync(join(tmpdir(), "timelog-values-"));
  const path = join(root, "events");
  type Ev = { user: string; n: number; tags: string[] };
  const ev = (i: number): Ev => ({ user: "u" + (i % 13), n: i, tags: ["t".repeat(i % 5)] });
  try {
    {
      using log = new Timelog<Ev>({ path, values: "json", durability: "sync" });
      log.appendMany(
        Array.from({ length: 5000 }, (_, i) => i),
        Array.from({ length: 5000 }, (_, i) => ev(i)),
      );
      log.checkpoint(); // segment files: pages and value chunks
      log.append(5000, { user: "late", n: -1, tags: [] });
      log.appendMany([6000, 6001], [ev(6000), ev(6001)]); // the WAL tail
      log.delete(100, 200);
    }
    {
      using log = new Timelog<Ev>({ path, values: "json" });
      const all = [...log.all()];
      assert.equal(all.length, 5000 - 100 + 3);
      assert.deepEqual(all[99], [99, ev(99)]);
      assert.deepEqual(all[100], [200, ev(200)]);
      assert.deepEqual(log.at(5000), [{ user: "late", n: -1, tags: [] }]);
      assert.deepEqual(log.asOf(7000), [6001, ev(6001)]);
      assert.equal(log.stats().storedValues, log.stats().recordsStored);
      log.deleteBefore(4000);
      log.compact();
      log.checkpoint();
    }
    {
      using log = new Timelog<Ev>({ path, values: "json" });
      assert.equal(log.count(), 1000 + 3);
      assert.equal(log.stats().replayedRecords, 0);
      assert.deepEqual(log.at(4321), [ev(4321)]);
    }
    // The directory holds byte values: opening it as f64 names both kinds.
    assert.throws(() => new Timelog({ path, values: "f64" }), /values bytes.*f64|bytes/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("bytes: bad values and options are refused clearly", () => {
  using log = new Timelog<Uint8Array>({ values: "bytes" });
  assert.throws(
    () => log.append(1, "x" as unknown as Uint8Array),
    /values\[0\] must be a Uint8Array/,
  );
  assert.throws(
    () => log.appendMany([1, 2], [new Uint8Array(1), [1] as unknown as Uint8Array]),
    TypeError,
  );
  assert.equal(log.count(), 0);
  assert.throws(() => new Timelog({ values: { encode: 1 } as never }), /encode and decode/);
  assert.throws(() => new Timelog({ values: "text" as never }), /"bytes", "json"/);
});

test("json: retention gives the engine's value memory back", () => {
  using log = new Timelog<{ i: number; tag: string }>({ values: "json", maintenance: "manual" });
  const n = 200_000;
  for (let o = 0; o < n; o += 5000) {
    const ts = Array.from({ length: 5000 }, (_, k) => o + k);
    log.appendMany(ts, ts.map((i) => ({ i, tag: "tick-" + (i % 97) })));
  }
  log.compact();
  const full = log.stats();
  assert.equal(full.storedValues, n);
  assert.ok(full.valueChunkBytes >= 4 << 20, `${full.valueChunkBytes}`);
  log.deleteBefore(n / 2);
  log.compact();
  const half = log.stats();
  assert.equal(half.storedValues, n / 2);
  assert.ok(
    half.valueChunkBytes <= full.valueChunkBytes / 2 + (2 << 20),
    `${half.valueChunkBytes}`,
  );
  assert.deepEqual(log.at(n - 1), [{ i: n - 1, tag: "tick-" + ((n - 1) % 97) }]);
  assert.deepEqual(log.at(n / 2 - 1), []);
});

test("json: random appends, deletes, maintenance and snapshots against a model", () => {
  let seed = 12345;
  const rnd = (k: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % k;
  };
  using log = new Timelog<[number, string]>({
    values: "json",
    maintenance: "manual",
    memtableRecords: 256,
  });
  let model: Array<[number, [number, string]]> = []; // insertion order
  const snaps: Array<{ snap: ReturnType<typeof log.snapshot>; want: typeof model }> = [];
  const sorted = (m: typeof model) =>
    m.map((r, i) => [r, i] as const).sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1]).map(([r]) =>
      r
    );
  let k = 0;
  for (let step = 0; step < 1500; step++) {
    const r = rnd(100);
    if (r < 55) {
      const n = 1 + rnd(40);
      const ts = Array.from({ length: n }, () => rnd(3000));
      const vals = ts.map((t): [number, string] => [k++, "v".repeat(t % 7)]);
      log.appendMany(ts, vals);
      ts.forEach((t, i) => model.push([t, vals[i]]));
    } else if (r < 65) {
      const a = rnd(3000), b = a + rnd(400);
      log.delete(a, b);
      model = model.filter(([t]) => t < a || t >= b);
    } else if (r < 75) log.flush();
    else if (r < 80) log.compact();
    else if (snaps.length < 3 && r < 90) snaps.push({ snap: log.snapshot(), want: model.slice() });
    else if (snaps.length > 0) {
      const { snap, want } = snaps.splice(rnd(snaps.length), 1)[0];
      assert.deepEqual([...snap.all()], sorted(want));
      snap.close();
    }
    if (step % 100 === 0) assert.deepEqual([...log.all()], sorted(model));
  }
  for (const { snap, want } of snaps) {
    assert.deepEqual([...snap.all()], sorted(want));
    snap.close();
  }
  log.compact();
  assert.deepEqual([...log.all()], sorted(model));
  assert.equal(log.stats().storedValues, model.length);
});
