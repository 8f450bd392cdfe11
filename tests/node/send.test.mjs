// Node >= 20: what a request is made of and how a send ends (issue 19 items 1, 3, 14, 22):
// the key header is sendonce's alone, `idempotent: false` is never retried blindly, URL
// secrets never reach storage, and an error's code says whose fault it is.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce, SendonceError } from "../../pkg/node.js";

before(async () => {
  await init();
});

/** A fetch that records every request (url, headers as a plain object with lower-case
 * names) and answers with `answer(n)` (n: the request's number, from 1): a status number, or
 * "drop" for a network failure after the server did the work. */
function scriptedFetch(answer = () => 201) {
  const calls = [];
  const fetch = async (url, init) => {
    const headers = {};
    for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
    calls.push({ url: String(url), headers, body: init.body });
    const a = answer(calls.length);
    if (a === "drop") throw new TypeError("fetch failed");
    return new Response(JSON.stringify({ n: calls.length }), { status: a, headers: { "content-type": "application/json" } });
  };
  return { calls, fetch };
}

/** A storage adapter that keeps everything written to it, for looking at what was stored. */
function recordingStorage() {
  const map = new Map();
  const written = [];
  return {
    written,
    map,
    adapter: {
      get: (k) => map.get(k) ?? null,
      set: (k, v) => {
        written.push(`${k}=${v}`);
        map.set(k, v);
      },
      delete: (k) => void map.delete(k),
      keys: (p) => [...map.keys()].filter((k) => k.startsWith(p)),
    },
  };
}

const fast = { baseDelayMs: 1, maxDelayMs: 5 };

test("a headers hook that stamps its own Idempotency-Key: the action's key goes out on every attempt, with an event", async () => {
  // A shared API client that adds a fresh key to every request it makes.
  const { calls, fetch } = scriptedFetch((n) => (n === 1 ? "drop" : 201));
  const events = [];
  let stamped = 0;
  const so = new Sendonce({
    storage: "memory",
    fetch,
    retry: fast,
    headers: () => ({ "idempotency-KEY": `client-${++stamped}`, Authorization: "Bearer t" }),
    onEvent: (e) => events.push(e),
  });
  const a = so.action("createOrder", { item: "tea" });
  const reply = await a.send("/api/orders");
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 2);
  for (const c of calls) {
    assert.equal(c.headers["idempotency-key"], a.key, "the key sent is action.key");
    assert.equal(c.headers.authorization, "Bearer t");
    assert.equal(Object.keys(c.headers).filter((k) => k === "idempotency-key").length, 1);
  }
  assert.equal(reply.key, a.key);
  const ignored = events.filter((e) => e.type === "key.header_ignored");
  assert.equal(ignored.length, 2, "told on every attempt");
  assert.ok(!JSON.stringify(ignored).includes("client-"), "the foreign key is not echoed");
});

test("a key header in send()'s init or under a custom headerName is ignored, with one event", async () => {
  const { calls, fetch } = scriptedFetch((n) => (n === 1 ? 503 : 201));
  const events = [];
  const so = new Sendonce({ storage: "memory", fetch, retry: fast, headerName: "X-Request-Key", onEvent: (e) => events.push(e) });
  const a = so.action("createOrder", { item: "tea" });
  const reply = await a.send("/api/orders", { headers: { "x-request-KEY": "mine", Accept: "application/json" } });
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 2);
  for (const c of calls) assert.equal(c.headers["x-request-key"], a.key);
  assert.equal(events.filter((e) => e.type === "key.header_ignored").length, 1);
});

test("idempotent: false is sent once on 500, 502, 503, 504 and 408 and rests uncertain; 429 is retried", async () => {
  for (const status of [500, 502, 503, 504, 408]) {
    const { calls, fetch } = scriptedFetch(() => status);
    const so = new Sendonce({ storage: "memory", fetch, retry: fast });
    const a = so.action("sendMessage", { text: "hi" }, { idempotent: false });
    const reply = await a.send("/api/chat");
    assert.equal(calls.length, 1, `${status}: one request`);
    assert.equal(reply.outcome, "uncertain", `${status}`);
    assert.equal(reply.status, status);
    assert.equal(a.status.code, "uncertain");
  }
  const { calls, fetch } = scriptedFetch((n) => (n === 1 ? 429 : 201));
  const so = new Sendonce({ storage: "memory", fetch, retry: fast });
  const reply = await so.action("sendMessage", { text: "hi" }, { idempotent: false }).send("/api/chat");
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 2, "a 429 proves nothing was done: retried");
});

test("secrets in the URL are sent and never stored; user:password@ is refused before anything is stored", async () => {
  const { written, adapter } = recordingStorage();
  const { calls, fetch } = scriptedFetch(() => 201);
  const so = new Sendonce({ storage: adapter, fetch });
  const url = "https://api.example.com/orders?access_token=SECRET-A&api_key=SECRET-B&page=2#token=SECRET-C";
  const reply = await so.action("createOrder", { item: "tea" }).send(url);
  assert.equal(reply.outcome, "done");
  assert.equal(calls[0].url, url, "sent as given");
  const all = written.join("\n");
  assert.ok(written.length > 0);
  assert.ok(!all.includes("SECRET"), all);

  for (const bad of ["http://ana:hunter2@host/api/orders", "https://hunter2@api.example.com/x", new URL("https://ana:hunter2@api.example.com/x")]) {
    const a = so.action("createOrder", { item: "pw" });
    await assert.rejects(a.send(bad), (e) => e instanceof SendonceError && e.code === "invalid_option" && !e.message.includes("hunter2"));
  }
  assert.throws(() => so.chat({ conversationId: "c", url: "https://ana:hunter2@host/m" }), (e) => e.code === "invalid_option");
  assert.equal(calls.length, 1, "nothing sent");
  assert.ok(!written.join("\n").includes("hunter2"), "nothing of it stored");
});

test("a chat whose URL carries a session: the outbox never stores it, and the message goes out with it", async () => {
  const { written, adapter } = recordingStorage();
  const { calls, fetch } = scriptedFetch(() => 201);
  const so = new Sendonce({ storage: adapter, fetch });
  const chat = so.chat({ conversationId: "c-9", url: "/api/messages?session=SECRET-S" });
  chat.send("hello");
  const until = async (cond) => {
    for (let i = 0; i < 500 && !cond(); i += 1) await new Promise((r) => setTimeout(r, 5));
  };
  await until(() => chat.messages[0]?.status === "delivered");
  assert.equal(chat.messages[0].status, "delivered");
  assert.equal(calls[0].url, "/api/messages?session=SECRET-S");
  assert.ok(!written.join("\n").includes("SECRET"), written.join("\n"));
});

test("a reply stream answering 404 rejects with http_error, not a bad-input code; one without a body with network", async () => {
  for (const status of [404, 401, 410]) {
    const so = new Sendonce({ storage: "memory", fetch: async () => new Response("nope", { status }) });
    const chat = so.chat({ conversationId: "c-1", url: "/m" });
    await assert.rejects(
      chat.streamReply("m-1", "/m/m-1/reply"),
      (e) => e instanceof SendonceError && e.code === "http_error" && e.message.includes(String(status)),
    );
  }
  const bodiless = new Sendonce({ storage: "memory", fetch: async () => new Response(null, { status: 200 }) });
  const chat2 = bodiless.chat({ conversationId: "c-2", url: "/m" });
  await assert.rejects(chat2.streamReply("m-1", "/m/m-1/reply"), (e) => e instanceof SendonceError && e.code === "network");
});

test("a headers hook returning something that is not headers: the send rejects as a programming error, nothing is sent, the status is failed", async () => {
  for (const bad of [42, "Bearer x", true, [["a"]], Symbol("x")]) {
    const { calls, fetch } = scriptedFetch(() => 201);
    const so = new Sendonce({ storage: "memory", fetch, retry: fast, headers: () => bad });
    const a = so.action("createOrder", { item: "tea" });
    await assert.rejects(a.send("/api/orders"), (e) => e instanceof SendonceError && e.code === "invalid_hook" && /programming error/.test(e.message) && /headers/.test(e.message));
    assert.equal(calls.length, 0, `${String(bad)}: nothing sent`);
    assert.equal(a.status.code, "failed", "not 'Connection lost'");
  }
  // A hook returning nothing (undefined) adds no headers: sent.
  const { calls, fetch } = scriptedFetch(() => 201);
  const so = new Sendonce({ storage: "memory", fetch, headers: () => undefined });
  assert.equal((await so.action("x", { a: 1 }).send("/api/orders")).outcome, "done");
  assert.equal(calls.length, 1);
});

test("idempotent: false and a headers hook that fails once: nothing had left, so it is retried, not uncertain", async () => {
  const { calls, fetch } = scriptedFetch(() => 201);
  let n = 0;
  const so = new Sendonce({
    storage: "memory",
    fetch,
    retry: fast,
    headers: () => {
      n += 1;
      if (n === 1) throw new Error("token service down");
      return { Authorization: "Bearer t" };
    },
  });
  const reply = await so.action("sendMessage", { text: "hi" }, { idempotent: false }).send("/api/chat");
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 1);
});

test("statuses say whether the action is under way or rests for good, and replies whether the server has it", async () => {
  // 1: 201; 2: 422 (the key reused with other data); 3 and after: the network is down.
  const { fetch } = scriptedFetch((n) => (n === 1 ? 201 : n === 2 ? 422 : "drop"));
  const so = new Sendonce({ storage: "memory", fetch, retry: { ...fast, attempts: 2 } });
  const seen = [];
  const watch = (a) => a.onStatus((s) => seen.push(`${s.code}:${s.underWay}:${s.final}`));

  const first = so.action("order", { n: 1 });
  assert.deepEqual(
    { underWay: first.status.underWay, final: first.status.final },
    { underWay: false, final: false },
    "idle: nothing under way, not over",
  );
  watch(first);
  const done = await first.send("https://api.example/orders");
  assert.equal(done.outcome, "done");
  assert.equal(done.confirmed, true);
  // The same data again, answered locally: confirmed too.
  const again = await so.action("order", { n: 1 }).send("https://api.example/orders");
  assert.equal(again.outcome, "already_received");
  assert.equal(again.confirmed, true);

  const changed = so.action("order", { n: 2 });
  watch(changed);
  const refused = await changed.send("https://api.example/orders");
  assert.equal(refused.outcome, "changed");
  assert.equal(refused.confirmed, false);

  const lost = so.action("order", { n: 3 });
  watch(lost);
  const offline = await lost.send("https://api.example/orders");
  assert.equal(offline.outcome, "offline");
  assert.equal(offline.confirmed, false);

  assert.deepEqual(seen, [
    "sending:true:false",
    "done:false:true",
    // The same data again is the same action: its listener sees the local repeat.
    "already_received:false:true",
    "sending:true:false",
    "changed:false:true",
    "sending:true:false",
    "retrying:true:false",
    "offline:false:false",
  ]);
  so.dispose();
});

test("a send disposed or cancelled while its headers hook is still fetching a token: no request leaves", async () => {
  for (const how of ["dispose", "abort"]) {
    const { calls, fetch } = scriptedFetch(() => 201);
    let release;
    let asked = 0;
    const token = new Promise((resolve) => (release = resolve));
    const so = new Sendonce({
      storage: "memory",
      fetch,
      retry: fast,
      headers: async () => {
        asked += 1;
        return { Authorization: `Bearer ${await token}` };
      },
    });
    const controller = new AbortController();
    const sent = so.action("order", { how }).send("https://api.example/orders", { signal: controller.signal });
    sent.catch(() => {});
    // The hook is called (the attempt has begun) and waits for its token.
    while (asked === 0) await new Promise((r) => setTimeout(r, 1));
    if (how === "dispose") so.dispose();
    else controller.abort();
    release("t");
    await assert.rejects(sent, (e) => e instanceof SendonceError && e.code === (how === "dispose" ? "disposed" : "aborted"));
    // Give the hook's answer every chance to start a request.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(calls.length, 0, `${how}: a request left after the page let go of it`);
    so.dispose();
  }
});
