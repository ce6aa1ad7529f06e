/** A tiny LRU on Map's insertion order: a hit moves the entry to the end, overflow drops the first. */
export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();
  // The entry of the last hit is already the most recent one: a repeat needs no reordering.
  #lastKey: K | undefined;
  #lastValue: V | undefined;

  constructor(max: number) {
    this.#max = max;
  }

  get(key: K): V | undefined {
    if (key === this.#lastKey && this.#lastValue !== undefined) return this.#lastValue;
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
      this.#lastKey = key;
      this.#lastValue = value;
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    this.#lastKey = key;
    this.#lastValue = value;
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as K;
      this.#map.delete(oldest);
      if (oldest === this.#lastKey) this.#lastValue = undefined;
    }
  }

  get size(): number {
    return this.#map.size;
  }

  keys(): K[] {
    return [...this.#map.keys()];
  }

  clear(): void {
    this.#map.clear();
    this.#lastKey = undefined;
    this.#lastValue = undefined;
  }
}
