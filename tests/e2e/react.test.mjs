// sendonce/react in Chromium: a Vite + React 19 build of tests/react/ (StrictMode) against
// the reference server. Five fast clicks make one request; a remount mid-send keeps the key
// and joins the send in flight; a quick reply tapped five times runs its handler once; chat
// bubbles show the SDK's calm texts. Refused input rejects (never throws out of a click); a
// guarded button keeps aria-disabled / aria-busy and the focus; sendonce's Retry button hands
// its focus on; many sends through one hook keep wasm memory flat.
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

let lastContext;

async function freshPage() {
  // The last test's page first (closed already, unless it failed): closed, it sends nothing
  // more into this test. (One it sent before is left out of the log and runs no effect after
  // the reset.)
  await lastContext?.close();
  await fetch(server.url + "/api/reset", { method: "POST" });
  const context = (lastContext = await browser.newContext());
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

test("a useSendonceForm form under StrictMode (its ref attached, detached, attached): its marked button enabled, five submits, one order", async () => {
  const { context, page } = await freshPage();
  // `disabled data-sendonce-enable` in the JSX: the last attach (after StrictMode's detach,
  // which disabled it again) enables it.
  await page.waitForFunction(() => document.querySelector("#place")?.disabled === false, null, { timeout: 5_000 });
  await page.locator("#place").click({ clickCount: 5, delay: 0 });
  await page.waitForFunction(() => document.querySelector("#form-status").textContent === "done", null, { timeout: 15_000 });
  assert.equal(await server.orders(), 1);
  const posts = await requests("/api/orders");
  assert.equal(posts.length, 1);
  assert.equal(posts[0].key, await page.locator("#form-key").textContent());
  await context.close();
});

test("send() with a payload sendonce refuses: a rejected Promise and `error` shown, never a throw out of the click", async () => {
  const { context, page } = await freshPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  for (const [button, code] of [
    ["#refuse-nan", "invalid_payload"],
    ["#refuse-bigint", "invalid_payload"],
  ]) {
    await page.locator(button).click();
    await page.waitForFunction((c) => document.querySelector("#refused-error").textContent === c, code, { timeout: 5000 })
      .catch(async (e) => assert.fail(`${button}: error "${await page.locator("#refused-error").textContent()}": ${e.message}`));
    assert.equal(await page.evaluate(() => window.refusal), code, `${button}: send() rejected with the SendonceError`);
    assert.equal(await page.locator("#refused-status").textContent(), "idle", "nothing was sent");
  }
  assert.deepEqual(pageErrors, [], "nothing thrown out of the click handlers");
  assert.deepEqual(await page.evaluate(() => window.thrown), []);
  assert.deepEqual(await page.evaluate(() => window.calls.errors), ["invalid_payload", "invalid_payload"], "onError called");
  assert.equal((await requests("/api/orders")).length, 0, "no request");
  await context.close();
});

test("a quick reply with an action key sendonce refuses: run() rejects and shows the error, the page keeps rendering", async () => {
  const { context, page } = await freshPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.locator("#bad-ticket").click();
  await page.waitForFunction(() => document.querySelector("#bad-ticket-status").textContent === "error", null, { timeout: 5000 });
  assert.equal(await page.locator("#bad-ticket-error").textContent(), "invalid_option");
  assert.deepEqual(await page.evaluate(() => window.calls.errors), ["invalid_option"], "onError called");
  assert.deepEqual(pageErrors, []);
  assert.equal(await page.evaluate(() => window.handlerCalls), 0);
  await context.close();
});

test("buttonProps(): aria-disabled and aria-busy while pending (focus kept), isPending, one onSuccess for three clicks, reset()", async () => {
  const { context, page } = await freshPage();
  await server.arm("/api/orders", ["delay=1500"]);
  const pay = page.locator("#pay");
  await pay.focus();
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#pay-pending").textContent === "true");
  assert.equal(await pay.getAttribute("aria-disabled"), "true");
  assert.equal(await pay.getAttribute("aria-busy"), "true");
  assert.equal(await pay.getAttribute("disabled"), null, "never the disabled attribute");
  await page.keyboard.press("Enter");
  // (force: Playwright itself waits for an aria-disabled button to be enabled, as users are told.)
  await pay.click({ force: true });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "pay", "the keyboard focus stays on the button");
  await page.waitForFunction(() => document.querySelector("#pay-status").textContent === "done", null, { timeout: 15_000 })
    .catch(async (e) => assert.fail(`${await page.locator("#pay-status").textContent()} ${await page.locator("#pay-pending").textContent()} ${JSON.stringify(await page.evaluate(() => window.calls))} ${JSON.stringify(await requests("/api/orders"))}: ${e.message}`));
  assert.equal(await page.locator("#pay-pending").textContent(), "false");
  assert.equal(await pay.getAttribute("aria-disabled"), "false");
  await page.waitForFunction(() => window.calls.settled === 1);
  assert.deepEqual(await page.evaluate(() => [window.calls.success, window.calls.error]), [1, 0], "one onSuccess, no onError");
  assert.equal((await requests("/api/orders")).length, 1, "one request");
  await page.locator("#pay-reset").click();
  await page.waitForFunction(() => document.querySelector("#pay-status").textContent === "idle");
  await context.close();
});

test("sendonce's own Retry button, pressed from the keyboard: when it goes, the focus moves to the form's button, not <body>", async () => {
  const { context, page } = await freshPage();
  // Every attempt (5 by default) fails: "Something went wrong. Retry?" with a Retry button.
  await server.arm("/api/orders", ["503", "503", "503", "503", "503"]);
  await page.locator("#place").click();
  const retry = page.locator("#form-status-text + button.sendonce-retry");
  await retry.waitFor({ timeout: 20_000 });
  await retry.focus();
  await server.arm("/api/orders", ["delay=800"]);
  await page.waitForFunction(() => window.formCalls.length > 0);
  assert.deepEqual(await page.evaluate(() => window.formCalls), ["error failed"], "useSendonceForm's onError");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => !document.querySelector(".sendonce-retry"), null, { timeout: 5000 });
  assert.equal(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName), "place");
  // isPending while the retry is on its way (the server holds it 800 ms).
  await page.waitForFunction(() => document.querySelector("#form-pending").textContent === "true");
  await page.waitForFunction(() => document.querySelector("#form-status").textContent === "done", null, { timeout: 15_000 });
  assert.equal(await page.locator("#form-pending").textContent(), "false");
  await page.waitForFunction(() => window.formCalls.length > 1);
  assert.deepEqual(await page.evaluate(() => window.formCalls), ["error failed", "success done"]);
  assert.equal(await server.orders(), 1);
  await context.close();
});

test("useAction frees the actions it replaced: 600 sends through one hook keep wasm memory bounded", async () => {
  const { context, page } = await freshPage();
  const sendMany = (from, count) =>
    page.evaluate(
      async ([from, count]) => {
        for (let n = from; n < from + count; n++) {
          const reply = await window.bulkSend(n);
          if (reply.outcome !== "done") throw new Error(`send ${n}: ${reply.outcome}`);
        }
      },
      [from, count],
    );
  // Warm up (the allocator and the page's first records), then measure.
  await sendMany(0, 100);
  const before = await page.evaluate(() => window.wasmBytes());
  await sendMany(100, 600);
  const grown = (await page.evaluate(() => window.wasmBytes())) - before;
  assert.ok(grown <= 512 * 1024, `wasm memory grew ${(grown / 1024).toFixed(0)} KiB over 600 sends`);
  await context.close();
});

test("an action left offline is kept (not freed) when the hook sends other data: it still resumes on `online`", async () => {
  const { context, page } = await freshPage();
  await context.setOffline(true);
  const outcome = await page.evaluate(async () => (await window.bulkSend("while-offline")).outcome);
  assert.equal(outcome, "offline");
  // Other data through the same hook replaces the offline action on screen.
  await page.evaluate(async () => (await window.bulkSend("second")).outcome);
  // Let a freeing of the replaced action (a task later) happen before the network is back.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
  await context.setOffline(false);
  await page.waitForFunction(
    async () => {
      const log = await (await fetch("/api/log")).json();
      const bodies = log.requests.filter((r) => r.path === "/api/orders" && r.status === 201).length;
      return bodies >= 2;
    },
    null,
    { timeout: 20_000, polling: 250 },
  ).catch(async (e) => assert.fail(`${JSON.stringify(await requests("/api/orders"))}: ${e.message}`));
  await context.close();
});

test("useAction again(): buy again is a new order with a new key (a double click on it is one); Buy inside the window is answered locally", async () => {
  const { context, page } = await freshPage();
  await server.arm("/api/orders", ["delay=800"]);
  await page.locator("#reorder-buy").click({ clickCount: 2, delay: 0 });
  await page.waitForFunction(() => document.querySelector("#reorder-status").textContent === "done", null, { timeout: 15_000 });
  const first = await page.locator("#reorder-key").textContent();
  // The log says which keys made the orders if this fails (a late retry of an earlier test's
  // page reaching the server after its reset would carry a key this page never showed).
  assert.equal(
    await server.orders(),
    1,
    `a double click on Buy: one order (this page's key ${first}; ${JSON.stringify(await requests("/api/orders"))})`,
  );

  await server.arm("/api/orders", ["delay=800"]);
  await page.locator("#reorder-again").click({ clickCount: 2, delay: 0 });
  await page.waitForFunction(
    (first) => document.querySelector("#reorder-key").textContent !== first && document.querySelector("#reorder-status").textContent === "done",
    first,
    { timeout: 15_000 },
  );
  const second = await page.locator("#reorder-key").textContent();
  assert.equal(await server.orders(), 2, "buy again: a second order; its double click: still one");
  const posts = await requests("/api/orders");
  assert.deepEqual(posts.map((p) => p.key), [first, second]);

  // Buy now: the same data inside its window, answered from the last order without a request.
  await page.locator("#reorder-buy").click();
  await page.waitForFunction(() => document.querySelector("#reorder-status").textContent === "already_received");
  assert.equal(await page.locator("#reorder-key").textContent(), second);
  assert.equal(await server.orders(), 2);
  assert.equal((await requests("/api/orders")).length, 2);
  await context.close();
});

test("useAction with init.signal: Cancel aborts the send in flight (error aborted, idle); Buy later resumes it with the same key: one order", async () => {
  const { context, page } = await freshPage();
  await server.arm("/api/orders", ["delay=1500"]);
  // The request has left the page (the server logs it only once answered).
  const left = page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === "/api/orders");
  await page.locator("#reorder-buy").click();
  await left;
  await page.locator("#reorder-cancel").click();
  await page.waitForFunction(() => document.querySelector("#reorder-error").textContent === "aborted");
  assert.equal(await page.locator("#reorder-status").textContent(), "idle");
  assert.equal(await page.locator("#reorder-pending").textContent(), "false");
  const key = await page.locator("#reorder-key").textContent();
  await page.locator("#reorder-buy").click();
  await page.waitForFunction(
    () => ["done", "already_received"].includes(document.querySelector("#reorder-status").textContent),
    null,
    { timeout: 15_000 },
  );
  assert.equal(await page.locator("#reorder-key").textContent(), key);
  // The cancelled attempt is in the log when the server read it whole before the page cut it
  // (on a loaded machine the cut can come first): one POST at least, each with the one key.
  const posts = await requests("/api/orders");
  assert.ok(posts.length >= 1);
  assert.ok(posts.every((p) => p.key === key), "every request with the one key");
  assert.equal(await server.orders(), 1, "one order");
  await context.close();
});
