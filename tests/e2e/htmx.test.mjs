// End to end in Chromium with htmx 2 itself and the reference server: a form under
// hx-ext="sendonce" (sendonce/htmx) makes one order per user action, with its key, whatever
// the clicks, the network and reloads do, and htmx still swaps the reply. Every test counts
// orders on the server.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { holdWasm, openPage, useEnvironment, watchPosts } from "./harness.mjs";

const env = useEnvironment();
const htmxFile = fileURLToPath(new URL("../../node_modules/htmx.org/dist/htmx.min.js", import.meta.url));

beforeEach(async () => {
  // The test page loads htmx from /test/htmx.min.js: served from the dev dependency.
  await env.context.route("**/test/htmx.min.js", (route) =>
    route.fulfill({ path: htmxFile, contentType: "text/javascript" }),
  );
});

const open = () => openPage(env.context, env.server.url + "/test/htmx.html");

/** Waits until `selector`'s text is `text` (a string) or matches it (a RegExp). */
async function textIs(page, selector, text, timeout = 15_000) {
  const src = text instanceof RegExp ? { re: text.source } : { eq: text };
  await page.waitForFunction(
    ([sel, s]) => {
      const t = document.querySelector(sel)?.textContent ?? "";
      return s.re ? new RegExp(s.re).test(t) : t === s.eq;
    },
    [selector, src],
    { timeout },
  );
}

/** Waits until `check()` is true (polled; never a fixed sleep). */
async function until(check, timeout = 15_000) {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until htmx has swapped the server's one order (its JSON reply) into `selector`. */
async function swappedOrder(page, selector) {
  let orders = [];
  await until(async () => (orders = (await env.server.json("/api/orders")).orders).length > 0);
  assert.equal(orders.length, 1);
  await textIs(page, selector, new RegExp(`"id":${orders[0].id}\\b`));
}

/** POSTs to /api/orders the server saw, oldest first (with their keys). */
async function orderPosts() {
  const log = await env.server.json("/api/log");
  return log.requests.filter((r) => r.path === "/api/orders" && r.method === "POST");
}

test("htmx alone: a double submit of a slow form sends two requests (what the extension prevents)", async () => {
  const page = await open();
  const posts = watchPosts(page);
  await env.server.arm("/api/orders", ["delay=600"]);
  await page.locator("#plain-send").click({ clickCount: 2, delay: 0 });
  // htmx queues the second submit and sends it when the first reply is in; the reference
  // server refuses both (they carry no key).
  let seen = [];
  await until(async () => (seen = await orderPosts()).length === 2);
  assert.equal(posts.length, 2);
  assert.equal(posts.filter((p) => p.headers["idempotency-key"]).length, 0);
  assert.deepEqual(seen.map((r) => [r.key, r.status]), [[null, 400], [null, 400]]);
});

test("a double click on an hx-post form makes one order, with the key header, and htmx swaps the reply", async () => {
  const page = await open();
  const posts = watchPosts(page);
  await env.server.arm("/api/orders", ["delay=600"]);
  await page.locator("#send").click({ clickCount: 2, delay: 0 });
  await textIs(page, "#status", "Sent");
  await swappedOrder(page, "#result");
  assert.equal(await env.server.orders(), 1);
  assert.equal(posts.length, 1, "one request left the page");
  const key = posts[0].headers["idempotency-key"];
  assert.match(key ?? "", /^[0-9a-f-]{36}$/, "the request carries sendonce's key");
  assert.equal(posts[0].headers["hx-request"], "true", "htmx's headers are sent too");
  assert.equal(posts[0].headers["x-csrf-token"], "t0ken-42", "and hx-headers, inherited from <body>");
  assert.equal(posts[0].body, "item=tea&qty=2", "the fields as htmx sends them (urlencoded)");
  assert.deepEqual((await orderPosts()).map((r) => r.key), [key]);
  assert.equal((await env.server.effects()).duplicates, 0);
  // A third click after the reply: the same data inside the window, answered without a request.
  await page.locator("#send").click();
  await textIs(page, "#status", "We already received this request");
  assert.equal(posts.length, 1);
  assert.equal(await env.server.orders(), 1);
});

test("a double click before the wasm is loaded (the extension given a promise of the Sendonce): htmx sends nothing without the key, then one order with it", async () => {
  // The wasm is held until the clicks are done: a slow phone's first seconds.
  const { release } = await holdWasm(env.context);
  const page = await env.context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  const posts = watchPosts(page);
  await page.goto(env.server.url + "/test/htmx.html?early", { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.sendonceDefined === true && window.so === undefined);
  await page.locator("#send").click({ clickCount: 2, delay: 0 });
  assert.equal(await page.evaluate(() => window.so === undefined), true, "the wasm is still on its way");
  release();
  await textIs(page, "#status", "Sent");
  await swappedOrder(page, "#result");
  assert.equal(posts.length, 1, "one request left the page");
  assert.match(posts[0].headers["idempotency-key"] ?? "", /^[0-9a-f-]{36}$/, "with sendonce's key");
  assert.equal(await env.server.orders(), 1);
});

test("the promise of the Sendonce rejects (the wasm does not load): the submit held meanwhile is sent by htmx as before, not lost", async () => {
  const { fail } = await holdWasm(env.context);
  const page = await env.context.newPage();
  const posts = watchPosts(page);
  await page.goto(env.server.url + "/test/htmx.html?early", { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.sendonceDefined === true);
  // A button the page shut in its HTML until a binding guards its form, under the extension,
  // and one that is not under it.
  await page.evaluate(() => {
    for (const id of ["confirmed-send", "plain-send"]) {
      const b = document.getElementById(id);
      b.disabled = true;
      b.setAttribute("data-sendonce-enable", "");
    }
  });
  await page.locator("#send").click();
  fail();
  await until(() => posts.length === 1);
  assert.equal(posts[0].headers["idempotency-key"], undefined, "htmx's own request, without a key");
  assert.equal(posts[0].headers["hx-request"], "true");
  // No binding is coming: the extension's forms open, as htmx's own again; the other stays shut.
  await page.waitForFunction(() => document.getElementById("confirmed-send").disabled === false);
  assert.equal(await page.locator("#plain-send").isDisabled(), true);
});

test("the button is guarded in the click's task (aria-disabled, aria-busy, htmx-request) and re-enabled after the reply", async () => {
  const page = await open();
  await env.server.arm("/api/orders", ["delay=800"]);
  const during = await page.evaluate(() => {
    const b = document.querySelector("#send");
    b.click();
    return { ariaDisabled: b.getAttribute("aria-disabled"), ariaBusy: b.getAttribute("aria-busy") };
  });
  assert.deepEqual(during, { ariaDisabled: "true", ariaBusy: "true" });
  // htmx's indicator class while the order is on its way.
  await page.waitForFunction(() => document.querySelector("#order").classList.contains("htmx-request"));
  await textIs(page, "#status", "Sent");
  const after = await page.evaluate(() => {
    const b = document.querySelector("#send");
    return {
      ariaDisabled: b.getAttribute("aria-disabled"),
      ariaBusy: b.getAttribute("aria-busy"),
      request: document.querySelector("#order").classList.contains("htmx-request"),
    };
  });
  assert.deepEqual(after, { ariaDisabled: null, ariaBusy: null, request: false });
  assert.equal(await env.server.orders(), 1);
});

test("a reply dropped after the commit: retried with the same key, one order, the replay's status shown and its content swapped", async () => {
  const page = await open();
  await env.server.arm("/api/orders", ["drop"]);
  await page.locator("#send").click();
  await textIs(page, "#status", "We already received this request");
  await swappedOrder(page, "#result");
  assert.equal(await env.server.orders(), 1);
  const posts = await orderPosts();
  assert.equal(posts.length, 2, "one dropped attempt and one retry");
  assert.equal(new Set(posts.map((r) => r.key)).size, 1, "both attempts carry the same key");
  assert.ok(posts[1].replayed, "the retry was answered with the server's replay");
});

test("a reload while the server holds the request: the draft comes back and the order resumes with the same key", async () => {
  const page = await open();
  await page.locator("input[name=qty]").fill("3");
  await env.server.arm("/api/orders", ["delay=3000"]);
  const posts = watchPosts(page);
  await page.locator("#send").click();
  await until(() => posts.length === 1);
  const key = posts[0].headers["idempotency-key"];
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  assert.equal(await page.locator("input[name=qty]").inputValue(), "3", "the draft is restored");
  await textIs(page, "#status", /Sent|already received/, 20_000);
  await swappedOrder(page, "#result");
  assert.equal(await env.server.orders(), 1);
  assert.deepEqual([...new Set((await orderPosts()).map((r) => r.key))], [key], "every attempt, before and after the reload, carries the same key");
});

test("hx-confirm: htmx decides whether it goes; declined sends nothing, accepted sends once", async () => {
  const page = await open();
  const posts = watchPosts(page);
  let answer = false;
  let dialogs = 0;
  page.on("dialog", (d) => {
    dialogs += 1;
    return answer ? d.accept() : d.dismiss();
  });
  await env.server.arm("/api/orders", ["delay=800"]);
  // The button is guarded in the click's task when sendonce takes the submission: read in the
  // same task, "true" means it went out.
  const click = () =>
    page.evaluate(() => {
      const b = document.querySelector("#confirmed-send");
      b.click();
      return b.getAttribute("aria-busy");
    });
  assert.equal(await click(), null, "declined: nothing is sent, nothing guarded");
  assert.equal(dialogs, 1);
  answer = true;
  assert.equal(await click(), "true", "accepted: sendonce sends it");
  assert.equal(dialogs, 2);
  await swappedOrder(page, "#confirmed-result");
  assert.equal(await env.server.orders(), 1);
  assert.equal(posts.length, 1);
});

test("a password in an htmx form is sent, and never reaches storage", async () => {
  const page = await open();
  const secret = "hunter2-Sup3rSecret";
  await page.locator("#account input[name=email]").fill("ana@example.com");
  await page.locator("#account input[name=password]").fill(secret);
  // The draft is saved as the user types (debounced): wait until the visible field is in it.
  await page.waitForFunction(() => JSON.stringify(localStorage).includes("ana@example.com"));
  assert.ok(!JSON.stringify(await page.evaluate(() => ({ ...localStorage }))).includes(secret));
  await page.locator("#account-send").click();
  await textIs(page, "#account-status", "Sent");
  assert.ok(!(await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).includes(secret));
  // Sent all the same: the reference server echoes the order, and htmx swapped the echo in.
  await swappedOrder(page, "#account-result");
  assert.ok((await page.locator("#account-result").textContent()).includes(secret));
});

test("a form htmx swaps in later is guarded too: a double click makes one request with a key", async () => {
  const page = await open();
  const posts = watchPosts(page);
  await page.evaluate(() =>
    window.htmx.swap(
      "#slot",
      '<form id="later" hx-post="/api/orders" hx-target="#later-result" data-sendonce-action="laterOrder">' +
        '<input name="item" value="jam"><button id="later-send">Order</button></form>',
      { swapStyle: "innerHTML", swapDelay: 0, settleDelay: 0 },
    ),
  );
  await page.waitForSelector("#later-send");
  await env.server.arm("/api/orders", ["delay=600"]);
  await page.locator("#later-send").click({ clickCount: 2, delay: 0 });
  await swappedOrder(page, "#later-result");
  assert.equal(posts.length, 1);
  assert.match(posts[0].headers["idempotency-key"] ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(posts[0].body, "item=jam");
});

test("offline: the status says 'Connection lost. Retry?', and back online the order goes once with its key and is swapped", async () => {
  const page = await open();
  const posts = watchPosts(page);
  await env.context.setOffline(true);
  await page.locator("#send").click();
  await textIs(page, "#status", "Connection lost. Retry?");
  await env.context.setOffline(false);
  await textIs(page, "#status", "Sent");
  await swappedOrder(page, "#result");
  assert.equal(await env.server.orders(), 1);
  const keys = new Set(posts.map((p) => p.headers["idempotency-key"]));
  assert.equal(keys.size, 1, "every attempt carries the same key");
});

test("the function sendonceHtmx() returns removes the extension: the form is htmx's alone again", async () => {
  const page = await open();
  const posts = watchPosts(page);
  await page.evaluate(() => window.removeSendonce());
  await page.locator("#send").click();
  await until(() => posts.length === 1);
  assert.equal(posts[0].headers["idempotency-key"], undefined, "htmx's own request, without a key");
  assert.equal(await page.locator("#send").getAttribute("aria-busy"), null, "no guard");
});

test("the demo page (www/htmx.html): a double click places one order and htmx swaps the receipt", async () => {
  const page = await openPage(env.context, env.server.url + "/htmx.html");
  const posts = watchPosts(page);
  await env.server.arm("/api/orders", ["delay=600"]);
  await page.locator("#send").click({ clickCount: 2, delay: 0 });
  await textIs(page, "#status", "Sent");
  await swappedOrder(page, "#receipt");
  assert.equal(posts.length, 1);
  assert.match(posts[0].headers["idempotency-key"] ?? "", /^[0-9a-f-]{36}$/);
});
