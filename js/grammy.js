// sendonce/grammy: middleware for grammY (Telegram) bots that run as one or many processes.
// - An update Telegram delivers again (same update_id: a webhook that timed out, a process
//   that died before answering) is not handled again.
// - A callback_query button is handled once per button and window, whatever the taps and
//   processes; every tap is answered (answerCallbackQuery) exactly once, also when its handler
//   throws, so no spinner is left turning. A tap that joins a run in flight is answered at once.
// The handlers below the middleware get `ctx.sendonce.key`, the idempotency key to pass to a
// backend. Across processes, give the Sendonce a storage adapter with claims
// (`sendonce/redis`). This module imports nothing from grammY: it is plain middleware.

function windowOption(value, fallback) {
  return value === undefined ? fallback : value;
}

/** The default key of a button: the message it is on, and its callback data, as a list of
 * parts (encoded unambiguously by `actionKeyOf`). */
function defaultButtonKey(ctx) {
  const q = ctx.callbackQuery;
  const where = q.message?.message_id ?? q.inline_message_id ?? "";
  return [where, q.data ?? q.game_short_name ?? ""];
}

/** A key function's result as a quick reply's action key: a list of parts becomes a JSON
 * array, so callback data holding any separator, newline or control character works and never
 * makes two buttons share a key; a string is used as it is. */
function actionKeyOf(parts) {
  return Array.isArray(parts) ? JSON.stringify(parts) : String(parts);
}

/**
 * grammY middleware: one handling per update, one per button tap and window.
 * @param {import("./sendonce.js").Sendonce} so
 * @param {object} [options]
 */
export function sendonceGrammy(so, options = {}) {
  if (!so || typeof so.quickReplies !== "function") {
    throw new TypeError("sendonceGrammy(so): so must be a Sendonce instance");
  }
  const updateWindow = windowOption(options.updateWindow, "1h");
  const buttonWindow = windowOption(options.buttonWindow, "10s");
  const buttonKey = options.buttonKey ?? defaultButtonKey;
  const repeatText = options.repeatText;

  return async function sendonceMiddleware(ctx, next) {
    const update = ctx.update ?? {};
    if (typeof update.update_id !== "number") return next();
    const bot = ctx.me?.id ?? "bot";
    const updates = so.quickReplies({ conversationId: `telegram:${bot}:updates`, window: updateWindow });
    // The update runs once; a redelivery waits for the first delivery (on any process) and is
    // then dropped. A handler that throws stores nothing: a redelivery handles it again.
    let button = false;
    try {
      await updates.run(`update:${update.update_id}`, async (updateKey) => {
        ctx.sendonce = { key: updateKey, repeat: false };
        if (!ctx.callbackQuery) {
          await next();
          return true;
        }
        button = true;
        await handleButton(ctx, next);
        return true;
      });
    } catch (e) {
      // The store failed before the tap reached its button (Redis away): its spinner stops
      // all the same. (handleButton answers every tap that reaches it.)
      if (ctx.callbackQuery && !button && typeof ctx.answerCallbackQuery === "function") {
        await Promise.resolve()
          .then(() => ctx.answerCallbackQuery())
          .catch(() => {});
      }
      throw e;
    }
  };

  async function handleButton(ctx, next) {
    const q = ctx.callbackQuery;
    const chat = ctx.chat?.id ?? q.from?.id ?? "unknown";
    const buttons = so.quickReplies({ conversationId: `telegram:${chat}`, window: buttonWindow });
    const original = ctx.answerCallbackQuery?.bind(ctx);
    let answering = null;
    // The tap is answered once: by its handler, by a repeat, or at the end whatever happened.
    // A later call (a handler that answers after the tap was answered as a repeat) is a no-op.
    const answerOnce = (...args) => {
      if (!answering && original) {
        answering = Promise.resolve().then(() => original(...args));
        answering.catch(() => {}); // awaited below
      }
      return answering ?? Promise.resolve(true);
    };
    if (original) ctx.answerCallbackQuery = answerOnce;
    const repeatAnswer = () => answerOnce(repeatText ? { text: repeatText } : undefined);
    let ran = false;
    let failure = null;
    try {
      const actionKey = actionKeyOf(buttonKey(ctx));
      await buttons.run(
        actionKey,
        async (key) => {
          ran = true;
          ctx.sendonce = { key, repeat: false };
          await next();
          return true;
        },
        { onWait: repeatAnswer },
      );
      if (!ran) {
        ctx.sendonce = { key: buttons.key(actionKey), repeat: true };
        repeatAnswer();
      }
    } catch (e) {
      failure = e;
    }
    // A handler that threw, or did not answer: the spinner stops all the same.
    answerOnce();
    try {
      await answering;
    } catch (e) {
      failure ??= e;
    }
    if (failure) throw failure;
  }
}

export default sendonceGrammy;
