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

// Replies by message id: { text, done }. Kept in localStorage too, so the bot's replies are
// still there after a reload (one that was cut by the reload is read again).
const repliesKey = `chat-demo:replies:${conversationId}`;
const replies = new Map(Object.entries(JSON.parse(localStorage.getItem(repliesKey) ?? "{}")));
const statuses = new Map();
function saveReplies() {
  try {
    localStorage.setItem(repliesKey, JSON.stringify(Object.fromEntries(replies)));
  } catch {
    // A full or refusing storage only costs the replies after a reload.
  }
}

// The list is updated node by node (keyed by message id): a stream piece changes one reply's
// text, a status one bubble, so the aria-live region announces what changed, not the list.
const nodes = new Map();

function bubble(m) {
  const signature = `${m.status}|${m.statusText}|${m.text}`;
  let li = nodes.get(`m:${m.id}`);
  if (li?.dataset.signature === signature) return li;
  if (!li) {
    li = document.createElement("li");
    li.className = "bubble mine";
    li.dataset.id = m.id;
    nodes.set(`m:${m.id}`, li);
  }
  li.dataset.signature = signature;
  li.dataset.status = m.status;
  const small = document.createElement("small");
  // The SDK's own calm text, in the page's locale: "Sending...", "Delivered",
  // "Connection lost. Retry?".
  small.textContent = m.statusText;
  const parts = [m.text, small];
  if (m.status === "error") {
    for (const [label, f] of [["Retry", () => chat.retry(m.id)], ["Discard", () => chat.discard(m.id)]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.addEventListener("click", f);
      parts.push(b);
    }
  }
  li.replaceChildren(...parts);
  return li;
}

function replyNode(id, r) {
  let li = nodes.get(`r:${id}`);
  if (!li) {
    li = document.createElement("li");
    li.className = "bubble reply";
    li.dataset.replyTo = id;
    nodes.set(`r:${id}`, li);
  }
  const text = r.text || "…";
  if (li.textContent !== text) li.textContent = text;
  if (li.dataset.done !== String(r.done)) li.dataset.done = String(r.done);
  // Read out once, when the reply is complete.
  li.setAttribute("aria-busy", String(!r.done));
  return li;
}

function render(messages) {
  const ul = $("#messages");
  const wanted = [];
  for (const m of messages) {
    wanted.push(bubble(m));
    const r = replies.get(m.id);
    if (r) wanted.push(replyNode(m.id, r));
  }
  const keep = new Set(wanted);
  for (const [k, li] of nodes) {
    if (!keep.has(li)) {
      li.remove();
      nodes.delete(k);
    }
  }
  // Move only the nodes that are out of place.
  let at = ul.firstChild;
  for (const li of wanted) {
    if (at === li) {
      at = at.nextSibling;
    } else {
      ul.insertBefore(li, at);
    }
  }
}

function streamReply(id) {
  replies.set(id, { text: "", done: false });
  saveReplies();
  chat
    .streamReply(id, `${base}/${encodeURIComponent(id)}/reply`, (c) => {
      replies.get(id).text = c.text;
      render(chat.messages);
    })
    .then((text) => {
      replies.set(id, { text, done: true });
      saveReplies();
      render(chat.messages);
    })
    .catch((e) => {
      replies.get(id).text = `(no reply: ${e.message})`;
      render(chat.messages);
    });
}

// Replies a reload cut: read them again (the stream only GETs; the message is not resent).
for (const [id, r] of replies) {
  if (!r.done && chat.messages.some((m) => m.id === id && m.status === "delivered")) streamReply(id);
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
// Shut in the HTML until here: before this listener, Enter in the field made the browser submit
// the form itself (a GET with the message in the URL), unsent and lost.
$("#send").disabled = false;

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
