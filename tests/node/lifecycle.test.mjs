// Node >= 20: an action's life across restarts and dispose(), against the reference server.
// `autoResume: true` sends what the last process left pending (same key, once); `uncertain`
// actions are listed after a restart and never resent on their own; dispose() ends every
// request, retry and wait, and the send()s waiting reject with `disposed`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../e2e/harness.mjs";
import { installLocalStorage } from "./support/web-storage.mjs";
import { asyncAdapter } from "./support/claims.mjs";

installLocalStorage();

const { default: init, Sendonce } = await import("../../pkg/node.js");

let server;
before(async () => {
  await init();
  server = await startServer();
});
after(async () => {
  await server?.cleanup();
});


/** The network as one process sees it: `down` throws like a lost connection; otherwise the
 * real fetch, with the key of every request recorded. */
function network() {
  const keys = [];
  const state = { down: false };
  const fetch = async (url, init) => {
    keys.push(init.headers["Idempotency-Key"]);
    if (state.down) throw new TypeError("fetch failed");
    return globalThis.fetch(url, init);
  };
  return { keys, state, fetch };
}

const waitFor = async (what, ok, ms = 20_000) => {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const orders = async () => (await (await fetch(server.url + "/api/orders")).json()).count;

for (const [name, storage] of [
  ["a storage adapter (a restarted bot process)", () => asyncAdapter(1)],
  ["localStorage (a reloaded page)", () => "local"],
]) {
  test(`autoResume over ${name}: the action left offline reaches the server once, with its key`, async () => {
    await fetch(server.url + "/api/reset", { method: "POST" });
    const store = storage();
    const ns = `auto${Math.random().toString(36).slice(2)}`;
    const first = network();
    first.state.down = true;
    const before = new Sendonce({ namespace: ns, storage: store, fetch: first.fetch, retry: { attempts: 1 } });
    const action = before.action("createOrder", { item: "tea", qty: 2 });
    const reply = await action.send(server.url + "/api/orders");
    assert.equal(reply.outcome, "offline");
    assert.equal(await orders(), 0);
    before.dispose();

    // The restart: nothing but `autoResume: true`.
    const second = network();
    const after = new Sendonce({ namespace: ns, storage: store, fetch: second.fetch, autoResume: true });
    await waitFor("the resent order", async () => (await orders()) === 1);
    assert.deepEqual(second.keys, [action.key], "sent once, with the original key");
    // Confirmed: nothing pending any more, and a later instance sends nothing again.
    await waitFor("the confirmation in storage", async () => (await after.pendingAsync()).length === 0);
    const third = network();
    const again = new Sendonce({ namespace: ns, storage: store, fetch: third.fetch, autoResume: true });
    assert.deepEqual(await again.pendingAsync(), []);
    assert.deepEqual(third.keys, []);
    assert.equal(await orders(), 1);
    for (const so of [after, again]) so.dispose();
  });
}

for (const [name, storage] of [
  ["localStorage", () => "local"],
  ["a storage adapter", () => asyncAdapter(1)],
]) {
  test(`over ${name}, an uncertain action is listed after a restart and never resent on its own`, async () => {
    await fetch(server.url + "/api/reset", { method: "POST" });
    const store = storage();
    const ns = `unc${Math.random().toString(36).slice(2)}`;
    // The request reaches the server, and the connection drops before the answer: the
    // target honours no key, so nobody knows whether the message went out.
    const first = network();
    const dropAnswer = async (url, init) => {
      await first.fetch(url, init);
      throw new TypeError("fetch failed");
    };
    const before = new Sendonce({ namespace: ns, storage: store, fetch: dropAnswer });
    const action = before.action("sendMessage", { text: "Hello" }, { idempotent: false });
    const reply = await action.send(server.url + "/api/orders");
    assert.equal(reply.outcome, "uncertain");
    assert.equal(first.keys.length, 1);
    assert.equal(await orders(), 1);
    before.dispose();

    const second = network();
    const after = new Sendonce({ namespace: ns, storage: store, fetch: second.fetch, autoResume: true });
    const pending = await after.pendingAsync();
    assert.deepEqual(
      pending.map((p) => [p.key, p.action, p.status, p.incomplete]),
      [[action.key, "sendMessage", "uncertain", false]],
      "the app can show: We are not sure this was sent",
    );
    if (typeof store === "string") assert.equal(after.pending().length, 1, "pending() lists it too");
    assert.deepEqual(await after.resumePending(), [], "resumePending() does not resend it");
    // The same message again: its status, no request.
    const again = await after.action("sendMessage", { text: "Hello" }, { idempotent: false }).send(server.url + "/api/orders");
    assert.equal(again.outcome, "uncertain");
    assert.equal(again.key, action.key);
    assert.deepEqual(second.keys, [], "never resent without a person's decision");
    assert.equal(await orders(), 1);
    after.dispose();
  });
}

test("a failed action (5xx until the attempts ran out) is listed after a reload, and waits for the user", async () => {
  const ns = `failed${Math.random().toString(36).slice(2)}`;
  const calls = [];
  const failing = async (url, init) => {
    calls.push(init.headers["Idempotency-Key"]);
    return new Response('{"title":"down"}', { status: 500, headers: { "content-type": "application/json" } });
  };
  const before = new Sendonce({ namespace: ns, fetch: failing, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
  const action = before.action("createOrder", { item: "jam" });
  assert.equal((await action.send("/api/orders")).outcome, "failed");
  before.dispose();
  const n = calls.length;
  const after = new Sendonce({ namespace: ns, fetch: failing, autoResume: true });
  assert.deepEqual(after.pending().map((p) => [p.key, p.status]), [[action.key, "failed"]]);
  assert.deepEqual(await after.resumePending(), []);
  assert.equal(calls.length, n, "not resent on its own");
  after.dispose();
});

test("dispose() ends retries in flight: no request after it, and the send rejects with disposed", async () => {
  const sent = { disposed: 0, kept: 0 };
  const busy = (which) => async () => {
    sent[which] += 1;
    return new Response("{}", { status: 503, headers: { "content-type": "application/json" } });
  };
  const retry = { attempts: 5, baseDelayMs: 20, maxDelayMs: 40 };
  const so = new Sendonce({ storage: "memory", fetch: busy("disposed"), retry });
  const kept = new Sendonce({ storage: "memory", fetch: busy("kept"), retry });
  const pending = so.action("createOrder", { n: 1 }).send("/api/orders");
  await waitFor("the first attempt", () => sent.disposed >= 1);
  so.dispose();
  const atDispose = sent.disposed;
  await assert.rejects(pending, (e) => e.name === "SendonceError" && e.code === "disposed");
  // The same retries on an instance that is not disposed: five attempts; the disposed one
  // made no more in that time.
  const reply = await kept.action("createOrder", { n: 1 }).send("/api/orders");
  assert.equal(reply.outcome, "failed");
  assert.equal(sent.kept, 5);
  assert.equal(sent.disposed, atDispose, "no request after dispose()");
  assert.ok(atDispose < 5);
  // Anything else on it is refused, retry() included.
  assert.throws(() => so.action("createOrder", { n: 2 }), (e) => e.code === "disposed");
  kept.dispose();
});

test("dispose() ends an action polling a 202 job: no poll after it", async () => {
  const polls = { n: 0 };
  const fetch = async (url) => {
    if (url.includes("/jobs/")) {
      polls.n += 1;
      return new Response('{"state":"in_progress"}', { status: 200, headers: { "content-type": "application/json" } });
    }
    return new Response("{}", { status: 202, headers: { location: "/jobs/1", "content-type": "application/json" } });
  };
  const so = new Sendonce({ storage: "memory", fetch, retry: { baseDelayMs: 10, maxDelayMs: 20, deadlineMs: 60_000 } });
  const job = so.action("export", { n: 1 });
  const done = job.send("/api/exports");
  await waitFor("a poll", () => polls.n >= 1);
  so.dispose();
  await assert.rejects(done, (e) => e.code === "disposed");
  const at = polls.n;
  // Another instance polls meanwhile; the disposed one stays quiet.
  const other = { n: 0 };
  const so2 = new Sendonce({
    storage: "memory",
    fetch: async (url) => {
      if (url.includes("/jobs/")) other.n += 1;
      return fetch(url);
    },
    retry: { baseDelayMs: 10, maxDelayMs: 20 },
  });
  const watch = so2.action("export", { n: 2 }).send("/api/exports");
  await waitFor("five polls elsewhere", () => other.n >= 5);
  assert.ok(polls.n - other.n <= at, "no poll after dispose()");
  so2.dispose();
  await watch.catch(() => {});
});

test("a Node process that disposes its instance at shutdown exits at once, while a retry waits 30 s", async () => {
  const { execFile } = await import("node:child_process");
  const pkg = new URL("../../pkg/node.js", import.meta.url).href;
  const script = `
    import init, { Sendonce } from ${JSON.stringify(pkg)};
    await init();
    const busy = async () => new Response("{}", { status: 503, headers: { "retry-after": "30", "content-type": "application/json" } });
    const so = new Sendonce({ storage: "memory", fetch: busy });
    const sent = so.action("createOrder", { n: 1 }).send("/api/orders").catch((e) => e.code);
    await new Promise((r) => setTimeout(r, 300));
    so.dispose();
    console.log(await sent);
  `;
  const t0 = Date.now();
  const out = await new Promise((resolve, reject) =>
    execFile(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 }, (e, stdout) =>
      e ? reject(e) : resolve(stdout),
    ),
  );
  assert.equal(out.trim(), "disposed");
  // Before, the retry's 30 s timer kept the process alive after dispose().
  assert.ok(Date.now() - t0 < 15_000, `the process took ${Date.now() - t0} ms to exit`);
});
