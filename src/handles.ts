/**
 * The handle table: JS values the engine refers to by a 64-bit handle.
 *
 * Slot array + free list. A handle is `generation * 2^32 + slot`, kept below 2^53 so it
 * travels as an exact double (the engine stores the double's bits). The generation changes
 * every time a slot is freed, so a stale handle can never read the value now in its slot.
 * Decoding is `handle >>> 0` (ToUint32 takes the low 32 bits) and one multiply-add check:
 * no division on the per-record read path.
 *
 * Values live in fixed chunks of 4096 slots, not one growing array. A single array of
 * millions of values grows by copying into ever larger backing stores in V8's large-object
 * space; each dead one brings a full collection closer, and storing 2M values that way ran
 * 3–4× slower in Deno than into preallocated chunks (a bulk load was bounded by it). A chunk is
 * 32 KB, allocated when its first slot is handed out; the first grows from 16 slots, so a
 * small log stays small.
 *
 * @module
 */

const SLOT_SPAN = 2 ** 32;
const GEN_LIMIT = 2 ** 20;
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** Maps handles to values; releases each exactly once. */
export class HandleTable<V> {
  #chunks: (V | undefined)[][] = [];
  /** Slots handed out so far (live or on the free list). */
  #slots = 0;
  #gens = new Uint32Array(1024);
  #free = new Uint32Array(1024);
  #nfree = 0;
  #live = 0;

  /** Number of values held. */
  get size(): number {
    return this.#live;
  }

  #grow(min: number): void {
    let cap = this.#gens.length;
    while (cap < min) cap *= 2;
    const gens = new Uint32Array(cap);
    gens.set(this.#gens);
    this.#gens = gens;
  }

  /** Room for one more free slot. The free list grows with releases, not with the table:
   * a log that holds millions of values but frees few keeps it small (typed arrays count as
   * external memory, which brings V8's next collection closer). */
  #growFree(): void {
    const free = new Uint32Array(this.#free.length * 2);
    free.set(this.#free);
    this.#free = free;
  }

  /** Stores `value`; returns its handle. */
  add(value: V): number {
    let slot: number;
    if (this.#nfree > 0) {
      slot = this.#free[--this.#nfree];
    } else {
      slot = this.#slots++;
      if (slot >= this.#gens.length) this.#grow(slot + 1);
      // Slots are handed out in order, so a new chunk starts exactly at its first slot. The
      // first chunk starts small (a store at its length grows it); the rest are whole.
      if ((slot & CHUNK_MASK) === 0) this.#chunks.push(new Array(slot === 0 ? 16 : CHUNK));
      this.#gens[slot] = 1;
    }
    this.#chunks[slot >>> CHUNK_BITS][slot & CHUNK_MASK] = value;
    this.#live++;
    return this.#gens[slot] * SLOT_SPAN + slot;
  }

  /**
   * Stores `values[i]` for every i and writes each handle into `out[i]`. All or nothing: if
   * reading a value throws (a getter, a Proxy), the handles stored so far are released.
   */
  addMany(values: ArrayLike<V>, out: Float64Array): void {
    const n = values.length;
    if (this.#slots + n > this.#gens.length) this.#grow(this.#slots + n);
    let i = 0;
    try {
      for (; i < n; i++) out[i] = this.add(values[i]);
    } catch (e) {
      for (let j = 0; j < i; j++) this.release(out[j]);
      throw e;
    }
  }

  /** The value of a live handle. Throws on a stale or foreign handle (an engine bug). */
  get(handle: number): V {
    const slot = handle >>> 0;
    if (this.#gens[slot] * SLOT_SPAN + slot !== handle) {
      throw new Error(`Timelog internal error: stale value handle ${handle}`);
    }
    return this.#chunks[slot >>> CHUNK_BITS][slot & CHUNK_MASK] as V;
  }

  /**
   * Frees a live handle, passing its value to `each`; false (and no call) when the handle is
   * not live, so a value is released at most once.
   */
  release(handle: number, each?: (value: V) => void): boolean {
    const slot = handle >>> 0;
    if (slot >= this.#slots || this.#gens[slot] * SLOT_SPAN + slot !== handle) {
      return false;
    }
    const chunk = this.#chunks[slot >>> CHUNK_BITS];
    const value = chunk[slot & CHUNK_MASK] as V;
    chunk[slot & CHUNK_MASK] = undefined;
    const gen = this.#gens[slot] + 1;
    this.#gens[slot] = gen < GEN_LIMIT ? gen : 1;
    if (this.#nfree === this.#free.length) this.#growFree();
    this.#free[this.#nfree++] = slot;
    this.#live--;
    each?.(value);
    return true;
  }

  /** Frees every live handle, calling `each` with its value; returns how many were live. */
  releaseAll(each?: (value: V) => void): number {
    // A byte per slot, not a Set: a log closed with millions of values (all handed back by
    // the engine's teardown first, so all on the free list) spent a second building the Set.
    const free = new Uint8Array(this.#slots);
    for (let k = 0; k < this.#nfree; k++) free[this.#free[k]] = 1;
    let count = 0;
    for (let slot = 0; slot < this.#slots; slot++) {
      if (free[slot] === 1) continue;
      this.release(this.#gens[slot] * SLOT_SPAN + slot, each);
      count++;
    }
    return count;
  }
}
