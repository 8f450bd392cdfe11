// The chaos run in a small configuration: real SDK in Chromium, the server failing at random
// (30 % of requests), page reloads in flight, a second tab a moment later, and two tabs that
// submit the same data in the same millisecond. Nothing may be done twice (counted per
// business reference, whatever the keys) and nothing may be lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chaos } from "../../scripts/chaos.mjs";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();

test("chaos: 60 actions at 30 % faults, same-data tabs 0 ms apart included -> one effect per action, 0 lost", { timeout: 600_000 }, async () => {
  const figures = await chaos({ actions: 60, rate: 0.3, seed: 11 });
  console.log(JSON.stringify(figures));
  assert.ok(figures.faultsInjected > 0, "faults were injected");
  assert.ok(figures.sameMsPairs >= 6, "the same-millisecond two-tab mode ran");
  assert.ok(figures.sameMsMedianGapMs <= 5, `the two tabs started ${figures.sameMsMedianGapMs} ms apart (median)`);
  assert.equal(figures.duplicateEffects, 0, `double orders: ${figures.doubled}`);
  assert.equal(figures.duplicateKeyEffects, 0);
  assert.equal(figures.lostActions, 0);
  assert.equal(figures.keyChanges, 0, "no action changed its key across a reload or a second tab");
  // A `{ idempotent: false }` action told "We are not sure this was sent" may not have
  // happened (a 500 before the effect): none or one effect, never two.
  const unsure = figures.uncertain - figures.uncertainWithEffect;
  assert.equal(figures.effects, figures.actions - unsure, "one effect per action");
  assert.equal(figures.actionsWithAnEffect, figures.actions - unsure);
  assert.ok(figures.hookKeyActions >= 6, "the hook that stamps its own key ran");
  assert.ok(figures.byKind.includes("not-idempotent 6"), figures.byKind);
  assert.deepEqual(figures.failures, []);
  assert.equal(figures.pass, true);
});

test("a payment form with a file, reloaded while it sends, 6 times at 30 % faults: Pay without the file sends nothing, one order each, same key", { timeout: 300_000 }, async () => {
  const figures = await chaos({ actions: 6, rate: 0.3, seed: 13, only: "file-reload" });
  console.log(JSON.stringify(figures));
  assert.equal(figures.duplicateEffects, 0, `double orders: ${figures.doubled}`);
  assert.equal(figures.lostActions, 0);
  assert.equal(figures.keyChanges, 0, "the same data and file keep the key across the reload");
  assert.equal(figures.effects, 6);
  assert.equal(figures.pass, true, figures.failures.join("; "));
});

test("two tabs submit the same order in the same millisecond, 12 times: one order each time, under one key", { timeout: 300_000 }, async () => {
  const figures = await chaos({ actions: 12, rate: 0, seed: 12, only: "two-tabs-0ms" });
  console.log(JSON.stringify(figures));
  assert.equal(figures.sameMsPairs, 12);
  assert.ok(figures.sameMsMedianGapMs <= 5, `the two tabs started ${figures.sameMsMedianGapMs} ms apart (median)`);
  assert.equal(figures.duplicateEffects, 0, `double orders: ${figures.doubled}`);
  assert.equal(figures.effects, 12);
  assert.equal(figures.pass, true, figures.failures.join("; "));
});

test("the gate fails on an order placed twice under two keys, and counts every request past the log's 1,000 lines", { timeout: 300_000 }, async () => {
  const figures = await chaos({
    actions: 10,
    rate: 0,
    seed: 13,
    only: "plain",
    // Behind the pages' backs: action 3's order again under a fresh key (each key runs once),
    // and 1,100 more keyed requests, more than the log keeps.
    async beforeVerdict({ server, ref }) {
      const post = (key, body) =>
        fetch(server.url + "/api/orders", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": key },
          body: JSON.stringify(body),
        });
      assert.equal((await post("another-key", { orderRef: ref(3), item: "tea", qty: 4 })).status, 201);
      for (let i = 0; i < 1100; i += 1) {
        assert.equal((await post("again-" + (i % 100), { orderRef: ref(100 + (i % 100)) })).status, 201);
      }
    },
  });
  console.log(JSON.stringify(figures));
  assert.equal(figures.pass, false);
  assert.equal(figures.duplicateKeyEffects, 0, "no key ran twice");
  assert.equal(figures.duplicateEffects, 1, "yet action 3 has two orders");
  assert.match(figures.doubled, /r13-3 \(plain\): 2 effects under 2 key\(s\)/);
  assert.ok(figures.failures.some((f) => /effects for 10 actions/.test(f)), figures.failures.join("; "));
  assert.ok(figures.failures.some((f) => /references no action made/.test(f)), figures.failures.join("; "));
  // True counts: the 10 actions' requests plus 1,101 more, though the log keeps 1,000 lines.
  assert.ok(figures.requests >= 10 + 1101, `requests ${figures.requests}`);
  assert.equal(figures.retries, figures.requests - figures.keysUsed);
  assert.ok(figures.retries >= 1000, `retries ${figures.retries}`);
  assert.ok(figures.logEntriesMissed > 0, "the log's ring alone could not have told");
  assert.ok(!figures.failures.some((f) => /log/.test(f)), figures.failures.join("; "));
});

test("after a reload and a resume, the same data again keeps its key and makes no second order", async () => {
  const { server, context } = env;
  const page = await openPage(context, server.url + "/test/chaos.html");
  await server.arm("/api/orders", ["delay=1000"]);
  const key = await page.evaluate(() => window.chaos.start(1, "reload"));
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  const resumed = await page.evaluate(() => window.chaos.resume());
  assert.deepEqual(resumed.map((r) => r.key), [key]);
  const again = await page.evaluate(() => window.chaos.order(1, "reload"));
  assert.equal(again.key, key);
  assert.equal(again.outcome, "already_received");
  assert.equal(await server.orders(), 1);
});

test("a reload in the same task as the click still resumes the action with its key", async () => {
  const { server, context } = env;
  const page = await openPage(context, server.url + "/test/chaos.html");
  await server.arm("/api/orders", ["delay=1000"]);
  // The page goes away before the cross-tab lock can be granted.
  const reloaded = page.waitForEvent("load");
  await page
    .evaluate(() => {
      sessionStorage.setItem("started", window.chaos.start(2, "instant"));
      location.reload();
    })
    .catch((e) => {
      // The answer may be lost with the page it came from.
      if (!/context was destroyed|navigat/i.test(e.message)) throw e;
    });
  await reloaded;
  await page.waitForFunction(() => window.sendonceReady === true);
  const key = await page.evaluate(() => sessionStorage.getItem("started"));
  const resumed = await page.evaluate(() => window.chaos.resume());
  // Whether the first attempt left before the reload or not, the resumed send confirms it.
  assert.deepEqual(resumed.map((r) => r.key), [key]);
  assert.ok(["done", "already_received"].includes(resumed[0].outcome), resumed[0].outcome);
  assert.equal(await server.orders(), 1);
});

test("two tabs send the same action: one request; the second tab shows 'elsewhere', then adopts the result", async () => {
  const { server, context } = env;
  const one = await openPage(context, server.url + "/test/chaos.html");
  const two = await openPage(context, server.url + "/test/chaos.html");
  await server.arm("/api/orders", ["delay=1500"]);
  const first = one.evaluate(() => window.chaos.orderWatched(5, "tabs"));
  // Once the first tab is sending (it holds the lock), the second tab finds the key in the
  // shared storage and waits for that lock. (Before that, either tab may win the lock; the
  // other one then waits: still one request.)
  await one.waitForFunction(() => window.chaos.pending().some((p) => p.status === "sending"));
  const second = await two.evaluate(() => window.chaos.orderWatched(5, "tabs"));
  const a = await first;
  assert.equal(second.key, a.key);
  assert.ok(second.seen.includes("elsewhere"), `second tab statuses: ${second.seen}`);
  assert.equal(second.outcome, "done", "the second tab adopts the first tab's result");
  assert.equal(a.outcome, "done");
  const log = await server.json("/api/log");
  assert.equal(log.requests.filter((r) => r.method === "POST" && r.path === "/api/orders").length, 1);
  assert.equal(await server.orders(), 1);
});

test("two tabs that share no storage, only a key: one request; the waiting tab adopts the result from the other tab's message", async () => {
  const { server, context } = env;
  const one = await openPage(context, server.url + "/test/chaos.html");
  const two = await openPage(context, server.url + "/test/chaos.html");
  await server.arm("/api/orders", ["delay=1500"]);
  const key = "shared-key-" + Date.now();
  const first = one.evaluate((k) => window.chaos.orderInSession(k), key);
  // Until the first tab holds the key's lock (Web Locks are shared by the origin's tabs).
  // Polled from here: `navigator.locks.query()` answers with a Promise, which evaluate()
  // awaits (waitForFunction would take the Promise itself as a truthy answer).
  const held = (k) => navigator.locks.query().then((q) => q.held.some((l) => l.name.endsWith(":" + k)));
  for (let i = 0; !(await two.evaluate(held, key)); i += 1) {
    assert.ok(i < 500, "the first tab never took the lock");
    await new Promise((r) => setTimeout(r, 10));
  }
  const second = await two.evaluate((k) => window.chaos.orderInSession(k), key);
  const a = await first;
  assert.equal(a.outcome, "done");
  assert.equal(second.key, key);
  assert.ok(second.seen.includes("elsewhere"), `second tab statuses: ${second.seen}`);
  assert.equal(second.outcome, "done", "the second tab adopts the first tab's result, not a replay of its own");
  const log = await server.json("/api/log");
  assert.equal(log.requests.filter((r) => r.method === "POST" && r.path === "/api/orders").length, 1);
  assert.equal(await server.orders(), 1);
});
