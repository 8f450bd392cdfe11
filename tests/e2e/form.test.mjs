// End to end in Chromium against the reference server: the order form sends one order per
// user action, whatever the clicks and the network do. Every test counts orders on the server.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openPage } from "./harness.mjs";

let server;
let browser;
let context;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.cleanup();
});
beforeEach(async () => {
  await fetch(server.url + "/api/reset", { method: "POST" });
  await context?.close();
  context = await browser.newContext();
});

test("five fast clicks on the submit button make exactly one order", async () => {
  const page = await openPage(context, server.url + "/");
  await page.locator("#send").click({ clickCount: 5, delay: 0 });
  await page.waitForFunction(() => /Sent|already received/.test(document.querySelector("#status").textContent));
  assert.equal(await server.orders(), 1);
  assert.equal((await server.effects()).duplicates, 0);
  assert.equal(await page.locator("#status").textContent(), "Sent");
});

test("response dropped after commit: retried with the same key, one order, 'We already received this request'", async () => {
  const page = await openPage(context, server.url + "/");
  await server.arm("/api/orders", ["drop"]);
  await page.locator("#send").click();
  await page.waitForFunction(() => document.querySelector("#status").textContent === "We already received this request", null, { timeout: 15_000 });
  assert.equal(await server.orders(), 1);
  const log = await server.json("/api/log");
  const orderRequests = log.requests.filter((r) => r.path === "/api/orders" && r.method === "POST");
  assert.equal(orderRequests.length, 2, "one dropped attempt and one retry");
  assert.equal(new Set(orderRequests.map((r) => r.key)).size, 1, "both attempts carry the same key");
  assert.ok(orderRequests[1].replayed, "the retry was answered with a replay");
});
