// Node >= 20: single actions with memory storage and an injected fetch that counts requests.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";
import { countingFetch } from "./support/fetch.mjs";

before(async () => {
  await init();
});


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

/** `p`, or "hung" after `ms` (the timer does not keep the process alive). */
function within(p, ms) {
  return Promise.race([p, new Promise((r) => setTimeout(() => r("hung"), ms).unref())]);
}

test("a headers hook that never settles ends each attempt as a timeout after timeoutMs, and nothing is sent", async () => {
  const { calls, fetch } = countingFetch();
  const events = [];
  let hookCalls = 0;
  const headers = () => {
    hookCalls += 1;
    return new Promise(() => {}); // never settles
  };
  const so = new Sendonce({
    storage: "memory",
    fetch,
    headers,
    onEvent: (e) => events.push(e),
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 300, deadlineMs: 5000 },
  });
  const action = so.action("createOrder", { item: "tea" });
  const started = Date.now();
  const reply = await within(action.send("/api/orders"), 5000);
  const elapsed = Date.now() - started;
  assert.notEqual(reply, "hung", "send() never settled: the hook's Promise was awaited without a bound");
  // The same outcome as a fetch that never settles (transport.test.mjs): two timeouts.
  assert.equal(reply.outcome, "offline", "two attempts timed out: connection lost, retry offered");
  assert.equal(reply.attempts, 2);
  assert.equal(action.status.code, "offline");
  assert.equal(calls.length, 0, "no request without the hook's headers");
  assert.equal(hookCalls, 2, "the hook was asked again for the second attempt");
  assert.ok(elapsed >= 550 && elapsed < 2000, `took ${elapsed} ms`);
  assert.ok(
    events.some((e) => e.type === "send.retry" && /headers hook failed: did not settle within 300 ms/.test(e.detail ?? "")),
    "the hung hook was told in a send.retry event",
  );
});

test("a headers hook that hangs on the first attempt only: the retry sends once, with the same key and the hook's headers", async () => {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ key: init.headers["Idempotency-Key"], auth: init.headers.Authorization, body: init.body });
    return new Response(JSON.stringify({ ok: true }), { status: 201, headers: { "content-type": "application/json" } });
  };
  const attempts = [];
  const headers = (info) => {
    attempts.push({ attempt: info.attempt, key: info.key });
    if (attempts.length === 1) return new Promise(() => {}); // the first attempt's hook hangs
    return Promise.resolve({ Authorization: "Bearer fresh" });
  };
  const so = new Sendonce({
    storage: "memory",
    fetch,
    headers,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 300, deadlineMs: 5000 },
  });
  const action = so.action("createOrder", { item: "tea", qty: 2 });
  const reply = await within(action.send("/api/orders"), 5000);
  assert.notEqual(reply, "hung", "send() never settled");
  assert.equal(reply.outcome, "done");
  assert.equal(reply.attempts, 2);
  assert.equal(calls.length, 1, "one request reached the server");
  assert.equal(calls[0].key, action.key, "the retry kept the key");
  assert.equal(calls[0].auth, "Bearer fresh");
  assert.equal(attempts.length, 2);
  assert.ok(attempts.every((a) => a.key === action.key));
  assert.equal(action.status.code, "done");
});

test("a slow headers hook and a slow server share one attempt's timeout: the attempt ends after timeoutMs, not the two added", async () => {
  // The hook answers after 1 s; the server never answers (a fetch that ignores its signal).
  // With timeoutMs 1500 the attempt ends about 1.5 s after it began; it used to get 1 s for
  // the hook and then 1.5 s more for the request.
  let sent = 0;
  const fetch = () => {
    sent += 1;
    return new Promise(() => {});
  };
  const headers = () => new Promise((resolve) => setTimeout(() => resolve({ Authorization: "Bearer slow" }), 1000));
  const so = new Sendonce({
    storage: "memory",
    fetch,
    headers,
    retry: { attempts: 1, timeoutMs: 1500, deadlineMs: 10000 },
  });
  const action = so.action("createOrder", { item: "tea" });
  const started = Date.now();
  const reply = await within(action.send("/api/orders"), 8000);
  const elapsed = Date.now() - started;
  assert.notEqual(reply, "hung", "send() never settled");
  assert.equal(reply.outcome, "offline", "the attempt timed out: connection lost, retry offered");
  assert.equal(sent, 1, "the request went out once the hook answered");
  assert.ok(elapsed >= 1400 && elapsed < 2200, `the attempt took ${elapsed} ms (timeoutMs 1500; hook + request would be 2500)`);
});
