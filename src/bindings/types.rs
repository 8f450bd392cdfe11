//! TypeScript types for the JS API, precise where generated ones would say `any`. The whole
//! API's shared types live here (options, statuses, events, replies), so that every binding
//! (`form.rs`, `chat.rs`, `quick.rs`) can name them in `unchecked_param_type` /
//! `unchecked_return_type` attributes.

use wasm_bindgen::prelude::*;

/// The web types the API names, for projects without them: a Node project with `lib:
/// ["ES2022"]` and no DOM compiles the package's types too (skipLibCheck off). Each is the
/// global type where the project has it (lib "DOM", or Node's types), else a stand-in:
/// `never` for what only a page has (an element), the plain shapes for headers. They are
/// local to the module (`scripts/entry.mjs` adds `export {}`): the package exports none.
#[wasm_bindgen(typescript_custom_section)]
const WEB_TYPES: &'static str = r#"
type GlobalInstance<K extends string> = typeof globalThis extends Record<K, { prototype: infer T }> ? T : never;
type HTMLElement = GlobalInstance<"HTMLElement">;
type HTMLFormElement = GlobalInstance<"HTMLFormElement">;
type AbortSignal = GlobalInstance<"AbortSignal">;
type URL = GlobalInstance<"URL">;
type Response = GlobalInstance<"Response">;
type RequestInfo = string | GlobalInstance<"Request">;
type BufferSource = ArrayBufferView | ArrayBuffer;
type HeadersInit = [string, string][] | Record<string, string> | GlobalInstance<"Headers">;
type Fetch = typeof globalThis extends { fetch: infer F } ? F : (input: string, init?: object) => Promise<unknown>;
"#;

#[wasm_bindgen(typescript_custom_section)]
const SHARED_TYPES: &'static str = r#"
/** A stable status code (see the status table); the text is the locale's. */
export type StatusCode =
  | "idle" | "sending" | "retrying" | "accepted" | "elsewhere" | "done"
  | "already_received" | "offline" | "changed" | "rejected" | "failed" | "uncertain"
  | "incomplete";

/** What a status listener gets: the code and the text to show (never HTML). */
export interface Status {
  code: StatusCode;
  text: string;
  /** Still under way: a request in flight or a retry waiting (`sending`, `retrying`), the
   * server working on it (`accepted`), or another tab sending it (`elsewhere`). */
  underWay: boolean;
  /** Resting for good: nothing more is sent on its own (`done`, `already_received`,
   * `changed`, `rejected`, `failed`, `uncertain`). Neither this nor `underWay`: waiting for
   * the network (`offline`) or for the user (`idle`, `incomplete`). */
  final: boolean;
  /** A form's `incomplete` status: what to add again, by name (as `PendingAction.waitingFor`). */
  waitingFor?: string[];
  /** A form's submission refused before anything was sent (`failed`): the developer's error
   * (`payload_too_large`...); the text stays the calm one of the status table. */
  error?: Error & { code: string };
}

/** What `send()` resolves with. */
export interface Reply {
  /** HTTP status (0 when there was no HTTP answer). */
  status: number;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, or text, or null when empty. Typed as the caller's `T` (`send<T>()`): that
   * is the body of a confirmed reply (`done`, `already_received`); other outcomes carry
   * whatever the server sent, if anything. */
  body: unknown;
  /** The answer came from a stored result (server replay or local repeat). */
  replayed: boolean;
  /** The status the action rests in. */
  outcome: StatusCode;
  /** The outcome confirms the server has the action (`done` or `already_received`). */
  confirmed: boolean;
  attempts: number;
  key: string;
}

/** A window: ms, or "1500ms", "10s", "5m", "2h", "1d" (1 s to 24 h), or 0: no local repeats (a login form). */
export type WindowSpec = number | `${number}${"ms" | "s" | "m" | "h" | "d"}`;

/** A storage adapter; each method may return a value or a Promise. Every call is given at
 * most 5 s: one that throws, rejects or never answers is a clear error, never a hang. */
export interface StorageAdapter {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  /** Writes `key` = `value`; the store itself removes it after `ttlMs`, on its own clock.
   * Across processes, windows end when the store expires what marks them, so processes
   * whose clocks disagree still agree on every window. */
  set(key: string, value: string, ttlMs: number): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  keys?(prefix: string): string[] | Promise<string[]>;
  /** Creates `key` = `value` with a time to live only when it is absent (atomically);
   * true when this caller created it. With `release`, quick-reply runs, `seenAsync()` and
   * sends are exclusive across processes. Without them they are not (one `storage.fallback`
   * event says so). */
  claim?(key: string, value: string, ttlMs: number): boolean | Promise<boolean>;
  /** Deletes `key` only while it still holds `value` (compare and delete). */
  release?(key: string, value: string): unknown;
  /** Extends `key`'s time to live only while it still holds `value`; true when it did.
   * Optional: without it a lease is renewed by get + set. */
  renew?(key: string, value: string, ttlMs: number): boolean | Promise<boolean>;
}

/** The `type` of a `SendonceEvent` (the core's list; a test keeps the two the same). */
export type SendonceEventType =
  | "action.new" | "action.repeat" | "action.resume" | "click.suppressed"
  | "send.attempt" | "send.retry" | "reply.replayed" | "reply.conflict"
  | "key.rotated" | "storage.fallback" | "record.corrupt" | "status"
  | "offline" | "online" | "elsewhere" | "action.incomplete" | "auth.refresh"
  | "key.adopted" | "cors.suspect" | "key.header_ignored" | "send.aborted";

/** A decision log entry. It never carries payload values; its texts (`key`, `action`,
 * `detail`) are masked: emails, phones, cards, IBANs and 12-digit ids show as `[email]`,
 * `[phone]`, `[card]`, `[iban]`, `[id]`. sendonce's own keys (UUIDs) show as they are. */
export interface SendonceEvent {
  type: SendonceEventType | (string & {});
  key?: string;
  action?: string;
  attempt?: number;
  status?: number;
  code?: StatusCode;
  ms?: number;
  detail?: string;
}

/** How a send retries: always with the same key and the same body bytes. */
export interface RetryOptions {
  /** Attempts in all, the first included (1..=100). Default 5. */
  attempts?: number;
  /** First backoff ceiling in ms (full jitter: the wait is random below it). Default 300. */
  baseDelayMs?: number;
  /** Largest backoff ceiling in ms. Default 10000. */
  maxDelayMs?: number;
  /** Per-attempt timeout in ms (the attempt is aborted), 100..=600000. Default 10000. */
  timeoutMs?: number;
  /** Give up this long after the first attempt started; the last attempt's timeout is cut to
   * what is left (at least 1 s). At least `timeoutMs`, at most 24 h. Default 60000. */
  deadlineMs?: number;
}

/** `new Sendonce(options)`. An unknown option name is refused (`invalid_option`, with a
 * suggestion). */
export interface SendonceOptions {
  /** Storage prefix (1..=64 characters, no ':'). Default "sendonce". */
  namespace?: string;
  /** Where keys, drafts and results live. Default "local"; falls back to memory (with a
   * `storage.fallback` event) where storage is unavailable. */
  storage?: "local" | "session" | "memory" | StorageAdapter;
  /** Built-in: "en", "pt-BR", "es", "ru"; others fall back to "en". Default "en". */
  locale?: "en" | "pt-BR" | "es" | "ru" | (string & {});
  /** Per-status text overrides, `{reason}` where a reason fits. */
  messages?: Partial<Record<StatusCode, string>>;
  /** Put the server's own reason (its `detail`, usually English) into `rejected` texts.
   * Default false: the locale's calm text alone. */
  showServerReason?: boolean;
  /** Default "Idempotency-Key". */
  headerName?: string;
  /** The header that marks a replayed reply (any letter case). Default "Idempotent-Replayed". */
  replayHeader?: string;
  /** Default "uuid-v4". */
  keyFormat?: "uuid-v4" | "uuid-v7";
  retry?: RetryOptions;
  /** How long a finished action answers repeats, per kind. Defaults: "1m", "10m", "10s", "5s". */
  windows?: { default?: WindowSpec; form?: WindowSpec; chat?: WindowSpec; quickReply?: WindowSpec };
  /** The transport. Default `globalThis.fetch`. */
  fetch?: Fetch;
  /**
   * Called before every attempt (also after a reload, for a resumed action); its headers are
   * sent and never stored. A 401 calls it once more and repeats the attempt with the same key
   * (a token refresh). It may return a Promise. A hook that throws fails the attempt like a
   * network error (retried with the same key; nothing was sent, so never "uncertain"); a
   * Promise that does not settle within `retry.timeoutMs` ends the attempt the same way. The
   * hook and the request share that timeout: what the hook takes, the request does not get. A
   * hook that returns something that is not headers (a number, a string) is a programming
   * error: nothing is sent, the action rests "failed" and `send()` rejects with a
   * `SendonceError` "invalid_hook". The key header (`headerName`, any letter case) is
   * sendonce's alone: one returned by the hook is not sent (a `key.header_ignored` event); the
   * action's key is.
   */
  headers?: (request: HeadersHookRequest) => HeadersInit | undefined | Promise<HeadersInit | undefined>;
  /** Largest payload (as JSON, in bytes) an action or chat message may have; a bigger one is
   * a `SendonceError` with code "payload_too_large", before anything is built or stored.
   * A whole number from 1 to 268435456. Default 1048576 (1 MiB). */
  maxPayloadBytes?: number;
  /** The decision log (never payload values). */
  onEvent?: (event: SendonceEvent) => void;
  /** Resend pending actions on load. Default false. */
  autoResume?: boolean;
  /** Across processes (an adapter with `claim`): how long a quick-reply run's or a send's
   * lease lasts unless renewed (its holder renews it every third of that while it runs).
   * A process killed mid-handler lets another run it, with the same key, after this long.
   * 1000..=600000 ms, default 15000. */
  leaseMs?: number;
}

/** `so.action(name, payload, options)`. An unknown option name is refused. */
export interface ActionOptions {
  window?: WindowSpec;
  key?: string;
  /** Field names left out of the fingerprint wherever they are (a captcha token). */
  exclude?: string[];
  /** Top-level field names that change on every send without changing the action (a
   * client's time stamp): left out of the fingerprint at the top level of the payload only.
   * Default ["timestamp", "ts", "sentAt", "nonce", "requestId", "attempt"]; `[]` counts every
   * field (a top-level `ts` that is data). Nested fields always count. */
  volatile?: string[];
  /** false: the target honours no idempotency key (a chat API's sendMessage). One request:
   * any ending that does not prove the target did nothing (a timeout, a lost connection, 408
   * or any 5xx) is not retried: the action rests "uncertain", and only retry() sends it
   * again. 429, 409 and 425 prove nothing was done and are retried. Default true. */
  idempotent?: boolean;
  /** This action's retries: each member given replaces the instance's `retry` member, the
   * others are the instance's; checked by the same rules (a bad value is "invalid_option",
   * naming it, e.g. `retry.attempts`). Not stored with the action: after a reload,
   * `resumePending()` sends it under the instance's `retry`. */
  retry?: RetryOptions;
  /** true: "buy again": the same data once more on purpose, as a new action with a new key
   * (without it, the same data inside its window is answered "We already received this
   * request" without a request, and an unfinished one is resumed with its key). It never takes
   * the key another tab is sending the same data under. The same data next, without `again`,
   * is this new action (a double click on "buy again" is one request). Not with `key`.
   * Default false. */
  again?: boolean;
}

/** `action.send(url, init)`. */
export interface SendInit {
  method?: string;
  /** Extra request headers; credentials (Authorization, Cookie...) are never stored. A key
   * header (`headerName`, any letter case) is ignored, with a `key.header_ignored` event. */
  headers?: HeadersInit;
  /**
   * Cancels the send: when it aborts, this `send()` rejects with a `SendonceError` "aborted",
   * and if no other caller waits on the action (sends joined while it runs share it), the
   * attempts left are not made: the request in flight is aborted and a retry's wait ends. The
   * action keeps its key and its request: a later send (or `retry()`) resumes it with the same
   * key and the same bytes. It rests "idle" ("uncertain" for `{ idempotent: false }` when an
   * attempt was out, as for a lost connection; "accepted" while a job was being polled). An
   * already-aborted signal sends nothing. Not an `AbortSignal`: "invalid_option".
   */
  signal?: AbortSignal;
}

/** What the `headers` hook is told about the attempt it adds headers to. */
export interface HeadersHookRequest {
  url: string;
  method: string;
  key: string;
  action: string;
  /** 1 for the first attempt of the action. */
  attempt: number;
}

/** An unfinished action restored from storage. */
export interface PendingAction {
  key: string;
  action: string;
  status: StatusCode;
  attempts: number;
  createdAt: number;
  /** False when storage refused the record: it will not survive a reload. */
  persisted: boolean;
  /**
   * True when it needs values that are never stored (a form's private fields, secret query
   * parameters of its URL, or headers without a `headers` hook): it waits for them (the
   * page's next send of the same data), and is never sent without them.
   */
  incomplete: boolean;
  /**
   * What an incomplete action waits for, by name, never by value: `"file:receipt.pdf"` for a
   * file a reload cleared, `"field:password"` for a private field, `"url"` for secret query
   * parameters left out of the stored URL, `"headers"` for headers left out of storage
   * without a `headers` hook. Empty when it is complete.
   */
  waitingFor: string[];
}

/** Counters of `so.stats()`. */
export interface SendonceStats {
  actions: number;
  sends: number;
  retries: number;
  clicksSuppressed: number;
  localRepeats: number;
  serverReplays: number;
  conflicts: number;
  rotations: number;
  failures: number;
}
"#;
