// End to end in Chromium against the reference server: the lighter `sendonce/forms` entry
// (pkg/forms.js with its own wasm, no chat or quick replies) guards an order form as the full
// entry does: five fast clicks make one order on the server, and the page downloads fewer
// bytes than with the full entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();

const FORM = `<form id="order">
  <input name="item" value="tea">
  <input name="qty" value="2">
  <button id="send" type="submit" disabled data-sendonce-enable>Place order</button>
  <p id="st"></p>
</form>`;

test("the forms entry: its binding enables the marked button, five fast clicks make one order, and the page loads its smaller wasm", async () => {
  const page = await openPage(env.context, env.server.url + "/test/e2e.html");
  const wasmBytes = {};
  page.on("response", async (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith(".wasm")) wasmBytes[path] = (await r.body()).length;
  });
  await env.server.arm("/api/orders", ["delay=600"]);
  const exported = await page.evaluate(async (html) => {
    const forms = await import("/pkg/forms.js");
    await forms.default();
    document.querySelector("#root").innerHTML = html;
    const so = new forms.Sendonce({ namespace: "formsEntry" });
    window.form = so.form("#order", { action: "createOrder", url: "/api/orders", status: "#st" });
    return { chat: typeof so.chat, quickReplies: typeof so.quickReplies, form: typeof so.form, action: typeof so.action };
  }, FORM);
  assert.deepEqual(exported, { chat: "undefined", quickReplies: "undefined", form: "function", action: "function" });
  // Its form binding enables the button the HTML kept shut until then, as the full entry's does.
  assert.equal(await page.locator("#send").isDisabled(), false);
  await page.locator("#send").click({ clickCount: 5, delay: 0 });
  await page.waitForFunction(() => /Sent|already received/.test(document.querySelector("#st").textContent), null, { timeout: 15_000 });
  assert.equal(await env.server.orders(), 1);
  assert.equal((await env.server.effects()).duplicates, 0);
  assert.equal(await page.locator("#st").textContent(), "Sent");
  // e2e.html loaded the full entry first; the forms entry fetched its own, smaller wasm.
  const full = wasmBytes["/pkg/sendonce_bg.wasm"];
  const forms = wasmBytes["/pkg/sendonce_forms_bg.wasm"];
  assert.ok(forms > 0, "the forms entry loaded sendonce_forms_bg.wasm");
  if (full) assert.ok(forms < full * 0.9, `forms wasm ${forms} B is at least 10 % smaller than the full ${full} B`);
});

test("an action name is at most 100 characters, in so.form as in so.action (one rule in the core; not 100 bytes)", async () => {
  const page = await openPage(env.context, env.server.url + "/test/e2e.html");
  const out = await page.evaluate(async (html) => {
    const m = await import("/pkg/sendonce.js");
    await m.default();
    document.querySelector("#root").innerHTML = html;
    const so = new m.Sendonce({ namespace: "nameLimit" });
    const name = "😀".repeat(100); // 100 characters, 400 bytes
    const attempt = (f) => {
      try {
        f();
        return "ok";
      } catch (e) {
        return `${e.code}: ${e.message}`;
      }
    };
    return {
      form101: attempt(() => so.form("#order", { action: `${name}x`, url: "/api/orders" })),
      action101: attempt(() => so.action(`${name}x`, {})),
      form100: attempt(() => so.form("#order", { action: name, url: "/api/orders" })),
      action100: attempt(() => so.action(name, {})),
    };
  }, FORM);
  assert.equal(out.form100, "ok");
  assert.equal(out.action100, "ok");
  assert.match(out.form101, /^invalid_option: .*1\.\.=100 characters/);
  assert.equal(out.form101, out.action101, "the same rule and the same words for both");
});
