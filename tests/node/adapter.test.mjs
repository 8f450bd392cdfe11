// Node actions and quick replies over async storage adapters (one process, restarted; two
// instances as two processes), and adapters that misbehave: a claim that throws or never
// answers is a bounded, clear error, never a hang of other keys or instances, and nothing is
// marked done that did not run.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";
import { memoryClaims, asyncAdapter } from "./support/claims.mjs";
import { otherProcess } from "./support/other-process.mjs";

before(async () => {
  await init();
});


/** The store as one process sees it; after `kill()` its calls never reach it (a dead
 * process's connection). */
function processView(store) {
  const state = { dead: false };
  const adapter = {};
  for (const [name, fn] of Object.entries(store)) {
    if (typeof fn !== "function") continue;
    adapter[name] = (...args) => (state.dead ? new Promise(() => {}) : fn(...args));
  }
  return { adapter, kill: () => (state.dead = true) };
}

/** A chat API: records keys; answers 201, or never while `hang` is set. */
function api() {
  const calls = [];
  const state = { hang: false };
  const fetch = async (url, init) => {
    calls.push({ key: init.headers["Idempotency-Key"], body: init.body });
    if (state.hang) {
      // No answer; the attempt's timeout aborts it.
      return new Promise((_, reject) => init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
    }
    return new Response(JSON.stringify({ ok: true }), { status: 201, headers: { "content-type": "application/json" } });
  };
  return { calls, fetch, state };
}

for (const [name, make] of [
  ["an async adapter without claims", asyncAdapter],
  ["an adapter with claims", memoryClaims],
]) {
  test(`${name}: a restarted process finds its pending action (pendingAsync) and resumes it with its key`, async () => {
    const store = make();
    const target = api();
    target.state.hang = true;
    const old = processView(store);
    const before = new Sendonce({
      namespace: "bot",
      storage: old.adapter,
      fetch: target.fetch,
      leaseMs: 1000,
      retry: { timeoutMs: 1000, deadlineMs: 1500 },
    });
    before.action("sendInvoice", { order: 9 }).send("https://api.example.test/invoices");
    while (target.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    const key = target.calls[0].key;
    // The process dies: from now on nothing it does reaches the store.
    old.kill();
    // The restart: a new instance over the same store (the old one's lease lapses).
    target.state.hang = false;
    const after = new Sendonce({ namespace: "bot", storage: store, fetch: target.fetch, leaseMs: 1000 });
    assert.equal(after.pending().length, 0, "nothing read yet: pending() is synchronous");
    const pending = await after.pendingAsync();
    assert.deepEqual(pending.map((p) => [p.key, p.action]), [[key, "sendInvoice"]]);
    const replies = await after.resumePending();
    assert.deepEqual(replies.map((r) => [r.key, r.outcome]), [[key, "done"]]);
    assert.equal(target.calls.length, 2);
    assert.equal(target.calls[1].key, key);
    assert.equal(target.calls[1].body, target.calls[0].body);
    // A third instance (another process) with the same data inside the window: answered
    // locally, with the same key and no request.
    const third = new Sendonce({ namespace: "bot", storage: store, fetch: target.fetch });
    const repeat = await third.action("sendInvoice", { order: 9 }).send("https://api.example.test/invoices");
    assert.equal(repeat.outcome, "already_received");
    assert.equal(repeat.key, key);
    assert.equal(target.calls.length, 2);
  });
}

test("without claims, one storage.fallback event says runs and sends are not exclusive across processes", async () => {
  const events = [];
  const so = new Sendonce({ storage: asyncAdapter(), fetch: api().fetch, onEvent: (e) => events.push(e) });
  const qr = so.quickReplies({ conversationId: "c" });
  await qr.run("a", () => 1);
  await qr.run("b", () => 2);
  await qr.seenAsync("m-1", null);
  await so.action("x", { a: 1 }).send("https://api.example.test/x");
  const said = events.filter((e) => e.type === "storage.fallback" && /not exclusive across processes/.test(e.detail ?? ""));
  assert.equal(said.length, 1);
  // With claims, no such event.
  const quiet = [];
  const so2 = new Sendonce({ storage: memoryClaims(), onEvent: (e) => quiet.push(e) });
  await so2.quickReplies({ conversationId: "c" }).run("a", () => 1);
  assert.equal(quiet.filter((e) => e.type === "storage.fallback").length, 0);
});

test("two processes over a store with claims run a quick reply once, even started together", async () => {
  const store = memoryClaims();
  const Other = await otherProcess();
  const a = new Sendonce({ namespace: "bot", storage: store });
  const b = new Other({ namespace: "bot", storage: store });
  let calls = 0;
  const handler = async (key) => {
    calls += 1;
    await new Promise((r) => setTimeout(r, 50));
    return key;
  };
  const results = await Promise.all(
    [a, b, a, b, b].map((so) => so.quickReplies({ conversationId: "c-1" }).run("createTicket", handler)),
  );
  assert.equal(calls, 1);
  assert.equal(new Set(results).size, 1);
});

test("a claim that throws: run() and seenAsync() reject with a storage error and run nothing; a send still goes out with its key", async () => {
  const store = memoryClaims();
  const workingClaim = store.claim;
  store.claim = () => {
    throw new Error("connection reset");
  };
  const events = [];
  const target = api();
  const so = new Sendonce({ storage: store, fetch: target.fetch, onEvent: (e) => events.push(e) });
  const qr = so.quickReplies({ conversationId: "c" });
  let calls = 0;
  await assert.rejects(
    qr.run("a", () => (calls += 1)),
    (e) => e.name === "SendonceError" && e.code === "storage" && /claim\(\) threw: Error: connection reset/.test(e.message),
  );
  assert.equal(calls, 0);
  await assert.rejects(qr.seenAsync("m-1", "hi"), (e) => e.code === "storage");
  const reply = await so.action("notify", { a: 1 }).send("https://api.example.test/x");
  assert.equal(reply.outcome, "done");
  assert.equal(target.calls.length, 1);
  assert.ok(events.some((e) => e.type === "storage.fallback" && /claim\(\) threw/.test(e.detail ?? "")));
  // Nothing was marked done: once claims work again, the quick reply runs (and once).
  store.claim = workingClaim;
  assert.equal(await qr.run("a", () => "ran"), "ran");
  assert.equal(await qr.run("a", () => "twice"), "ran");
});

test("a claim that never answers: that key fails after the bound, other keys and instances go on", { timeout: 30_000 }, async () => {
  const store = memoryClaims();
  const claim = store.claim;
  // The first claim (the "stuck" quick reply's lease) never answers; later ones do.
  let first = true;
  store.claim = (k, v, ttl) => {
    if (first) {
      first = false;
      return new Promise(() => {});
    }
    return claim(k, v, ttl);
  };
  const so = new Sendonce({ namespace: "bot", storage: store });
  const other = new Sendonce({ namespace: "bot", storage: store });
  const qr = so.quickReplies({ conversationId: "c" });
  let stuckCalls = 0;
  const t0 = Date.now();
  const stuck = qr.run("stuck", () => (stuckCalls += 1)).then(
    () => null,
    (e) => e,
  );
  const t1 = Date.now();
  assert.equal(await qr.run("free", () => "ok"), "ok");
  assert.equal(await other.quickReplies({ conversationId: "c" }).run("free2", () => "ok2"), "ok2");
  assert.ok(Date.now() - t1 < 1000, "other keys and instances are not held up");
  const err = await stuck;
  assert.ok(err, "the stuck key rejected");
  assert.equal(err.code, "storage");
  assert.match(err.message, /claim\(\) did not answer within 5000 ms/);
  const waited = Date.now() - t0;
  assert.ok(waited >= 4900 && waited < 8000, `bounded wait (${waited} ms)`);
  assert.equal(stuckCalls, 0, "the handler was not run");
});

test("a handler that runs longer than the lease keeps it (renewed): a tap on another instance waits for its result", { timeout: 30_000 }, async () => {
  const store = memoryClaims(); // no renew(): renewed by get + set
  const Other = await otherProcess();
  const a = new Sendonce({ namespace: "bot", storage: store, leaseMs: 1000 });
  const b = new Other({ namespace: "bot", storage: store, leaseMs: 1000 });
  let calls = 0;
  const slow = a.quickReplies({ conversationId: "c" }).run("report", async (key) => {
    calls += 1;
    await new Promise((r) => setTimeout(r, 3000));
    return `R-${key.slice(0, 4)}`;
  });
  // The first run holds the lease (its handler started) before the other instance taps.
  while (calls === 0) await new Promise((r) => setTimeout(r, 5));
  const t0 = Date.now();
  const other = await b.quickReplies({ conversationId: "c" }).run("report", () => {
    calls += 1;
    return "second run";
  });
  assert.equal(calls, 1, "three lease times later, still one run");
  assert.equal(other, await slow);
  assert.ok(Date.now() - t0 >= 2500, "it waited for the first run");
});
