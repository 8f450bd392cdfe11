// Wasm memory and per-action time in Node (the same V8 as Chromium), for one package entry:
// 100,000 actions (create + send to a stub that answers 201 at once, memory storage, each
// action freed after its send), then the largest payload `maxPayloadBytes` allows at its
// default (1 MiB), and a check that one byte more is refused; then the same actions over an
// async storage adapter, and creates on a memory store over its quota (issue 19). wasm memory
// never shrinks, so each figure is the high-water mark. `figure` is issue 21's: what N actions
// added to the wasm memory over memory storage and over an async adapter (target: <= 4 MiB
// each, and flat: the last third of the actions adds nothing).
// Prints one JSON line. Usage: node bench/memory.mjs [entry (pkg/node.js)] [actions (100000)]
import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join, resolve } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = resolve(root, process.argv[2] ?? "pkg/node.js");
const actions = Number(process.argv[3] ?? 100_000);
const mod = await import(pathToFileURL(entry).href);
const wasm = await mod.default();
const mib = () => wasm.memory.buffer.byteLength / 2 ** 20;

const reply = () => new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });
const fetch = async () => reply();
const so = new mod.Sendonce({ storage: "memory", namespace: "mem", fetch });
const order = (i) => ({ id: i, customer: { name: "Ana Souza" }, items: [{ sku: "SKU-1", qty: 2, price: 9.5 }], note: "x".repeat(200) });

if (process.argv[4] === "adapter") {
  const map = new Map();
  const adapter = {
    get: async (k) => (map.has(k) ? map.get(k) : null),
    set: async (k, v) => void map.set(k, v),
    delete: async (k) => void map.delete(k),
    keys: async (p) => [...map.keys()].filter((k) => k.startsWith(p)),
  };
  const bot = new mod.Sendonce({ storage: adapter, namespace: "bot", fetch, windows: { default: "24h" } });
  const third = Math.max(1, Math.floor(actions / 3));
  const run = async (from, to) => {
    for (let i = from; i < to; i += 1) {
      const a = bot.action("order", order(i));
      await a.send("/api/orders", { method: "POST" });
      a.free();
    }
  };
  const startMiB = mib();
  const t0 = performance.now();
  await run(0, 2 * third);
  const afterTwoThirdsMiB = mib();
  await run(2 * third, 3 * third);
  const afterMiB = mib();
  const msPerAction = (performance.now() - t0) / (3 * third);
  console.log(JSON.stringify({ actions: 3 * third, startMiB, afterTwoThirdsMiB, afterMiB, msPerAction }));
  process.exit(0);
}

const start = mib();
const times = [];
let afterTwoThirds = start;
const t0 = performance.now();
for (let i = 0; i < actions; i += 1) {
  if (i === Math.floor((2 * actions) / 3)) afterTwoThirds = mib();
  const a0 = performance.now();
  const a = so.action("order", order(i));
  await a.send("/api/orders", { method: "POST" });
  a.free();
  times.push(performance.now() - a0);
}
const elapsed = performance.now() - t0;
const afterActions = mib();
const stats = so.stats();
so.dispose();

// The largest payload the default limit allows: one string member filling 1 MiB of JSON.
const limit = 1 << 20;
const big = new mod.Sendonce({ storage: "memory", namespace: "big", fetch });
// The largest accepted size (the limit counts the JSON text; a few bytes of margin are
// looked for downwards, each refused try costs nothing: it is refused before anything is built).
let payload;
let a;
for (let n = limit - 11; !a; n -= 1) {
  payload = { note: "y".repeat(n) };
  try {
    a = big.action("big", payload);
  } catch (e) {
    if (e.code !== "payload_too_large") throw e;
  }
}
const largestBytes = JSON.stringify(payload).length;
await a.send("/api/big", { method: "POST" });
a.free();
const afterLargest = mib();
let refused = null;
try {
  big.action("big", { note: payload.note + "y" });
} catch (e) {
  refused = e.code;
}
big.dispose();

// Issue 19: over an async storage adapter (the Node bot set-up), wasm memory after 2N/3 and
// after N actions, in a process of its own (wasm memory is a high-water mark: the memory
// store's figures above would hide it), and what the last third added (the adapter's
// in-memory mirror is bounded: nothing once it is full); then a memory store over its quota
// with records it may not evict (orders paused offline): the median create there against the
// median create on an empty store.
const adapterRun = JSON.parse(
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), entry, String(actions), "adapter"], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  }),
);

const offline = new mod.Sendonce({
  storage: "memory",
  namespace: "full",
  fetch: async () => {
    throw new TypeError("fetch failed");
  },
  retry: { attempts: 1 },
});
const medianCreate = (tag) => {
  const t = [];
  for (let i = 0; i < 500; i += 1) {
    const s0 = performance.now();
    offline.action("probe", { tag, i }).free();
    t.push(performance.now() - s0);
  }
  t.sort((x, y) => x - y);
  return t[250];
};
const emptyCreate = medianCreate("empty");
for (let i = 0; i < 300; i += 1) {
  const a = offline.action("order", { i, note: "n".repeat(20_000) });
  await a.send("/api/orders");
  a.free();
}
const fullCreate = medianCreate("full");
offline.dispose();

times.sort((x, y) => x - y);
// Issue 21's figure: added by N actions (MiB), and by their last third (flat: at most one
// 64 KiB page, the granularity of wasm memory).
const figure = {
  memoryStorageMiB: afterActions - start,
  memoryStorageLastThirdMiB: afterActions - afterTwoThirds,
  adapterMiB: adapterRun.afterMiB - adapterRun.startMiB,
  adapterLastThirdMiB: adapterRun.afterMiB - adapterRun.afterTwoThirdsMiB,
};
const page = 1 / 16;
figure.met =
  figure.memoryStorageMiB <= 4 &&
  figure.adapterMiB <= 4 &&
  figure.memoryStorageLastThirdMiB <= page &&
  figure.adapterLastThirdMiB <= page;
const at = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
console.log(
  JSON.stringify({
    entry: entry.slice(root.length + 1),
    actions,
    figure,
    startMiB: start,
    afterTwoThirdsMiB: afterTwoThirds,
    afterActionsMiB: afterActions,
    afterLargestMiB: afterLargest,
    largestBytes,
    oneByteMore: refused,
    msPerAction: { mean: elapsed / actions, median: at(0.5), p99: at(0.99) },
    adapter: adapterRun,
    overQuota: { emptyCreateMs: emptyCreate, fullCreateMs: fullCreate, ratio: fullCreate / emptyCreate },
    stats,
  }),
);
