// A Map-backed Storage with the Web Storage interface (getItem, setItem, removeItem, key,
// length, clear), standing in for a page's localStorage in Node tests.
export class Storage {
  #map = new Map();
  get length() {
    return this.#map.size;
  }
  key(i) {
    return [...this.#map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.#map.has(k) ? this.#map.get(k) : null;
  }
  setItem(k, v) {
    this.#map.set(String(k), String(v));
  }
  removeItem(k) {
    this.#map.delete(k);
  }
  clear() {
    this.#map.clear();
  }
}

/** Installs `Storage` and a fresh `localStorage` on the global object; returns the latter. */
export function installLocalStorage() {
  globalThis.Storage = Storage;
  globalThis.localStorage = new Storage();
  return globalThis.localStorage;
}
