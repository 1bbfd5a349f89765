/**
 * The one place that turns a peer's name and a shape into a structure.
 *
 * @module
 */
import { BTreePeer } from "./btree.ts";
import type { Peer, PeerName } from "./peer.ts";
import { SortedArrayPeer } from "./sorted_array.ts";
import { SqlitePeer } from "./sqlite.ts";
import { TimelogPeer } from "./timelog.ts";

/** Which shape a structure is made for: only Timelog's ingest differs (see TimelogPeer). */
export type ShapeName = "users" | "baseline";

/**
 * A new, empty structure.
 *
 * @example
 * ```ts
 * const peer = makePeer("timelog", "users");
 * console.log(peer.size()); // 0
 * peer.close();
 * ```
 */
export function makePeer(name: PeerName, shape: ShapeName): Peer {
  switch (name) {
    case "timelog":
      return new TimelogPeer({ flush: shape === "baseline" });
    case "array":
      return new SortedArrayPeer();
    case "btree":
      return new BTreePeer();
    case "sqlite":
      return new SqlitePeer();
  }
}
