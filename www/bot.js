// The quick-reply demo: qr.bind() disables the button in the same event task and runs the
// handler once per window; the handler passes the deterministic key to the backend as the
// Idempotency-Key. qr.seen() recognises an inbound event the channel delivers twice.
import init, { Sendonce } from "/pkg/sendonce.js";
import { faultPanel, logEvent, watchServer } from "/panel.js";

await init();
const $ = (s) => document.querySelector(s);
const params = new URLSearchParams(location.search);
const window_ = params.get("window") ?? "5s";
$("#window").textContent = window_;

const so = new Sendonce({ namespace: "bot", onEvent: logEvent });
const qr = so.quickReplies({ conversationId: params.get("c") ?? "c-42", window: window_ });

window.handlerCalls = 0;
async function openTicket(key) {
  window.handlerCalls += 1;
  // The backend call: the same key on every retry of this run.
  const action = so.action("createTicket", { orderId: 123, reason: "damaged" }, { key });
  const reply = await action.send("/api/tickets", { method: "POST" });
  if (reply.outcome !== "done" && reply.outcome !== "already_received") {
    throw new Error(`ticket not created (${reply.outcome})`);
  }
  return reply.body;
}

// The bot's last answer is kept in localStorage: it is still there after a reload.
const resultKey = `bot-demo:result:${params.get("c") ?? "c-42"}`;
function say(text) {
  $("#result").textContent = text;
  try {
    localStorage.setItem(resultKey, text);
  } catch {
    // Only the answer after a reload is lost.
  }
}
$("#result").textContent = localStorage.getItem(resultKey) ?? "";

qr.bind($("#ticket"), "createTicket|orderId=123", openTicket);
// Show the result of every run (the button's own Promise is internal to bind()); a tap joins
// the run in flight, so this is the same run as the button's.
$("#ticket").addEventListener("click", async () => {
  $("#result").textContent = "Opening a ticket for order 123...";
  try {
    // The server answers `{ id, ticket }`: `id` is the ticket's number.
    const ticket = await qr.run("createTicket|orderId=123", openTicket);
    say(`Ticket #${ticket?.id ?? "?"} is open. We will write to you within a day.`);
  } catch (e) {
    say(`Could not open a ticket (${e.message}). Tap again to retry.`);
  }
});

const inbound = { id: "evt-1", text: "I want a refund" };
function handleInbound() {
  const li = document.createElement("li");
  li.textContent = qr.seen(inbound.id, inbound.text)
    ? `${inbound.id}: duplicate, ignored`
    : `${inbound.id}: handled`;
  $("#inbound").prepend(li);
}
$("#deliver").addEventListener("click", handleInbound);
$("#redeliver").addEventListener("click", handleInbound);

faultPanel("/api/tickets");
watchServer("/api/tickets", "#ticket-count");
window.sendonceQuick = qr;
window.sendonceReady = true;
