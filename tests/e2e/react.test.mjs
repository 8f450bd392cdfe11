// sendonce/react in Chromium: a Vite + React 19 build of tests/react/ (StrictMode) against
// the reference server. Five fast clicks make one request; a remount mid-send keeps the key
// and joins the send in flight; a quick reply tapped five times runs its handler once; chat
// bubbles show the SDK's calm texts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { build } from "vite";
import react from "@vitejs/plugin-react";
import { launchBrowser, openPage, startServer } from "./harness.mjs";

const root = new URL("../..", import.meta.url).pathname;
let app;
let server;
let browser;

before(async () => {
  // The app lives in a temporary folder with node_modules/sendonce -> pkg/, so Vite resolves
  // the package through its own exports map (`sendonce`, `sendonce/react`) as a user's app
  // does; react comes from the repository's dev dependencies.
  mkdirSync(join(root, "target"), { recursive: true });
  app = mkdtempSync(join(root, "target", "react-app-"));
  cpSync(join(root, "tests/react"), join(app, "src"), { recursive: true });
  mkdirSync(join(app, "src/node_modules"));
  symlinkSync(join(root, "pkg"), join(app, "src/node_modules/sendonce"), "dir");
  await build({
    root: join(app, "src"),
    logLevel: "error",
    plugins: [react()],
    build: { outDir: join(app, "dist"), target: "es2022", emptyOutDir: true },
  });
  server = await startServer({ args: ["--www", join(app, "dist")] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.cleanup();
  if (app) rmSync(app, { recursive: true, force: true });
});

async function freshPage() {
  await fetch(server.url + "/api/reset", { method: "POST" });
  const context = await browser.newContext();
  const page = await openPage(context, server.url + "/");
  return { context, page };
}

async function requests(path) {
  const log = await server.json("/api/log");
  return log.requests.filter((r) => r.method === "POST" && r.path === path);
}

test("five fast clicks on a useAction button: one request, one order, the status shown", async () => {
  const { context, page } = await freshPage();
  await page.locator("#buy").click({ clickCount: 5, delay: 0 });
  // "done", or "already_received" when the reply came back before the last clicks did (a
  // click after the order is answered locally: the same data inside its window).
  await page
    .waitForFunction(() => ["done", "already_received"].includes(document.querySelector("#status").textContent), null, {
      timeout: 15_000,
    })
    .catch(async (e) => assert.fail(`status ${await page.locator("#status").textContent()}: ${e.message}`));
  const shown = { done: "Sent", already_received: "We already received this request" };
  assert.equal(await page.locator("#status-text").textContent(), shown[await page.locator("#status").textContent()]);
  assert.equal(await server.orders(), 1);
  const posts = await requests("/api/orders");
  assert.equal(posts.length, 1, "one request reached the server");
  assert.equal(posts[0].key, await page.locator("#key").textContent());
  assert.match(await page.locator("#reply").textContent(), /^\d+$/);
  await context.close();
});

test("a remount (and an unmount) mid-send keeps the key; a click after it joins the send in flight", async () => {
  const { context, page } = await freshPage();
  await server.arm("/api/orders", ["delay=2500"]);
  await page.locator("#buy").click();
  await page.waitForFunction(() => document.querySelector("#key").textContent.length > 0);
  const key = await page.locator("#key").textContent();
  await page.locator("#remount").click();
  assert.equal(await page.locator("#key").textContent(), key, "the new component shows the same key");
  assert.notEqual(await page.locator("#status").textContent(), "idle");
  await page.locator("#toggle").click();
  await page.locator("#toggle").click();
  assert.equal(await page.locator("#key").textContent(), key, "unmounted and mounted again: the same key");
  await page.locator("#buy").click({ clickCount: 3, delay: 0 });
  await page.waitForFunction(
    () => ["done", "already_received"].includes(document.querySelector("#status").textContent),
    null,
    { timeout: 20_000 },
  );
  assert.equal(await server.orders(), 1, "one order");
  const keys = new Set((await requests("/api/orders")).map((r) => r.key));
  assert.deepEqual([...keys], [key], "every request carried the first key");
  await context.close();
});

test("a useQuickReply button tapped five times runs its handler once", async () => {
  const { context, page } = await freshPage();
  await page.locator("#ticket").click({ clickCount: 5, delay: 0 });
  await page.waitForFunction(() => document.querySelector("#ticket-status").textContent === "done", null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.handlerCalls), 1);
  assert.equal((await server.json("/api/tickets")).count, 1);
  assert.match(await page.locator("#ticket-id").textContent(), /^\d+$/);
  await context.close();
});

test("useChat bubbles show the SDK's calm status text", async () => {
  const { context, page } = await freshPage();
  await page.locator("#say").click();
  await page.waitForFunction(() => document.querySelector("#messages li")?.dataset.status === "delivered", null, {
    timeout: 15_000,
  });
  assert.equal(await page.locator("#messages li small").textContent(), "Delivered");
  await context.close();
});

test("a useSendonceForm form under StrictMode (its ref attached, detached, attached): five submits, one order", async () => {
  const { context, page } = await freshPage();
  await page.locator("#place").click({ clickCount: 5, delay: 0 });
  await page.waitForFunction(() => document.querySelector("#form-status").textContent === "done", null, { timeout: 15_000 });
  assert.equal(await server.orders(), 1);
  const posts = await requests("/api/orders");
  assert.equal(posts.length, 1);
  assert.equal(posts[0].key, await page.locator("#form-key").textContent());
  await context.close();
});
