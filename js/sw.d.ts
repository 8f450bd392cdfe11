import type { Reply, SendonceEvent, SendonceOptions, StorageAdapter } from "./sendonce.js";

/** The Background Sync tag sendonce registers and answers by default: `"sendonce"`. */
export const SYNC_TAG: string;

export interface IdbStorageOptions {
  /** The IndexedDB database's name. Default "sendonce". A page and its worker must use the same. */
  name?: string;
}

/** A StorageAdapter with every method, claims included. */
export type IdbStorage = Required<StorageAdapter> & {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
  claim(key: string, value: string, ttlMs: number): Promise<boolean>;
  release(key: string, value: string): Promise<boolean>;
  renew(key: string, value: string, ttlMs: number): Promise<boolean>;
};

/**
 * A sendonce storage adapter over IndexedDB, the one store the pages of an origin and their
 * service worker share (a service worker has no localStorage). Claims, releases and renewals
 * each run in one IndexedDB transaction, which the browser runs one after the other across
 * tabs and workers: a page and the worker never send the same key at once. Every entry has a
 * time to live (at most 30 days).
 *
 * ```js
 * import { idbStorage } from "sendonce/sw";
 * const so = new Sendonce({ namespace: "shop", storage: idbStorage() });
 * await so.pendingAsync(); // the drafts and actions read before so.form()
 * ```
 */
export function idbStorage(options?: IdbStorageOptions): IdbStorage;

/**
 * In a page: asks the page's service worker registration for a Background Sync (`tag`).
 * Resolves with true once registered; false without an active worker or without Background
 * Sync (Firefox, Safari: the next page load resumes the action, as without a worker).
 */
export function requestSync(tag?: string): Promise<boolean>;

/**
 * In a page: an `onEvent` handler that registers the Background Sync when sendonce reports an
 * action offline (its `offline` event), then calls `onEvent` (yours, if any) with every event.
 * `new Sendonce({ storage: idbStorage(), onEvent: syncOnOffline(log) })`.
 */
export function syncOnOffline(onEvent?: ((event: SendonceEvent) => void) | null, tag?: string): (event: SendonceEvent) => void;

/** What the worker's sendonce is created with: the page's options, and where its wasm is. */
export interface SendonceSyncOptions extends SendonceOptions {
  /** The Background Sync tag answered. Default `"sendonce"` (`SYNC_TAG`). */
  tag?: string;
  /** The wasm to load (a URL, a Response, bytes or a compiled module). Default: `sendonce_bg.wasm` next to the package's module. */
  wasm?: unknown;
}

/** The parts of a `sync` event (`SyncEvent`, Chromium's Background Sync) sendonce uses. */
export interface SyncEventLike {
  readonly tag: string;
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * In the worker: loads the wasm (once per worker life), creates a Sendonce over the shared
 * store (`storage` defaults to `idbStorage()`), and resends every pending action with its own
 * key, the same bytes and the same retry rules (`resumePending()`). An action another context
 * is sending is waited for and adopted, never sent twice. Rejects when an action went offline
 * again, so that the browser fires the sync later; the actions wait in the store.
 */
export function resumeInWorker(options?: SendonceSyncOptions): Promise<Reply[]>;

/**
 * In the worker, for a `sync` event: when its tag is sendonce's, keeps the worker alive
 * (`event.waitUntil`) while `resumeInWorker(options)` runs, and returns that run's promise
 * (its rejection is the browser's cue to fire the sync again later); `null` for another tag.
 * Takes the plain `Event` a listener gets too (TypeScript's worker types have no `SyncEvent`):
 * `self.addEventListener("sync", (event) => handleSync(event, { namespace: "shop" }))`.
 */
export function handleSync(event: SyncEventLike | Event, options?: SendonceSyncOptions): Promise<Reply[]> | null;

/**
 * In the worker's first run (a module service worker): answers sendonce's `sync` events.
 *
 * ```js
 * // sw.js, registered with navigator.serviceWorker.register("/sw.js", { type: "module" })
 * import { registerSendonceSync } from "sendonce/sw";
 * registerSendonceSync(self, { namespace: "shop" });
 * ```
 */
export function registerSendonceSync(
  scope: { addEventListener(type: string, listener: (event: any) => void): void },
  options?: SendonceSyncOptions,
): void;
