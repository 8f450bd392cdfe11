// Types of `sendonce/htmx`.
import type { FormOptions, Sendonce } from "./sendonce.js";

/** What `sendonceHtmx()` needs of htmx 2 (the `htmx` object of `htmx.org`, or the page's global). */
export interface HtmxLike {
  defineExtension(name: string, extension: object): void;
  removeExtension?(name: string): void;
  swap(target: Element | string, content: string, swapSpec: object, swapOptions?: object): void;
  config?: { requestClass?: string };
}

/** `sendonceHtmx()` options. */
export interface SendonceHtmxOptions {
  /**
   * Options of `so.form()` for one form, merged over what the extension reads from it: the
   * action name (`data-sendonce-action`, default the verb and path, "POST /orders"), `url`
   * and `method` (from `hx-post`, `hx-put`, `hx-patch` or `hx-delete`), `encoding`
   * ("urlencoded", as htmx sends, or "multipart" with `hx-encoding="multipart/form-data"`),
   * htmx's request headers (`HX-Request`, `HX-Target`, `hx-headers`...), and
   * `data-sendonce-status`, `data-sendonce-button`, `data-sendonce-busy-label` and
   * `data-sendonce-window`.
   */
  form?: (form: HTMLFormElement) => Partial<FormOptions> | undefined;
}

/**
 * Defines the htmx extension `sendonce` (`hx-ext="sendonce"`) for `so`. Each form under it
 * with `hx-post`, `hx-put`, `hx-patch` or `hx-delete` is bound with `so.form()`: htmx decides
 * whether a submission goes (hx-confirm, hx-sync, validation...), sendonce sends it once
 * with its idempotency key (retries, drafts, the button guard, statuses), and the confirmed
 * reply (`done`, or the server's replay: `already_received`) is swapped by htmx as its own
 * reply would be (`hx-target`, `hx-swap`, `hx-select`). Each reply is also announced with a
 * `sendonce:reply` event on the form (`event.detail.reply`).
 *
 * Call it once htmx is loaded; forms htmx has processed already are bound at once, new ones
 * as htmx processes them. `so` may be a promise of the Sendonce
 * (`init().then(() => new Sendonce(...))`): the extension is defined at once, and a submission
 * htmx approves before the wasm is loaded waits for it (never sent by htmx without the key),
 * then goes to the form's binding; should the promise reject, htmx sends the forms as before.
 * Returns a function that removes the extension and unbinds the forms (their drafts stay in
 * storage).
 */
export function sendonceHtmx(htmx: HtmxLike, so: Pick<Sendonce, "form"> | PromiseLike<Pick<Sendonce, "form">>, options?: SendonceHtmxOptions): () => void;
