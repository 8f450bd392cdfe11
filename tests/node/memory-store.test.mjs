// Node >= 20: the memory store keeps its records out of the wasm memory, which never shrinks.
// Before, each record's text lived in the wasm memory until the 5 MiB quota filled, and the first
// eviction pass built tables of every record at once: 6.75 MiB more wasm memory after the
// 10,000 actions below (20.8 MiB more after 100,000 in `bench/memory.mjs`), held for the life
// of the page. Now the values live
// in JS (`js/platform.js`) and the wasm keeps only its decisions; a pass reads one entry at a
// time. What the store does is unchanged: the quota, the eviction order, answers from it.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";

let wasm;
before(async () => {
  wasm = await init();
});

const mib = () => wasm.memory.buffer.byteLength / 2 ** 20;

test("wasm memory stays flat over memory storage: records fill the quota and are evicted without growing it", { timeout: 170_000 }, async () => {
  const sent = [];
  // Kept with each finished action (replies up to 2,048 bytes are stored).
  const answer = JSON.stringify({ id: 1, receipt: "r".repeat(900) });
  const fetch = async (url, init) => {
    sent.push(JSON.parse(init.body).id);
    return new Response(answer, { status: 201, headers: { "content-type": "application/json" } });
  };
  const so = new Sendonce({ storage: "memory", namespace: "flat", fetch, windows: { default: "24h" } });
  const order = (i) => ({ id: i, customer: { name: "Ana Souza" }, items: [{ sku: "SKU-1", qty: 2 }], note: "x".repeat(200) });
  const send = async (i) => {
    const a = so.action("order", order(i));
    const reply = await a.send("/api/orders", { method: "POST" });
    a.free();
    return reply;
  };
  const start = mib();
  // About 1.4 KB of records per action: the 5 MiB quota fills after some 4,000, and the
  // store is evicted from then on (a pass every 500 actions or so).
  for (let i = 0; i < 10_000; i += 1) await send(i);
  const after = mib();
  // Before: 6.75 MiB more. The wasm holds no record now; what is left is the allocator's
  // working set.
  assert.ok(after - start < 2, `wasm memory grew from ${start} to ${after} MiB over 10,000 actions`);

  // The store still works as one: the latest action is answered from it (no request), the
  // oldest was evicted (its repeat is a new request).
  const before = sent.length;
  assert.equal((await send(9_999)).outcome, "already_received");
  assert.equal(sent.length, before, "the latest finished record was kept");
  await send(0);
  assert.equal(sent.length, before + 1, "the oldest finished record was evicted");
  so.dispose();
});

test("finished actions leave no JS value behind in the wasm: its table of JS values stays the same size", { timeout: 170_000 }, async () => {
  // wasm-bindgen's table of the JS values the wasm holds (one slot each, with 4 bytes of wasm
  // memory to track it). Before, every finished action leaked 4 slots in Node (a property read
  // on `navigator`, which Node lacks, threw, and the slot of each throwing call was never
  // given back): the table grew from some 2,000 slots to 17,000 over 3,000 actions, and the
  // wasm memory with it, without end.
  const table = Object.values(wasm).find((v) => v instanceof WebAssembly.Table);
  assert.ok(table, "the module exports its table of JS values");
  const fetch = async () => new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });
  const so = new Sendonce({ storage: "memory", namespace: "slots", fetch });
  const send = async (i) => {
    const a = so.action("order", { id: i });
    await a.send("/api/orders", { method: "POST" });
    a.free();
  };
  for (let i = 0; i < 200; i += 1) await send(i);
  const early = table.length;
  for (let i = 200; i < 3_000; i += 1) await send(i);
  assert.ok(table.length <= early + 512, `the table grew from ${early} to ${table.length} slots over 2,800 actions`);
  so.dispose();
});

test("callbacks that throw leave no JS value behind either: an adapter, an event listener, a fetch", { timeout: 170_000 }, async () => {
  // Every import that wasm-bindgen marks `catch` and that hands back a value leaked a slot of
  // its table (and kept the thrown value alive) each time it threw: a storage adapter whose
  // `set` throws (a full disk, a closed connection) leaked six per action, for good. The wasm
  // now calls every function of its caller's through one call that returns what was thrown.
  const table = Object.values(wasm).find((v) => v instanceof WebAssembly.Table);
  const store = new Map();
  const adapter = {
    get: (k) => store.get(k) ?? null,
    set: () => {
      throw new Error("the store is full");
    },
    delete: (k) => void store.delete(k),
    keys: (p) => [...store.keys()].filter((k) => k.startsWith(p)),
  };
  let requests = 0;
  const fetch = (url, init) => {
    requests += 1;
    if (JSON.parse(init.body).id % 2) throw new TypeError("this fetch throws at once");
    return Promise.resolve(new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } }));
  };
  const so = new Sendonce({
    storage: adapter,
    namespace: "throwing",
    fetch,
    retry: { attempts: 1 },
    onEvent: () => {
      throw new Error("a listener that throws");
    },
  });
  const outcomes = new Map();
  const send = async (i) => {
    const a = so.action("order", { id: i });
    const reply = await a.send("/api/orders", { method: "POST" }).catch((e) => ({ outcome: e.code }));
    outcomes.set(reply.outcome, (outcomes.get(reply.outcome) ?? 0) + 1);
    a.free();
  };
  for (let i = 0; i < 100; i += 1) await send(i);
  const early = table.length;
  for (let i = 100; i < 1_100; i += 1) await send(i);
  assert.ok(table.length <= early + 256, `the table grew from ${early} to ${table.length} slots over 1,000 actions`);
  // What the user sees is unchanged by the throwing callbacks: each action went out once,
  // the even ones answered, the odd ones (their fetch threw) not.
  assert.equal(requests, 1_100);
  assert.equal(outcomes.get("done"), 550, JSON.stringify([...outcomes]));
  so.dispose();
});

test("bad input refused over and over leaves no JS value behind: header pairs that are not pairs", { timeout: 60_000 }, async () => {
  // A header pair that is not an object made `Reflect.get` throw inside the wasm's import, one
  // leaked slot per pair; the refusal itself (invalid_option, nothing sent) is unchanged.
  const table = Object.values(wasm).find((v) => v instanceof WebAssembly.Table);
  let requests = 0;
  const fetch = async () => {
    requests += 1;
    return new Response("{}", { status: 201, headers: { "content-type": "application/json" } });
  };
  const so = new Sendonce({ storage: "memory", namespace: "badpairs", fetch });
  const refuse = async (i) => {
    const a = so.action("order", { id: i });
    const code = await a.send("/api/orders", { headers: [["Accept", "application/json"], "xy", 7] }).then(
      () => "sent",
      (e) => e.code,
    );
    assert.equal(code, "invalid_option");
    a.free();
  };
  for (let i = 0; i < 100; i += 1) await refuse(i);
  const early = table.length;
  for (let i = 100; i < 2_100; i += 1) await refuse(i);
  assert.ok(table.length <= early + 256, `the table grew from ${early} to ${table.length} slots over 2,000 refusals`);
  assert.equal(requests, 0, "nothing was sent");
  so.dispose();
});
