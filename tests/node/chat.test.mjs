// Node >= 20: the chat outbox with memory storage and an injected fetch (no server): order,
// one id per message on every attempt, echo merge, and the reply stream resuming after a drop.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";

before(async () => {
  await init();
});

const until = async (f, ms = 5000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

test("messages are delivered in order, one in flight, with the same id on every attempt", async () => {
  const seen = [];
  let failFirst = true;
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch = async (url, init) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight -= 1;
    const body = JSON.parse(init.body);
    seen.push({ key: init.headers["Idempotency-Key"], id: body.id, text: body.text });
    if (failFirst) {
      failFirst = false;
      return new Response("busy", { status: 503 });
    }
    return new Response(JSON.stringify({ id: body.id }), { status: 201, headers: { "Content-Type": "application/json" } });
  };
  const so = new Sendonce({ storage: "memory", fetch, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const chat = so.chat({ conversationId: "c-1", url: "http://test/api/conversations/c-1/messages" });
  let last = [];
  chat.onChange((m) => (last = m));
  const ids = ["one", "two", "three"].map((t) => chat.send(t));
  assert.equal(last.length, 3);
  assert.equal(last[0].status, "sending");
  await until(() => last.every((m) => m.status === "delivered"));
  assert.equal(maxInFlight, 1);
  const delivered = seen.filter((s, i) => i > 0).map((s) => s.text);
  assert.deepEqual(delivered, ["one", "two", "three"]);
  assert.equal(seen[0].key, ids[0]);
  assert.equal(seen[1].key, ids[0], "the retry carries the same id");
  for (const s of seen) assert.equal(s.key, s.id, "Idempotency-Key = message id");
  // An echo of our own message: still one bubble.
  chat.receive({ id: ids[1], text: "two", seq: 2 });
  chat.receive({ id: "other-1", text: "hi from support" });
  chat.receive({ id: "other-1", text: "hi from support" });
  assert.equal(chat.messages.length, 4);
});

test("a reply stream resumes with Last-Event-ID after a drop", async () => {
  const requests = [];
  const enc = new TextEncoder();
  const fetch = async (url, init) => {
    const last = init.headers["Last-Event-ID"];
    requests.push({ method: init.method, last });
    const from = last ? Number(last) + 1 : 1;
    const cut = !last;
    const stream = new ReadableStream({
      start(c) {
        for (let i = from; i <= 4; i++) {
          if (cut && i === 3) {
            c.enqueue(enc.encode(`id: 3\ndata: par`));
            // A connection that breaks after the bytes before it arrived (error() now would
            // discard the queued chunks).
            setTimeout(() => c.error(new TypeError("network error")), 20);
            return;
          }
          c.enqueue(enc.encode(`id: ${i}\ndata: p${i} \n\n`));
        }
        c.enqueue(enc.encode("event: done\ndata:\n\n"));
        c.close();
      },
    });
    return new Response(stream, { status: 200, headers: { "Content-Type": "text/event-stream" } });
  };
  const so = new Sendonce({ storage: "memory", fetch });
  const chat = so.chat({ conversationId: "c-2", url: "http://test/m" });
  const chunks = [];
  const text = await chat.streamReply("m-1", "http://test/m/m-1/reply", (c) => chunks.push(c.data));
  assert.equal(text, "p1 p2 p3 p4 ");
  assert.deepEqual(chunks, ["p1 ", "p2 ", "p3 ", "p4 "]);
  assert.equal(requests.length, 2);
  assert.equal(requests[1].last, "2");
  assert.ok(requests.every((r) => r.method === "GET"), "the user's message is never sent again");
});

test("after a restart, a chat over an async adapter resends the undelivered messages with their ids, in order", async () => {
  const map = new Map();
  const later = (v) => new Promise((r) => setTimeout(() => r(v), 1));
  const adapter = {
    get: (k) => later(map.get(k) ?? null),
    set: (k, v) => later(void map.set(k, v)),
    delete: (k) => later(void map.delete(k)),
    keys: (p) => later([...map.keys()].filter((k) => k.startsWith(p))),
  };
  // The first process: the network hangs, nothing is delivered.
  const hang = () => new Promise(() => {});
  const first = new Sendonce({ namespace: "srv", storage: adapter, fetch: hang, retry: { timeoutMs: 60000 } });
  const chat1 = first.chat({ conversationId: "c-5", url: "http://test/m" });
  const ids = [chat1.send("a"), chat1.send("b", { lang: "en" })];
  await until(() => [...map.keys()].filter((k) => k.includes(":o:")).length === 2);
  first.dispose();

  // The second process, same store: it resumes with the same ids.
  const got = [];
  const fetch = async (url, init) => {
    got.push({ key: init.headers["Idempotency-Key"], body: JSON.parse(init.body) });
    return new Response("{}", { status: 201, headers: { "Content-Type": "application/json" } });
  };
  const second = new Sendonce({ namespace: "srv", storage: adapter, fetch });
  const chat2 = second.chat({ conversationId: "c-5", url: "http://test/m" });
  let last = [];
  chat2.onChange((m) => (last = m));
  await until(() => last.length === 2 && last.every((m) => m.status === "delivered"));
  assert.deepEqual(got.map((g) => g.key), ids);
  assert.deepEqual(got[1].body, { id: ids[1], text: "b", lang: "en" });
});

test("bad chat input is a SendonceError, and nothing is sent or shown", async () => {
  const calls = [];
  const fetch = async (url) => {
    calls.push(url);
    return new Response("", { status: 500 });
  };
  const so = new Sendonce({ storage: "memory", fetch });
  const chat = so.chat({ conversationId: "c-bad", url: "/m" });
  assert.throws(() => chat.send("hi", "not an object"), (e) => e.name === "SendonceError" && e.code === "invalid_option" && /extra/.test(e.message));
  assert.deepEqual(chat.messages, [], "no bubble for a refused message");
  await assert.rejects(chat.streamReply("m-1", "/r", 42), (e) => e.name === "SendonceError" && /onChunk/.test(e.message));
  assert.deepEqual(calls, [], "a bad callback is refused before any request");
});
