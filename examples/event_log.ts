/**
 * An event log queried through snapshots.
 *
 * Services append audit events (plain objects) as they happen, some late. The log keeps them
 * as JSON in the engine (`values: "json"`), not as JS objects: millions of events cost the JS
 * heap nothing, and the same log opened with a `path` keeps them on disk. A report needs a
 * consistent view while writing goes on: it takes a snapshot — O(1), nothing copied — and
 * every query on it (counts per window, the events at one instant, the latest event, a
 * paged listing) sees exactly the events written before it, whatever is appended or deleted
 * afterwards. Retention then drops the oldest hour while the report is still open.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/event_log.ts
 *   bun examples/event_log.ts
 *
 * @module
 */
import { type Snapshot, Timelog } from "@timelog/timelog";

/** An audit event. */
export interface AuditEvent {
  service: string;
  kind: "login" | "logout" | "deploy" | "alert";
  id: number;
}

const SERVICES = ["api", "billing", "search"];
const KINDS: AuditEvent["kind"][] = ["login", "logout", "deploy", "alert"];
const HOUR = 3_600_000;

/** Seeded events over `hours` hours: [timestamp ms, event], in arrival order (5% late). */
export function generateEvents(n: number, hours: number, seed = 3): Array<[number, AuditEvent]> {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const out: Array<[number, AuditEvent]> = [];
  for (let i = 0; i < n; i++) {
    const on = Math.floor((i / n) * hours * HOUR / 1000) * 1000; // whole seconds: ties happen
    const ts = rand() < 0.05 ? Math.max(0, on - Math.floor(rand() * 600) * 1000) : on;
    const service = SERVICES[Math.floor(rand() * SERVICES.length)];
    out.push([ts, { service, kind: KINDS[Math.floor(rand() * KINDS.length)], id: i }]);
  }
  return out;
}

/** What a report reads from one snapshot. */
export interface Report {
  total: number;
  perHour: number[];
  alertsPerService: Record<string, number>;
  latest: { ts: number; ids: number[] } | undefined;
  firstPage: number[];
}

/** Builds the report from `snap` alone. */
export function report(snap: Snapshot<AuditEvent>, hours: number): Report {
  const perHour: number[] = [];
  for (let h = 0; h < hours; h++) perHour.push(snap.count(h * HOUR, (h + 1) * HOUR));
  const alertsPerService: Record<string, number> = Object.fromEntries(SERVICES.map((s) => [s, 0]));
  for (const [, e] of snap.all()) if (e.kind === "alert") alertsPerService[e.service]++;
  const last = snap.max();
  const latest = last === undefined ? undefined : { ts: last, ids: snap.at(last).map((e) => e.id) };
  const firstPage: number[] = [];
  for (const [, e] of snap.all()) { // a paged listing: stop after 5 (the iterator is closed)
    firstPage.push(e.id);
    if (firstPage.length === 5) break;
  }
  return { total: snap.count(), perHour, alertsPerService, latest, firstPage };
}

/** Writes the first half, takes a snapshot, keeps writing and deleting, reports from it. */
export function runEventLog(events: Array<[number, AuditEvent]>, hours: number): {
  before: Report;
  after: Report;
  live: number;
} {
  using log = new Timelog<AuditEvent>({ values: "json" });
  const half = events.length >> 1;
  log.extend(events.slice(0, half));
  using snap = log.snapshot();
  const before = report(snap, hours);
  log.extend(events.slice(half)); // writing goes on...
  log.deleteBefore(HOUR); // ...and retention drops the first hour
  const after = report(snap, hours); // the snapshot saw none of it
  return { before, after, live: log.size };
}

if (import.meta.main) {
  const events = generateEvents(20_000, 4);
  const { before, after, live } = runEventLog(events, 4);
  console.log(`event log: ${events.length} events over 4 hours; snapshot after ${before.total}`);
  console.log(`per hour: ${before.perHour.join(" ")}`);
  console.log(
    `alerts: ${Object.entries(before.alertsPerService).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  );
  console.log(`latest: t=${before.latest?.ts} ids=${before.latest?.ids.join(",")}`);
  console.log(`first page: ${before.firstPage.join(",")}`);
  const same = JSON.stringify(before) === JSON.stringify(after);
  console.log(
    `after more writes and retention the snapshot reads the same: ${same}; live log: ${live}`,
  );
}
