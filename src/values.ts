/**
 * Values stored by the engine as bytes: `values: "bytes"` (Uint8Array payloads), `"json"`
 * (any JSON value, stored as UTF-8) and a user's `{ encode, decode }` codec.
 *
 * Writes encode every value first (a value that cannot be encoded throws with its index and
 * nothing is stored), then hand the engine one buffer with the values back to back and their
 * end offsets: one FFI call a batch. Reads turn a batch of handles into bytes with one call
 * (`tl_values_read`) into one fresh buffer; `"bytes"` values are views of it (no copy per
 * value), a codec decodes from those views, and `"json"` encodes and decodes the UTF-8 of a
 * whole batch at once (json.ts). The handles themselves never pass
 * through a JS number: they stay in the typed array the engine wrote them to.
 *
 * @module
 */
import { Status } from "./errors.ts";
import type { NativePointer, TimelogSymbols } from "./ffi/runtime.ts";
import { decodeTexts, encodeAscii, jsonText, jsonValue, utf8Of } from "./json.ts";
import { describe } from "./time.ts";

/**
 * A codec for `values: { encode, decode }`: how a value becomes bytes and back. `encode` may
 * throw to refuse a value (nothing of the batch is then stored).
 *
 * @example
 * ```ts
 * import { Timelog, type ValueCodec } from "@timelog/timelog";
 * const upper: ValueCodec<string> = {
 *   encode: (s) => new TextEncoder().encode(s.toUpperCase()),
 *   decode: (b) => new TextDecoder().decode(b),
 * };
 * using log = new Timelog<string>({ values: upper });
 * log.append(1, "abc");
 * console.log(log.at(1)); // ["ABC"]
 * ```
 */
export interface ValueCodec<V> {
  /** The bytes stored for `value`. */
  encode(value: V): Uint8Array;
  /** The value of stored bytes (a view valid for this call only if you keep it: copy it). */
  decode(bytes: Uint8Array): V;
}

/** `values: "json"`: UTF-8 JSON text; refuses what JSON cannot represent exactly. Batches
 * take the faster path of json.ts (one encode or decode a batch). */
export const JSON_CODEC: ValueCodec<unknown> = {
  encode: (v) => utf8Of(jsonText(v)),
  decode: (b) => jsonValue(b),
};

/** `values: "bytes"`: Uint8Array in, Uint8Array out. */
export const BYTES_CODEC: ValueCodec<unknown> = {
  encode: (v) => {
    if (!(v instanceof Uint8Array)) {
      throw new TypeError(`must be a Uint8Array in a bytes log, got ${describe(v)}`);
    }
    return v;
  },
  decode: (b) => b,
};

const U32_MAX = 2 ** 32 - 1;

/** A batch of encoded values, back to back, with their end offsets. */
export interface EncodedValues {
  readonly data: Uint8Array;
  readonly ends: Uint32Array;
}

/** The engine side of a bytes log: encodes batches for writes, reads batches of handles. */
export class ByteValues<V> {
  readonly #codec: ValueCodec<V>;
  readonly #identity: boolean;
  readonly #json: boolean;
  readonly #need = new BigUint64Array(1);
  #scratch = new Uint8Array(1 << 16);

  constructor(
    readonly sym: TimelogSymbols,
    readonly ptr: () => NativePointer,
    readonly check: (status: number, action: string) => void,
    codec: ValueCodec<unknown>,
  ) {
    this.#codec = codec as ValueCodec<V>;
    this.#identity = codec === BYTES_CODEC;
    this.#json = codec === JSON_CODEC;
  }

  /** Encodes n values; throws a TypeError naming the first bad one (nothing stored). */
  encode(values: ArrayLike<V>, n: number, action: string): EncodedValues {
    if (this.#json) {
      const texts: string[] = new Array(n);
      for (let i = 0; i < n; i++) texts[i] = this.#text(values[i], i, action);
      const ends = new Uint32Array(n);
      const data = encodeAscii(texts, ends);
      if (data !== null && data.length <= U32_MAX) return { data, ends };
      return this.#pack(texts.map(utf8Of), n, action); // not all ASCII: text by text
    }
    const parts: Uint8Array[] = new Array(n);
    for (let i = 0; i < n; i++) {
      let b: Uint8Array;
      try {
        b = this.#codec.encode(values[i]);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        throw new TypeError(`Cannot ${action}: values[${i}] ${msg}`, { cause: e });
      }
      if (!(b instanceof Uint8Array)) {
        throw new TypeError(
          `Cannot ${action}: values[${i}]: encode must return a Uint8Array, got ${describe(b)}`,
        );
      }
      parts[i] = b;
    }
    return this.#pack(parts, n, action);
  }

  /** A JSON value's text, or a TypeError naming it. */
  #text(v: unknown, i: number, action: string): string {
    try {
      return jsonText(v);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new TypeError(`Cannot ${action}: values[${i}] ${msg}`, { cause: e });
    }
  }

  /** Encoded values back to back, with their ends. */
  #pack(parts: Uint8Array[], n: number, action: string): EncodedValues {
    const ends = new Uint32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += parts[i].length;
      if (total > U32_MAX) {
        throw new RangeError(`Cannot ${action}: a batch holds at most 4 GiB of values`);
      }
      ends[i] = total;
    }
    const data = new Uint8Array(total);
    for (let i = 0, at = 0; i < n; i++) {
      data.set(parts[i], at);
      at += parts[i].length;
    }
    return { data, ends };
  }

  /** The values of handles h[from, to) (raw engine handles in a Float64Array's memory). */
  decode(h: Float64Array, from: number, to: number): V[] {
    const n = to - from;
    const out: V[] = new Array(n);
    if (n === 0) return out;
    const raw = new BigUint64Array(h.buffer, h.byteOffset + 8 * from, n);
    const ends = new Uint32Array(n);
    const read = () =>
      this.sym.tl_values_read(
        this.ptr(),
        raw,
        n,
        this.#scratch,
        this.#scratch.length,
        ends,
        this.#need,
      );
    let status = read();
    if (status === Status.EOVERFLOW) { // grow to what the batch needs, once
      this.#scratch = new Uint8Array(Math.max(Number(this.#need[0]), 2 * this.#scratch.length));
      status = read();
    }
    this.check(status, "read values");
    if (this.#json) {
      const texts = decodeTexts(this.#scratch, ends, n);
      for (let i = 0; i < n; i++) out[i] = JSON.parse(texts[i]) as V;
      return out;
    }
    // One fresh buffer a batch, so values handed out are never overwritten by a later read.
    const bytes = this.#scratch.slice(0, n ? ends[n - 1] : 0);
    const codec = this.#codec;
    for (let i = 0, start = 0; i < n; i++) {
      const view = bytes.subarray(start, ends[i]);
      out[i] = this.#identity ? (view as V) : codec.decode(view);
      start = ends[i];
    }
    return out;
  }

  /** Live values, their bytes, the bytes held by the engine's chunks, values still pinned. */
  stats(): { values: number; bytes: number; heldBytes: number; pinned: number } {
    const out = new BigUint64Array(4);
    this.check(this.sym.tl_values_stats(this.ptr(), out), "read value stats");
    return {
      values: Number(out[0]),
      bytes: Number(out[1]),
      heldBytes: Number(out[2]),
      pinned: Number(out[3]),
    };
  }
}
