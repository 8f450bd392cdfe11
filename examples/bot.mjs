// A bot server's quick-reply handler in Node >= 20 with sendonce: a channel (Telegram,
// WhatsApp, a web widget) may deliver the same webhook twice and a user may tap a button five
// times; the ticket is opened once. Run it after building the package:
//
//   ./scripts/build.sh && node examples/bot.mjs
//
// Two "servers" share one store (here a Map behind async methods, like Redis or a database),
// so a retry that lands on the other server is recognised too. Its claim/release make a run
// exclusive across the servers; with Redis, use `redisStorage(client)` from "sendonce/redis"
// (examples/telegram-grammy.mjs, examples/slack-bolt.mjs).
import init, { Sendonce } from "../pkg/node.js";

await init();

const shared = new Map();
const store = {
  get: async (k) => shared.get(k) ?? null,
  set: async (k, v) => void shared.set(k, v),
  delete: async (k) => void shared.delete(k),
  keys: async (prefix) => [...shared.keys()].filter((k) => k.startsWith(prefix)),
  // Atomic in one process (a Map); Redis does it with SET NX PX and a compare-and-delete script.
  // (This toy store ignores the time to live; a real one must honour it.)
  claim: async (k, v) => (shared.has(k) ? false : (shared.set(k, v), true)),
  release: async (k, v) => void (shared.get(k) === v && shared.delete(k)),
};

let ticketsOpened = 0;
/** The backend: idempotent by key, the way a payment or ticket API is. */
async function createTicket(key, orderId) {
  ticketsOpened += 1;
  return { ticket: `T-${key.slice(0, 8)}`, orderId };
}

/** One bot server: handles an inbound webhook event. */
function botServer(name) {
  const so = new Sendonce({ namespace: "bot", storage: store });
  return async function onWebhook(event) {
    const qr = so.quickReplies({ conversationId: event.chatId, window: "5s" });
    // 1. Channel retries: the same event delivered twice is handled once.
    if (await qr.seenAsync(event.eventId, event.text)) {
      return `${name}: duplicate event ${event.eventId}, ignored`;
    }
    // 2. The quick reply: one ticket per tap and window, whatever the taps and servers.
    if (event.callback === "createTicket|orderId=123") {
      const result = await qr.run(event.callback, (key) => createTicket(key, 123));
      return `${name}: ${result.ticket} for order ${result.orderId}`;
    }
    return `${name}: nothing to do`;
  };
}

const a = botServer("server A");
const b = botServer("server B");
const tap = (eventId) => ({ chatId: "c-42", eventId, text: "Open a ticket", callback: "createTicket|orderId=123" });

console.log(await a(tap("evt-1")));
console.log(await b(tap("evt-1"))); // the channel retried the webhook on the other server
console.log(await b({ ...tap("evt-2"), text: "" })); // a second tap: the stored result
console.log(`tickets opened: ${ticketsOpened}`);
