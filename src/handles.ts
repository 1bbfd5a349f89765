/**
 * The handle table: JS values the engine refers to by a 64-bit handle.
 *
 * Slot array + free list. A handle is `generation * 2^32 + slot`, kept below 2^53 so it
 * travels as an exact double (the engine stores the double's bits). The generation changes
 * every time a slot is freed, so a stale handle can never read the value now in its slot.
 *
 * @module
 */

const SLOT_SPAN = 2 ** 32;
const GEN_LIMIT = 2 ** 20;

/** Maps handles to values; releases each exactly once. */
export class HandleTable<V> {
  #values: (V | undefined)[] = [];
  #gens: number[] = [];
  #free: number[] = [];
  #live = 0;

  /** Number of values held. */
  get size(): number {
    return this.#live;
  }

  /** Stores `value`; returns its handle. */
  add(value: V): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#values.length;
      this.#values.push(value);
      this.#gens.push(1);
    } else {
      this.#values[slot] = value;
    }
    this.#live++;
    return this.#gens[slot] * SLOT_SPAN + slot;
  }

  /** The value of a live handle. Throws on a stale or foreign handle (an engine bug). */
  get(handle: number): V {
    const slot = handle % SLOT_SPAN;
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
    const slot = handle % SLOT_SPAN;
    if (!(slot < this.#gens.length) || this.#gens[slot] * SLOT_SPAN + slot !== handle) {
      return false;
    }
    const value = this.#values[slot] as V;
    this.#values[slot] = undefined;
    this.#gens[slot] = this.#gens[slot] + 1 < GEN_LIMIT ? this.#gens[slot] + 1 : 1;
    this.#free.push(slot);
    this.#live--;
    each?.(value);
    return true;
  }

  /** Frees every live handle, calling `each` with its value; returns how many were live. */
  releaseAll(each?: (value: V) => void): number {
    const free = new Set(this.#free);
    let count = 0;
    for (let slot = 0; slot < this.#values.length; slot++) {
      if (free.has(slot)) continue;
      this.release(this.#gens[slot] * SLOT_SPAN + slot, each);
      count++;
    }
    return count;
  }
}
