// End to end in Chromium against the reference server: an order form before its binding.
// Until `await init()` has fetched and compiled the wasm, `so.form()` has not bound the form,
// and a plain HTML form is the browser's to submit (no key, no guard, a navigation). The page
// keeps it shut in its HTML: its submit button is `disabled` and marked `data-sendonce-enable`,
// and the binding enables it once it guards the form. Here the wasm is held back while the user
// taps the button and presses Enter in a field: nothing reaches the server, the page stays,
// the typed text stays; once bound, one click is one order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { holdWasm, openPage, useEnvironment, watchPosts } from "./harness.mjs";

const env = useEnvironment();

/** POSTs to /api/orders the server saw, oldest first. */
async function orderPosts() {
  const log = await env.server.json("/api/log");
  return log.requests.filter((r) => r.path === "/api/orders" && r.method === "POST");
}

/** Opens `path` with the wasm held back; `release()` lets it load. */
async function openHeld(path) {
  const { release } = await holdWasm(env.context);
  const page = await env.context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  // Every request the page makes after its first load, and every navigation of the tab.
  const requests = [];
  const navigations = [];
  await page.goto(env.server.url + path, { waitUntil: "domcontentloaded" });
  page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  page.on("framenavigated", (f) => f === page.mainFrame() && navigations.push(f.url()));
  // The page's module runs and waits for the wasm: the form is not bound yet.
  await page.waitForFunction(() => window.sendonceLoading === true);
  return { page, release, requests, navigations };
}

test("before the wasm is loaded, a tap on the submit button and Enter in a field send nothing and keep the page; once bound, one click is one order", async () => {
  const { page, release, requests, navigations } = await openHeld("/test/early.html");
  const url = page.url();
  assert.equal(await page.evaluate(() => window.form === undefined), true, "the form is not bound yet");
  assert.equal(await page.locator("#send").isDisabled(), true, "shut by the page's HTML");

  // The user types a note, taps "Place order" twice (a real tap at the button's place: the
  // browser fires no click at a disabled button), then presses Enter in the note field (the
  // form's implicit submission, which the HTML spec makes do nothing while its default button
  // is disabled).
  // (A form the browser submitted is gone: the next step then fails at once, not at the end.)
  const soon = { timeout: 3_000 };
  await page.locator("[name=note]").fill("ring twice");
  await page.locator("#send").click({ force: true, clickCount: 2, delay: 0, ...soon });
  await page.locator("[name=note]").press("Enter", soon);
  await page.locator("[name=item]").press("Enter", soon);
  // The same through the page's own dispatch: a real click event on the disabled button.
  await page.evaluate(() => document.querySelector("#send").click());
  assert.equal(await page.evaluate(() => window.form === undefined), true, "the wasm is still on its way");

  release();
  await page.waitForFunction(() => window.sendonceReady === true);
  // Nothing left the page but the wasm; no navigation; the note is still there.
  assert.deepEqual(requests.filter((r) => !r.endsWith(".wasm")), [], "no request before the binding");
  assert.deepEqual(navigations, [], "no navigation");
  assert.equal(page.url(), url);
  assert.equal(await page.locator("[name=note]").inputValue(), "ring twice");
  assert.deepEqual(await orderPosts(), [], "no order request reached the server");

  // Bound: the marked button is enabled (and only that one), and one click is one order.
  assert.equal(await page.locator("#send").isDisabled(), false, "enabled by the binding");
  assert.equal(await page.locator("#send").getAttribute("data-sendonce-enable"), "", "the marker stays");
  await page.locator("#send").click();
  await page.waitForFunction(() => document.querySelector("#status").textContent === "Sent", null, { timeout: 15_000 });
  const posts = await orderPosts();
  assert.equal(posts.length, 1, "one order request");
  assert.equal(posts[0].key, await page.evaluate(() => window.form.key), "with the form's key");
  assert.equal(await env.server.orders(), 1);
  const body = JSON.parse(await page.evaluate(() => JSON.stringify(window.form.status)));
  assert.equal(body.code, "done");
  assert.deepEqual(navigations, [], "still no navigation");
});

test("a submit button the page disabled without the marker stays disabled after the binding, and sends nothing", async () => {
  const { page, release } = await openHeld("/test/early.html");
  const sent = watchPosts(page);
  release();
  await page.waitForFunction(() => window.sendonceReady === true);
  assert.equal(await page.locator("#send").isDisabled(), false, "the marked button is enabled");
  assert.equal(await page.locator("#gift").isDisabled(), true, "the unmarked one is the page's: still disabled");
  await page.locator("#gift").click({ force: true });
  // The marked button after it: its order is the first and only request.
  await page.locator("#send").click();
  await page.waitForFunction(() => document.querySelector("#status").textContent === "Sent", null, { timeout: 15_000 });
  const posts = await orderPosts();
  assert.equal(posts.length, 1);
  assert.deepEqual(JSON.parse(sent[0].body), { item: "tea", note: "" }, "the disabled button added nothing");
});

test("bound, disposed and bound again: the marked buttons are enabled exactly while a binding guards the form, the `button` option's too", async () => {
  const page = await openPage(env.context, env.server.url + "/test/e2e.html");
  const seen = await page.evaluate(() => {
    document.querySelector("#root").innerHTML = `
      <form id="order">
        <input name="item" value="tea">
        <button id="send" type="submit" disabled data-sendonce-enable>Place order</button>
        <button id="other" type="submit" disabled>Other (the page's)</button>
      </form>
      <button id="outside" type="submit" form="order" disabled data-sendonce-enable>Order (outside)</button>
      <div><button id="guarded" type="button" disabled data-sendonce-enable>Guarded</button></div>
      <p id="st"></p>`;
    const state = () =>
      Object.fromEntries(["send", "other", "outside", "guarded"].map((id) => [id, document.getElementById(id).disabled]));
    const so = new window.sendonce.Sendonce({ namespace: "rebind" });
    const out = { before: state() };
    // Without `button`: the form's marked controls (`form="order"` outside it too).
    let form = so.form("#order", { action: "createOrder", url: "/api/orders", status: "#st" });
    out.bound = state();
    form.dispose();
    out.disposed = state();
    form.dispose();
    out.disposedTwice = state();
    // With `button`: an element that is no control of the form, marked, is enabled too.
    form = so.form("#order", { action: "createOrder", url: "/api/orders", status: "#st", button: "#guarded" });
    out.again = state();
    window.form = form;
    return out;
  });
  const all = (send, other, outside, guarded) => ({ send, other, outside, guarded });
  assert.deepEqual(seen.before, all(true, true, true, true));
  assert.deepEqual(seen.bound, all(false, true, false, true));
  assert.deepEqual(seen.disposed, all(true, true, true, true), "unguarded again: shut again");
  assert.deepEqual(seen.disposedTwice, all(true, true, true, true));
  assert.deepEqual(seen.again, all(false, true, false, false));
  // Bound again, the form sends once.
  await page.locator("#outside").click();
  await page.waitForFunction(() => document.querySelector("#st").textContent === "Sent", null, { timeout: 15_000 });
  assert.equal((await orderPosts()).length, 1);
  // Disposed while the field has focus: Enter does nothing (no native submission).
  const url = page.url();
  await page.evaluate(() => window.form.dispose());
  await page.locator("[name=item]").press("Enter");
  await page.locator("#send").click({ force: true });
  assert.equal(await page.locator("#send").isDisabled(), true);
  // A round trip through the page: a navigation started by Enter would have replaced it.
  assert.equal(await page.evaluate(() => typeof window.sendonce), "object");
  assert.equal(page.url(), url);
  assert.equal((await orderPosts()).length, 1);
});
