// sendonce's IndexedDB StorageAdapter: the one store a page and its service worker both reach
// (a service worker has no localStorage). Every entry is `{ v: value, e: expiresAt }` in one
// object store; an entry past its time is absent for every method. It only carries out:
//   get     one read
//   set     one put, with the time to live sendonce gives
//   delete  one delete
//   keys    a cursor over [prefix, prefix + U+FFFF]
//   claim   get, then put only when absent, in one readwrite transaction
//   release get, then delete only while it holds this caller's value, in one transaction
//   renew   get, then put a new time only while it holds this caller's value, in one transaction
// IndexedDB runs readwrite transactions over the same object store one after the other, across
// every tab and worker of the origin: a claim is atomic between a page and the service worker.
// Each write resolves once its transaction has committed.

const STORE = "records";

/** Longest time to live written (30 days), as `sendonce/redis` does: nothing stays for ever. */
const MAX_TTL_MS = 30 * 24 * 3600 * 1000;

function ttlOf(ttlMs) {
  const n = Math.floor(Number(ttlMs));
  if (!Number.isFinite(n) || n < 1) return 1;
  return Math.min(n, MAX_TTL_MS);
}

function live(entry, now) {
  return entry != null && typeof entry === "object" && typeof entry.v === "string" && !(entry.e <= now);
}

function openDatabase(name) {
  return new Promise((resolve, reject) => {
    const idb = globalThis.indexedDB;
    if (!idb) return reject(new Error("idbStorage: this context has no IndexedDB"));
    const request = idb.open(name, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another context upgrading the database: let it (the next call opens it again).
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => reject(request.error ?? new Error("idbStorage: the database did not open"));
    request.onblocked = () => reject(new Error("idbStorage: the database is blocked by another connection"));
  });
}

/**
 * A sendonce StorageAdapter over IndexedDB, with atomic claims, shared by the pages of an
 * origin and its service worker.
 * @param {{ name?: string }} [options] the database's name (default "sendonce")
 */
export function idbStorage(options = {}) {
  const name = options.name ?? "sendonce";
  if (typeof name !== "string" || name === "") throw new TypeError("idbStorage: options.name must be a non-empty string");
  let opening = null;
  const db = () => {
    opening ??= openDatabase(name).then(
      (d) => {
        d.onclose = () => (opening = null);
        return d;
      },
      (e) => {
        opening = null;
        throw e;
      },
    );
    return opening;
  };
  /**
   * Runs `work(store, done)` in one transaction; resolves with what `done(value)` was given,
   * once the transaction has committed (a readonly one: once it completes).
   */
  async function run(mode, work) {
    const d = await db();
    return new Promise((resolve, reject) => {
      let result;
      const tx = d.transaction(STORE, mode);
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error ?? new Error("idbStorage: the transaction failed"));
      tx.onabort = () => reject(tx.error ?? new Error("idbStorage: the transaction was aborted"));
      work(tx.objectStore(STORE), (value) => (result = value));
    });
  }
  /** Reads `key` in this transaction and calls `then(entry or undefined)` (a live entry only). */
  const read = (store, key, then) => {
    const r = store.get(key);
    r.onsuccess = () => then(live(r.result, Date.now()) ? r.result : undefined);
  };
  return {
    get(key) {
      return run("readonly", (store, done) => read(store, key, (entry) => done(entry ? entry.v : null)));
    },
    set(key, value, ttlMs) {
      return run("readwrite", (store) => {
        store.put({ v: String(value), e: Date.now() + ttlOf(ttlMs) }, key);
      });
    },
    delete(key) {
      return run("readwrite", (store) => {
        store.delete(key);
      });
    },
    keys(prefix) {
      return run("readonly", (store, done) => {
        const out = [];
        const now = Date.now();
        const c = store.openCursor(IDBKeyRange.bound(prefix, prefix + "\uffff"));
        c.onsuccess = () => {
          const cursor = c.result;
          if (!cursor) return done(out);
          if (typeof cursor.key === "string" && cursor.key.startsWith(prefix) && live(cursor.value, now)) out.push(cursor.key);
          cursor.continue();
        };
      });
    },
    claim(key, value, ttlMs) {
      return run("readwrite", (store, done) =>
        read(store, key, (entry) => {
          if (entry) return done(false);
          store.put({ v: String(value), e: Date.now() + ttlOf(ttlMs) }, key);
          done(true);
        }),
      );
    },
    release(key, value) {
      return run("readwrite", (store, done) =>
        read(store, key, (entry) => {
          if (!entry || entry.v !== value) return done(false);
          store.delete(key);
          done(true);
        }),
      );
    },
    renew(key, value, ttlMs) {
      return run("readwrite", (store, done) =>
        read(store, key, (entry) => {
          if (!entry || entry.v !== value) return done(false);
          store.put({ v: entry.v, e: Date.now() + ttlOf(ttlMs) }, key);
          done(true);
        }),
      );
    },
  };
}

export default idbStorage;
