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

const IDLE = Object.freeze({ code: "idle", text: "" });

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
const actions = new WeakMap();
// One Chat / QuickReplies object per conversation (a second one would deliver the outbox too).
const chats = new WeakMap();
const quickReplies = new WeakMap();
// Quick replies running, by conversation + action key: a remounted button shows "running".
const runs = new WeakMap();

function actionId(name, payload) {
  return `${name}\n${JSON.stringify(payload) ?? ""}`;
}

/**
 * One action: `send()` inside a click handler sends `payload` (or the payload given to
 * `send(payload)`, as from react-hook-form's `handleSubmit`) as the action `name` to
 * `options.url` once (sends while it runs join it, same key), and the component re-renders
 * with its `status`, `key` and `reply`.
 */
export function useAction(so, name, payload, options) {
  const latest = useRef(null);
  latest.current = { so, name, payload, options };
  // The action this component shows: the last one it sent, or (on a new mount) the one an
  // earlier mount sent for this payload (or for this name, when the payload comes with send).
  const [activeId, setActiveId] = useState(() => {
    const reg = registry(actions, so);
    return payload === undefined ? (reg.get(`${name}\n*`) ?? null) : actionId(name, payload);
  });
  const [state, setState] = useState(() => viewOf(registry(actions, so).get(activeId)));
  const [generation, setGeneration] = useState(0);
  // New data on screen: show that data's action (idle if it was never sent).
  const renderId = payload === undefined ? null : actionId(name, payload);
  useEffect(() => {
    if (renderId !== null) setActiveId(renderId);
  }, [renderId]);

  useEffect(() => {
    const entry = activeId === null ? undefined : registry(actions, so).get(activeId);
    setState(viewOf(entry));
    if (!entry) return undefined;
    const off = entry.action.onStatus(() => setState(viewOf(entry)));
    let live = true;
    const update = () => live && setState(viewOf(entry));
    entry.promise?.then(update, update);
    return () => {
      live = false;
      off();
    };
  }, [so, activeId, generation]);

  const start = useCallback((make) => {
    const { so, name } = latest.current;
    const entry = make();
    const settle = (p) =>
      p.then(
        (reply) => {
          entry.settled = true;
          entry.reply = reply;
          return reply;
        },
        (error) => {
          entry.settled = true;
          entry.error = error;
          throw error;
        },
      );
    entry.settled = false;
    entry.error = null;
    entry.promise = settle(entry.run());
    // Callers that ignore the Promise must not see an unhandled rejection: the error is state.
    entry.promise.catch(() => {});
    registry(actions, so).set(`${name}\n*`, entry.id);
    setActiveId(entry.id);
    setState(viewOf(entry));
    setGeneration((g) => g + 1);
    return entry.promise;
  }, []);

  const send = useCallback(
    (...args) => {
      const { so, name, options } = latest.current;
      const payload = args.length > 0 ? args[0] : latest.current.payload;
      const id = actionId(name, payload);
      const reg = registry(actions, so);
      const entry = reg.get(id);
      // The guard, taken in the caller's own task: a send in flight is joined, not repeated.
      if (entry?.promise && !entry.settled) return entry.promise;
      const { url, init, ...actionOptions } = options;
      // The same data as a finished action is a repeat: the SDK answers it from the stored
      // result inside the window, without a request.
      const action = so.action(name, payload, actionOptions);
      const fresh = { id, action, promise: null, settled: false, reply: null, error: null };
      fresh.run = () => action.send(url, init);
      reg.set(id, fresh);
      return start(() => fresh);
    },
    [start],
  );

  const retry = useCallback(() => {
    const { so, name } = latest.current;
    const reg = registry(actions, so);
    const entry = reg.get(reg.get(`${name}\n*`));
    if (!entry) return send();
    if (entry.promise && !entry.settled) return entry.promise;
    entry.run = () => entry.action.retry();
    return start(() => entry);
  }, [send, start]);

  return { ...state, send, retry };
}

function viewOf(entry) {
  if (!entry) return { status: IDLE, key: null, reply: null, error: null };
  return { status: entry.action.status, key: entry.action.key, reply: entry.reply, error: entry.error };
}

/**
 * A form: pass `ref` to a `<form>`. The form binding intercepts submit, guards the button in
 * the same event task, keeps the draft and the key; the component re-renders with `status`,
 * `key` and the last `reply`. Options are read when the form mounts.
 */
export function useSendonceForm(so, options) {
  const opts = useRef(options);
  opts.current = options;
  const [state, setState] = useState({ status: IDLE, key: null, reply: null });
  const bound = useRef(null);
  const attach = useCallback(
    (element) => {
      // React 19 calls a ref's returned cleanup on detach; older versions call it with null.
      if (bound.current) {
        bound.current();
        bound.current = null;
      }
      if (!element) return undefined;
      const form = so.form(element, opts.current);
      const offStatus = form.onStatus((status) =>
        setState((s) => ({ ...s, status, key: form.key ?? null })),
      );
      const offReply = form.onReply((reply) => setState((s) => ({ ...s, reply, key: form.key ?? null })));
      setState((s) => ({ ...s, status: form.status, key: form.key ?? null }));
      let done = false;
      const cleanup = () => {
        if (done) return;
        done = true;
        offStatus();
        offReply();
        form.dispose();
        if (bound.current === cleanup) bound.current = null;
      };
      bound.current = cleanup;
      return cleanup;
    },
    [so],
  );
  return { ref: attach, ...state };
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
    qr = so.quickReplies(options);
    reg.set(id, qr);
  }
  return qr;
}

/**
 * A quick reply: `run()` inside a click handler runs `handler(key)` once per quick reply and
 * window (taps while it runs join it; a repeat in the window gets the stored result). The
 * component re-renders with `status` ("idle" | "running" | "done" | "error"), `key`,
 * `result` and `error`.
 */
export function useQuickReply(so, options, actionKey, handler) {
  const qr = quickFor(so, options);
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const runId = `${options.conversationId}\n${actionKey}`;
  const view = (entry) =>
    entry
      ? { status: entry.status, key: entry.key, result: entry.result, error: entry.error }
      : { status: "idle", key: qr.key(actionKey), result: undefined, error: null };
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
    const entry = { status: "running", key: qr.key(actionKey), result: undefined, error: null, promise: null };
    entry.promise = qr
      .run(actionKey, (key) => {
        entry.key = key;
        return handlerRef.current(key);
      })
      .then(
        (result) => {
          entry.status = "done";
          entry.result = result;
          return result;
        },
        (error) => {
          entry.status = "error";
          entry.error = error;
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

  return { ...state, run };
}
