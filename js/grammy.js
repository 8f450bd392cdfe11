// sendonce/grammy: middleware for grammY (Telegram) bots that run as one or many processes.
// - An update Telegram delivers again (same update_id: a webhook that timed out, a process
//   that died before answering) is not handled again.
// - A callback_query button is handled once per button and window, whatever the taps and
//   processes; every tap is answered (answerCallbackQuery), so no spinner is left turning.
// The handlers below the middleware get `ctx.sendonce.key`, the idempotency key to pass to a
// backend. Across processes, give the Sendonce a storage adapter with claims
// (`sendonce/redis`). This module imports nothing from grammY: it is plain middleware.

function windowOption(value, fallback) {
  return value === undefined ? fallback : value;
}

/** The default key of a button: the message it is on, and its callback data. */
function defaultButtonKey(ctx) {
  const q = ctx.callbackQuery;
  const where = q.message?.message_id ?? q.inline_message_id ?? "";
  return `${where}|${q.data ?? q.game_short_name ?? ""}`;
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
    await updates.run(`update:${update.update_id}`, async (updateKey) => {
      ctx.sendonce = { key: updateKey, repeat: false };
      if (!ctx.callbackQuery) {
        await next();
        return true;
      }
      await handleButton(ctx, next);
      return true;
    });
  };

  async function handleButton(ctx, next) {
    const q = ctx.callbackQuery;
    const chat = ctx.chat?.id ?? q.from?.id ?? "unknown";
    const buttons = so.quickReplies({ conversationId: `telegram:${chat}`, window: buttonWindow });
    let answered = false;
    const answer = ctx.answerCallbackQuery?.bind(ctx);
    if (answer) {
      ctx.answerCallbackQuery = (...args) => {
        answered = true;
        return answer(...args);
      };
    }
    let ran = false;
    await buttons.run(String(buttonKey(ctx)), async (key) => {
      ran = true;
      ctx.sendonce = { key, repeat: false };
      await next();
      return true;
    });
    if (!ran) ctx.sendonce = { key: buttons.key(String(buttonKey(ctx))), repeat: true };
    if (!answered && answer) {
      // Every tap gets its answer: a repeat (with `repeatText` when given), or a handler that
      // did not answer itself.
      await answer(!ran && repeatText ? { text: repeatText } : undefined);
    }
  }
}

export default sendonceGrammy;
