/**
 * One fresh-process measurement of one peer on the users' shape, for the driver
 * (bench/peers_main.ts) to run K times per peer per runtime. In a process that has run
 * nothing else (no warm-up: what a user's process pays the first time):
 *
 * 1. generates the users' shape (not timed), collects garbage, reads the RSS baseline;
 * 2. times the first ingest: the structure's construction (for Timelog: loading the library)
 *    and every batch of 1,000 (`ingest_first_per_s`, records per second); the construction
 *    alone is reported too (`open_first_ms`), and the RSS it added (`mem_open_bytes`);
 * 3. stays idle `--settle-ms` (500) so Timelog's background maintenance does what it would
 *    in a user's process, then reads the RSS again: `mem_bytes_per_record` is the growth over
 *    the baseline per record (the JS heap never gives memory back, so one peer per process);
 * 4. checks the structure by a full scan (count, value and timestamp sums, order).
 *
 *   deno run --allow-ffi --allow-env --allow-read --v8-flags=--expose-gc bench/peers_fresh.ts \
 *     --peer timelog|array|btree|sqlite [--records N] [--settle-ms S]
 *   bun bench/peers_fresh.ts --peer timelog|array|btree|sqlite [--records N] [--settle-ms S]
 *
 * Prints one JSON line; exits 1 when a check failed.
 *
 * @module
 */
import process from "node:process";
import { makePeer } from "./peers/make.ts";
import { collect, msOf, sleep, timeScan } from "./peers/measure.ts";
import { PEER_NAMES, type PeerName } from "./peers/peer.ts";
import { usersShape } from "./peers/shapes.ts";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const name = arg("--peer", "") as PeerName;
if (!PEER_NAMES.includes(name)) throw new TypeError(`--peer must be one of ${PEER_NAMES}`);
const N = Number(arg("--records", "1000000"));
const SETTLE_MS = Number(arg("--settle-ms", "500"));
const runtime = "Deno" in globalThis ? "deno" : "bun";

const d = usersShape(N);
collect(); // so that the generator's garbage is not freed inside the measured window
const rssBase = process.memoryUsage().rss;
let peer!: ReturnType<typeof makePeer>;
const openMs = msOf(() => (peer = makePeer(name, "users")));
const rssOpen = process.memoryUsage().rss; // between the two timed parts: a few µs
const ms = openMs + msOf(() => peer.ingest(d, 1000));
await sleep(SETTLE_MS);
const rssAfter = process.memoryUsage().rss;
const failures: string[] = [];
const fail = (what: string) => failures.push(`${name} (users, ${N} records, fresh): ${what}`);
timeScan(peer, d.t0, { n: N, sum: d.valueSum, tsSum: d.tsSum }, fail);
peer.close();
console.log(JSON.stringify({
  runtime,
  peer: name,
  records: N,
  ingest_first_per_s: +((N * 1000) / ms).toPrecision(4),
  mem_bytes_per_record: +((rssAfter - rssBase) / N).toPrecision(4),
  open_first_ms: +openMs.toPrecision(4),
  mem_open_bytes: rssOpen - rssBase,
  rss_base_bytes: rssBase,
  rss_after_bytes: rssAfter,
  verified: failures.length === 0,
  failures,
}));
if (failures.length > 0) process.exit(1);
