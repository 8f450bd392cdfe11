// Node >= 20: single actions with memory storage and an injected fetch that counts requests.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";

before(async () => {
  await init();
});

function countingFetch(delayMs = 0) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, key: init.headers["Idempotency-Key"], body: init.body });
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return new Response(JSON.stringify({ id: calls.length }), { status: 201, headers: { "content-type": "application/json" } });
  };
  return { calls, fetch };
}

test("a storm of 1,000 sends of one action in one task makes one request with one key", async () => {
  const { calls, fetch } = countingFetch(20);
  const so = new Sendonce({ storage: "memory", fetch });
  const replies = [];
  for (let i = 0; i < 1000; i += 1) {
    replies.push(so.action("storm", { item: "tea", qty: 1 }).send("/api/orders", { method: "POST" }));
  }
  const done = await Promise.all(replies);
  assert.equal(calls.length, 1);
  assert.equal(new Set(done.map((r) => r.key)).size, 1, "every click got the same key");
  assert.equal(so.stats().actions, 1);
});

test("the same bytes and key go out on every retry, and a 5xx is retried", async () => {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ key: init.headers["Idempotency-Key"], body: init.body });
    const status = calls.length < 3 ? 503 : 201;
    return new Response(JSON.stringify({ ok: status === 201 }), { status, headers: { "content-type": "application/json" } });
  };
  const so = new Sendonce({ storage: "memory", fetch, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const a = so.action("createOrder", { item: "tea", qty: 2, nonce: "x" });
  const reply = await a.send("/api/orders", { method: "POST" });
  assert.equal(reply.outcome, "done");
  assert.equal(reply.attempts, 3);
  assert.equal(new Set(calls.map((c) => c.key)).size, 1);
  assert.equal(new Set(calls.map((c) => c.body)).size, 1);
  assert.equal(calls[0].key, a.key);
});

test("bad input is a SendonceError with a code, and nothing is sent", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  assert.throws(() => so.action("x", {}, { key: "has space" }), (e) => e.name === "SendonceError" && e.code === "invalid_key");
  assert.throws(() => new Sendonce({ windows: { form: "3 weeks" } }), (e) => e.code === "invalid_window");
  assert.throws(() => new Sendonce({ retry: { attempts: 0 } }), (e) => e.code === "invalid_option");
  const cyclic = {};
  cyclic.self = cyclic;
  assert.throws(() => so.action("x", cyclic), (e) => e.code === "invalid_payload");
  assert.throws(() => new Sendonce("local"), (e) => e.code === "invalid_option" && /options/.test(e.message));
  // The options object itself is optional.
  assert.equal(typeof new Sendonce().action("x", {}).key, "string");
  assert.equal(calls.length, 0);
});

test("a storage adapter that rejects writes: the action still completes, and the page is told with storage.fallback", async () => {
  const { calls, fetch } = countingFetch();
  const events = [];
  const refusing = {
    get: () => null,
    set: () => Promise.reject(new Error("disk full")),
    delete: () => {
      throw new Error("read-only");
    },
  };
  const so = new Sendonce({ storage: refusing, fetch, onEvent: (e) => events.push(e) });
  const action = so.action("createOrder", { item: "tea" });
  const reply = await action.send("/api/orders");
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 1);
  // The record is kept in memory for this page: a repeat answers locally, no second request.
  const again = await so.action("createOrder", { item: "tea" }).send("/api/orders");
  assert.equal(again.key, action.key);
  assert.equal(calls.length, 1);
  await new Promise((r) => setTimeout(r, 10));
  const fallbacks = events.filter((e) => e.type === "storage.fallback");
  assert.ok(fallbacks.length > 0, "storage.fallback was emitted");
  assert.ok(
    fallbacks.some((e) => /set\(\) rejected: Error: disk full/.test(e.detail ?? "")),
    "the refused write was reported",
  );
});
