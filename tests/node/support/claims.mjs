// A storage adapter like a small Redis, in memory: async methods, a time to live on every key,
// atomic claim / compare-and-delete release. Two Sendonce instances over one of these are two
// bot processes over one store.
export function memoryClaims() {
  const map = new Map();
  const live = (k) => {
    const e = map.get(k);
    if (e && e.until <= Date.now()) map.delete(k);
    return map.get(k);
  };
  const later = (v) => new Promise((r) => setTimeout(() => r(v), 1));
  return {
    map,
    get: (k) => later(live(k)?.value ?? null),
    set: (k, v, ttl) => later(void map.set(k, { value: v, until: Date.now() + ttl })),
    delete: (k) => later(void map.delete(k)),
    keys: (p) => later([...map.keys()].filter((k) => k.startsWith(p) && live(k))),
    claim: (k, v, ttl) => {
      // Decided at once (atomically), answered later, as a server would.
      const created = !live(k);
      if (created) map.set(k, { value: v, until: Date.now() + ttl });
      return later(created);
    },
    release: (k, v) => {
      const mine = live(k)?.value === v;
      if (mine) map.delete(k);
      return later(mine);
    },
  };
}

/** A store with async get/set/delete/keys and no claims (a bot's own store without atomic
 * operations): every method answers after `delayMs`. */
export function asyncAdapter(delayMs = 2) {
  const map = new Map();
  const later = (v) => new Promise((r) => setTimeout(() => r(v), delayMs));
  return {
    map,
    get: (k) => later(map.has(k) ? map.get(k) : null),
    set: (k, v) => later(void map.set(k, v)),
    delete: (k) => later(void map.delete(k)),
    keys: (prefix) => later([...map.keys()].filter((k) => k.startsWith(prefix))),
  };
}
