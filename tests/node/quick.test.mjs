// Node >= 20, no DOM: the package loads from its wasm bytes and quick replies work with memory
// storage and with a custom async storage adapter shared by two instances (two bot servers).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";
import { asyncAdapter } from "./support/claims.mjs";

before(async () => {
  await init();
});


test("loads without a DOM", () => {
  assert.equal(typeof globalThis.document, "undefined");
  assert.equal(typeof globalThis.localStorage, "undefined");
  const so = new Sendonce({ storage: "memory" });
  assert.ok(so.quickReplies({ conversationId: "c-1" }));
});

test("run() called concurrently runs the handler once and gives both callers its result", async () => {
  const so = new Sendonce({ namespace: "bot", storage: "memory" });
  const qr = so.quickReplies({ conversationId: "c-42", window: "5s" });
  let calls = 0;
  const keys = [];
  const handler = async (key) => {
    calls += 1;
    keys.push(key);
    await new Promise((r) => setTimeout(r, 30));
    return { ticket: "T-1" };
  };
  const results = await Promise.all([
    qr.run("createTicket|orderId=123", handler),
    qr.run("createTicket|orderId=123", handler),
    qr.run("createTicket|orderId=123", handler),
  ]);
  assert.equal(calls, 1);
  for (const r of results) assert.deepEqual(r, { ticket: "T-1" });
  assert.equal(keys[0], qr.key("createTicket|orderId=123"), "the handler gets the bot key");
  // A repeat inside the window: the stored result, no call.
  assert.deepEqual(await qr.run("createTicket|orderId=123", handler), { ticket: "T-1" });
  assert.equal(calls, 1);
});

test("a repeat after the window runs again with a new key", async () => {
  const so = new Sendonce({ namespace: "bot", storage: "memory" });
  const qr = so.quickReplies({ conversationId: "c-7", window: 1000 });
  const keys = [];
  const handler = (key) => {
    keys.push(key);
    return keys.length;
  };
  assert.equal(await qr.run("ping", handler), 1);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(await qr.run("ping", handler), 2);
  assert.equal(keys.length, 2);
  assert.notEqual(keys[0], keys[1]);
});

test("a handler that throws stores nothing: the next tap runs it again", async () => {
  const so = new Sendonce({ storage: "memory" });
  const qr = so.quickReplies({ conversationId: "c-9" });
  let calls = 0;
  await assert.rejects(qr.run("x", () => { calls += 1; throw new Error("backend down"); }), /backend down/);
  assert.equal(await qr.run("x", () => { calls += 1; return "ok"; }), "ok");
  assert.equal(calls, 2);
});

test("seen() on a redelivered event is true, by id and by content", () => {
  const so = new Sendonce({ storage: "memory" });
  const qr = so.quickReplies({ conversationId: "c-42", window: "10s" });
  assert.equal(qr.seen("evt-1", "I want a refund"), false);
  assert.equal(qr.seen("evt-1", "I want a refund"), true, "same id");
  assert.equal(qr.seen("evt-2", "I  want a refund "), true, "same content, new id");
  assert.equal(qr.seen("evt-3", "Something else"), false);
});

test("bad input is a SendonceError, never a crash", async () => {
  const so = new Sendonce({ storage: "memory" });
  assert.throws(() => so.quickReplies({ conversationId: "a\nb" }), (e) => e.name === "SendonceError" && /newline/.test(e.message));
  const qr = so.quickReplies({ conversationId: "c" });
  await assert.rejects(qr.run("x", 42), (e) => e.name === "SendonceError");
  await assert.rejects(qr.run(7, () => 1), (e) => e.name === "SendonceError");
});

test("a custom async adapter keeps state across two Sendonce instances", async () => {
  const adapter = asyncAdapter();
  const first = new Sendonce({ namespace: "bot", storage: adapter });
  let calls = 0;
  const handler = async (key) => {
    calls += 1;
    return { ticket: key.slice(0, 8) };
  };
  const a = await first.quickReplies({ conversationId: "c-42", window: "1m" }).run("createTicket", handler);
  assert.equal(calls, 1);
  assert.ok(adapter.map.size > 0, "the result went to the adapter");

  const second = new Sendonce({ namespace: "bot", storage: adapter });
  const b = await second.quickReplies({ conversationId: "c-42", window: "1m" }).run("createTicket", handler);
  assert.equal(calls, 1, "the second instance returns the stored result without calling the handler");
  assert.deepEqual(b, a);

  // seenAsync() reads the shared adapter too.
  assert.equal(await first.quickReplies({ conversationId: "c-42" }).seenAsync("evt-9", "hello"), false);
  assert.equal(await second.quickReplies({ conversationId: "c-42" }).seenAsync("evt-9", "hello"), true);
});

test("two quickReplies() objects (one per webhook) join the same run", async () => {
  const so = new Sendonce({ namespace: "hooks", storage: "memory" });
  let calls = 0;
  const handler = async () => {
    calls += 1;
    await new Promise((r) => setTimeout(r, 20));
    return "T-9";
  };
  const [a, b] = await Promise.all([
    so.quickReplies({ conversationId: "c-1" }).run("createTicket", handler),
    so.quickReplies({ conversationId: "c-1" }).run("createTicket", handler),
  ]);
  assert.equal(calls, 1);
  assert.equal(a, "T-9");
  assert.equal(b, "T-9");
});

test("the default storage falls back to memory in Node, with an event", () => {
  const events = [];
  const so = new Sendonce({ onEvent: (e) => events.push(e.type) });
  assert.ok(events.includes("storage.fallback"));
  assert.equal(so.quickReplies({ conversationId: "c" }).seen("e-1", null), false);
});

test("handleOnce: at least once; a handler that throws marks nothing (the redelivery runs it again, same key); done = duplicate after", async () => {
  const so = new Sendonce({ namespace: "inbound", storage: "memory" });
  const qr = so.quickReplies({ conversationId: "c-1", window: "1m" });
  const keys = [];
  await assert.rejects(
    qr.handleOnce("m-1", "refund please", (key) => {
      keys.push(key);
      throw new Error("CRM down");
    }),
    /CRM down/,
  );
  const second = await qr.handleOnce("m-1", "refund please", (key) => {
    keys.push(key);
    return "T-1";
  });
  assert.deepEqual(second, { duplicate: false, key: keys[0], result: "T-1" });
  assert.equal(keys[1], keys[0], "the same key on every delivery");
  const third = await qr.handleOnce("m-1", "refund please", () => keys.push("again"));
  assert.equal(third.duplicate, true);
  assert.equal(third.key, keys[0]);
  assert.equal(keys.length, 2);
  // The same text under another id (a channel that re-ids its retries) is a duplicate too.
  assert.equal((await qr.handleOnce("m-2", "refund please", () => keys.push("again"))).duplicate, true);
  // Two deliveries at once in one process: one handler call, the other waits and is a duplicate.
  let calls = 0;
  const slow = async () => {
    calls += 1;
    await new Promise((r) => setTimeout(r, 30));
    return "ok";
  };
  const both = await Promise.all([qr.handleOnce("m-3", null, slow), qr.handleOnce("m-3", null, slow)]);
  assert.equal(calls, 1);
  assert.deepEqual(both.map((r) => r.duplicate).sort(), [false, true]);
  // seenAsync (at most once) and handleOnce agree on what is done.
  assert.equal(await qr.seenAsync("m-1", null), true);
  await assert.rejects(qr.handleOnce(null, "  ", () => 1), (e) => e.name === "SendonceError");
  await assert.rejects(qr.handleOnce("m-9", null, 42), (e) => e.name === "SendonceError");
});

test("run(): onWait is called at once when a tap joins the run in flight, never for the tap that runs", async () => {
  const so = new Sendonce({ namespace: "wait", storage: "memory" });
  const qr = so.quickReplies({ conversationId: "c-1" });
  const order = [];
  let release;
  const gate = new Promise((r) => (release = r));
  const first = qr.run("t", async () => {
    order.push("handler");
    await gate;
    return 1;
  }, { onWait: () => order.push("first waits") });
  const second = qr.run("t", () => order.push("second ran"), {
    onWait: () => {
      order.push("second waits");
      release();
    },
  });
  assert.deepEqual(await Promise.all([first, second]), [1, 1]);
  assert.deepEqual([...order].sort(), ["handler", "second waits"], "the joining tap was told at once (it released the handler)");
  await assert.rejects(qr.run("u", () => 1, { onWait: 5 }), (e) => e.name === "SendonceError");
});
