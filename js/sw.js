// sendonce/sw: a service worker finishes the actions a closed tab left offline, with their own
// keys. The page and the worker share their records through IndexedDB (`idbStorage()`), whose
// claims give one sender per key across them. This file decides nothing: which actions are
// resent, with which bytes, key and retries, and which go offline, is the wasm's (the same
// `resumePending()` a page calls); it registers the Background Sync tag when the page's
// sendonce reports an action offline, and in the worker runs `resumePending()` inside the
// `sync` event, failing the event (so the browser fires it again later) when an action went
// offline again.
import init, { Sendonce } from "./sendonce.js";
import { idbStorage } from "./idb.js";

export { idbStorage };

/** The Background Sync tag sendonce registers and answers by default. */
export const SYNC_TAG = "sendonce";

let loading = null;
function ready(wasm) {
  loading ??= init(wasm === undefined ? undefined : { module_or_path: wasm }).catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}

/**
 * In a page: asks the page's service worker registration for a Background Sync (`tag`).
 * Resolves with true once registered; false without an active worker or without Background Sync
 * (Firefox, Safari: the next page load resumes the action instead).
 */
export async function requestSync(tag = SYNC_TAG) {
  try {
    const registration = await globalThis.navigator?.serviceWorker?.getRegistration();
    if (!registration?.active || !registration.sync) return false;
    await registration.sync.register(tag);
    return true;
  } catch {
    return false;
  }
}

/**
 * In a page: an `onEvent` handler that registers the sync when sendonce reports an action
 * offline (its `offline` event), then calls `onEvent` (yours, if any) with every event.
 */
export function syncOnOffline(onEvent, tag = SYNC_TAG) {
  if (onEvent != null && typeof onEvent !== "function") throw new TypeError("syncOnOffline(onEvent): onEvent must be a function");
  return (event) => {
    if (event?.type === "offline") void requestSync(tag);
    onEvent?.(event);
  };
}

/**
 * In the worker: loads the wasm (once per worker life), creates a Sendonce over the shared
 * store with `options` (the page's: `namespace`, retries, windows...), and resends every
 * pending action with its own key. Rejects when an action went offline again (or anything
 * failed), so that the browser fires the sync again later; the actions wait in the store.
 */
export async function resumeInWorker(options = {}) {
  const { tag: _tag, wasm, onEvent, ...rest } = options;
  await ready(wasm);
  let so = null;
  let offline = false;
  so = new Sendonce({
    ...rest,
    storage: rest.storage ?? idbStorage(),
    onEvent(event) {
      if (event?.type === "offline" && !offline) {
        offline = true;
        // Out of the wasm's call: the waiting sends reject with `disposed`.
        queueMicrotask(() => so?.dispose());
      }
      onEvent?.(event);
    },
  });
  try {
    return await so.resumePending();
  } catch (e) {
    if (offline) throw new Error("sendonce: still offline; the browser fires the sync again later");
    throw e;
  } finally {
    so.dispose();
  }
}

/**
 * In the worker, for a `sync` event: when its tag is sendonce's, keeps the worker alive
 * (`event.waitUntil`) while `resumeInWorker(options)` runs, and returns that run's promise;
 * `null` for another tag.
 */
export function handleSync(event, options = {}) {
  if (event?.tag !== (options.tag ?? SYNC_TAG)) return null;
  const run = resumeInWorker(options);
  event.waitUntil(run);
  return run;
}

/** In the worker's first run: answers sendonce's `sync` events of `scope` (`self`). */
export function registerSendonceSync(scope, options = {}) {
  scope.addEventListener("sync", (event) => handleSync(event, options));
}
