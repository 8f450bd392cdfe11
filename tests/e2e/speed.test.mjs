// End to end in Chromium against the reference server: a bound form reads its fields once per
// submission (one call from the wasm into JS for the whole form, issue 21), and what it sends,
// stores and guards is what reading them field by field gave: the same body, the same private
// fields kept out of storage, the button guarded before click() returns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { everythingStored, openPage, useEnvironment, watchPosts } from "./harness.mjs";

const env = useEnvironment();

const FORM = `<form id="order">
  <input name="item" value="tea">
  <input name="qty" type="number" value="2">
  <input name="gift" type="checkbox" value="yes" checked>
  <input name="wrap" type="checkbox" value="paper">
  <input name="off" value="never" disabled>
  <select name="sizes" multiple>
    <option value="s" selected>S</option>
    <option value="m">M</option>
    <option value="l" selected disabled>L</option>
    <option value="xl" selected>XL</option>
  </select>
  <select name="colour"><option value="red">Red</option><option value="blue" selected>Blue</option></select>
  <input type="radio" name="ship" value="post"><input type="radio" name="ship" value="courier" checked>
  <textarea name="note">leave at the door</textarea>
  <input name="pin" type="password" value="1234">
  <input name="card" autocomplete="cc-number" value="4111111111111111">
  <input name="code" data-sendonce-private value="xyz">
  <input name="" value="nameless">
  <button id="send" type="submit" name="go" value="1">Place order</button>
  <p id="st"></p>
</form>`;

for (const entry of ["sendonce", "forms"]) {
  test(`${entry}: a submission reads each field once, sends every field as FormData reads them, stores none of the private ones`, async () => {
    const page = await openPage(env.context, env.server.url + "/test/e2e.html");
    const posts = watchPosts(page);
    await env.server.arm("/api/orders", ["delay=300"]);
    const out = await page.evaluate(
      async ({ html, entry }) => {
        const m = await import(`/pkg/${entry}.js`);
        await m.default();
        document.querySelector("#root").innerHTML = html;
        const form = document.querySelector("#order");
        // Counts the reads of one field's value (a page's own getter, as a framework may add).
        const item = form.querySelector("[name=item]");
        const own = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");
        window.reads = 0;
        Object.defineProperty(item, "value", {
          get() {
            window.reads++;
            return own.get.call(this);
          },
          set(v) {
            own.set.call(this, v);
          },
          configurable: true,
        });
        const so = new m.Sendonce({ namespace: `speed-${entry}` });
        window.bound = so.form(form, { action: "createOrder", url: "/api/orders", status: "#st" });
        const afterBind = window.reads;
        window.reads = 0;
        const button = document.querySelector("#send");
        button.click();
        const guarded = button.getAttribute("aria-disabled");
        // The draft (with the submission's key) is written before click() returns.
        const stored = [];
        for (let i = 0; i < localStorage.length; i++) stored.push(localStorage.key(i), localStorage.getItem(localStorage.key(i)));
        return { afterBind, guarded, reads: window.reads, stored: stored.join("\n") };
      },
      { html: FORM, entry },
    );
    assert.equal(out.guarded, "true", "guarded before click() returned");
    assert.equal(out.reads, 1, "the submission read the field once");
    await page.waitForFunction(() => document.querySelector("#st").textContent === "Sent", null, { timeout: 15_000 });
    assert.equal(await env.server.orders(), 1);
    assert.equal(posts.length, 1);
    assert.deepEqual(JSON.parse(posts[0].body), {
      item: "tea",
      qty: 2,
      gift: "yes",
      sizes: ["s", "xl"],
      colour: "blue",
      ship: "courier",
      note: "leave at the door",
      pin: "1234",
      card: "4111111111111111",
      code: "xyz",
    });
    assert.ok(out.stored.includes("leave at the door"), "the visible fields are in the draft");
    const stored = out.stored + (await everythingStored(page));
    for (const secret of ["1234", "4111111111111111", "xyz"]) assert.ok(!stored.includes(secret), `${secret} is not stored`);
  });
}

test("a field whose getters throw is read as empty, and the submission still goes out once", async () => {
  const page = await openPage(env.context, env.server.url + "/test/e2e.html");
  const posts = watchPosts(page);
  const out = await page.evaluate(async () => {
    const m = await import("/pkg/sendonce.js");
    await m.default();
    document.querySelector("#root").innerHTML =
      '<form id="h"><input name="a" value="1"><input name="b" value="2"><button id="hs" type="submit">Go</button><p id="hst"></p></form>';
    const form = document.querySelector("#h");
    for (const prop of ["value", "type", "disabled", "checked"]) {
      Object.defineProperty(form.elements.b, prop, {
        get() {
          throw new Error(`no ${prop} for you`);
        },
        configurable: true,
      });
    }
    const so = new m.Sendonce({ namespace: "speed-hostile" });
    so.form(form, { action: "hostile", url: "/api/orders", status: "#hst" });
    const button = document.querySelector("#hs");
    button.click();
    return button.getAttribute("aria-disabled");
  });
  assert.equal(out, "true");
  await page.waitForFunction(() => document.querySelector("#hst").textContent === "Sent", null, { timeout: 15_000 });
  assert.equal(posts.length, 1);
  assert.deepEqual(JSON.parse(posts[0].body), { a: "1", b: "" });
});
