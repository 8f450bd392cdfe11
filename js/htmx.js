// `sendonce/htmx`: the htmx extension `hx-ext="sendonce"`.
//
// A form with hx-post / hx-put / hx-patch / hx-delete under `hx-ext="sendonce"` is bound with
// `so.form()`, and everything a guarded form does is sendonce's (Rust's) own work: the key
// (born with the draft, kept for the same data, rotated when the data changed after it was
// sent), the button guard in the click's task, the retries with the same key and bytes, the
// draft and its resume after a reload, private fields sent and never stored, the calm status
// text. This file only carries out:
//
// - htmx still decides WHETHER a submission is sent (hx-confirm, hx-prompt, hx-sync,
//   validation, hx-trigger filters): its request is stopped at `htmx:configRequest`, the last
//   gate before it would leave, and that submission is then sendonce's. A submit htmx does not
//   approve never reaches the binding (the gate listener below stops it).
// - The reply the binding settles with is handed to htmx's own swap (`hx-target`, `hx-swap`,
//   `hx-select`, out-of-band swaps) when the outcome confirms the server has the action
//   (`done`, or a replay: `already_received`), as htmx swaps a 2xx reply and never a 204.
// - While the submission is under way the form (or its `hx-indicator`) has htmx's
//   `htmx-request` class, so htmx's indicators work as before.
//
// It imports neither htmx nor the wasm: the page passes its htmx and its Sendonce.

const NAME = "sendonce";
// The verbs whose requests change something (a GET is htmx's as before).
const VERBS = ["post", "put", "patch", "delete"];

/**
 * Defines the htmx extension `sendonce` for `so` (a Sendonce, or a promise of one: the
 * extension is defined at once, and the submissions htmx approves before the wasm is loaded
 * wait for it, then go to the binding); returns a function that removes it (and unbinds the
 * forms it bound; their drafts stay in storage).
 */
export function sendonceHtmx(htmx, so, options = {}) {
  if (!htmx || typeof htmx.defineExtension !== "function" || typeof htmx.swap !== "function") {
    throw new TypeError("sendonceHtmx(htmx, so): htmx must be htmx 2 (with defineExtension and swap)");
  }
  const isSendonce = (value) => value != null && typeof value.form === "function";
  const later = so != null && typeof so.then === "function";
  if (!later && !isSendonce(so)) {
    throw new TypeError("sendonceHtmx(htmx, so): so must be a Sendonce instance or a promise of one");
  }
  /** The Sendonce, once it is there (a promise given: once it resolved). */
  let instance = later ? null : so;
  /** Forms whose submission htmx approved before `instance` was there, in order. */
  const held = [];
  let removed = false;
  let api = null;
  /** form element -> `{ binding, gate }`: its `so.form()` binding and its gate listener. */
  const bound = new WeakMap();
  /** Submit events htmx approved (its request reached `htmx:configRequest`). */
  const approved = new WeakSet();
  /** Submit events the gate has already let through or stopped. */
  const gated = new WeakSet();
  /** The submit event this extension dispatches itself (an approval htmx gave later). */
  let replaying = null;

  const attr = (el, name) => api.getAttributeValue(el, name);

  function applies(el) {
    let found = false;
    // htmx registers a copy of the extension object: its onEvent is this one's.
    api.withExtensions(el, (ext) => {
      if (ext.onEvent === extension.onEvent) found = true;
    });
    return found;
  }

  function verbOf(form) {
    for (const verb of VERBS) {
      const path = attr(form, `hx-${verb}`);
      if (path != null) return { verb, path };
    }
    return null;
  }

  /** What the form's attributes say (`data-sendonce-*`), then the page's own per-form options. */
  function formOptions(form, verb, path) {
    const windowAttr = form.getAttribute("data-sendonce-window");
    const opts = {
      action: form.getAttribute("data-sendonce-action") ?? `${verb.toUpperCase()} ${path}`,
      url: path || location.href,
      method: verb.toUpperCase(),
      // What htmx sends: the fields urlencoded, or multipart with hx-encoding.
      encoding: /multipart/i.test(api.getClosestAttributeValue(form, "hx-encoding") ?? form.enctype ?? "")
        ? "multipart"
        : "urlencoded",
      // htmx's request headers (HX-Request, HX-Target, hx-headers, ...): servers answer an
      // htmx request with a fragment. Never stored, as every header but the content ones.
      headers: Object.fromEntries(
        Object.entries(htmxHeaders(form)).filter(([, v]) => v != null).map(([k, v]) => [k, String(v)]),
      ),
    };
    const status = form.getAttribute("data-sendonce-status");
    if (status) opts.status = status;
    const button = form.getAttribute("data-sendonce-button");
    if (button) opts.button = button;
    const busyLabel = form.getAttribute("data-sendonce-busy-label");
    if (busyLabel) opts.busyLabel = busyLabel;
    if (windowAttr != null) opts.window = /^\d+$/.test(windowAttr) ? Number(windowAttr) : windowAttr;
    return { ...opts, ...(options.form?.(form) ?? {}) };
  }

  function htmxHeaders(form) {
    const target = api.getTarget(form);
    return target ? api.getHeaders(form, target) ?? {} : { "HX-Request": "true" };
  }

  /** Unbinds `form` (its gate and its binding; the draft stays in storage). */
  function unbind(form) {
    const entry = bound.get(form);
    if (!entry) return;
    bound.delete(form);
    form.removeEventListener("submit", entry.gate);
    entry.binding.dispose();
  }

  /**
   * Binds `form`, after htmx has added its own listeners to it. Bound already, it is bound
   * again: htmx processes a form again when its attributes changed, and its listener, added
   * anew, must stay before the gate.
   */
  function bind(form) {
    if (!instance || !(form instanceof HTMLFormElement) || !applies(form)) return;
    unbind(form);
    const request = verbOf(form);
    if (!request) return;
    // The gate: after htmx's listener (added when htmx processed the form), before the
    // binding's. A submission goes on to sendonce only when htmx approved it.
    const gate = (event) => {
      gated.add(event);
      if (!approved.has(event)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    };
    // Listeners run in the order they were added: the gate first, then the binding's.
    form.addEventListener("submit", gate);
    let binding;
    try {
      binding = instance.form(form, formOptions(form, request.verb, request.path));
    } catch (error) {
      // Bad options (a SendonceError): say so; htmx goes on sending the form as before.
      form.removeEventListener("submit", gate);
      console.error("sendonce/htmx: this form is not guarded:", error, form);
      return;
    }
    bound.set(form, { binding, gate });
    binding.onReply((reply) => swap(form, reply));
    // While the submission is under way (the wasm says so: `status.underWay`).
    binding.onStatus((status) => busy(form, status.underWay));
  }

  function busy(form, on) {
    const spec = api.getClosestAttributeValue(form, "hx-indicator");
    const targets = spec ? [...document.querySelectorAll(spec)] : [form];
    const cls = htmx.config?.requestClass ?? "htmx-request";
    for (const el of targets) el.classList.toggle(cls, on);
  }

  /** Hands a confirmed reply to htmx's swap, where htmx would have swapped its own reply. */
  function swap(form, reply) {
    api.triggerEvent(form, "sendonce:reply", { reply });
    if (!reply.confirmed || reply.status === 204 || !form.isConnected) return;
    const target = api.getTarget(form);
    if (!target) return;
    const body = reply.body == null ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    const select = api.getClosestAttributeValue(form, "hx-select");
    htmx.swap(target, body, api.getSwapSpecification(form), {
      ...(select ? { select } : {}),
      contextElement: form,
      eventInfo: { elt: form, target, reply },
    });
  }

  /** `htmx:configRequest` for a bound form: htmx approved the submission; sendonce sends it. */
  function approve(form, detail) {
    const event = detail.triggeringEvent;
    // htmx halts a submission whose fields do not validate (after this event): so does sendonce.
    if (event === replaying || detail.errors?.length) return false;
    if (event && event.type === "submit" && !gated.has(event)) {
      // Approved in the submit's own dispatch: the gate lets it on to the binding.
      approved.add(event);
      return false;
    }
    // Approved later (a trigger delay, another trigger than submit): the binding gets a
    // submit event of its own, approved in advance.
    resubmit(form);
    return false;
  }

  /** Gives the binding of `form` a submit event of its own, approved in advance. */
  function resubmit(form) {
    const again = new Event("submit", { cancelable: true });
    approved.add(again);
    replaying = again;
    try {
      form.dispatchEvent(again);
    } finally {
      replaying = null;
    }
  }

  const extension = {
    init(internal) {
      api = internal;
    },
    onEvent(name, event) {
      const el = event.detail?.elt ?? event.target;
      if (name === "htmx:afterProcessNode") {
        // New content (a swap) with forms of its own.
        if (el instanceof HTMLFormElement) bind(el);
        else el?.querySelectorAll?.("form").forEach(bind);
        return true;
      }
      if (name === "htmx:confirm" && replaying && event.detail?.triggeringEvent === replaying) {
        return false; // htmx has already approved this one: never asked twice
      }
      if (name === "htmx:configRequest" && el instanceof HTMLFormElement && bound.has(el)) {
        return approve(el, event.detail);
      }
      if (name === "htmx:configRequest" && !instance && el instanceof HTMLFormElement && verbOf(el)) {
        // Approved before the wasm is there: not htmx's to send; it waits for the binding.
        if (!event.detail.errors?.length) held.push(el);
        return false;
      }
      return true;
    },
  };

  /** Binds the forms htmx has already processed, then hands each held submission to its binding. */
  function start() {
    for (const form of document.querySelectorAll("form")) {
      if (api.getInternalData(form).initHash) bind(form);
    }
    for (const form of held.splice(0)) if (bound.has(form)) resubmit(form);
  }

  htmx.defineExtension(NAME, extension);
  if (later) {
    so.then(
      (value) => {
        if (removed) return;
        if (!isSendonce(value)) throw new TypeError("sendonceHtmx(htmx, so): so must resolve to a Sendonce instance");
        instance = value;
        start();
      },
    ).catch((error) => {
      // No Sendonce (the wasm did not load): htmx sends the forms as before, the held ones too.
      console.error("sendonce/htmx: the forms are not guarded:", error);
      // Buttons the page shut until a binding guarded their form (`data-sendonce-enable`) open
      // too: no binding is coming, and htmx is to send these forms as it did.
      for (const el of api ? document.querySelectorAll("[data-sendonce-enable]") : []) {
        const form = el.form ?? el.closest("form");
        if (form && applies(form)) el.disabled = false;
      }
      htmx.removeExtension?.(NAME);
      for (const form of held.splice(0)) if (form.isConnected) form.requestSubmit();
    });
  } else {
    start();
  }
  return function remove() {
    removed = true;
    htmx.removeExtension?.(NAME);
    for (const form of document.querySelectorAll("form")) unbind(form);
  };
}
