// `sendonce/react`: hooks for the four uses (an action, a form, a chat, a quick reply).
//
// The guarantees are the ones of the DOM bindings, because the hooks call the same API in the
// same event task: `send()` / `run()` start (or join) the action synchronously inside the
// click handler, never on the next render, so five fast clicks are one request. What a
// component shows (status, key, reply) is React state fed by the action's listeners.
//
// Live actions, chats and quick replies are kept per `Sendonce` instance outside React
// (module-level WeakMaps), so that StrictMode's double effects and an unmount/remount while a
// request is in flight find the same action, with the same key, instead of starting another.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";

// What a status means (under way, resting for good) and whether a reply confirms the action
// come with them from the wasm (`status.underWay`, `status.final`, `reply.confirmed`): these
// hooks keep no list of codes.
const IDLE = Object.freeze({ code: "idle", text: "", underWay: false, final: false });

/** Per-instance registries: `so -> Map(name -> value)`. */
function registry(map, so) {
  let r = map.get(so);
  if (!r) {
    r = new Map();
    map.set(so, r);
  }
  return r;
}

// Actions started by useAction(), by name + payload: a remounted component finds its action.
// An entry holds a wasm `Action` handle, which JS's garbage collector cannot free: an entry
// nobody shows any more is freed (`release`), so memory stays bounded however many sends.
const actions = new WeakMap();
// One Chat / QuickReplies object per conversation (a second one would deliver the outbox too).
const chats = new WeakMap();
const quickReplies = new WeakMap();
// Quick replies running, by conversation + action key: a remounted button shows "running".
const runs = new WeakMap();

let unsendable = 0;
function actionId(name, payload) {
  try {
    return `${name}\n${JSON.stringify(payload) ?? ""}`;
  } catch {
    // A payload JSON cannot write (a cycle, a BigInt): so.action() refuses it with a
    // SendonceError; it gets an id of its own so that the refusal is shown, not thrown.
    unsendable += 1;
    return `${name}\n\u0000${unsendable}`;
  }
}
const lastOf = (name) => `${name}\n*`;

/** Calls a user callback; what it throws is reported, never lost and never breaking the hook. */
function call(callback, ...args) {
  if (typeof callback !== "function") return;
  try {
    callback(...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** A registry entry for one action (or for a send refused before it had one). */
function entryOf(reg, id, name, action, error) {
  const entry = {
    id,
    name,
    action,
    promise: null,
    settled: true,
    reply: null,
    error: error ?? null,
    status: action ? action.status : IDLE,
    key: action ? action.key : null,
    listeners: new Set(),
    freed: false,
    off: null,
    run: null,
  };
  // One subscription per action, whatever the number of components showing it.
  if (action) {
    entry.off = action.onStatus((status) => {
      entry.status = status;
      notify(entry);
      // An action that resumed on its own (after "offline") and rests now may be freed.
      if (status.final) releaseLater(reg, entry);
    });
  }
  return entry;
}

function notify(entry) {
  for (const listener of entry.listeners) listener();
}

/**
 * Frees an entry's action once nothing needs it: no component shows it, no send is under way,
 * it rests for good (an "offline" action waits for the network and is kept), and it is not
 * the last action of its name (which a new mount shows). The action's record
 * stays in storage: the same data later is still answered from it inside its window.
 */
function release(reg, entry) {
  if (entry.freed || entry.listeners.size > 0 || !entry.settled) return;
  if (entry.action && !entry.status.final) return;
  const current = reg.get(entry.id) === entry;
  if (current && reg.get(lastOf(entry.name)) === entry.id) return;
  if (current) reg.delete(entry.id);
  entry.freed = true;
  entry.off?.();
  entry.action?.free();
}

/** `release` after the current task: StrictMode unsubscribes and subscribes again at once. */
function releaseLater(reg, entry) {
  if (entry) setTimeout(() => release(reg, entry), 0);
}

/**
 * One action: `send()` inside a click handler sends `payload` (or the payload given to
 * `send(payload)`, as from react-hook-form's `handleSubmit`) as the action `name` to
 * `options.url` once (sends while it runs join it, same key), and the component re-renders
 * with its `status`, `key`, `reply`, `error` and `isPending`. `send()` never throws: a payload
 * or option sendonce refuses rejects its Promise and shows as `error`. `again()` sends the same
 * data once more on purpose ("buy again"), as a new action with a new key; while a send of
 * that data is under way, it joins it like `send()`.
 */
export function useAction(so, name, payload, options) {
  const latest = useRef(null);
  latest.current = { so, name, payload, options };
  // The action this component shows: the last one it sent, or (on a new mount) the one an
  // earlier mount sent for this payload (or for this name, when the payload comes with send).
  const [activeId, setActiveId] = useState(() => {
    const reg = registry(actions, so);
    return payload === undefined ? (reg.get(lastOf(name)) ?? null) : actionId(name, payload);
  });
  const active = useRef(activeId);
  active.current = activeId;
  const [state, setState] = useState(() => viewOf(registry(actions, so).get(activeId)));
  const [generation, setGeneration] = useState(0);
  // New data on screen: show that data's action (idle if it was never sent).
  const renderId = payload === undefined ? null : actionId(name, payload);
  useEffect(() => {
    if (renderId !== null) setActiveId(renderId);
  }, [renderId]);

  useEffect(() => {
    const reg = registry(actions, so);
    const entry = activeId === null ? undefined : reg.get(activeId);
    setState(viewOf(entry));
    if (!entry) return undefined;
    const listener = () => setState(viewOf(entry));
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
      releaseLater(reg, entry);
    };
  }, [so, activeId, generation]);

  const start = useCallback((entry) => {
    const { so, name } = latest.current;
    const reg = registry(actions, so);
    const done = (reply, error) => {
      entry.settled = true;
      entry.reply = reply;
      entry.error = error;
      if (entry.action && !entry.freed) entry.status = entry.action.status;
      notify(entry);
      const o = latest.current.options ?? {};
      if (reply && reply.confirmed) {
        call(o.onSuccess, reply);
        call(o.onSettled, reply, null);
      } else {
        // Refused (a SendonceError), or ended without the server's confirmation: the status
        // the action rests in ({ code, text }: "offline", "failed", "uncertain"...).
        const why = error ?? entry.status;
        call(o.onError, why, reply);
        call(o.onSettled, reply, why);
      }
      releaseLater(reg, entry);
    };
    let sent;
    try {
      sent = entry.run();
    } catch (error) {
      sent = Promise.reject(error);
    }
    // Refused before an action existed: settled, and shown at once, in this render.
    entry.settled = !entry.action;
    entry.error = entry.action ? null : entry.refusal;
    entry.promise = Promise.resolve(sent).then(
      (reply) => {
        done(reply, null);
        return reply;
      },
      (error) => {
        done(null, error);
        throw error;
      },
    );
    // Callers that ignore the Promise must not see an unhandled rejection: the error is state.
    entry.promise.catch(() => {});
    const previous = reg.get(lastOf(name));
    reg.set(lastOf(name), entry.id);
    if (previous !== undefined && previous !== entry.id) releaseLater(reg, reg.get(previous));
    active.current = entry.id;
    setActiveId(entry.id);
    setState(viewOf(entry));
    setGeneration((g) => g + 1);
    return entry.promise;
  }, []);

  // `send()` and `again()`: the same guard; `again` asks the core for a new action with a
  // new key for the same data (`{ again: true }`), where `send()` repeats or resumes it.
  const sendAs = useCallback(
    (args, again) => {
      const { so, name, options } = latest.current;
      const payload = args.length > 0 ? args[0] : latest.current.payload;
      const id = actionId(name, payload);
      const reg = registry(actions, so);
      const entry = reg.get(id);
      // The guard, taken in the caller's own task: a send in flight is joined, not repeated.
      if (entry?.promise && !entry.settled) return entry.promise;
      const { url, init, onSuccess, onError, onSettled, ...actionOptions } = options ?? {};
      // The same data as a finished action is a repeat: the SDK answers it from the stored
      // result inside the window, without a request.
      let fresh;
      try {
        const action = so.action(name, payload, again ? { ...actionOptions, again: true } : actionOptions);
        fresh = entryOf(reg, id, name, action, null);
        fresh.run = () => action.send(url, init);
      } catch (error) {
        // Bad input (or a disposed instance): a rejected Promise and `error`, never a throw
        // out of the click handler.
        fresh = entryOf(reg, id, name, null, error);
        fresh.refusal = error;
        fresh.run = () => Promise.reject(error);
      }
      reg.set(id, fresh);
      if (entry) releaseLater(reg, entry);
      return start(fresh);
    },
    [start],
  );
  const send = useCallback((...args) => sendAs(args, false), [sendAs]);
  const again = useCallback((...args) => sendAs(args, true), [sendAs]);

  const retry = useCallback(() => {
    const { so } = latest.current;
    const reg = registry(actions, so);
    const entry = active.current === null ? undefined : reg.get(active.current);
    if (!entry?.action) return send();
    if (entry.promise && !entry.settled) return entry.promise;
    entry.run = () => entry.action.retry();
    return start(entry);
  }, [send, start]);

  // Shows nothing again (idle, no reply, no error). A send under way goes on with its key;
  // the same data again inside its window is still answered from the stored result.
  const reset = useCallback(() => {
    const { so, name } = latest.current;
    const reg = registry(actions, so);
    const id = active.current;
    if (id !== null && reg.get(lastOf(name)) === id) reg.delete(lastOf(name));
    active.current = null;
    setActiveId(null);
    setState(viewOf(undefined));
    releaseLater(reg, id === null ? undefined : reg.get(id));
  }, []);

  const underWay = () => {
    const entry = active.current === null ? undefined : registry(actions, latest.current.so).get(active.current);
    return viewOf(entry).isPending;
  };
  const buttonProps = (props = {}) => buttonPropsOf(state.isPending, underWay, props.submit ? null : send, props);

  return { ...state, send, again, retry, reset, buttonProps };
}

function viewOf(entry) {
  if (!entry) return { status: IDLE, key: null, reply: null, error: null, isPending: false };
  return {
    status: entry.status,
    key: entry.key,
    reply: entry.reply,
    error: entry.error,
    isPending: !entry.settled || entry.status.underWay,
  };
}

/**
 * Props for a `<button>` that starts the work: `aria-disabled` and `aria-busy` while it is
 * under way (never `disabled`, which drops keyboard focus to `<body>`), and a click guard
 * that swallows clicks meanwhile (a submit button's click then submits nothing). Without
 * `submit`, a click calls `start()`.
 */
function buttonPropsOf(pending, underWay, start, { submit = false, onClick } = {}) {
  return {
    type: submit ? "submit" : "button",
    "aria-disabled": pending,
    "aria-busy": pending,
    onClick: (event) => {
      if (underWay()) {
        event.preventDefault();
        return;
      }
      onClick?.(event);
      if (start && !event.defaultPrevented) start();
    },
  };
}

/**
 * A form: pass `ref` to a `<form>`. The form binding intercepts submit, guards the button in
 * the same event task (`aria-disabled`, `aria-busy`), keeps the draft and the key; the
 * component re-renders with `status`, `key`, the last `reply`, `isPending` and `error` (the
 * `SendonceError` the options were refused with). Options are read when the form mounts;
 * `onSuccess` / `onError` / `onSettled` are read when a submission settles.
 */
export function useSendonceForm(so, options) {
  const opts = useRef(options);
  opts.current = options;
  const [state, setState] = useState(formView(IDLE, null, null, null));
  const bound = useRef(null);
  const attach = useCallback(
    (element) => {
      // React 19 calls a ref's returned cleanup on detach; older versions call it with null.
      if (bound.current) {
        bound.current();
        bound.current = null;
      }
      if (!element) return undefined;
      const { onSuccess, onError, onSettled, ...formOptions } = opts.current ?? {};
      let form;
      try {
        form = so.form(element, formOptions);
      } catch (error) {
        setState((s) => ({ ...s, error }));
        return undefined;
      }
      const offStatus = form.onStatus((status) =>
        setState((s) => formView(status, form.key ?? null, s.reply, null)),
      );
      const offReply = form.onReply((reply) => {
        setState((s) => formView(s.status, form.key ?? null, reply, null));
        const o = opts.current ?? {};
        if (reply.confirmed) {
          call(o.onSuccess, reply);
          call(o.onSettled, reply, null);
        } else {
          call(o.onError, form.status, reply);
          call(o.onSettled, reply, form.status);
        }
      });
      setState((s) => formView(form.status, form.key ?? null, s.reply, null));
      let done = false;
      const cleanup = () => {
        if (done) return;
        done = true;
        offStatus();
        offReply();
        form.dispose();
        form.free();
        if (bound.current === cleanup) bound.current = null;
      };
      bound.current = cleanup;
      return cleanup;
    },
    [so],
  );
  // What the component shows goes back to idle; the form, its draft and its key are kept.
  const reset = useCallback(() => setState((s) => formView(IDLE, s.key, null, null)), []);
  return { ref: attach, ...state, reset };
}

function formView(status, key, reply, error) {
  return { status, key, reply, error, isPending: status.underWay };
}

function chatStore(so, options) {
  const reg = registry(chats, so);
  let store = reg.get(options.conversationId);
  if (!store) {
    const chat = so.chat(options);
    store = { chat, messages: chat.messages, listeners: new Set() };
    chat.onChange((messages) => {
      store.messages = messages;
      for (const l of store.listeners) l();
    });
    reg.set(options.conversationId, store);
  }
  return store;
}

/**
 * A chat outbox: `messages` (each with a calm `statusText`) as state, and `send(text)` that
 * returns the message id at once. One outbox per conversation and `Sendonce` instance, shared
 * by every component that shows it.
 */
export function useChat(so, options) {
  const store = chatStore(so, options);
  const subscribe = useCallback(
    (onChange) => {
      store.listeners.add(onChange);
      return () => store.listeners.delete(onChange);
    },
    [store],
  );
  const messages = useSyncExternalStore(subscribe, () => store.messages, () => store.messages);
  const chat = store.chat;
  return {
    messages,
    chat,
    send: useCallback((text, extra) => chat.send(text, extra), [chat]),
    retry: useCallback((id) => chat.retry(id), [chat]),
    discard: useCallback((id) => chat.discard(id), [chat]),
    receive: useCallback((message) => chat.receive(message), [chat]),
  };
}

function quickFor(so, options) {
  const reg = registry(quickReplies, so);
  const id = `${options.conversationId}\n${options.window ?? ""}`;
  let qr = reg.get(id);
  if (!qr) {
    const { onSuccess, onError, onSettled, ...qrOptions } = options;
    qr = so.quickReplies(qrOptions);
    reg.set(id, qr);
  }
  return qr;
}

/**
 * A quick reply: `run()` inside a click handler runs `handler(key)` once per quick reply and
 * window (taps while it runs join it; a repeat in the window gets the stored result). The
 * component re-renders with `status` ("idle" | "running" | "done" | "error"), `key`,
 * `result`, `error` and `isPending`. `run()` never throws: a refused action key rejects its
 * Promise and shows as `error`.
 */
export function useQuickReply(so, options, actionKey, handler) {
  const qr = quickFor(so, options);
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const runId = `${options.conversationId}\n${actionKey}`;
  const keyOf = () => {
    try {
      return qr.key(actionKey);
    } catch {
      return null;
    }
  };
  const view = (entry) =>
    entry
      ? { status: entry.status, key: entry.key, result: entry.result, error: entry.error, isPending: entry.status === "running" }
      : { status: "idle", key: keyOf(), result: undefined, error: null, isPending: false };
  const [state, setState] = useState(() => view(registry(runs, so).get(runId)));
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const entry = registry(runs, so).get(runId);
    setState(view(entry));
    if (!entry || entry.status !== "running") return undefined;
    let live = true;
    entry.promise.then(
      () => live && setState(view(entry)),
      () => live && setState(view(entry)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [so, runId, generation]);

  const run = useCallback(() => {
    const reg = registry(runs, so);
    const running = reg.get(runId);
    if (running?.status === "running") return running.promise;
    const entry = { status: "running", key: keyOf(), result: undefined, error: null, promise: null };
    let started;
    try {
      started = qr.run(actionKey, (key) => {
        entry.key = key;
        return handlerRef.current(key);
      });
    } catch (error) {
      started = Promise.reject(error);
    }
    entry.promise = Promise.resolve(started).then(
      (result) => {
        entry.status = "done";
        entry.result = result;
        const o = optionsRef.current;
        call(o.onSuccess, result);
        call(o.onSettled, result, null);
        return result;
      },
      (error) => {
        entry.status = "error";
        entry.error = error;
        const o = optionsRef.current;
        call(o.onError, error);
        call(o.onSettled, undefined, error);
        throw error;
      },
    );
    entry.promise.catch(() => {});
    reg.set(runId, entry);
    setState(view(entry));
    setGeneration((g) => g + 1);
    return entry.promise;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [so, qr, runId, actionKey]);

  // Shows "idle" again (a run under way goes on; a repeat in the window still gets its result).
  const reset = useCallback(() => {
    const reg = registry(runs, so);
    if (reg.get(runId)?.status !== "running") reg.delete(runId);
    setState(view(undefined));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [so, runId]);

  const underWay = () => registry(runs, so).get(runId)?.status === "running";
  const buttonProps = (props = {}) => buttonPropsOf(state.isPending, underWay, props.submit ? null : run, props);

  return { ...state, run, reset, buttonProps };
}
