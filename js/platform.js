// The web adapters the wasm module awaits (src/platform/): one HTTP attempt, a timer, a
// caller's value raced with a timer, a Web Lock; and the shell that carries out an action's
// run (`drive`, at the end). They are written here because each `await`
// in Rust costs the wasm a state machine and the glue of its promise (measured in
// BENCHMARKS.md), where this costs a few hundred bytes of JS. They decide nothing: limits and
// durations come from the core, and every result goes back to Rust to be judged. None of them
// rejects.

/**
 * Fills `bytes` (a view of the wasm memory) from `crypto.getRandomValues`, looked up at every
 * call (a page may replace it). The source fills an array of its own, copied in afterwards: a
 * polyfill never holds a view of the wasm memory. False where there is none or it throws: no
 * key is made then.
 */
export function fillRandom(bytes) {
  try {
    const crypto = globalThis.crypto;
    if (typeof crypto?.getRandomValues !== "function") return false;
    const random = new Uint8Array(bytes.length);
    crypto.getRandomValues(random);
    bytes.set(random);
    return true;
  } catch {
    return false;
  }
}

// Whether the last `callSafely` threw (what it returned is then the thrown value).
let threwLast = false;

/**
 * Calls `f` with `self` as `this` and the first `n` of `a`, `b`, `c` as arguments (so a callback
 * sees exactly the arguments it is given). An exception is returned, not thrown, and `threw()`
 * says so: every import wasm-bindgen marks `catch` that hands back a value leaks a slot of its
 * table of JS values (and the thrown value with it) each time it throws, so the wasm calls
 * callers' functions through here.
 */
export function callSafely(f, self, n, a, b, c) {
  threwLast = false;
  try {
    return n === 0 ? f.call(self) : n === 1 ? f.call(self, a) : n === 2 ? f.call(self, a, b) : f.call(self, a, b, c);
  } catch (error) {
    threwLast = true;
    return error;
  }
}

/** True when the last `callSafely` threw. */
export function threw() {
  return threwLast;
}

/** Resolves after `ms` milliseconds (clamped to what `setTimeout` takes, about 24.8 days). */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 2147483647)));
}

/**
 * `sleep(ms)` that also resolves, with its timer cleared, as soon as `signal` or `other` aborts
 * (an instance's `dispose()`, a send cancelled by its caller): a disposed instance keeps no
 * Node process alive for a retry's wait. Either signal may be missing.
 */
export function sleepUnless(ms, signal, other) {
  return new Promise((resolve) => {
    if (signal?.aborted || other?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      other?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, 2147483647));
    signal?.addEventListener("abort", done);
    other?.addEventListener("abort", done);
  });
}

/**
 * Awaits a caller's value (a Promise or any thenable) for at most `ms` milliseconds
 * (`undefined`: no bound). The timer is cleared once it settles, so a finished call does not
 * keep a Node process alive.
 *
 * @returns {Promise<{ok: true, value: unknown} | {ok: false, error: unknown} | {timedOut: true}>}
 */
export function settle(value, ms) {
  const settled = Promise.resolve(value).then(
    (v) => ({ ok: true, value: v }),
    (e) => ({ ok: false, error: e }),
  );
  if (ms === undefined) return settled;
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, ms, { timedOut: true });
  });
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Requests the Web Lock `name` (`ifAvailable`: only when free at once). Resolves with the
 * function that releases it, or `null`: not available, no Web Locks here, or the request
 * failed (a bad name, a document without locks).
 */
export function lock(name, ifAvailable) {
  return new Promise((granted) => {
    try {
      let release;
      const held = new Promise((resolve) => {
        release = resolve;
      });
      globalThis.navigator.locks
        .request(name, ifAvailable ? { ifAvailable: true } : {}, (l) => {
          granted(l == null ? null : release);
          return l == null ? undefined : held;
        })
        .catch(() => granted(null));
    } catch {
      granted(null);
    }
  });
}

/**
 * The names of the Web Locks held or requested (by any tab of this origin) that start with
 * `prefix`; empty without Web Locks or when the query fails.
 */
export async function lockNames(prefix) {
  try {
    const { held, pending } = await globalThis.navigator.locks.query();
    const names = [...(Array.isArray(held) ? held : []), ...(Array.isArray(pending) ? pending : [])]
      .map((l) => l?.name)
      .filter((n) => typeof n === "string" && n.startsWith(prefix));
    return [...new Set(names)];
  } catch {
    return [];
  }
}

/**
 * Sends one attempt and reads the reply, never rejecting.
 *
 * The timeout is a promise that rejects when the timer fires, raced with every step (the
 * fetch, each read of the body): a fetch that ignores its AbortSignal and never settles, or a
 * body that never ends, still times out. The timer also aborts the request, for the fetches
 * that listen.
 *
 * @param {unknown} fetchFn The caller's fetch, or anything else for `globalThis.fetch`.
 * @param {string} url
 * @param {object} init The fetch options. Its `signal`, if any, is the action's cancel signal:
 *   when it aborts, so does the request (`{ failure: "aborted" }`); the fetch gets a signal
 *   of its own here.
 * @param {number} timeoutMs
 * @param {number} maxBody The most bytes of body read (UTF-16 units for a `text()` reply).
 * @param {number} maxHeaders The most header pairs read (the core's budget keeps fewer).
 * @returns {Promise<{status: unknown, headers: string[], body: string, cut: boolean} |
 *   {failure: "timeout" | "network" | "aborted"}>} `headers` is flat: name, value, name, value...
 */
export async function attempt(fetchFn, url, init, timeoutMs, maxBody, maxHeaders) {
  const f = typeof fetchFn === "function" ? fetchFn : globalThis.fetch;
  if (typeof f !== "function") return { failure: "network" };
  // The action's cancel signal (a caller's `send(url, { signal })` aborted), if any.
  const cancel = init.signal;
  if (cancel?.aborted) return { failure: "aborted" };
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  if (controller) init.signal = controller.signal;
  else delete init.signal;
  let timedOut = false;
  let aborted = false;
  let timer;
  let onCancel;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      controller?.abort();
      reject(new Error("sendonce: timed out"));
    }, timeoutMs);
    onCancel = () => {
      aborted = true;
      controller?.abort();
      reject(new Error("sendonce: aborted"));
    };
    cancel?.addEventListener("abort", onCancel);
  });
  deadline.catch(() => {});
  const before = (p) => Promise.race([p, deadline]);
  try {
    const resp = await before(f(url, init));
    const headers = [];
    const h = resp.headers;
    if (h != null && typeof h[Symbol.iterator] === "function") {
      for (const pair of h) {
        if (headers.length >= 2 * maxHeaders) break;
        const k = pair?.[0];
        const v = pair?.[1];
        if (typeof k === "string" && typeof v === "string") headers.push(k, v);
      }
    }
    // Reading the body can fail too (the connection dropped mid-body): a network error.
    const { body, cut } = await readBody(resp, before, maxBody);
    return { status: resp.status, headers, body, cut };
  } catch {
    return { failure: aborted ? "aborted" : timedOut ? "timeout" : "network" };
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener("abort", onCancel);
  }
}

// At most `maxBody` bytes of the body, chunk by chunk from `resp.body` where there is a stream
// (the rest is never downloaded: the reader is cancelled), else through `text()`.
async function readBody(resp, before, maxBody) {
  const stream = resp.body;
  const reader = typeof stream?.getReader === "function" ? stream.getReader() : null;
  if (typeof reader?.read !== "function") {
    const text = await before(resp.text());
    const body = typeof text === "string" ? text : "";
    // UTF-8 takes at least a byte per UTF-16 unit: cut before the wasm copies a huge text.
    return body.length > maxBody ? { body: body.slice(0, maxBody), cut: true } : { body, cut: false };
  }
  // Decoded piece by piece, as `text()` would: UTF-8, a leading byte order mark dropped, bad
  // bytes replaced.
  const decoder = new TextDecoder();
  let body = "";
  let read = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await before(reader.read());
    } catch (e) {
      cancel(reader);
      throw e;
    }
    if (chunk?.done !== false) break;
    let data = chunk.value;
    if (!(data instanceof Uint8Array)) {
      cancel(reader);
      throw new TypeError("reply body chunk is not bytes");
    }
    const room = maxBody - read;
    const cut = data.length > room;
    if (cut) data = data.subarray(0, room);
    read += data.length;
    body += decoder.decode(data, { stream: true });
    if (cut) {
      // A character cut in half at the limit is dropped, not flushed as U+FFFD.
      cancel(reader);
      return { body, cut: true };
    }
  }
  return { body: body + decoder.decode(), cut: false };
}

// Stops reading a body; a rejection of the cancel nobody waits for is swallowed (Node would
// report it as unhandled).
function cancel(reader) {
  try {
    reader.cancel?.()?.then?.(undefined, () => {});
  } catch {
    // A reader that cannot be cancelled is left to the garbage collector.
  }
}

// ---------- the form's controls, read in one pass

// A property of `o`, `undefined` when reading it throws (a page's getter, a revoked proxy):
// what the wasm's own property reads give.
function at(o, k) {
  try {
    return o[k];
  } catch {
    return undefined;
  }
}

const text = (v) => (typeof v === "string" ? v : "");
// A number as the wasm reads one (`as_f64`): anything else is 0; Infinity stays the largest.
const num = (v) => (typeof v !== "number" ? 0 : v === Infinity ? Number.MAX_VALUE : v);
const count = (v) => (typeof v === "number" && v > 0 ? Math.min(Math.floor(v), 4294967295) : 0);

// `o.method(arg)`; `undefined` when it is not a function or throws.
function invoke(o, method, arg) {
  try {
    const f = o[method];
    return typeof f === "function" ? f.call(o, arg) : undefined;
  } catch {
    return undefined;
  }
}

// The items of an array-like (`form.elements`, `select.options`, `input.files`).
function items(list) {
  const out = [];
  const n = count(at(list, "length"));
  for (let i = 0; i < n; i++) out.push(at(list, i));
  return out;
}

/**
 * What the form driver reads of each of a form's controls (`form.elements`, in DOM order;
 * `whole` false: of the one control `target`): one call from the wasm for the whole
 * form, where a read from Rust crossed the boundary for every property. It decides nothing
 * (which values count, which fields are private: `src/platform/dom.rs` and the core); it
 * reads every control the same way and gives the facts back as JSON text:
 * `[[name, type, autocomplete, privateMark, disabled, checked, value, options, files], ...]`
 * with `options` as `[[value, selected, disabled], ...]` and `files` as
 * `[[name, type, size, lastModified], ...]`. A property that cannot be read is left at its
 * empty value ("", false, 0). Never throws.
 *
 * @param {unknown} target A form, or one control.
 * @param {boolean} whole
 * @returns {string}
 */
export function readControls(target, whole) {
  try {
    const controls = whole ? items(at(target, "elements")) : [target];
    const out = [];
    for (const el of controls) {
      if (el === null || typeof el !== "object") continue;
      const options = at(el, "options");
      const files = at(el, "files");
      out.push([
        text(at(el, "name")),
        text(at(el, "type")),
        text(invoke(el, "getAttribute", "autocomplete")),
        invoke(el, "hasAttribute", "data-sendonce-private") === true,
        !!at(el, "disabled"),
        !!at(el, "checked"),
        text(at(el, "value")),
        options === undefined || options === null
          ? []
          : items(options).map((o) => [text(at(o, "value")), !!at(o, "selected"), !!at(o, "disabled")]),
        files === undefined || files === null
          ? []
          : items(files).map((f) => [text(at(f, "name")), text(at(f, "type")), num(at(f, "size")), num(at(f, "lastModified"))]),
      ]);
    }
    return JSON.stringify(out);
  } catch {
    return "[]";
  }
}

// The in-memory store (memory storage, and the copy an instance keeps of an adapter's
// records): the values live here, in JS, where the garbage collector gives their memory back.
// Kept in the wasm memory, which never shrinks, they held it at its high-water mark. The wasm
// decides everything about them (the quota, what to evict and in which order): next to each
// value it keeps a short text of its own (`meta`: the entry's size and, once worked out, its
// place in the eviction order), which is stored here and handed back unread.

/** A new, empty store. */
export function memoryStore() {
  return { values: new Map(), metas: new Map() };
}

/** The value of `key`, or `undefined`. */
export function memoryGet(store, key) {
  return store.values.get(key);
}

/** Sets `key` to `value` with its `meta`; returns the meta of the value it replaces. */
export function memorySet(store, key, value, meta) {
  const old = store.metas.get(key);
  store.values.set(key, value);
  store.metas.set(key, meta);
  return old;
}

/** Removes `key`; returns the meta of the value removed (`undefined`: there was none). */
export function memoryRemove(store, key) {
  const old = store.metas.get(key);
  store.values.delete(key);
  store.metas.delete(key);
  return old;
}

/** The meta of `key`, or `undefined`. */
export function memoryMeta(store, key) {
  return store.metas.get(key);
}

/** Replaces the meta of `key`, if it is there. */
export function memorySetMeta(store, key, meta) {
  if (store.metas.has(key)) store.metas.set(key, meta);
}

/** The keys that start with `prefix`, as an array (it stays in JS; the wasm reads it by index). */
export function memoryKeys(store, prefix) {
  const out = [];
  for (const key of store.values.keys()) if (key.startsWith(prefix)) out.push(key);
  return out;
}

// ---------- the shell: an action's run
//
// Carries out what the wasm decided, for one action's run at a time. The wasm answers every
// step with a command (`["fetch", ...]`, `["hook", ...]`, `["sleep", ...]`, `["wait",
// promise]`) or `undefined` when the run rests; the shell carries it out with the platform's
// objects and hands the result to the next step. It decides nothing: what to send, how long to
// wait, what a reply means and what comes next are the core's (`core::run`, over the action's
// machine). None of these promises rejects.

/**
 * Runs `run` (a wasm `ActionRun`) until it rests, then frees it. Starts after the caller
 * returns, as a task the wasm spawned would.
 */
export async function drive(run) {
  try {
    await undefined;
    let done;
    for (let command = run.step(done); command !== undefined; command = run.step(done)) {
      done = await carryOut(command);
    }
  } finally {
    run.free();
  }
}

function carryOut([op, a, b, c, d, e, f]) {
  switch (op) {
    case "fetch":
      return attempt(a, b, c, d, e, f);
    case "hook": {
      // The caller's `headers` hook with the attempt's details, awaited for at most `c` ms.
      const value = callSafely(a, null, 1, b);
      return threw() ? { ok: false, error: value } : settle(value, c);
    }
    case "sleep":
      return sleepUnless(a, b, c);
    default:
      // "wait": a write the wasm started (over a storage adapter).
      return a;
  }
}
