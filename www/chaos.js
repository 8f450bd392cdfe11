// The page the chaos run drives: real SDK, real server, faults on purpose. Each function
// starts one user action and resolves with what the user would be shown at the end.
import init, { Sendonce } from "/pkg/sendonce.js";

await init();
const so = new Sendonce({
  namespace: "chaos",
  retry: { attempts: 6, baseDelayMs: 50, maxDelayMs: 800, timeoutMs: 4000, deadlineMs: 30000 },
});

function summary(action, reply) {
  return { key: action.key, outcome: reply.outcome, status: action.status.code, text: action.status.text, attempts: reply.attempts };
}

window.chaos = {
  /** Sends order `n`; resolves with the outcome the page shows. */
  async order(n, run) {
    const action = so.action("chaosOrder", { n, run, item: "tea", qty: 1 + (n % 5) });
    const reply = await action.send("/api/orders", { method: "POST" });
    return summary(action, reply);
  },
  /** Starts order `n` without waiting (the driver reloads the page while it is in flight). */
  start(n, run) {
    const action = so.action("chaosOrder", { n, run, item: "tea", qty: 1 + (n % 5) });
    action.send("/api/orders", { method: "POST" });
    return action.key;
  },
  /** After a reload: resend whatever was pending, with the same keys. */
  async resume() {
    const replies = await so.resumePending();
    return replies.map((r) => ({ key: r.key, outcome: r.outcome, attempts: r.attempts }));
  },
  /** What the user would see for an action that came to rest unconfirmed: still pending
   * (kept for a retry), with its status. */
  pending() {
    return so.pending();
  },
  /** A retry of an action that came to rest as offline or failed, as the user would click it. */
  async retry(n, run) {
    const action = so.action("chaosOrder", { n, run, item: "tea", qty: 1 + (n % 5) });
    const reply = await action.retry();
    return summary(action, reply);
  },
  stats: () => so.stats(),
};
window.sendonceReady = true;
