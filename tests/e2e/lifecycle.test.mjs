// End to end in Chromium against the reference server: an action's life across reloads and
// garbage collections. `autoResume: true` sends what the last page left offline (once, same
// key); a Sendonce instance the page does not keep lives while it has work, so an action it
// left offline is sent when the page comes back online, after a forced garbage collection,
// with no "closure invoked ... after being dropped" error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, useEnvironment, watchPosts } from "./harness.mjs";

const env = useEnvironment();

async function until(what, ok, ms = 20_000) {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("autoResume: true sends the action the last page left offline, once, with its key", async () => {
  const page = await openPage(env.context, env.server.url + "/test/e2e.html");
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const posts = watchPosts(page);
  const key = await page.evaluate(async () => {
    const so = new sendonce.Sendonce({ namespace: "auto" });
    window.dispatchEvent(new Event("offline"));
    const a = so.action("createOrder", { item: "tea" });
    const reply = await a.send("/api/orders");
    if (reply.outcome !== "offline") throw new Error(reply.outcome);
    return a.key;
  });
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  // The next page only creates its instance.
  await page.evaluate(() => {
    window.so = new sendonce.Sendonce({ namespace: "auto", autoResume: true });
  });
  await until("the resent order", async () => (await env.server.orders()) === 1);
  // The browser's request event may reach this process a little after the server's count.
  await until("the request event", async () => posts.length > 0);
  assert.deepEqual(posts.map((p) => p.headers["idempotency-key"]), [key], "sent once, with the original key");
  await until("the confirmation", async () => (await page.evaluate(() => window.so.pending().length)) === 0);
  // Another reload: nothing is pending, nothing is sent again.
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  const left = await page.evaluate(() => new sendonce.Sendonce({ namespace: "auto", autoResume: true }).pending().length);
  assert.equal(left, 0);
  assert.equal(await env.server.orders(), 1);
  assert.deepEqual(errors, []);
});

test("an instance the page does not keep sends its offline action on online, after a garbage collection", async () => {
  const page = await openPage(env.context, env.server.url + "/test/e2e.html");
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const posts = watchPosts(page);
  const key = await page.evaluate(async () => {
    window.statuses = [];
    window.collected = false;
    const registry = new FinalizationRegistry(() => (window.collected = true));
    window.registry = registry;
    // The code keeps neither the instance nor the action.
    return (async () => {
      const so = new sendonce.Sendonce({ namespace: "gc" });
      registry.register(so, "so");
      window.dispatchEvent(new Event("offline"));
      const a = so.action("createOrder", { item: "jam" });
      a.onStatus((s) => window.statuses.push(s.code));
      const reply = await a.send("/api/orders");
      if (reply.outcome !== "offline") throw new Error(reply.outcome);
      return a.key;
    })();
  });
  const cdp = await page.context().newCDPSession(page);
  await until("the instance to be collected", async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    await page.evaluate(() => new Promise((r) => setTimeout(r, 20)));
    return page.evaluate(() => window.collected);
  });
  for (let i = 0; i < 3; i += 1) {
    await cdp.send("HeapProfiler.collectGarbage");
    await page.evaluate(() => new Promise((r) => setTimeout(r, 20)));
  }
  assert.deepEqual(posts, []);
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await until("the order", async () => (await env.server.orders()) === 1);
  await until("the request event", async () => posts.length > 0);
  assert.deepEqual(posts.map((p) => p.headers["idempotency-key"]), [key], "sent once, with its key");
  await until("the status", async () => (await page.evaluate(() => window.statuses.at(-1))) === "done");
  assert.deepEqual(errors, [], "no listener threw");
});
