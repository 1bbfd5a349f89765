// The examples compute what a plain reference over the same data computes, and run as scripts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { generateTicks, type MinuteStats, rollingStats } from "../examples/rolling_stats.ts";
import { type CacheOp, runCache, workload } from "../examples/ttl_cache.ts";
import { type AuditEvent, generateEvents, runEventLog } from "../examples/event_log.ts";

/** Indexes of `ts` sorted by timestamp, ties in arrival order (Timelog's order). */
function order(ts: number[]): number[] {
  return ts.map((_, i) => i).sort((a, b) => ts[a] - ts[b] || a - b);
}

test("examples/rolling_stats.ts reports every minute as a plain grouping of the ticks does", () => {
  const ticks = generateTicks(12);
  const want: MinuteStats[] = [];
  for (const i of order(ticks.ts)) {
    const start = Math.floor(ticks.ts[i] / 60_000) * 60_000, p = ticks.price[i];
    let m = want.at(-1);
    if (m === undefined || m.start !== start) {
      m = { start, count: 0, open: p, high: -Infinity, low: Infinity, close: p, mean: 0 };
      want.push(m);
    }
    m.count++;
    m.high = Math.max(m.high, p);
    m.low = Math.min(m.low, p);
    m.close = p;
    m.mean += p; // the sum for now, in the same order the example sums
  }
  for (const m of want) m.mean /= m.count;
  assert.equal(want.length, 12);
  assert.deepEqual(rollingStats(ticks), want);
  assert.deepEqual(rollingStats(ticks, 7), want, "batch size does not change the answer");
});

/** The TTL cache done naively: every sweep scans every entry. */
function naiveCache(
  ops: CacheOp[],
  ttl: number,
): { lines: string[]; hits: number; misses: number } {
  const entries = new Map<string, { expires: number; seq: number }>();
  const lines: string[] = [];
  let hits = 0, misses = 0, seq = 0;
  for (const o of ops) {
    if (o.op === "set") entries.set(o.key, { expires: o.t + ttl, seq: seq++ });
    else if (o.op === "get") (entries.get(o.key)?.expires ?? -Infinity) > o.t ? hits++ : misses++;
    else {
      const due = [...entries].filter(([, e]) => e.expires <= o.t)
        .sort(([, a], [, b]) => a.expires - b.expires || a.seq - b.seq).map(([k]) => k);
      for (const k of due) entries.delete(k);
      const live = entries.size;
      const indexed = ops.filter((x) =>
        x.op === "set" && x.t + ttl > o.t && ops.indexOf(x) < ops.indexOf(o)
      )
        .length;
      lines.push(
        `t=${o.t}: expired ${due.length} [${due.slice(0, 4).join(" ")}${
          due.length > 4 ? " ..." : ""
        }]` +
          ` live=${live} indexed=${indexed}`,
      );
    }
  }
  return { lines, hits, misses };
}

test("examples/ttl_cache.ts expires, hits and misses exactly as a naive cache", () => {
  for (const ttl of [50, 1000]) {
    const ops = workload(1500, 30, ttl);
    const got = runCache(ops, ttl);
    assert.deepEqual(got, naiveCache(ops, ttl));
    assert.ok(got.hits > 0 && got.misses > 0 && got.lines.some((l) => !l.includes("expired 0")));
  }
});

test("examples/event_log.ts reports from its snapshot what the first half of the events hold", () => {
  const events = generateEvents(6000, 4);
  const { before, after, live } = runEventLog(events, 4);
  const first = events.slice(0, 3000);
  const sorted = order(first.map(([t]) => t)).map((i) => first[i]);
  const perHour = [0, 1, 2, 3].map((h) =>
    first.filter(([t]) => t >= h * 3_600_000 && t < (h + 1) * 3_600_000).length
  );
  const alerts: Record<string, number> = { api: 0, billing: 0, search: 0 };
  for (const [, e] of first) if (e.kind === "alert") alerts[e.service]++;
  const maxTs = Math.max(...first.map(([t]) => t));
  const latest = {
    ts: maxTs,
    ids: first.filter(([t]) => t === maxTs).map(([, e]: [number, AuditEvent]) => e.id),
  };
  assert.deepEqual(before, {
    total: 3000,
    perHour,
    alertsPerService: alerts,
    latest,
    firstPage: sorted.slice(0, 5).map(([, e]) => e.id),
  });
  assert.deepEqual(after, before);
  assert.equal(live, events.filter(([t]) => t >= 3_600_000).length);
});

test("every example runs as a script and prints its report", () => {
  const isDeno = "Deno" in globalThis;
  const expect: Record<string, RegExp> = {
    "rolling_stats.ts": /^rolling stats over \d+ ticks[\s\S]*minute 11: n=\d+/,
    "ttl_cache.ts": /^TTL cache: \d+ operations[\s\S]*hits=\d+ misses=\d+/,
    "event_log.ts": /^event log: [\s\S]*reads the same: true; live log: \d+/,
    "demo.ts": /Timelog demo on (Deno|Bun)/,
  };
  for (const [file, re] of Object.entries(expect)) {
    const path = fileURLToPath(new URL(`../examples/${file}`, import.meta.url));
    const args = isDeno ? ["run", "--allow-ffi", "--allow-env", "--allow-read", path] : [path];
    const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, `${file}: exit ${r.status}: ${r.stderr}`);
    assert.match(r.stdout, re, file);
  }
});
