// Node >= 20: `action.send(url, { signal })` (issue 22). An AbortSignal cancels the attempts
// left (the request in flight, the wait before a retry); the action keeps its key, and a later
// send resumes it with the same key and the same bytes. Requests are counted by the fetch.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce, SendonceError } from "../../pkg/node.js";

before(async () => {
  await init();
});

/** A fetch that records every request and answers with `answer(n)` (n from 1): a status
 * number, or "hang" for a request that never answers until its signal aborts. `seen` resolves
 * once n requests were made. */
function gatedFetch(answer = () => 201) {
  const calls = [];
  const waiting = [];
  const fetch = (url, init) => {
    const call = { url: String(url), key: init.headers["Idempotency-Key"], body: init.body, aborted: false };
    calls.push(call);
    for (const w of waiting.filter((w) => calls.length >= w.n)) w.resolve();
    const a = answer(calls.length);
    if (a === "hang") {
      return new Promise((_, reject) => {
        init.signal?.addEventListener("abort", () => {
          call.aborted = true;
          reject(new DOMException("aborted", "AbortError"));
        });
      });
    }
    return Promise.resolve(
      new Response(JSON.stringify({ n: calls.length }), { status: a, headers: { "content-type": "application/json" } }),
    );
  };
  const seen = (n) =>
    calls.length >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }));
  return { calls, fetch, seen };
}

/** Waits until `condition()` holds (events and statuses are told from the action's driver). */
async function until(condition) {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

const aborted = (e) => e instanceof SendonceError && e.code === "aborted";

test("an abort during the attempt aborts its fetch, rejects with aborted, keeps the key; a later send resumes with the same key and bytes", async () => {
  const { calls, fetch, seen } = gatedFetch((n) => (n === 1 ? "hang" : 201));
  const events = [];
  const so = new Sendonce({ storage: "memory", fetch, onEvent: (e) => events.push(e.type) });
  const order = so.action("createOrder", { item: "tea", qty: 2 });
  const key = order.key;
  const controller = new AbortController();
  const sent = order.send("https://shop.test/api/orders", { signal: controller.signal });
  await seen(1);
  assert.equal(order.status.code, "sending");
  controller.abort();
  await assert.rejects(sent, aborted);
  assert.equal(calls[0].aborted, true, "the fetch in flight was aborted");
  assert.equal(order.status.code, "idle");
  assert.equal(order.key, key);
  await until(() => events.includes("send.aborted"));
  assert.deepEqual(
    so.pending().map((p) => [p.key, p.status]),
    [[key, "idle"]],
    "kept, unfinished, with its key",
  );

  // Later: the same data again is the same action; one request, the same key and bytes.
  const again = so.action("createOrder", { item: "tea", qty: 2 });
  assert.equal(again.key, key);
  const reply = await again.send("https://shop.test/api/orders");
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 2);
  assert.equal(calls[1].key, key);
  assert.equal(calls[1].body, calls[0].body);
  so.dispose();
});

test("an abort during a retry's wait: no request after it, and the next send goes out at once with the key", async () => {
  const { calls, fetch, seen } = gatedFetch((n) => (n === 1 ? 503 : 201));
  const so = new Sendonce({ storage: "memory", fetch, retry: { baseDelayMs: 200, maxDelayMs: 200 } });
  const order = so.action("createOrder", { item: "tea" });
  const controller = new AbortController();
  const statuses = [];
  order.onStatus((s) => statuses.push(s.code));
  const sent = order.send("https://shop.test/api/orders", { signal: controller.signal });
  await seen(1);
  await until(() => order.status.code === "retrying");
  controller.abort();
  await assert.rejects(sent, aborted);
  await until(() => statuses.at(-1) === "idle");
  // Past the time the retry would have gone out.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(calls.length, 1, "the retry left was not made");
  const reply = await order.send("https://shop.test/api/orders");
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 2);
  assert.equal(calls[1].key, calls[0].key);
  so.dispose();
});

test("single flight: aborting one caller's signal rejects that caller only; the run goes on for the other", async () => {
  let release;
  const gate = new Promise((r) => (release = r));
  const calls = [];
  const fetch = async (url, init) => {
    calls.push(init.headers["Idempotency-Key"]);
    await gate;
    return new Response("{}", { status: 201, headers: { "content-type": "application/json" } });
  };
  const so = new Sendonce({ storage: "memory", fetch });
  const order = so.action("createOrder", { item: "tea" });
  const a = new AbortController();
  const first = order.send("https://shop.test/api/orders", { signal: a.signal });
  const second = order.send("https://shop.test/api/orders");
  a.abort();
  await assert.rejects(first, aborted);
  release();
  const reply = await second;
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 1);
  so.dispose();
});

test("the last caller's abort stops the run even when others joined and aborted before", async () => {
  const { calls, fetch, seen } = gatedFetch(() => "hang");
  const so = new Sendonce({ storage: "memory", fetch });
  const order = so.action("createOrder", { item: "tea" });
  const a = new AbortController();
  const b = new AbortController();
  const one = order.send("https://shop.test/api/orders", { signal: a.signal });
  const two = order.send("https://shop.test/api/orders", { signal: b.signal });
  await seen(1);
  a.abort();
  await assert.rejects(one, aborted);
  assert.equal(order.status.code, "sending", "still under way for the second caller");
  assert.equal(calls[0].aborted, false);
  b.abort();
  await assert.rejects(two, aborted);
  assert.equal(calls[0].aborted, true);
  assert.equal(order.status.code, "idle");
  so.dispose();
});

test("an abort in the same task as the send: no request leaves, the key is kept, a later send goes out once with it", async () => {
  const { calls, fetch } = gatedFetch(() => 201);
  const so = new Sendonce({ storage: "memory", fetch });
  const a = so.action("order", { n: 1 });
  const controller = new AbortController();
  const sent = a.send("https://api.example/orders", { signal: controller.signal });
  controller.abort();
  await assert.rejects(sent, aborted);
  await until(() => a.status.code === "idle");
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 1));
  assert.equal(calls.length, 0, "the request left after the page cancelled it");
  const reply = await a.send("https://api.example/orders");
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 1);
  assert.equal(calls[0].key, a.key);
  so.dispose();
});

test("dispose() in the same task as the send, or an abort while an adapter is still writing the record: no request leaves", async () => {
  {
    const { calls, fetch } = gatedFetch(() => 201);
    const so = new Sendonce({ storage: "memory", fetch });
    const sent = so.action("order", { n: 1 }).send("https://api.example/orders");
    so.dispose();
    await assert.rejects(sent, (e) => e instanceof SendonceError && e.code === "disposed");
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(calls.length, 0, "a request left after dispose()");
  }
  {
    // An adapter whose writes take a while (a remote store): the record is written before the
    // request leaves, and the page cancels meanwhile.
    const { calls, fetch } = gatedFetch(() => 201);
    const map = new Map();
    let writes = 0;
    const slow = {
      get: (k) => map.get(k) ?? null,
      set: (k, v) =>
        new Promise((resolve) => {
          writes += 1;
          setTimeout(() => resolve(void map.set(k, v)), 20);
        }),
      delete: (k) => void map.delete(k),
      keys: (p) => [...map.keys()].filter((k) => k.startsWith(p)),
    };
    const so = new Sendonce({ storage: slow, fetch });
    const a = so.action("order", { n: 2 });
    const controller = new AbortController();
    const sent = a.send("https://api.example/orders", { signal: controller.signal });
    await until(() => writes > 0);
    controller.abort();
    await assert.rejects(sent, aborted);
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(calls.length, 0, "a request left after the page cancelled it");
    const reply = await a.send("https://api.example/orders");
    assert.equal(reply.outcome, "done");
    assert.deepEqual(calls.map((c) => c.key), [a.key]);
    so.dispose();
  }
});

test("an already-aborted signal sends nothing; a signal that is not an AbortSignal is refused", async () => {
  const { calls, fetch } = gatedFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const order = so.action("createOrder", { item: "tea" });
  await assert.rejects(order.send("https://shop.test/api/orders", { signal: AbortSignal.abort() }), aborted);
  for (const bad of ["stop", 1, {}, { aborted: false }]) {
    await assert.rejects(
      order.send("https://shop.test/api/orders", { signal: bad }),
      (e) => e instanceof SendonceError && e.code === "invalid_option" && /signal/.test(e.message),
    );
  }
  assert.equal(calls.length, 0);
  assert.equal(order.status.code, "idle");
  const reply = await order.send("https://shop.test/api/orders", { signal: new AbortController().signal });
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 1);
  so.dispose();
});

test("idempotent: false aborted while its request was out rests uncertain, like a lost connection, and is not resent by a send", async () => {
  const { calls, fetch, seen } = gatedFetch(() => "hang");
  const so = new Sendonce({ storage: "memory", fetch });
  const message = so.action("sendMessage", { text: "hi" }, { idempotent: false });
  const controller = new AbortController();
  const sent = message.send("https://chat.test/send", { signal: controller.signal });
  await seen(1);
  controller.abort();
  await assert.rejects(sent, aborted);
  assert.equal(message.status.code, "uncertain");
  const again = await message.send("https://chat.test/send");
  assert.equal(again.outcome, "uncertain");
  assert.equal(calls.length, 1);
  so.dispose();
});

// ---- Per-action retry options: so.action(name, payload, { retry }) ----

test("retry on one action: its own attempts over the instance's policy; another action keeps the instance's", async () => {
  const { calls, fetch } = gatedFetch(() => 503);
  const so = new Sendonce({ storage: "memory", fetch, retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 } });
  const once = so.action("createOrder", { item: "tea" }, { retry: { attempts: 2 } });
  const r1 = await once.send("https://shop.test/api/orders");
  assert.equal(r1.outcome, "failed");
  assert.equal(calls.length, 2, "the action's attempts: 2");
  const other = so.action("createOrder", { item: "mug" });
  const r2 = await other.send("https://shop.test/api/orders");
  assert.equal(r2.outcome, "failed");
  assert.equal(calls.length, 6, "the instance's attempts: 4");
  so.dispose();
});

test("retry on one action: the members not given are the instance's (its short backoff), and bad values are refused naming the option", async () => {
  const { calls, fetch } = gatedFetch((n) => (n < 3 ? 503 : 201));
  const so = new Sendonce({ storage: "memory", fetch, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
  const started = Date.now();
  const reply = await so.action("createOrder", { item: "tea" }, { retry: { attempts: 3 } }).send("https://shop.test/api/orders");
  assert.equal(reply.outcome, "done");
  assert.equal(calls.length, 3);
  assert.ok(Date.now() - started < 5_000, "the instance's 1-2 ms backoff, not the default 300 ms+");
  const refused = (name) => (e) => e instanceof SendonceError && e.code === "invalid_option" && e.message.includes(name);
  assert.throws(() => so.action("a", { n: 1 }, { retry: { attempts: 0 } }), refused("retry.attempts"));
  assert.throws(() => so.action("a", { n: 1 }, { retry: { attempts: "3" } }), refused("retry.attempts"));
  assert.throws(() => so.action("a", { n: 1 }, { retry: { timeoutMs: 50 } }), refused("retry.timeoutMs"));
  // Checked as a whole, with the instance's members: a timeout past the instance's deadline.
  assert.throws(() => so.action("a", { n: 1 }, { retry: { timeoutMs: 90_000 } }), refused("retry.deadlineMs"));
  assert.throws(() => so.action("a", { n: 1 }, { retry: { atempts: 2 } }), refused("did you mean `retry.attempts`?"));
  assert.throws(() => so.action("a", { n: 1 }, { retry: 3 }), refused("retry"));
  assert.equal(calls.length, 3, "nothing sent for a refused option");
  so.dispose();
});

test("retry on one action is not stored: after a reload, resumePending() sends it under the instance's retry, with its key", async () => {
  const map = new Map();
  const storage = {
    get: (k) => map.get(k) ?? null,
    set: (k, v) => void map.set(k, v),
    delete: (k) => void map.delete(k),
    keys: (p) => [...map.keys()].filter((k) => k.startsWith(p)),
  };
  const first = gatedFetch(() => "hang");
  const so = new Sendonce({ storage, fetch: first.fetch, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
  const order = so.action("createOrder", { item: "tea" }, { retry: { attempts: 1, timeoutMs: 100, deadlineMs: 100 } });
  const reply = await order.send("https://shop.test/api/orders");
  assert.equal(reply.outcome, "offline", "one attempt, timed out");
  assert.equal(first.calls.length, 1);
  so.dispose();

  // The next page: the instance's policy (3 attempts) for the resumed action.
  const second = gatedFetch(() => 503);
  const next = new Sendonce({ storage, fetch: second.fetch, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
  const [resumed] = await next.resumePending();
  assert.equal(resumed.outcome, "failed");
  assert.equal(second.calls.length, 3);
  assert.ok(second.calls.every((c) => c.key === order.key));
  next.dispose();
});

// ---- "Buy again": so.action(name, payload, { again: true }) ----

for (const where of ["memory", "an adapter"]) {
  test(`again over ${where}: the same data once more is a new action with a new key; the same data next repeats it locally`, async () => {
    const { calls, fetch } = gatedFetch();
    const map = new Map();
    const storage =
      where === "memory"
        ? "memory"
        : {
            get: (k) => map.get(k) ?? null,
            set: (k, v) => void map.set(k, v),
            delete: (k) => void map.delete(k),
            keys: (p) => [...map.keys()].filter((k) => k.startsWith(p)),
          };
    const so = new Sendonce({ storage, fetch });
    const first = so.action("createOrder", { item: "tea" });
    assert.equal((await first.send("https://shop.test/api/orders")).outcome, "done");
    const repeat = so.action("createOrder", { item: "tea" });
    assert.equal((await repeat.send("https://shop.test/api/orders")).outcome, "already_received");
    assert.equal(calls.length, 1);

    const again = so.action("createOrder", { item: "tea" }, { again: true });
    assert.notEqual(again.key, first.key);
    assert.equal((await again.send("https://shop.test/api/orders")).outcome, "done");
    assert.equal(calls.length, 2);
    assert.equal(calls[1].key, again.key);

    // The same data next, without `again`: the newest action, answered locally.
    const next = so.action("createOrder", { item: "tea" });
    assert.equal(next.key, again.key);
    assert.equal((await next.send("https://shop.test/api/orders")).outcome, "already_received");
    assert.equal(calls.length, 2);
    assert.throws(
      () => so.action("createOrder", { item: "tea" }, { again: true, key: "mine-1" }),
      (e) => e instanceof SendonceError && e.code === "invalid_option" && /again/.test(e.message),
    );
    so.dispose();
  });
}
