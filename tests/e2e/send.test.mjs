// End to end in Chromium against the reference server (issue 19 items 1 and 14): the key
// header is sendonce's alone, whatever else tries to set it (a shared API client's headers
// hook, send()'s init, a form's options), and credentials in a URL never reach storage.
// Counted where users meet it: orders on the server, the key it saw, every storage value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, useEnvironment, watchPosts, everythingStored } from "./harness.mjs";

const env = useEnvironment();

async function blank() {
  return openPage(env.context, env.server.url + "/test/e2e.html");
}

async function ordersOnServer() {
  return (await env.server.json("/api/orders")).orders;
}

test("a headers hook that stamps its own Idempotency-Key, and one dropped answer: one order, under action.key", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  await env.server.arm("/api/orders", ["drop"]);
  const result = await page.evaluate(async () => {
    const events = [];
    // A shared API client that stamps every request with a fresh key of its own.
    const apiClientHeaders = () => ({ "Idempotency-Key": crypto.randomUUID(), "X-Client": "shop-web" });
    const so = new sendonce.Sendonce({ namespace: "hook", headers: apiClientHeaders, onEvent: (e) => events.push(e.type) });
    const a = so.action("createOrder", { item: "tea", qty: 1 });
    const reply = await a.send("/api/orders");
    return { key: a.key, outcome: reply.outcome, ignored: events.filter((t) => t === "key.header_ignored").length };
  });
  assert.equal(result.outcome, "already_received", "the retry was answered from the first order");
  assert.equal(posts.length, 2);
  for (const p of posts) {
    assert.equal(p.headers["idempotency-key"], result.key, "the key sent is action.key");
    assert.equal(p.headers["x-client"], "shop-web", "the hook's other headers are sent");
  }
  const orders = await ordersOnServer();
  assert.equal(orders.length, 1, "one action, one order");
  assert.equal(orders[0].key, result.key, "the key the server saw is action.key");
  assert.equal(result.ignored, 2);
});

test("a key in send()'s init or in a form's options is ignored: one order per action under its own key", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  await env.server.arm("/api/orders", ["drop"]);
  const key = await page.evaluate(async () => {
    const so = new sendonce.Sendonce({ namespace: "init" });
    const a = so.action("createOrder", { item: "mug" });
    await a.send("/api/orders", { headers: { "idempotency-key": "fixed-by-app" } });
    return a.key;
  });
  assert.equal(posts.length, 2);
  assert.ok(posts.every((p) => p.headers["idempotency-key"] === key));

  await env.server.arm("/api/orders", ["drop"]);
  await page.evaluate(() => {
    document.querySelector("#root").innerHTML = `<form id="f"><input name="item" value="cup">
      <button id="go" type="submit">Buy</button><p id="st"></p></form>`;
    const so = new sendonce.Sendonce({ namespace: "form" });
    so.form("#f", { action: "buy", url: "/api/orders", status: "#st", headers: { "IDEMPOTENCY-KEY": "form-key" } });
  });
  await page.locator("#go").click();
  await page.waitForFunction(() => document.querySelector("#st").textContent === "We already received this request");
  assert.equal(posts.length, 4);
  assert.notEqual(posts[2].headers["idempotency-key"], "form-key");
  assert.equal(posts[2].headers["idempotency-key"], posts[3].headers["idempotency-key"]);
  const orders = await ordersOnServer();
  assert.equal(orders.length, 2, "two actions, two orders");
  assert.deepEqual(orders.map((o) => o.key).sort(), [key, posts[2].headers["idempotency-key"]].sort());
});

test("secrets in the URL are sent, never stored; after a reload the action waits for them, then goes out with its key", async () => {
  let page = await blank();
  const posts = watchPosts(page);
  const url = "/api/orders?access_token=SECRET-T&api_key=SECRET-K&page=1#token=SECRET-F";
  const key = await page.evaluate(async (url) => {
    const so = new sendonce.Sendonce({ namespace: "url" });
    window.dispatchEvent(new Event("offline"));
    const a = so.action("createOrder", { item: "tea" });
    await a.send(url);
    return a.key;
  }, url);
  assert.ok(!(await everythingStored(page)).includes("SECRET"), "nothing of the secret in storage");
  const refused = await page.evaluate(async () => {
    const so = new sendonce.Sendonce({ namespace: "url" });
    try {
      await so.action("createOrder", { item: "pw" }).send("http://ana:hunter2@127.0.0.1/api/orders");
      return "sent";
    } catch (e) {
      return e.code;
    }
  });
  assert.equal(refused, "invalid_option");
  assert.ok(!(await everythingStored(page)).includes("hunter2"));
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  const waiting = await page.evaluate(async () => {
    const so = new sendonce.Sendonce({ namespace: "url" });
    await so.resumePending();
    return so.pending();
  });
  assert.equal(waiting.length, 1, "never dropped");
  assert.equal(waiting[0].incomplete, true, "it needs its URL's secrets, which are never stored");
  assert.equal(posts.length, 0, "never sent without them");
  const reply = await page.evaluate(async (url) => {
    const so = new sendonce.Sendonce({ namespace: "url" });
    return so.action("createOrder", { item: "tea" }).send(url);
  }, url);
  assert.equal(reply.outcome, "done");
  assert.equal(reply.key, key, "the same data keeps its key");
  assert.equal(posts.length, 1);
  assert.match(posts[0].url, /access_token=SECRET-T/);
  assert.equal(posts[0].headers["idempotency-key"], key);
  assert.equal(await env.server.orders(), 1);
  assert.ok(!(await everythingStored(page)).includes("SECRET"));
});

test("send(url, { signal }): an abort while the server holds the request, then a later send with the same key: one order", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  // The server holds the first request 1.5 s before doing it.
  await env.server.arm("/api/orders", ["delay=1500"]);
  await page.evaluate(() => {
    const so = new sendonce.Sendonce({ namespace: "abort" });
    window.order = so.action("createOrder", { item: "tea", qty: 3 });
    window.controller = new AbortController();
    window.first = window.order.send("/api/orders", { signal: window.controller.signal }).then(
      () => "resolved",
      (e) => e.code,
    );
  });
  await page.waitForFunction(() => window.order.status.code === "sending");
  while (posts.length < 1) await page.waitForTimeout(10);
  const after = await page.evaluate(async () => {
    window.controller.abort();
    return { rejected: await window.first, status: window.order.status.code, key: window.order.key };
  });
  assert.deepEqual([after.rejected, after.status], ["aborted", "idle"]);
  // The same data later, on the same page: the same action, the same key and bytes.
  const later = await page.evaluate(async () => {
    const so = new sendonce.Sendonce({ namespace: "abort" });
    const again = so.action("createOrder", { item: "tea", qty: 3 });
    const reply = await again.send("/api/orders");
    return { key: again.key, outcome: reply.outcome };
  });
  assert.equal(later.key, after.key);
  assert.ok(["done", "already_received"].includes(later.outcome), later.outcome);
  // While the server still holds the first request, it answers the key "in progress" (409)
  // and the send asks again: every request carries the one key and the same bytes.
  assert.ok(posts.length >= 2);
  for (const p of posts) {
    assert.equal(p.headers["idempotency-key"], after.key);
    assert.equal(p.body, posts[0].body);
  }
  const orders = await ordersOnServer();
  assert.equal(orders.length, 1, "one order, whether the first request was done or not");
  assert.equal(orders[0].key, after.key);
});
