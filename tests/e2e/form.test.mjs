// End to end in Chromium against the reference server: the order form sends one order per
// user action, whatever the clicks and the network do. Every test counts orders on the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();

test("five fast clicks on the submit button make exactly one order", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  // A slow server, as when people click again: all five clicks land while the first is in
  // flight (on a fast loopback the reply could otherwise come back between two clicks, and a
  // later click would then be answered locally with "We already received this request").
  await env.server.arm("/api/orders", ["delay=600"]);
  await page.locator("#send").click({ clickCount: 5, delay: 0 });
  await page.waitForFunction(() => /Sent|already received/.test(document.querySelector("#status").textContent));
  assert.equal(await env.server.orders(), 1);
  assert.equal((await env.server.effects()).duplicates, 0);
  assert.equal(await page.locator("#status").textContent(), "Sent");
});

test("response dropped after commit: retried with the same key, one order, 'We already received this request'", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  await env.server.arm("/api/orders", ["drop"]);
  await page.locator("#send").click();
  await page.waitForFunction(() => document.querySelector("#status").textContent === "We already received this request", null, { timeout: 15_000 });
  assert.equal(await env.server.orders(), 1);
  const log = await env.server.json("/api/log");
  const orderRequests = log.requests.filter((r) => r.path === "/api/orders" && r.method === "POST");
  assert.equal(orderRequests.length, 2, "one dropped attempt and one retry");
  assert.equal(new Set(orderRequests.map((r) => r.key)).size, 1, "both attempts carry the same key");
  assert.ok(orderRequests[1].replayed, "the retry was answered with a replay");
});

/** Waits until the status element shows `text` (a string or a RegExp). */
async function statusIs(page, text, timeout = 15_000) {
  const src = text instanceof RegExp ? { re: text.source } : { eq: text };
  await page.waitForFunction(
    (s) => {
      const t = document.querySelector("#status").textContent;
      return s.re ? new RegExp(s.re).test(t) : t === s.eq;
    },
    src,
    { timeout },
  );
}

/** POSTs to /api/orders the env.server saw, oldest first. */
async function orderPosts() {
  const log = await env.server.json("/api/log");
  return log.requests.filter((r) => r.path === "/api/orders" && r.method === "POST");
}

test("ten fast clicks make one order, and the button is guarded in the same task (aria-disabled, focus kept)", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  await env.server.arm("/api/orders", ["delay=800"]);
  const sameTask = await page.evaluate(() => {
    const b = document.querySelector("#send");
    b.click();
    return { disabled: b.disabled, ariaDisabled: b.getAttribute("aria-disabled"), ariaBusy: b.getAttribute("aria-busy") };
  });
  // Not `disabled`: that would drop the keyboard focus to <body>; clicks are swallowed.
  assert.deepEqual(sameTask, { disabled: false, ariaDisabled: "true", ariaBusy: "true" });
  for (let i = 0; i < 9; i++) await page.locator("#send").click({ force: true, delay: 0 }).catch(() => {});
  await statusIs(page, "Sent");
  assert.equal(await env.server.orders(), 1);
  assert.equal((await env.server.effects()).duplicates, 0);
  assert.equal(await page.locator("#status").getAttribute("role"), "status");
  assert.equal(await page.locator("#status").getAttribute("aria-live"), "polite");
  assert.equal(await page.locator("#send").getAttribute("aria-disabled"), null, "re-enabled after the reply");
});

test("a click while pending (after reenableAfterMs) joins the action in flight", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  await env.server.arm("/api/orders", ["delay=3500"]);
  await page.locator("#send").click();
  await page.waitForFunction(() => document.querySelector("#send").getAttribute("aria-disabled") === null, null, { timeout: 5_000 });
  await page.locator("#send").click();
  await statusIs(page, "Sent");
  assert.equal(await env.server.orders(), 1);
  assert.equal(new Set((await orderPosts()).map((r) => r.key)).size, 1);
  assert.ok(await page.evaluate(() => [...document.querySelectorAll("#events li")].some((li) => li.textContent.startsWith("click.suppressed"))));
});

test("reload while the server holds the request: the draft is back and the order resumes with the same key", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  await page.locator("input[name=qty]").fill("3");
  await page.locator("textarea[name=note]").fill("ring twice");
  await page.locator("input[name=extras][value=express]").check();
  await env.server.arm("/api/orders", ["delay=3000"]);
  const key = await page.evaluate(() => window.sendonceForm.key);
  await page.locator("#send").click();
  await page.waitForTimeout(300);
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  assert.equal(await page.locator("input[name=qty]").inputValue(), "3");
  assert.equal(await page.locator("textarea[name=note]").inputValue(), "ring twice");
  assert.equal(await page.locator("input[name=extras][value=express]").isChecked(), true);
  assert.equal(await page.locator("input[name=extras][value=gift-wrap]").isChecked(), false);
  await statusIs(page, /Sent|already received/, 20_000);
  assert.equal(await page.evaluate(() => window.sendonceForm.key), key);
  assert.equal(await env.server.orders(), 1);
  const keys = new Set((await orderPosts()).map((r) => r.key));
  assert.deepEqual([...keys], [key], "every attempt, before and after the reload, carries the same key");
});

test("two tabs submit the same draft at once: one order; the second tab shows 'elsewhere', then the result", async () => {
  const a = await openPage(env.context, env.server.url + "/");
  const b = await openPage(env.context, env.server.url + "/");
  assert.equal(await a.evaluate(() => window.sendonceForm.key), await b.evaluate(() => window.sendonceForm.key), "both tabs restored the same draft key");
  await env.server.arm("/api/orders", ["delay=1500"]);
  await a.locator("#send").click();
  await a.waitForTimeout(100);
  await b.locator("#send").click();
  await statusIs(b, "Already sending from another tab", 5_000);
  await statusIs(a, "Sent");
  await statusIs(b, /Sent|already received/);
  const posts = await orderPosts();
  const events = await b.evaluate(() => [...document.querySelectorAll("#events li")].map((li) => li.textContent).reverse());
  events.push(await b.evaluate(() => JSON.stringify(Object.entries(localStorage).filter(([k]) => k.includes(":a:")))));
  assert.equal(await env.server.orders(), 1, JSON.stringify({ posts, events }));
  assert.equal(posts.length, 1, "the second tab sent nothing: " + JSON.stringify({ posts, events }));
});

test("offline then online: the order waits and goes out with the same key, once", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  const key = await page.evaluate(() => window.sendonceForm.key);
  await env.context.setOffline(true);
  await page.locator("#send").click();
  await statusIs(page, "Connection lost. Retry?");
  assert.equal(await env.server.orders(), 0);
  await env.context.setOffline(false);
  await statusIs(page, /Sent|already received/);
  assert.equal(await env.server.orders(), 1);
  assert.deepEqual([...new Set((await orderPosts()).map((r) => r.key))], [key]);
});

test("the same data again is 'already received'; edited after success it is a new order with a new key", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  await page.locator("#send").click();
  await statusIs(page, "Sent");
  const first = await page.evaluate(() => window.sendonceForm.key);
  await page.locator("#send").click();
  await statusIs(page, "We already received this request");
  assert.equal(await env.server.orders(), 1);
  await page.locator("input[name=qty]").fill("2");
  await page.locator("#send").click();
  await statusIs(page, "Sent");
  const second = await page.evaluate(() => window.sendonceForm.key);
  assert.notEqual(second, first);
  assert.equal(await env.server.orders(), 2);
  assert.ok(await page.evaluate(() => [...document.querySelectorAll("#events li")].some((li) => li.textContent.startsWith("key.rotated"))));
});

test("a password is sent, and never reaches storage or the fingerprint", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  const secret = "hunter2-Sup3rSecret";
  await page.locator("input[name=password]").fill(secret);
  await page.locator("textarea[name=note]").fill("leave at the door");
  await page.waitForTimeout(500);
  const draft = await page.evaluate(() => JSON.stringify(localStorage));
  assert.ok(draft.includes("leave at the door"), "the draft is saved");
  assert.ok(!draft.includes(secret));
  await page.locator("#send").click();
  await statusIs(page, "Sent");
  const after = await page.evaluate(() => JSON.stringify(localStorage));
  assert.ok(!after.includes(secret));
  // Sent (a login form must send its password): the reference server echoes the order.
  const body = JSON.stringify(await page.evaluate(() => window.lastReply.body));
  assert.ok(body.includes(secret));
});

test("after a success and a reload (draft cleared), the same data again is 'already received'", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  await page.locator("#send").click();
  await statusIs(page, "Sent");
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  await page.locator("#send").click();
  await statusIs(page, "We already received this request");
  assert.equal(await env.server.orders(), 1);
  assert.equal((await orderPosts()).length, 1);
});

test("the tab holding the lock closes mid-send: the waiting tab sends itself with the same key, one order", async () => {
  const a = await openPage(env.context, env.server.url + "/");
  const b = await openPage(env.context, env.server.url + "/");
  await env.server.arm("/api/orders", ["delay=2000"]);
  await a.locator("#send").click();
  await a.waitForTimeout(150);
  await b.locator("#send").click();
  await statusIs(b, "Already sending from another tab", 5_000);
  await a.close();
  await statusIs(b, /Sent|already received/, 20_000);
  assert.equal(await env.server.orders(), 1);
  const posts = await orderPosts();
  assert.ok(posts.length >= 2, "the waiting tab sent too");
  assert.equal(new Set(posts.map((r) => r.key)).size, 1, "with the same key");
});

test("the demo's offline toggle pauses the order through the SDK's offline path and resumes it", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  await page.locator("#offline").check();
  await page.locator("#send").click();
  await statusIs(page, "Connection lost. Retry?");
  assert.equal(await env.server.orders(), 0);
  await page.locator("#offline").uncheck();
  await statusIs(page, /Sent|already received/);
  assert.equal(await env.server.orders(), 1);
});

test("two tabs hold the same order offline; the connection returns in both at once: one request (the lock is taken again)", async () => {
  const a = await openPage(env.context, env.server.url + "/");
  const b = await openPage(env.context, env.server.url + "/");
  const key = await a.evaluate(() => window.sendonceForm.key);
  assert.equal(await b.evaluate(() => window.sendonceForm.key), key, "both tabs restored the same draft key");
  await env.context.setOffline(true);
  await a.locator("#send").click();
  await statusIs(a, "Connection lost. Retry?");
  await b.locator("#send").click();
  await statusIs(b, "Connection lost. Retry?");
  await env.server.arm("/api/orders", ["delay=1000"]);
  await env.context.setOffline(false);
  await statusIs(a, /Sent|already received/, 20_000);
  await statusIs(b, /Sent|already received/, 20_000);
  const posts = await orderPosts();
  assert.equal(posts.length, 1, "one tab sent, the other adopted its result: " + JSON.stringify(posts));
  assert.equal(posts[0].key, key);
  assert.equal(await env.server.orders(), 1);
});
