// sendonce/bolt: global middleware for Slack Bolt apps that run as one or many processes.
// - Events API: Slack retries an event it thinks was not received (X-Slack-Retry-Num, same
//   event_id). Bolt acknowledges events itself; this middleware runs the listeners once per
//   event_id, so a retry (on any process) is acknowledged and not handled again.
// - Interactivity: a button (block_actions) runs its listener once per button and window,
//   whatever the clicks and processes; a repeat is acknowledged without running it.
// Listeners get `context.sendonceKey`, the idempotency key to pass to a backend. Across
// processes, give the Sendonce a storage adapter with claims (`sendonce/redis`). This module
// imports nothing from Bolt: it is plain middleware for `app.use()`.

/** The default key of a button click: the message it is on, the action and its value. */
function defaultActionKey(body) {
  const a = body.actions[0];
  const where = body.message?.ts ?? body.container?.message_ts ?? body.view?.id ?? "";
  const value = a.value ?? a.selected_option?.value ?? "";
  return `${where}|${a.block_id ?? ""}|${a.action_id ?? ""}|${value}`;
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
      await events.run(body.event_id, async (key) => {
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
      let ran = false;
      await buttons.run(String(actionKey(body)), async (key) => {
        ran = true;
        context.sendonceKey = key;
        await next();
        return true;
      });
      if (!ran) {
        context.sendonceRepeat = true;
        // Slack wants every interaction acknowledged within 3 s.
        if (typeof args.ack === "function") await args.ack();
      }
      return;
    }
    await next();
  };
}

export default sendonceBolt;
