// Node >= 20: a broken random source (a no-op `crypto.getRandomValues` polyfill, or one that
// repeats itself) makes no key: every user would otherwise share
// 00000000-0000-4000-8000-000000000000. sendonce refuses with `weak_random` and sends nothing.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";

before(async () => {
  await init();
});

/** Runs `fn` with `crypto.getRandomValues` replaced by `fake`, then puts the real one back. */
async function withRandom(fake, fn) {
  const crypto = globalThis.crypto;
  const real = crypto.getRandomValues;
  Object.defineProperty(crypto, "getRandomValues", { value: fake, configurable: true, writable: true });
  try {
    await fn();
  } finally {
    delete crypto.getRandomValues;
    if (crypto.getRandomValues !== real) {
      Object.defineProperty(crypto, "getRandomValues", { value: real, configurable: true, writable: true });
    }
  }
}

function countingFetch() {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push(init.headers["Idempotency-Key"]);
    return new Response("{}", { status: 201, headers: { "content-type": "application/json" } });
  };
  return { calls, fetch };
}

function isWeakRandom(e) {
  assert.equal(e?.name, "SendonceError", `${e?.name}: ${e?.message}`);
  assert.equal(e.code, "weak_random", e.message);
  return true;
}

test("a no-op getRandomValues polyfill gives weak_random, not the all-zero key, and nothing is sent", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  await withRandom((array) => array, async () => {
    assert.throws(() => so.action("createOrder", { item: "tea" }), isWeakRandom);
    assert.throws(() => so.action("createOrder", { item: "coffee" }, { window: "10s" }), isWeakRandom);
    const chat = so.chat({ conversationId: "c-1", url: "/api/messages" });
    assert.throws(() => chat.send("hello"), isWeakRandom);
    assert.equal(chat.messages.length, 0);
  });
  assert.equal(calls.length, 0);
  // With the real source back, keys are made again, and never the all-zero one.
  const action = so.action("createOrder", { item: "tea" });
  assert.notEqual(action.key, "00000000-0000-4000-8000-000000000000");
  assert.equal((await action.send("/api/orders")).outcome, "done");
  assert.deepEqual(calls, [action.key]);
});

test("a polyfill that returns the same bytes every time gives weak_random instead of two users' actions sharing a key", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const fixed = Uint8Array.from([0x8f, 0x12, 0xa0, 0x33, 0x01, 0xfe, 0x77, 0x5d, 0xc4, 0x09, 0x61, 0xb2, 0x3e, 0xd8, 0x40, 0x1a]);
  const keys = [];
  await withRandom((array) => (array.set(fixed.subarray(0, array.length)), array), async () => {
    // The first draw cannot be told apart from a real one; the second repeats it.
    let refused = 0;
    for (const item of ["tea", "coffee", "cake"]) {
      try {
        keys.push(so.action("createOrder", { item }).key);
      } catch (e) {
        isWeakRandom(e);
        refused += 1;
      }
    }
    assert.ok(refused >= 2, `${refused} refused`);
  });
  assert.ok(keys.length <= 1);
  assert.equal(new Set(keys).size, keys.length, "no two actions share a key");
  assert.equal(calls.length, 0);
});

test("a random source never gets a view of the module's memory: bytes a polyfill writes later change no key", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const real = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
  const kept = [];
  let action;
  await withRandom((array) => (kept.push(array), real(array)), async () => {
    action = so.action("createOrder", { item: "tea" });
  });
  const key = action.key;
  assert.ok(kept.length >= 1, "the page's getRandomValues was called");
  for (const array of kept) {
    // Its own 16 bytes, not a window into the wasm memory (megabytes).
    assert.equal(array.buffer.byteLength, array.length);
    array.fill(0xff); // what a misbehaving polyfill might do later
  }
  assert.equal(action.key, key);
  assert.equal((await action.send("/api/orders")).outcome, "done");
  assert.deepEqual(calls, [key]);
  const next = so.action("createOrder", { item: "coffee" });
  assert.notEqual(next.key, key);
});

test("a send over a store with claims whose lease token cannot be drawn makes no claim with a made-up token: an event says so, and it is sent once with its key", async () => {
  const { calls, fetch } = countingFetch();
  const { memoryClaims } = await import("./support/claims.mjs");
  const store = memoryClaims();
  const claimed = [];
  const claim = store.claim;
  store.claim = (k, v, ttl) => {
    claimed.push([k, v]);
    return claim(k, v, ttl);
  };
  const events = [];
  const so = new Sendonce({ storage: store, fetch, onEvent: (e) => events.push(e) });
  const action = so.action("createOrder", { item: "tea" });
  let reply;
  // The key was drawn; the draws after it (the lease's token) fail.
  await withRandom((array) => array, async () => {
    reply = await action.send("/api/orders");
  });
  assert.equal(reply.outcome, "done");
  assert.deepEqual(calls, [action.key]);
  const leases = claimed.filter(([k]) => k.includes(":l:"));
  assert.deepEqual(leases, [], `no lease claimed: ${JSON.stringify(claimed)}`);
  assert.ok(claimed.every(([, v]) => v !== "sendonce"), "never the constant token");
  assert.ok(
    events.some((e) => e.type === "storage.fallback" && /token/.test(e.detail ?? "")),
    JSON.stringify(events.map((e) => [e.type, e.detail])),
  );
  so.dispose();
});
