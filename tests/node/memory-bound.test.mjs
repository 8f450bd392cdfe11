// Node >= 20: memory and time per action stay bounded however long a process runs.
// - Over an async storage adapter (the Node bot set-up), the in-memory mirror of the adapter
//   is bounded like the memory store (it kept every record ever written: 0.9 KB per finished
//   action, 26.9 MiB after 30,000).
// - A memory store over its quota with records it may not evict (actions paused offline: the
//   user's orders) does not list and decode every record on every write (78-359 ms per
//   `so.action()`): the create stays about as fast as on an empty store.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";

let wasm;
before(async () => {
  wasm = await init();
});

const mib = () => wasm.memory.buffer.byteLength / 2 ** 20;
const reply = () => new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });

test("over an async storage adapter, wasm memory stops growing once the mirror is full", { timeout: 170_000 }, async () => {
  const map = new Map();
  const adapter = {
    get: async (k) => (map.has(k) ? map.get(k) : null),
    set: async (k, v) => void map.set(k, v),
    delete: async (k) => void map.delete(k),
    keys: async (p) => [...map.keys()].filter((k) => k.startsWith(p)),
  };
  const so = new Sendonce({ namespace: "bot", storage: adapter, fetch: async () => reply(), windows: { default: "24h" } });
  const order = (i) => ({ id: i, customer: { name: "Ana Souza" }, items: [{ sku: "SKU-1", qty: 2 }], note: "x".repeat(200) });
  const run = async (from, to) => {
    for (let i = from; i < to; i += 1) {
      const a = so.action("order", order(i));
      await a.send("https://api.example.test/orders");
      a.free();
    }
  };
  // About half a KB of records per action: the 1 MiB mirror is full after some 2,000.
  await run(0, 4_000);
  const full = mib();
  await run(4_000, 12_000);
  const later = mib();
  // Without a bound, 8,000 more actions hold 3.75 MiB more (measured before the fix).
  assert.ok(later - full < 1.5, `wasm memory grew from ${full} to ${later} MiB over 8,000 more actions`);
  // Everything is still in the adapter: an early action, evicted from the mirror, is
  // answered from the adapter's record (same key, no request).
  const early = so.action("order", order(1));
  const again = await early.send("https://api.example.test/orders");
  assert.equal(again.outcome, "already_received");
  so.dispose();
});

test("a memory store full of actions it may not evict keeps so.action() about as fast as an empty one", { timeout: 170_000 }, async () => {
  const so = new Sendonce({
    storage: "memory",
    namespace: "full",
    // Every order pauses offline: unfinished, so never evicted.
    fetch: async () => {
      throw new TypeError("fetch failed");
    },
    retry: { attempts: 1 },
  });
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const creates = (tag, n) => {
    const times = [];
    for (let i = 0; i < n; i += 1) {
      const t0 = performance.now();
      const a = so.action("probe", { tag, i });
      times.push(performance.now() - t0);
      a.free();
    }
    return median(times);
  };
  const empty = creates("empty", 300);
  // 300 orders of 20 KB each, paused offline: 6 MiB of records nothing may evict.
  for (let i = 0; i < 300; i += 1) {
    const a = so.action("order", { i, note: "n".repeat(20_000) });
    assert.equal((await a.send("/api/orders")).outcome, "offline");
    a.free();
  }
  assert.equal(so.pending().length, 300, "the user's orders are all kept");
  const full = creates("full", 300);
  // Before: every create listed and decoded the 6 MiB of records (tens of ms each, hundreds
  // of times the empty store's create).
  assert.ok(full < empty * 10 + 0.5, `a create took ${full.toFixed(3)} ms over the quota against ${empty.toFixed(3)} ms empty`);
  so.dispose();
});
