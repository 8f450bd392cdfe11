// End to end in Chromium against the reference server: sendonce/sw, a service worker that
// finishes the orders a closed tab left offline, with their own keys (Background Sync). The
// page (tests/pages/sw.html) keeps its records in IndexedDB (idbStorage), shared with its
// worker (tests/pages/sw-worker.js). Every test counts the requests the server saw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();
const PAGE = () => env.server.url + "/test/sw.html";

/** Every POST /api/orders the server answered, in order (`{ key, status, replayed, ... }`). */
async function orderPosts() {
  const log = await env.server.json("/api/log");
  return log.requests.filter((r) => r.path === "/api/orders" && r.method === "POST");
}

/** Polls `check()` until it returns a truthy value (then returns it); fails after `timeout`. */
async function until(check, what, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function statusIs(page, re, timeout = 20_000) {
  await page.waitForFunction((s) => new RegExp(s).test(document.querySelector("#status").textContent), re.source, { timeout });
}

/** Opens the page (its worker installed and active), goes offline, submits: the order waits
 * as "Connection lost" in IndexedDB, with the sync registered. Resolves with the page and the
 * order's key. */
async function submitOffline() {
  const page = await openPage(env.context, PAGE());
  const key = await page.evaluate(() => window.sendonceForm.key);
  await env.context.setOffline(true);
  await page.locator("#send").click();
  await statusIs(page, /Connection lost/);
  // The offline record is in IndexedDB, where the worker reads it.
  await page.waitForFunction(async (k) => {
    const { idbStorage } = await import("/pkg/sw.js");
    const text = await idbStorage().get(`swtest:v1:a:${k}`);
    return text !== null && text.includes('"s":"offline"');
  }, key);
  assert.equal(await env.server.orders(), 0);
  return { page, key };
}

/** The service worker's requests to /api/orders as they leave (before any answer). */
function watchWorkerPosts() {
  const seen = [];
  env.context.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/api/orders") seen.push(r);
  });
  return seen;
}

test("offline, submit, close the tab; back online: the worker sends it once with its key, and a new page shows it was received", async () => {
  const { page, key } = await submitOffline();
  await page.close();
  await env.context.setOffline(false);
  // No tab is open: only the worker can send it.
  await until(async () => (await env.server.orders()) === 1, "the worker's order");
  const posts = await orderPosts();
  assert.equal(posts.length, 1, JSON.stringify(posts));
  assert.equal(posts[0].key, key);
  // The next page finds the worker's result: no request, the form says it was received.
  const next = await openPage(env.context, PAGE());
  await statusIs(next, /Sent|already received/);
  assert.equal((await orderPosts()).length, 1, "the new page sent nothing");
  assert.equal(await env.server.orders(), 1);
  // Shown once: the draft of a received order is cleared, as after a success in the tab.
  await next.waitForFunction(async () => (await (await import("/pkg/sw.js")).idbStorage().get("swtest:v1:d:order")) === null);
});

test("the page and the worker send the same key at once (the tab stays open when the connection returns): one request", async () => {
  const { page, key } = await submitOffline();
  await env.server.arm("/api/orders", ["delay=1500"]);
  // The page's action resumes on `online`, and the browser fires the worker's sync.
  await env.context.setOffline(false);
  await statusIs(page, /Sent|already received/, 30_000);
  await until(async () => (await orderPosts()).length >= 1, "the order's answer");
  // The worker's sync ran too, and ended (a second sender, had there been one, was answered).
  const runs = await until(() => page.evaluate(() => window.workerRuns.length > 0 && window.workerRuns), "the worker's run to end");
  assert.deepEqual(runs, ["ok"]);
  const posts = await orderPosts();
  assert.equal(posts.length, 1, JSON.stringify(posts));
  assert.equal(posts[0].key, key);
  assert.equal(await env.server.orders(), 1);
});

test("a page that opens while the worker sends waits for it and adopts its result: one request", async () => {
  const { page, key } = await submitOffline();
  await page.close();
  const seen = watchWorkerPosts();
  await env.server.arm("/api/orders", ["delay=3000"]);
  await env.context.setOffline(false);
  await until(() => seen.length >= 1, "the worker's request to leave");
  const next = await openPage(env.context, PAGE());
  assert.equal(await next.evaluate(() => window.sendonceForm.key), key, "the new page restored the draft's key");
  await statusIs(next, /Sent|already received/, 30_000);
  assert.ok(await next.evaluate(() => window.events.some((e) => e.type === "elsewhere")), "the page waited for the worker");
  const posts = await orderPosts();
  assert.equal(posts.length, 1, JSON.stringify(posts));
  assert.equal(posts[0].key, key);
  assert.equal(await env.server.orders(), 1);
});

test("the worker is stopped mid-request: the replay (the next sync) goes out with the same key, one order", async () => {
  const { page, key } = await submitOffline();
  await page.close();
  // A tab that is not a sendonce page, for the DevTools protocol.
  const blank = await env.context.newPage();
  const cdp = await env.context.newCDPSession(blank);
  const registrations = [];
  cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => registrations.push(...e.registrations));
  await cdp.send("ServiceWorker.enable");
  const seen = watchWorkerPosts();
  await env.server.arm("/api/orders", ["delay=2000"]);
  await env.context.setOffline(false);
  await until(() => seen.length >= 1, "the worker's request to leave");
  // It reached the server (which took the armed delay for it), and the server holds it.
  await until(async () => (await env.server.json("/api/faults")).armed.length === 0, "the request to reach the server");
  await cdp.send("ServiceWorker.stopAllWorkers");
  assert.equal(await env.server.orders(), 0, "stopped while its request was in flight");
  // The browser would fire the failed sync again minutes later: the test fires it now.
  const registration = await until(() => registrations.find((r) => r.scopeURL.endsWith("/test/") && !r.isDeleted), "the registration");
  await cdp.send("ServiceWorker.dispatchSyncEvent", {
    origin: env.server.url,
    registrationId: registration.registrationId,
    tag: "sendonce",
    lastChance: false,
  });
  // The first request's own answer (201 after the delay) goes to a stopped worker; the
  // replay's is the one the sync gets.
  await until(async () => (await orderPosts()).some((p) => p.replayed), "the replay's answer");
  const posts = await orderPosts();
  assert.deepEqual([...new Set(posts.map((p) => p.key))], [key], "every attempt carries the same key: " + JSON.stringify(posts));
  assert.ok(posts.some((p) => p.replayed), "the replay was answered with what the server stored: " + JSON.stringify(posts));
  assert.equal(await env.server.orders(), 1);
  // A new page finds the result.
  const next = await openPage(env.context, PAGE());
  await statusIs(next, /Sent|already received/);
  assert.equal(await env.server.orders(), 1);
});

test("an order with a password never reaches the worker's store: the worker leaves it, and it waits for the page", async () => {
  // A page of the worker's scope that is not the form, to hear how the worker's run ends.
  const watcher = await openPage(env.context, env.server.url + "/test/e2e.html");
  await watcher.evaluate(() => {
    window.runs = [];
    navigator.serviceWorker.addEventListener("message", (m) => m.data.done && window.runs.push(m.data));
  });
  const page = await openPage(env.context, PAGE());
  await page.locator("input[name=password]").fill("hunter2-Sup3rSecret");
  const key = await page.evaluate(() => window.sendonceForm.key);
  await env.context.setOffline(true);
  await page.locator("#send").click();
  await statusIs(page, /Connection lost/);
  const stored = await page.evaluate(async (k) => {
    const { idbStorage } = await import("/pkg/sw.js");
    const s = idbStorage();
    const record = await s.get(`swtest:v1:a:${k}`);
    return { record, all: JSON.stringify(await Promise.all((await s.keys("")).map((x) => s.get(x)))) };
  }, key);
  assert.ok(stored.record?.includes('"s":"offline"'), "the order waits in IndexedDB");
  assert.ok(!stored.all.includes("hunter2"), "the password is in no record");
  await page.close();
  await env.context.setOffline(false);
  await watcher.waitForFunction(() => window.runs.length > 0, null, { timeout: 30_000 });
  assert.deepEqual(await watcher.evaluate(() => window.runs[0]), { done: "ok", replies: 0 }, "the worker sent nothing");
  assert.equal((await orderPosts()).length, 0);
  // The next page says what to add again; with it, the order goes out with its key.
  const next = await openPage(env.context, PAGE());
  await statusIs(next, /add again: password/);
  await next.locator("input[name=password]").fill("hunter2-Sup3rSecret");
  await next.locator("#send").click();
  await statusIs(next, /Sent/);
  const posts = await orderPosts();
  assert.equal(posts.length, 1);
  assert.equal(posts[0].key, key);
});

test("the demo's order form with its worker on (/?worker): placed offline, tab closed, back online: one order with its key, shown as received", async () => {
  const page = await openPage(env.context, env.server.url + "/?worker");
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  assert.equal(await page.locator("#worker-on").isVisible(), true);
  const key = await page.evaluate(() => window.sendonceForm.key);
  await env.context.setOffline(true);
  await page.locator("#send").click();
  await statusIs(page, /Connection lost/);
  await page.waitForFunction(async (k) => {
    const { idbStorage } = await import("/pkg/sw.js");
    return ((await idbStorage().get(`shop:v1:a:${k}`)) ?? "").includes('"s":"offline"');
  }, key);
  await page.close();
  await env.context.setOffline(false);
  await until(async () => (await env.server.orders()) === 1, "the worker's order");
  const next = await openPage(env.context, env.server.url + "/?worker");
  await statusIs(next, /Sent|already received/);
  const posts = await orderPosts();
  assert.equal(posts.length, 1, JSON.stringify(posts));
  assert.equal(posts[0].key, key);
});
