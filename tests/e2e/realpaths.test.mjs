// End to end in Chromium against the reference server: the paths real users take that once
// broke the promise (issue "Once, and nothing lost or leaked"): a form nobody keeps a
// reference to, login and card forms, credentials, two tabs with the same data, a full storage.
// Every test looks at what a user or an attacker would see: requests on the wire, orders on
// the server, every storage key and value, the status shown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPage, startServer, useEnvironment, watchPosts, everythingStored } from "./harness.mjs";

const env = useEnvironment();

async function blank(context = env.context) {
  return openPage(context, env.server.url + "/test/e2e.html");
}

const LOGIN_FORM = `<form id="login">
  <input name="user" value="ada">
  <input name="password" type="password">
  <input name="card" autocomplete="cc-number">
  <input name="csc" autocomplete="cc-csc">
  <input name="exp" autocomplete="cc-exp">
  <input name="otp" autocomplete="one-time-code">
  <input name="newpw" autocomplete="new-password">
  <input name="curpw" autocomplete="section-a current-password">
  <input name="note" data-sendonce-private>
  <input name="captcha">
  <button id="go" type="submit">Log in</button>
  <p id="st"></p>
</form>`;

/** Builds the login form on the page and binds it without keeping any reference. */
async function bindLogin(page, ns) {
  await page.evaluate(
    ({ html, ns }) => {
      document.querySelector("#root").innerHTML = html;
      window.events = [];
      (function () {
        const so = new sendonce.Sendonce({ namespace: ns, onEvent: (e) => window.events.push(JSON.stringify(e)) });
        so.form("#login", { action: "login", url: "/api/orders", status: "#st", exclude: ["captcha"] });
      })();
    },
    { html: LOGIN_FORM, ns },
  );
}

async function statusIs(page, text, timeout = 15_000) {
  await page.waitForFunction((t) => document.querySelector("#st").textContent === t, text, { timeout });
}

test("a form bound without a kept reference survives garbage collection: one POST, never the native submission", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  await bindLogin(page, "gc");
  await page.locator("input[name=password]").fill("pw-after-GC-1");
  const cdp = await env.context.newCDPSession(page);
  for (let i = 0; i < 4; i++) {
    await cdp.send("HeapProfiler.collectGarbage");
    await page.waitForTimeout(100); // FinalizationRegistry callbacks run after the collection
  }
  await page.locator("#go").click();
  await statusIs(page, "Sent");
  assert.equal(new URL(page.url()).search, "", "no native GET submission with the fields in the URL");
  assert.equal(await env.server.orders(), 1);
  assert.equal(posts.length, 1);
  assert.match(posts[0].body, /pw-after-GC-1/, "the password is sent");
});

test("private fields are sent, and never stored, fingerprinted or put in an event (a 'show password' toggle included)", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  await bindLogin(page, "priv");
  const secrets = {
    password: "S-password-1",
    card: "4111111111111111",
    csc: "S-csc-737",
    exp: "S-exp-1229",
    otp: "S-otp-424242",
    newpw: "S-newpw-2",
    curpw: "S-curpw-3",
    note: "S-note-4",
    captcha: "S-captcha-5",
  };
  for (const [name, value] of Object.entries(secrets)) await page.locator(`input[name=${name}]`).fill(value);
  // "Show password": the field becomes a text field, and the user edits it there.
  await page.evaluate(() => (document.querySelector("input[name=password]").type = "text"));
  await page.locator("input[name=password]").fill(secrets.password + "x");
  secrets.password += "x";
  await page.waitForTimeout(600); // the draft is saved (debounced)
  assert.match(await everythingStored(page), /"ada"/, "the draft of the visible fields is saved");
  await page.locator("#go").click();
  await statusIs(page, "Sent");
  assert.equal(posts.length, 1);
  const sent = JSON.parse(posts[0].body);
  for (const [name, value] of Object.entries(secrets)) assert.equal(sent[name], value, `${name} is sent`);
  const stored = await everythingStored(page);
  const events = (await page.evaluate(() => window.events)).join("\n");
  for (const value of Object.values(secrets)) {
    assert.ok(!stored.includes(value), `${value} reached storage: ${stored}`);
    assert.ok(!events.includes(value), `${value} reached an event`);
  }
});

test("after a reload, a pending login waits for the user (never resent without its password) and keeps its key", async () => {
  let page = await blank();
  const posts = watchPosts(page);
  await bindLogin(page, "wait");
  await page.locator("input[name=password]").fill("pw-reload-1");
  // Offline: the submission rests as "Connection lost. Retry?" with its request stored.
  await page.evaluate(() => window.dispatchEvent(new Event("offline")));
  await page.locator("#go").click();
  await statusIs(page, "Connection lost. Retry?");
  assert.ok(!(await everythingStored(page)).includes("pw-reload-1"));
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  const before = await page.evaluate(() => new sendonce.Sendonce({ namespace: "wait" }).pending());
  assert.equal(before.length, 1);
  assert.equal(before[0].incomplete, true, "it needs the password, which is never stored");
  assert.equal(before[0].persisted, true);
  await bindLogin(page, "wait");
  assert.equal(await page.locator("input[name=user]").inputValue(), "ada", "the draft is restored");
  assert.deepEqual(before[0].waitingFor, ["field:password"], "what it waits for, by name");
  assert.equal(await page.locator("#st").textContent(), "To finish sending, add again: password");
  assert.equal(await page.locator("input[name=password]").inputValue(), "");
  await page.evaluate(() => new sendonce.Sendonce({ namespace: "wait" }).resumePending());
  await page.waitForTimeout(800);
  assert.equal(posts.length, 0, "nothing is sent without the password");
  assert.equal(await env.server.orders(), 0);
  const still = await page.evaluate(() => new sendonce.Sendonce({ namespace: "wait" }).pending());
  assert.equal(still.length, 1, "never dropped");
  await page.locator("input[name=password]").fill("pw-reload-1");
  await page.locator("#go").click();
  await statusIs(page, "Sent");
  assert.equal(posts.length, 1);
  assert.equal(posts[0].headers["idempotency-key"], before[0].key, "the same visible data keeps its key");
  assert.match(posts[0].body, /pw-reload-1/);
  assert.equal(await env.server.orders(), 1);
});

test("autocomplete tokens of passwords and card expiry keep text fields out of storage; a field switched to password leaves the draft at once", async () => {
  const page = await blank();
  await page.evaluate(() => {
    document.querySelector("#root").innerHTML = `<form id="signup">
      <input name="user" value="ada">
      <input name="pw" autocomplete="section-signup billing New-Password">
      <input name="cur" autocomplete="username CURRENT-PASSWORD webauthn">
      <input name="exp" autocomplete="cc-exp">
      <input name="expm" autocomplete="shipping cc-exp-month">
      <input name="expy" autocomplete="section-pay CC-EXP-YEAR">
      <input name="pin">
      <button id="go" type="submit">Sign up</button><p id="st"></p></form>`;
    new sendonce.Sendonce({ namespace: "ac" }).form("#signup", { action: "signup", url: "/api/orders", status: "#st" });
  });
  const secrets = { pw: "S-new-pw-1", cur: "S-cur-pw-2", exp: "12/29", expm: "S-month-11", expy: "S-year-2031" };
  for (const [name, value] of Object.entries(secrets)) await page.locator(`input[name=${name}]`).fill(value);
  await page.locator("input[name=pin]").fill("S-pin-7788");
  await page.waitForFunction(() => Object.values(localStorage).some((v) => v.includes("S-pin-7788")));
  const stored = await everythingStored(page);
  assert.match(stored, /"ada"/, "the visible fields are saved");
  for (const value of Object.values(secrets)) assert.ok(!stored.includes(value), `${value} reached storage: ${stored}`);
  // "Hide PIN": the field becomes a password; the draft is rewritten without it, with no input.
  await page.evaluate(() => (document.querySelector("input[name=pin]").type = "password"));
  await page.waitForFunction(() => !Object.values(localStorage).some((v) => v.includes("S-pin-7788")), null, { timeout: 5_000 });
  assert.match(await everythingStored(page), /"ada"/, "the draft itself stays");
});

const CREDENTIALS = {
  Authorization: "Bearer A-secret-token",
  "X-API-Key": "K-secret-key",
  "X-Auth-Token": "T-secret-token",
  "X-XSRF-TOKEN": "X-secret-xsrf",
};

test("credential headers are never stored; after a reload the action waits (incomplete) until a headers hook supplies them", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  const key = await page.evaluate(async (creds) => {
    const so = new sendonce.Sendonce({ namespace: "auth" });
    // Offline until the reload (a synthetic event: the page must be able to reload).
    window.dispatchEvent(new Event("offline"));
    const a = so.action("pay", { amount: 5 });
    await a.send("/api/orders", { headers: { ...creds, Accept: "application/json" } });
    return a.key;
  }, CREDENTIALS);
  const stored = await everythingStored(page);
  for (const v of Object.values(CREDENTIALS)) assert.ok(!stored.includes(v), `${v} reached storage`);
  assert.match(stored, /application\/json/, "allowed headers are stored");
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  const waiting = await page.evaluate(async () => {
    const so = new sendonce.Sendonce({ namespace: "auth" });
    const p = so.pending();
    await so.resumePending();
    await new Promise((r) => setTimeout(r, 500));
    return { p, after: so.pending() };
  });
  assert.equal(waiting.p.length, 1);
  assert.equal(waiting.p[0].incomplete, true);
  assert.equal(waiting.after.length, 1, "never dropped");
  assert.equal(posts.length, 0, "never sent without its headers");
  const outcome = await page.evaluate(async () => {
    const so = new sendonce.Sendonce({ namespace: "auth", headers: () => ({ Authorization: "Bearer fresh" }) });
    const incomplete = so.pending()[0].incomplete;
    const [reply] = await so.resumePending();
    return { incomplete, outcome: reply.outcome, key: reply.key, left: so.pending().length };
  });
  assert.deepEqual(outcome, { incomplete: false, outcome: "done", key, left: 0 });
  assert.equal(posts.length, 1);
  assert.equal(posts[0].headers.authorization, "Bearer fresh");
  assert.equal(posts[0].headers["idempotency-key"], key);
  assert.equal(await env.server.orders(), 1);
});

test("a 401 calls the headers hook once more and repeats the attempt with the same key (token refresh)", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  // An API gateway in front of the reference server that accepts only the fresh token.
  await page.route("**/api/orders", (route) =>
    route.request().method() === "POST" && route.request().headers().authorization !== "Bearer v2"
      ? route.fulfill({ status: 401, contentType: "application/problem+json", body: '{"title":"token expired"}' })
      : route.continue(),
  );
  const result = await page.evaluate(async () => {
    let calls = 0;
    const so = new sendonce.Sendonce({ namespace: "refresh", headers: () => ({ Authorization: `Bearer v${++calls}` }) });
    const reply = await so.action("pay", { amount: 7 }).send("/api/orders");
    return { outcome: reply.outcome, calls };
  });
  assert.deepEqual(result, { outcome: "done", calls: 2 });
  assert.equal(posts.length, 2);
  assert.equal(posts[0].headers["idempotency-key"], posts[1].headers["idempotency-key"]);
  assert.equal(await env.server.orders(), 1);
});

test("two tabs with the same data, started in the same millisecond, place one order under one key (50 pairs)", async () => {
  const a = await blank();
  const b = await blank();
  const rounds = 50;
  for (const page of [a, b]) {
    await page.evaluate(() => (window.so = new sendonce.Sendonce({ namespace: "twins" })));
  }
  const keys = [];
  for (let i = 0; i < rounds; i++) {
    const at = Date.now() + 150;
    const start = (page) =>
      page.evaluate(
        async ({ at, i }) => {
          while (Date.now() < at) await new Promise((r) => setTimeout(r, 0));
          const action = so.action("createOrder", { orderRef: `pair-${i}`, item: "tea" });
          const reply = await action.send("/api/orders");
          return { key: reply.key, outcome: reply.outcome };
        },
        { at, i },
      );
    const [ra, rb] = await Promise.all([start(a), start(b)]);
    keys.push([ra.key, rb.key]);
    assert.ok(/done|already_received/.test(ra.outcome) && /done|already_received/.test(rb.outcome), JSON.stringify([ra, rb]));
  }
  const orders = (await env.server.json("/api/orders")).orders;
  const refs = orders.map((o) => JSON.stringify(o)).map((s) => s.match(/pair-\d+/)?.[0]);
  assert.equal(orders.length, rounds, `one order per pair (pairs with two keys: ${keys.filter(([x, y]) => x !== y).length})`);
  assert.equal(new Set(refs).size, rounds);
  assert.ok(keys.every(([x, y]) => x === y), "both tabs end with the same key");
});

/** Fills localStorage with another library's data until it refuses more. */
async function fillStorage(page) {
  await page.evaluate(() => {
    let chunk = "x".repeat(256 * 1024);
    let i = 0;
    while (chunk.length > 16) {
      try {
        localStorage.setItem(`otherlib:${i++}`, chunk);
      } catch {
        chunk = chunk.slice(0, chunk.length >> 1);
      }
    }
  });
}

test("a full storage: the pending action is said not to be persisted (event and persisted: false)", async () => {
  const page = await blank();
  await fillStorage(page);
  const r = await page.evaluate(async () => {
    const events = [];
    const so = new sendonce.Sendonce({ namespace: "full", onEvent: (e) => events.push(e.type) });
    window.dispatchEvent(new Event("offline"));
    await so.action("createOrder", { item: "tea", note: "y".repeat(2000) }).send("/api/orders");
    return { events, pending: so.pending() };
  });
  assert.ok(r.events.includes("storage.fallback"), r.events.join());
  assert.equal(r.pending.length, 1);
  assert.equal(r.pending[0].persisted, false);
});

test("a full storage: finished records of our own are evicted so the pending action survives a reload", async () => {
  const page = await blank();
  // Three finished orders of ours, then another library fills the rest.
  await page.evaluate(async () => {
    const so = new sendonce.Sendonce({ namespace: "room" });
    for (let i = 0; i < 3; i++) await so.action("createOrder", { n: i, pad: "p".repeat(1500) }).send("/api/orders");
  });
  await fillStorage(page);
  const r = await page.evaluate(async () => {
    const events = [];
    const so = new sendonce.Sendonce({ namespace: "room", onEvent: (e) => events.push(e.type) });
    window.dispatchEvent(new Event("offline"));
    const a = so.action("createOrder", { n: 99, pad: "q".repeat(1000) });
    await a.send("/api/orders");
    return { key: a.key, events, pending: so.pending() };
  });
  assert.ok(!r.events.includes("storage.fallback"), r.events.join());
  assert.equal(r.pending[0].persisted, true);
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  const after = await page.evaluate(() => new sendonce.Sendonce({ namespace: "room" }).pending().map((p) => p.key));
  assert.deepEqual(after, [r.key]);
});

/** An order form bound on the blank page; `options` go to so.form(). */
async function bindOrder(page, ns, options = {}, soOptions = {}) {
  await page.evaluate(
    ({ ns, options, soOptions }) => {
      document.querySelector("#root").innerHTML = `<form id="order"><input name="item" value="tea">
        <input name="qty" type="number" value="2"><button id="go" type="submit">Place order</button><p id="st"></p></form>`;
      window.statuses = [];
      const so = new sendonce.Sendonce({ namespace: ns, ...soOptions });
      const f = so.form("#order", { action: "createOrder", url: "/api/orders", status: "#st", ...options });
      f.onStatus((s) => window.statuses.push(s.code));
    },
    { ns, options, soOptions },
  );
}

test("Enter and Space keep the focus on the guarded button, and busyLabel shows while sending", async () => {
  const page = await blank();
  await bindOrder(page, "focus", { busyLabel: "Placing order..." });
  await env.server.arm("/api/orders", ["delay=700"]);
  await page.locator("#go").focus();
  await page.keyboard.press("Enter");
  const during = await page.evaluate(() => ({
    focused: document.activeElement?.id,
    label: document.querySelector("#go").textContent,
    aria: document.querySelector("#go").getAttribute("aria-disabled"),
  }));
  assert.deepEqual(during, { focused: "go", label: "Placing order...", aria: "true" });
  await page.keyboard.press(" "); // swallowed: joins the order in flight
  await statusIs(page, "Sent");
  const after = await page.evaluate(() => ({ focused: document.activeElement?.id, label: document.querySelector("#go").textContent }));
  assert.deepEqual(after, { focused: "go", label: "Place order" });
  assert.equal(await env.server.orders(), 1);
});

test("the status element offers a real Retry button after a failure; it resends with the same key", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  await bindOrder(page, "retrybtn", {}, { retry: { attempts: 1 } });
  await env.server.arm("/api/orders", ["500"]);
  await page.locator("#go").click();
  await page.waitForFunction(() => document.querySelector("#st + button.sendonce-retry") !== null);
  assert.equal(await page.locator("#st").textContent(), "Something went wrong. Retry?");
  assert.equal(await page.locator("#st + button.sendonce-retry").textContent(), "Retry");
  await page.locator("#st + button.sendonce-retry").click();
  await statusIs(page, "Sent");
  assert.equal(await page.locator("button.sendonce-retry").count(), 0, "gone once sent");
  assert.equal(posts.length, 2);
  assert.equal(posts[0].headers["idempotency-key"], posts[1].headers["idempotency-key"]);
  assert.equal(await env.server.orders(), 1);
});

test("a click while offline announces the status again; an edit after success returns it to idle", async () => {
  const page = await blank();
  await bindOrder(page, "announce");
  await page.evaluate(() => window.dispatchEvent(new Event("offline")));
  await page.locator("#go").click();
  await statusIs(page, "Connection lost. Retry?");
  const changes = await page.evaluate(async () => {
    const st = document.querySelector("#st");
    const seen = [];
    const mo = new MutationObserver(() => seen.push(st.textContent));
    mo.observe(st, { childList: true, characterData: true, subtree: true });
    document.querySelector("#go").click();
    await new Promise((r) => setTimeout(r, 300));
    mo.disconnect();
    return seen;
  });
  assert.ok(changes.length >= 2 && changes.at(-1) === "Connection lost. Retry?", JSON.stringify(changes));
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await statusIs(page, "Sent");
  await page.locator("input[name=item]").fill("green tea");
  await statusIs(page, "");
  assert.equal(await page.evaluate(() => window.statuses.at(-1)), "idle");
  assert.equal(await env.server.orders(), 1);
});

test("the body format: number inputs are JSON numbers; encoding: 'urlencoded' posts what a plain HTML form posts", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  await bindOrder(page, "json-body");
  await page.locator("#go").click();
  await statusIs(page, "Sent");
  assert.deepEqual(JSON.parse(posts[0].body), { item: "tea", qty: 2 });
  await bindOrder(page, "url-body", { encoding: "urlencoded" });
  await page.locator("input[name=item]").fill("green tea & cake");
  await page.locator("#go").click();
  await statusIs(page, "Sent");
  assert.equal(posts[1].body, "item=green+tea+%26+cake&qty=2");
  assert.equal(posts[1].headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(await env.server.orders(), 2);
});

test("a form with a file sends multipart/form-data with the file, the same key on the retry; after a reload it waits for the file", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  const bind = () =>
    page.evaluate(() => {
      document.querySelector("#root").innerHTML = `<form id="up"><input name="item" value="tea">
        <input name="photo" type="file"><button id="go" type="submit">Upload</button><p id="st"></p></form>`;
      const so = new sendonce.Sendonce({ namespace: "upload" });
      so.form("#up", { action: "upload", url: "/api/orders", status: "#st" });
    });
  await bind();
  // A file on disk: the same file chosen again after the reload has the same lastModified.
  const dir = mkdtempSync(join(tmpdir(), "sendonce-upload-"));
  const file = join(dir, "receipt.txt");
  writeFileSync(file, "paid 12.50");
  utimesSync(file, new Date("2026-01-02T03:04:05Z"), new Date("2026-01-02T03:04:05Z"));
  await page.locator("input[name=photo]").setInputFiles(file);
  await env.server.arm("/api/orders", ["drop"]);
  await page.locator("#go").click();
  await statusIs(page, "We already received this request");
  assert.equal(posts.length, 2, "a dropped answer, then the retry");
  for (const p of posts) assert.match(p.headers["content-type"], /^multipart\/form-data; boundary=/);
  assert.equal(posts[0].headers["idempotency-key"], posts[1].headers["idempotency-key"]);
  const orders = (await env.server.json("/api/orders")).orders;
  assert.equal(orders.length, 1);
  assert.deepEqual({ ...orders[0].order.photo, sha256: undefined }, { file: "receipt.txt", size: 10, type: "text/plain", sha256: undefined });
  // Offline, then a reload: the file is gone, so the submission waits for the user.
  await page.locator("input[name=item]").fill("coffee");
  await page.evaluate(() => window.dispatchEvent(new Event("offline")));
  await page.locator("#go").click();
  await statusIs(page, "Connection lost. Retry?");
  const key = await page.evaluate(() => new sendonce.Sendonce({ namespace: "upload" }).pending()[0].key);
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  await bind();
  await page.waitForTimeout(500);
  assert.equal(posts.length, 2, "not resent without its file");
  assert.equal(await page.evaluate(() => new sendonce.Sendonce({ namespace: "upload" }).pending()[0].incomplete), true);
  await page.locator("input[name=photo]").setInputFiles(file);
  await page.locator("#go").click();
  await statusIs(page, "Sent");
  assert.equal(posts.length, 3);
  assert.equal(posts[2].headers["idempotency-key"], key, "the same data and file keep the key");
  assert.equal(await env.server.orders(), 2);
});

test("qr.bind() with a failing handler reports it (status element, onStatus, onError), no unhandled rejection, and the button works again", async () => {
  const page = await blank();
  const r = await page.evaluate(async () => {
    const unhandled = [];
    window.addEventListener("unhandledrejection", (e) => unhandled.push(String(e.reason)));
    document.querySelector("#root").innerHTML = `<button id="qr">Open ticket</button><p id="qst"></p>`;
    const so = new sendonce.Sendonce({ namespace: "qrfail", storage: "memory" });
    const qr = so.quickReplies({ conversationId: "c-fail" });
    const statuses = [];
    const errors = [];
    let calls = 0;
    qr.bind(document.querySelector("#qr"), "createTicket|orderId=1", async () => {
      calls++;
      throw new Error("backend down");
    }, { status: "#qst", onStatus: (s) => statuses.push(s.code), onError: (e) => errors.push(e.message) });
    document.querySelector("#qr").click();
    await new Promise((res) => setTimeout(res, 300));
    return {
      unhandled,
      statuses,
      errors,
      calls,
      text: document.querySelector("#qst").textContent,
      busy: document.querySelector("#qr").getAttribute("aria-disabled"),
    };
  });
  assert.deepEqual(r, {
    unhandled: [],
    statuses: ["sending", "failed"],
    errors: ["backend down"],
    calls: 1,
    text: "Something went wrong. Retry?",
    busy: null,
  });
});

const LOGIN_ONLY = `<form id="signin"><input name="user" value="ada"><input name="password" type="password">
  <button id="go" type="submit">Log in</button><p id="st"></p></form>`;

/** A login form whose replies go to `window.replies`; `options` are the form's. */
async function bindSignin(page, ns, options = {}) {
  await page.evaluate(
    ({ html, ns, options }) => {
      document.querySelector("#root").innerHTML = html;
      window.replies = [];
      const so = new sendonce.Sendonce({ namespace: ns });
      so.form("#signin", { action: "login", url: "/api/orders", status: "#st", ...options }).onReply((r) =>
        window.replies.push({ outcome: r.outcome, body: r.body, key: r.key }),
      );
    },
    { html: LOGIN_ONLY, ns, options },
  );
}

test("a login form: a wrong password (401), then the right one, is a new request; a repeat without a kept reply asks the server; after a reload it logs in again", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  // A login endpoint in front of the reference server: it records every attempt (so a key
  // reused with another password is a 422 there) and answers 401 to a wrong password.
  await page.route("**/api/orders", async (route) => {
    const response = await route.fetch();
    const wrong = route.request().method() === "POST" && !(route.request().postData() ?? "").includes("right-pw");
    if (wrong) await route.fulfill({ status: 401, contentType: "application/problem+json", body: '{"title":"wrong password"}' });
    else await route.fulfill({ response });
  });
  await bindSignin(page, "login401");
  await page.locator("input[name=password]").fill("wrong-pw");
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 1);
  await page.locator("input[name=password]").fill("right-pw");
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 2);
  const [first, second] = await page.evaluate(() => window.replies);
  assert.equal(first.outcome, "rejected");
  assert.equal(second.outcome, "done", JSON.stringify(second));
  assert.notEqual(posts[1].headers["idempotency-key"], posts[0].headers["idempotency-key"], "another password is another request");
  assert.ok(second.body, "the server's answer reaches the page");
  // The same login again: the reply was not stored (it may hold a token); the live action
  // answers from memory, or the server is asked with the same key: the body comes back.
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 3);
  const third = (await page.evaluate(() => window.replies))[2];
  for (const p of posts.slice(2)) assert.equal(p.headers["idempotency-key"], posts[1].headers["idempotency-key"]);
  assert.equal(third.outcome, "already_received");
  assert.deepEqual(third.body, second.body, "the reply's body, not null");
  // The same from another binding (no live action): storage kept no reply to give, so the
  // server is asked with the same key and its replay carries the body.
  await bindSignin(page, "login401");
  await page.locator("input[name=password]").fill("right-pw");
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 1);
  const fourth = (await page.evaluate(() => window.replies))[0];
  assert.equal(fourth.outcome, "already_received", JSON.stringify(fourth));
  assert.deepEqual(fourth.body, second.body, "the replay's body, not null");
  assert.ok(!(await everythingStored(page)).includes("right-pw"));
  // After a reload the page cannot tell whether the password is the same: a new login.
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  await bindSignin(page, "login401");
  await page.locator("input[name=password]").fill("right-pw");
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 1);
  const again = (await page.evaluate(() => window.replies))[0];
  assert.equal(again.outcome, "done", JSON.stringify(again));
  assert.ok(again.body, "a body, not null");
  assert.equal(await env.server.orders(), 3, "three logins the server made: wrong, right, after the reload");
});

test("window: 0 turns a form's local repeats off: the same login twice is two requests", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  await bindSignin(page, "login0", { window: 0 });
  await page.locator("input[name=password]").fill("right-pw");
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 1);
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 2);
  const replies = await page.evaluate(() => window.replies);
  assert.deepEqual(replies.map((r) => r.outcome), ["done", "done"]);
  assert.equal(posts.length, 2);
  assert.notEqual(replies[0].key, replies[1].key);
});

test("a refused submit, a reload, then corrected data: a new key, never the refused one (no 'This request changed')", async () => {
  // A promo code refused with 400; the refused action's record is gone with its window
  // (`window: 0`, or any window after it passed) while the draft, which outlives it, still
  // holds the key it was sent with. The reference server behind the route records each key
  // with its body, so the refused key with another body would be its 422.
  const page = await blank();
  const posts = watchPosts(page);
  await page.route("**/api/orders", async (route) => {
    const response = await route.fetch();
    const bad = route.request().method() === "POST" && (route.request().postData() ?? "").includes("bad-code");
    if (bad) await route.fulfill({ status: 400, contentType: "application/problem+json", body: '{"title":"unknown code"}' });
    else await route.fulfill({ response });
  });
  const bind = () =>
    page.evaluate(() => {
      document.querySelector("#root").innerHTML = `<form id="promo"><input name="code">
        <button id="go" type="submit">Apply</button><p id="st"></p></form>`;
      window.replies = [];
      const so = new sendonce.Sendonce({ namespace: "promo" });
      so.form("#promo", { action: "applyCode", url: "/api/orders", status: "#st", window: 0 }).onReply((r) =>
        window.replies.push({ outcome: r.outcome, key: r.key }),
      );
    });
  await bind();
  await page.locator("input[name=code]").fill("bad-code");
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 1);
  assert.equal((await page.evaluate(() => window.replies))[0].outcome, "rejected");
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  await bind();
  await page.locator("input[name=code]").fill("good-code");
  await page.locator("#go").click();
  await page.waitForFunction(() => window.replies.length === 1);
  const after = (await page.evaluate(() => window.replies))[0];
  assert.equal(after.outcome, "done", JSON.stringify(after));
  assert.equal(await page.locator("#st").textContent(), "Sent");
  assert.equal(posts.length, 2);
  assert.notEqual(posts[1].headers["idempotency-key"], posts[0].headers["idempotency-key"], "the refused key is not reused");
});

/** A file on disk with a fixed modification time (the same file chosen again matches). */
function receiptFile() {
  const dir = mkdtempSync(join(tmpdir(), "sendonce-upload-"));
  const file = join(dir, "receipt.txt");
  writeFileSync(file, "paid 12.50");
  utimesSync(file, new Date("2026-01-02T03:04:05Z"), new Date("2026-01-02T03:04:05Z"));
  return file;
}

async function bindUpload(page, ns) {
  await page.evaluate((ns) => {
    document.querySelector("#root").innerHTML = `<form id="pay"><input name="item" value="tea">
      <input name="receipt" type="file"><button id="go" type="submit">Pay</button><p id="st"></p></form>`;
    window.statuses = [];
    const so = new sendonce.Sendonce({ namespace: ns });
    so.form("#pay", { action: "pay", url: "/api/orders", status: "#st" }).onStatus((s) => window.statuses.push(s));
  }, ns);
}

test("multipart retries send the same bytes: a server that fingerprints the raw body replays the order", async () => {
  const strict = await startServer({ args: ["--quirks", "order-sensitive"] });
  try {
    const page = await openPage(env.context, strict.url + "/test/e2e.html");
    const posts = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname === "/api/orders") posts.push(r);
    });
    await bindUpload(page, "bytes");
    await page.locator("input[name=receipt]").setInputFiles(receiptFile());
    await strict.arm("/api/orders", ["drop"]);
    await page.locator("#go").click();
    await statusIs(page, "We already received this request");
    assert.equal(posts.length, 2, "a dropped answer, then the retry");
    assert.equal(await strict.orders(), 1);
    const [a, b] = posts.map((r) => r.headers()["content-type"]);
    assert.match(a, /^multipart\/form-data; boundary=/);
    assert.equal(a, b, "one boundary for the action");
  } finally {
    await strict.cleanup();
  }
});

test("a file form reloaded mid-send waits for its file by name, and Pay without it sends nothing; with it, the same key", async () => {
  let page = await blank();
  const posts = watchPosts(page);
  await bindUpload(page, "reload-file");
  const file = receiptFile();
  await page.locator("input[name=receipt]").setInputFiles(file);
  await env.server.arm("/api/orders", ["delay=1500"]);
  await page.locator("#go").click();
  await page.waitForFunction(() => window.statuses.some((s) => s.code === "sending"));
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  await bindUpload(page, "reload-file");
  const pending = await page.evaluate(() => new sendonce.Sendonce({ namespace: "reload-file" }).pending());
  assert.equal(pending.length, 1);
  assert.equal(pending[0].incomplete, true);
  assert.deepEqual(pending[0].waitingFor, ["file:receipt.txt"]);
  await page.waitForFunction(() => document.querySelector("#st").textContent.includes("receipt.txt"));
  // Pay again without the file: nothing is sent, the status still names the file.
  await page.locator("#go").click();
  await page.waitForFunction(() => window.statuses.length > 0);
  await page.waitForTimeout(300);
  assert.equal(posts.length, 1, "nothing sent without the file");
  assert.match(await page.locator("#st").textContent(), /receipt\.txt/);
  assert.equal(await page.evaluate(() => new sendonce.Sendonce({ namespace: "reload-file" }).pending().length), 1);
  await page.locator("input[name=receipt]").setInputFiles(file);
  await page.locator("#go").click();
  await page.waitForFunction(() => /Sent|already received/.test(document.querySelector("#st").textContent), null, { timeout: 15_000 });
  // (A 409 "still in progress" for the request cut by the reload may come first: retried.)
  assert.ok(posts.length >= 2);
  for (const p of posts) assert.equal(p.headers["idempotency-key"], pending[0].key, "the same data and file keep the key");
  assert.equal(await env.server.orders(), 1, "one order");
  assert.equal(await page.evaluate(() => new sendonce.Sendonce({ namespace: "reload-file" }).pending().length), 0);
});

test("a form refused before sending shows a calm status; the developer detail goes to onStatus's error and the event", async () => {
  const page = await blank();
  const posts = watchPosts(page);
  const seen = await page.evaluate(() => {
    document.querySelector("#root").innerHTML = `<form id="big"><textarea name="note"></textarea>
      <button id="go" type="submit">Send</button><p id="st"></p></form>`;
    window.events = [];
    window.seen = [];
    const so = new sendonce.Sendonce({ namespace: "big", maxPayloadBytes: 64, onEvent: (e) => window.events.push(e) });
    so.form("#big", { action: "note", url: "/api/orders", status: "#st" }).onStatus((s) =>
      window.seen.push({ code: s.code, text: s.text, error: s.error && { name: s.error.name, code: s.error.code, message: s.error.message } }),
    );
    document.querySelector("textarea").value = "x".repeat(200);
    document.querySelector("#go").click();
    return window.seen;
  });
  assert.equal(posts.length, 0);
  const text = await page.locator("#st").textContent();
  assert.equal(text, "Something went wrong. Retry?");
  assert.doesNotMatch(text, /payload|maxPayloadBytes/);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].code, "failed");
  assert.equal(seen[0].error?.code, "payload_too_large");
  assert.match(seen[0].error.message, /maxPayloadBytes/);
  const events = await page.evaluate(() => window.events.filter((e) => e.type === "status" && e.code === "failed"));
  assert.equal(events.length, 1);
  assert.match(events[0].detail ?? "", /payload_too_large/);
});
