// The chat demo: so.chat() keeps an outbox in localStorage and delivers it in order, one
// message at a time, each with its own id as the Idempotency-Key; a reload resends what was
// not delivered with the same ids. Each delivered message gets a streamed reply
// (chat.streamReply) that resumes with Last-Event-ID after a cut.
import init, { Sendonce } from "/pkg/sendonce.js";
import { faultPanel, logEvent, watchServer } from "/panel.js";

await init();
const $ = (s) => document.querySelector(s);
const conversationId = new URLSearchParams(location.search).get("c") ?? "c-42";
const base = `/api/conversations/${encodeURIComponent(conversationId)}/messages`;

const so = new Sendonce({ namespace: "chat", onEvent: logEvent, retry: { baseDelayMs: 200, maxDelayMs: 2000 } });
const chat = so.chat({ conversationId, url: base });

// Replies by message id: { text, done }.
const replies = new Map();
const statuses = new Map();

function bubble(m) {
  const li = document.createElement("li");
  li.className = "bubble mine";
  li.dataset.id = m.id;
  li.dataset.status = m.status;
  li.append(m.text);
  const small = document.createElement("small");
  small.textContent = m.status === "error" ? `error (${m.code})` : m.status;
  li.append(small);
  if (m.status === "error") {
    for (const [label, f] of [["Retry", () => chat.retry(m.id)], ["Discard", () => chat.discard(m.id)]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.addEventListener("click", f);
      li.append(b);
    }
  }
  return li;
}

function render(messages) {
  const ul = $("#messages");
  ul.replaceChildren();
  for (const m of messages) {
    ul.append(bubble(m));
    const r = replies.get(m.id);
    if (r) {
      const li = document.createElement("li");
      li.className = "bubble reply";
      li.dataset.replyTo = m.id;
      li.dataset.done = String(r.done);
      li.textContent = r.text || "…";
      ul.append(li);
    }
  }
}

function streamReply(id) {
  replies.set(id, { text: "", done: false });
  chat
    .streamReply(id, `${base}/${encodeURIComponent(id)}/reply`, (c) => {
      replies.get(id).text = c.text;
      render(chat.messages);
    })
    .then((text) => {
      replies.set(id, { text, done: true });
      render(chat.messages);
    })
    .catch((e) => {
      replies.get(id).text = `(no reply: ${e.message})`;
      render(chat.messages);
    });
}

chat.onChange((messages) => {
  for (const m of messages) {
    const before = statuses.get(m.id);
    statuses.set(m.id, m.status);
    // A reply for messages delivered while this page watched them.
    if (m.status === "delivered" && before && before !== "delivered" && !replies.has(m.id)) streamReply(m.id);
  }
  render(messages);
});

$("#composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("#text");
  if (!input.value.trim()) return;
  chat.send(input.value);
  input.value = "";
  input.focus();
});

// The server's view of the conversation: echoes merge by id, never a second bubble.
async function poll() {
  try {
    const r = await fetch(base);
    if (r.ok) for (const m of (await r.json()).messages ?? []) chat.receive(m);
  } catch {
    // The next poll tries again.
  }
  setTimeout(poll, 1500);
}
poll();

faultPanel(base);
watchServer(base, "#message-count");
window.sendonceChat = chat;
window.sendonceReplies = replies;
window.sendonceReady = true;
