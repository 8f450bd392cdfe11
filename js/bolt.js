// sendonce/bolt: global middleware for Slack Bolt apps that run as one or many processes.
// - Events API: Slack retries an event it thinks was not received (X-Slack-Retry-Num, same
//   event_id). Bolt acknowledges events itself; this middleware runs the listeners once per
//   event_id, so a retry (on any process) is acknowledged and not handled again.
// - Interactivity: a button (block_actions) runs its listener once per button and window,
//   whatever the clicks and processes; a repeat is acknowledged at once without running it
//   (also while the first click's listener still runs: Slack wants every click acknowledged
//   within 3 s).
// Listeners get `context.sendonceKey`, the idempotency key to pass to a backend. Across
// processes, give the Sendonce a storage adapter with claims (`sendonce/redis`). This module
// imports nothing from Bolt: it is plain middleware for `app.use()`.

/** The default key of a button click: the message it is on, the block, the action and its
 * value, as a list of parts (encoded unambiguously by `actionKeyOf`). */
function defaultActionKey(body) {
  const a = body.actions[0];
  const where = body.message?.ts ?? body.container?.message_ts ?? body.view?.id ?? "";
  const value = a.value ?? a.selected_option?.value ?? "";
  return [where, a.block_id ?? "", a.action_id ?? "", value];
}

/** A key function's result as a quick reply's action key: a list of parts becomes a JSON
 * array, so parts holding any separator, newline or control character never make two
 * buttons share a key (nor a key the core refuses); a string is used as it is. */
function actionKeyOf(parts) {
  return Array.isArray(parts) ? JSON.stringify(parts) : String(parts);
}

/**
 * Bolt global middleware: each event handled once, each button click once per window.
 * @param {import("./sendonce.js").Sendonce} so
 * @param {object} [options]
 */
export function sendonceBolt(so, options = {}) {
  if (!so || typeof so.quickReplies !== "function") {
    throw new TypeError("sendonceBolt(so): so must be a Sendonce instance");
  }
  const eventWindow = options.eventWindow ?? "1h";
  const actionWindow = options.actionWindow ?? "10s";
  const actionKey = options.actionKey ?? defaultActionKey;

  return async function sendonceMiddleware(args) {
    const { body, context, next } = args;
    const team = body?.team_id ?? body?.team?.id ?? body?.enterprise?.id ?? "slack";
    if (typeof body?.event_id === "string") {
      const events = so.quickReplies({ conversationId: `slack:${team}:events`, window: eventWindow });
      let ran = false;
      await events.run(actionKeyOf(["event", body.event_id]), async (key) => {
        ran = true;
        context.sendonceKey = key;
        await next();
        return true;
      });
      // A retry (context.retryNum) or any redelivery: Bolt has acknowledged it already.
      context.sendonceRepeat = !ran;
      return;
    }
    if (body?.type === "block_actions" && Array.isArray(body.actions) && body.actions.length > 0) {
      const where = body.channel?.id ?? body.container?.channel_id ?? body.user?.id ?? "unknown";
      const buttons = so.quickReplies({ conversationId: `slack:${team}:${where}`, window: actionWindow });
      const ack = typeof args.ack === "function" ? args.ack : null;
      let acking = null;
      // Every click that does not run the listener is acknowledged by the middleware, at once:
      // a repeat inside the window, and a click that joins the run in flight (here or on
      // another process) without waiting for it.
      const ackNow = () => {
        if (acking || !ack) return;
        acking = Promise.resolve().then(() => ack());
        acking.catch(() => {}); // awaited below; not an unhandled rejection if the run fails
      };
      let ran = false;
      await buttons.run(
        actionKeyOf(actionKey(body)),
        async (key) => {
          ran = true;
          context.sendonceKey = key;
          // Only when the process that ran this button died mid-listener and this waiting
          // click took over: it was acknowledged already, and the listener's own ack() is a
          // second one (Bolt's HTTP receiver refuses it).
          if (acking) context.sendonceAcked = true;
          await next();
          return true;
        },
        { onWait: ackNow },
      );
      if (!ran) {
        context.sendonceRepeat = true;
        ackNow();
      }
      if (acking) await acking;
      return;
    }
    await next();
  };
}

export default sendonceBolt;
