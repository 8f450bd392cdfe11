// Node >= 20 with a page's online/offline events (globalThis as an EventTarget) and a forced
// garbage collection: a Sendonce instance the code does not keep lives while it has work. An
// action it left offline is sent when the page comes back online (its listeners did not die
// with the JS object), and an instance with no work left goes away quietly: its listeners go
// with it, and a later online event throws nothing.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";

// What a page has: online/offline events on globalThis.
const events = new EventTarget();
globalThis.addEventListener = events.addEventListener.bind(events);
globalThis.removeEventListener = events.removeEventListener.bind(events);
const say = (name) => events.dispatchEvent(new Event(name));

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc");

const { default: init, Sendonce } = await import("../../pkg/node.js");

const thrown = [];
before(async () => {
  await init();
  process.on("uncaughtException", (e) => thrown.push(e));
});

/** Collects garbage until `collected()` says the object went, then lets finalizers run. */
async function collect(collected) {
  for (let i = 0; i < 50 && !collected(); i += 1) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(collected(), "the instance was collected");
  for (let i = 0; i < 5; i += 1) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

const waitFor = async (what, ok, ms = 10_000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

test("an instance nobody keeps resumes its offline action on online, after a garbage collection", async () => {
  const sent = [];
  const fetch = async (url, init) => {
    sent.push(init.headers["Idempotency-Key"]);
    return new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });
  };
  let collected = false;
  const registry = new FinalizationRegistry(() => (collected = true));
  const statuses = [];
  let key;
  await (async () => {
    // The page loses its connection, then the user submits; the code keeps nothing.
    const so = new Sendonce({ storage: "memory", fetch });
    say("offline");
    registry.register(so, "so");
    const action = so.action("createOrder", { item: "tea" });
    key = action.key;
    action.onStatus((s) => statuses.push(s.code));
    const reply = await action.send("/api/orders");
    assert.equal(reply.outcome, "offline");
  })();
  await collect(() => collected);
  assert.deepEqual(sent, []);
  say("online");
  await waitFor("the resent order", () => sent.length === 1);
  assert.deepEqual(sent, [key], "sent once, with its key");
  await waitFor("the status", () => statuses.at(-1) === "done");
  assert.deepEqual(thrown, [], "no listener threw");
});

test("an instance with no work left goes with its listeners: online and offline throw nothing", async () => {
  let collected = false;
  const registry = new FinalizationRegistry(() => (collected = true));
  (() => {
    const so = new Sendonce({ storage: "memory" });
    registry.register(so, "so");
  })();
  await collect(() => collected);
  say("offline");
  say("online");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(thrown, [], "no listener threw");
});
