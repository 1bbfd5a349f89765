/**
 * The handle table: JS values the engine refers to by a 64-bit handle.
 *
 * Slot array + free list. A handle is `generation * 2^32 + slot`, kept below 2^53 so it
 * travels as an exact double (the engine stores the double's bits). The generation changes
 * every time a slot is freed, so a stale handle can never read the value now in its slot.
 * Decoding is `handle >>> 0` (ToUint32 takes the low 32 bits) and one multiply-add check:
 * no division on the per-record read path.
 *
 * @module
 */

const SLOT_SPAN = 2 ** 32;
const GEN_LIMIT = 2 ** 20;

/** Maps handles to values; releases each exactly once. */
export class HandleTable<V> {
  #values: (V | undefined)[] = [];
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
      this.#values[slot] = value;
    } else {
      slot = this.#values.length;
      if (slot >= this.#gens.length) this.#grow(slot + 1);
      this.#values.push(value);
      this.#gens[slot] = 1;
    }
    this.#live++;
    return this.#gens[slot] * SLOT_SPAN + slot;
  }

  /**
   * Stores `values[i]` for every i and writes each handle into `out[i]`. All or nothing: if
   * reading a value throws (a getter, a Proxy), the handles stored so far are released.
   */
  addMany(values: ArrayLike<V>, out: Float64Array): void {
    const n = values.length;
    if (this.#values.length + n > this.#gens.length) this.#grow(this.#values.length + n);
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
    return this.#values[slot] as V;
  }

  /**
   * Frees a live handle, passing its value to `each`; false (and no call) when the handle is
   * not live, so a value is released at most once.
   */
  release(handle: number, each?: (value: V) => void): boolean {
    const slot = handle >>> 0;
    if (slot >= this.#values.length || this.#gens[slot] * SLOT_SPAN + slot !== handle) {
      return false;
    }
    const value = this.#values[slot] as V;
    this.#values[slot] = undefined;
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
    const free = new Set(this.#free.subarray(0, this.#nfree));
    let count = 0;
    for (let slot = 0; slot < this.#values.length; slot++) {
      if (free.has(slot)) continue;
      this.release(this.#gens[slot] * SLOT_SPAN + slot, each);
      count++;
    }
    return count;
  }
}
