// The page the chaos run drives: real SDK, real server, faults on purpose. Each function
// starts one user action and resolves with what the user would be shown at the end.
import init, { Sendonce } from "/pkg/sendonce.js";

await init();
const retry = { attempts: 6, baseDelayMs: 50, maxDelayMs: 800, timeoutMs: 4000, deadlineMs: 30000 };
const so = new Sendonce({ namespace: "chaos", retry });

// A shared API client's `headers` hook that stamps every request with a fresh key of its own
// (issue 19): the action's key must go out anyway, or a dropped answer becomes two orders.
const stamping = new Sendonce({
  namespace: "chaos-hook",
  retry,
  headers: () => ({ "Idempotency-Key": crypto.randomUUID(), "X-Api-Client": "chaos" }),
});

// A target that honours no key (a chat API's sendMessage), imitated in front of the
// reference server: every request reaches it under a key of its own, so the server cannot
// tell a retry from a new request and a blind retry after a 5xx or a drop is a second effect.
// A gateway in front of it answers 504 to every third request that the target did carry out
// (it timed out waiting for the answer): the classic "it may have happened". Actions to it
// are `{ idempotent: false }`.
let keylessCalls = 0;
const keylessFetch = async (url, init) => {
  const reply = await fetch(url, { ...init, headers: { ...init.headers, "Idempotency-Key": crypto.randomUUID() } });
  keylessCalls += 1;
  if (reply.ok && keylessCalls % 3 === 0) return new Response("upstream request timeout", { status: 504 });
  return reply;
};
const keyless = new Sendonce({ namespace: "chaos-keyless", retry, fetch: keylessFetch });

// Payment forms with a file (the file-reload mode), in a namespace of their own.
const files = new Sendonce({
  namespace: "chaos-files",
  retry,
});
let payForm = null;
let payReplies = [];

const chat = so.chat({ conversationId: "chaos", url: "/api/conversations/chaos/messages" });
const qr = so.quickReplies({ conversationId: "chaos", window: "1m" });

/** Resolves when chat message `id` is delivered or in error. */
function settled(id) {
  return new Promise((resolve) => {
    const off = chat.onChange((messages) => {
      const m = messages.find((x) => x.id === id);
      if (m && m.status !== "sending") {
        queueMicrotask(() => off());
        resolve(m);
      }
    });
  });
}

function summary(action, reply) {
  return { key: action.key, outcome: reply.outcome, status: action.status.code, text: action.status.text, attempts: reply.attempts };
}

/** The business reference of user action `n` of a run: the server counts effects per
 * reference (`orderRef`, `ticketRef`, `messageRef`), so one order placed under two keys shows
 * as a double order. */
const ref = (n, run) => `${run}-${n}`;

/** The data of order `n`: what the user typed (the same on every tab and every retry). */
const orderData = (n, run) => ({ orderRef: ref(n, run), n, run, item: "tea", qty: 1 + (n % 5) });

/** Resolves at wall-clock time `at` (ms since the epoch): two tabs told the same `at` start
 * in the same millisecond. */
function until(at) {
  return new Promise((resolve) => {
    const tick = () => {
      const left = at - Date.now();
      if (left <= 0) resolve(Date.now());
      else setTimeout(tick, left > 4 ? left - 2 : 0);
    };
    tick();
  });
}

window.chaos = {
  /** Sends order `n`; resolves with the outcome the page shows. */
  async order(n, run) {
    const action = so.action("chaosOrder", orderData(n, run));
    const reply = await action.send("/api/orders", { method: "POST" });
    return summary(action, reply);
  },
  /** Sends order `n` and also returns every status code it showed, in order. */
  async orderWatched(n, run) {
    const action = so.action("chaosOrder", orderData(n, run));
    const seen = [];
    action.onStatus((s) => seen.push(s.code));
    const reply = await action.send("/api/orders", { method: "POST" });
    return { ...summary(action, reply), seen };
  },
  /** Sends order `n` at wall-clock time `at`: the driver tells two tabs the same `at`, so
   * both submit the same data in the same millisecond (a double click across tabs, a restored
   * session in two windows). Resolves with the outcome and the millisecond it started. */
  async orderAt(n, run, at) {
    const startedAt = await until(at);
    const action = so.action("chaosOrder", orderData(n, run));
    const reply = await action.send("/api/orders", { method: "POST" });
    return { ...summary(action, reply), startedAt };
  },
  /** Sends an order under an explicit `key` from an instance over this tab's own
   * sessionStorage: two tabs then share nothing but the key (and the browser's Web Locks and
   * BroadcastChannel). */
  async orderInSession(key) {
    const own = new Sendonce({ namespace: "chaos-session", storage: "session" });
    try {
      const action = own.action("chaosOrder", { shared: key }, { key });
      const seen = [];
      action.onStatus((s) => seen.push(s.code));
      const reply = await action.send("/api/orders", { method: "POST" });
      return { ...summary(action, reply), seen };
    } finally {
      own.dispose();
    }
  },
  /** Sends order `n` from the instance whose `headers` hook stamps its own key. */
  async orderStamped(n, run) {
    const action = stamping.action("chaosOrder", orderData(n, run));
    const reply = await action.send("/api/orders", { method: "POST" });
    return summary(action, reply);
  },
  /** A retry of a stamped order, as the user would click it. */
  async retryStamped(n, run) {
    const action = stamping.action("chaosOrder", orderData(n, run));
    const reply = await action.retry();
    return summary(action, reply);
  },
  /** Sends order `n` to the target that honours no key (`{ idempotent: false }`): one
   * request; anything that does not prove nothing happened rests `uncertain`. */
  async orderKeyless(n, run) {
    const action = keyless.action("chaosOrder", orderData(n, run), { idempotent: false });
    const reply = await action.send("/api/orders", { method: "POST" });
    return { ...summary(action, reply), requests: reply.attempts };
  },
  /** A retry of a keyless order that came to rest offline or failed (never of an uncertain
   * one: the user checks before sending it again). */
  async retryKeyless(n, run) {
    const action = keyless.action("chaosOrder", orderData(n, run), { idempotent: false });
    const reply = await action.retry();
    return summary(action, reply);
  },
  /** Starts order `n` without waiting (the driver reloads the page while it is in flight). */
  start(n, run) {
    const action = so.action("chaosOrder", orderData(n, run));
    action.send("/api/orders", { method: "POST" });
    return action.key;
  },
  /** After a reload, a page that only creates an instance with `autoResume: true`: it sends
   * the pending order `key` again by itself. Waits until that order rests (confirmed, or
   * paused offline / failed), then shows the user what the same data gets now: the stored
   * result under the same key, or the resumed action itself. */
  async autoResumed(n, run, key) {
    const before = new Sendonce({ namespace: "chaos" }).pending().find((p) => p.key === key);
    const auto = new Sendonce({ namespace: "chaos", autoResume: true, retry });
    const moving = ["idle", "sending", "retrying", "accepted", "elsewhere"];
    const stillMoving = () => auto.pending().some((p) => p.key === key && moving.includes(p.status));
    // Under way by itself: its attempts grow, or it comes to rest.
    const started = () => {
      const now = auto.pending().find((p) => p.key === key);
      return !now || !moving.includes(now.status) || now.attempts > (before?.attempts ?? 0);
    };
    const t0 = Date.now();
    while (!started() && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const stalled = !started();
    while (!stalled && stillMoving() && Date.now() - t0 < 40_000) await new Promise((r) => setTimeout(r, 50));
    const action = auto.action("chaosOrder", orderData(n, run));
    const reply = await action.send("/api/orders", { method: "POST" });
    return { ...summary(action, reply), stalled };
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
    const action = so.action("chaosOrder", orderData(n, run));
    const reply = await action.retry();
    return summary(action, reply);
  },
  /** Sends chat message `n`; resolves when it is delivered (or in error, shown as such). */
  async message(n, run) {
    const id = chat.send(`message ${n} of ${run}`, { messageRef: ref(n, run) });
    const m = await settled(id);
    return { key: id, outcome: m.status === "delivered" ? "done" : "failed", status: m.status };
  },
  /** Retries an undelivered chat message with its id, as the user taps "retry". */
  async retryMessage(id) {
    chat.retry(id);
    const m = await settled(id);
    return { key: id, outcome: m.status === "delivered" ? "done" : "failed", status: m.status };
  },
  /** Is chat message `id` still kept (shown with its error, ready to retry)? */
  kept: (id) => chat.messages.some((m) => m.id === id),
  /** Taps quick reply `n`; the handler opens a ticket with the quick reply's key. */
  async quick(n, run) {
    try {
      const body = await qr.run(`createTicket|n=${n}|${run}`, async (key) => {
        const action = so.action("chaosTicket", { ticketRef: ref(n, run), n, run }, { key });
        const reply = await action.send("/api/tickets", { method: "POST" });
        if (reply.outcome !== "done" && reply.outcome !== "already_received") throw new Error(reply.outcome);
        return reply.body;
      });
      return { key: qr.key(`createTicket|n=${n}|${run}`), outcome: body ? "done" : "failed" };
    } catch (e) {
      // The user sees the error next to the button and taps again.
      return { key: qr.key(`createTicket|n=${n}|${run}`), outcome: "failed", error: String(e.message) };
    }
  },
  /** Binds the payment form of order `n` (a file input for the receipt): after a reload it
   * restores its draft and says what it waits for. Returns its key. */
  fileForm(n, run) {
    document.querySelector("form.pay")?.remove();
    document.querySelector("main").insertAdjacentHTML(
      "beforeend",
      `<form class="pay" id="pay-${n}"><input name="orderRef" value="${ref(n, run)}"><input name="n" value="${n}">
        <input name="receipt" type="file"><button type="submit">Pay</button><p class="st"></p></form>`,
    );
    payReplies = [];
    payForm = files.form(`#pay-${n}`, { action: "chaosPay", url: "/api/orders", status: `#pay-${n} .st` });
    payForm.onReply((r) => payReplies.push({ key: r.key, outcome: r.outcome }));
    return payForm.key;
  },
  /** The payment form's replies so far, and its status. */
  fileState: () => ({ replies: payReplies, status: payForm?.status }),
  /** "Retry?" on the payment form: same key. Resolves with its next reply. */
  async fileRetry() {
    const before = payReplies.length;
    await payForm.retry();
    while (payReplies.length === before) await new Promise((r) => setTimeout(r, 20));
    return payReplies[payReplies.length - 1];
  },
  filePending: () => files.pending(),
  stats: () => so.stats(),
};
window.sendonceReady = true;
