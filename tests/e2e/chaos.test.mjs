// The chaos run in a small configuration: real SDK in Chromium, the server failing at random
// (30 % of requests), page reloads in flight and a second tab. Nothing may be done twice and
// nothing may be lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chaos } from "../../scripts/chaos.mjs";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();

test("chaos: 60 actions at 30 % faults -> 0 duplicate effects, 0 lost actions", { timeout: 600_000 }, async () => {
  const figures = await chaos({ actions: 60, rate: 0.3, seed: 11 });
  console.log(JSON.stringify(figures));
  assert.ok(figures.faultsInjected > 0, "faults were injected");
  assert.equal(figures.duplicateEffects, 0);
  assert.equal(figures.lostActions, 0);
  assert.equal(figures.keyChanges, 0, "no action changed its key across a reload or a second tab");
  assert.equal(figures.effects, figures.actions, "one effect per action");
});

test("after a reload and a resume, the same data again keeps its key and makes no second order", async () => {
  const { server, context } = env;
  const page = await openPage(context, server.url + "/chaos.html");
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
  const page = await openPage(context, server.url + "/chaos.html");
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
  const one = await openPage(context, server.url + "/chaos.html");
  const two = await openPage(context, server.url + "/chaos.html");
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
  const one = await openPage(context, server.url + "/chaos.html");
  const two = await openPage(context, server.url + "/chaos.html");
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
