// The in-page half of the benchmark: sendonce against a hand-written JS baseline in the same
// page, interleaved. bench/run.mjs serves this page, calls runAll() and prints the results.
// Every figure is a plain measurement; nothing here asserts a time.
import init, { Sendonce } from "/pkg/sendonce.js";

const PKG = "/pkg/sendonce.js";
const WASM = "/pkg/sendonce_bg.wasm";
const VOLATILE = new Set(["timestamp", "ts", "sentAt", "nonce", "requestId", "attempt"]);
const enc = new TextEncoder();

// ---------- statistics

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { n: s.length, median: at(0.5), p99: at(0.99), min: s[0], max: s[s.length - 1] };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- payloads

// A JSON object of about `bytes` bytes: an order with line items. `id` makes it distinct.
export function makePayload(bytes) {
  const items = [];
  const base = { id: 0, customer: { name: "Ana Souza", email: "ana@example.com" }, items, note: "" };
  let n = 0;
  while (JSON.stringify(base).length < bytes - 60) {
    items.push({ sku: `SKU-${100000 + n}`, name: `Item number ${n}`, qty: (n % 5) + 1, price: 9.5 + n });
    n++;
  }
  base.note = "x".repeat(Math.max(0, bytes - JSON.stringify(base).length - 8));
  return (id) => ({ ...base, id });
}

// One object of `bytes` of JSON with distinct member names (a wide record, a map of ids):
// what an order's repeated item names do not exercise.
function makeWidePayload(bytes) {
  const base = {};
  for (let i = 0; JSON.stringify(base).length < bytes - 40; i++) base[`field${(i * 7919) % 1000003}`] = i;
  return (id) => ({ ...base, id });
}

// ---------- the hand-written baseline

// Volatile names are left out of the top-level object only, as the SDK does.
function canonical(v, top = true) {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map((x) => canonical(x, false)).join(",") + "]";
  const keys = Object.keys(v)
    .filter((k) => v[k] !== undefined && !(top && VOLATILE.has(k)))
    .sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(v[k], false)).join(",") + "}";
}

function hex(buf) {
  let out = "";
  for (const b of new Uint8Array(buf)) out += b.toString(16).padStart(2, "0");
  return out;
}

async function baselineFingerprint(payload) {
  return hex(await crypto.subtle.digest("SHA-256", enc.encode(canonical(payload))));
}

// Key + fingerprint + persist the index (what `so.action()` persists).
export async function baselineCreate(name, payload) {
  const key = crypto.randomUUID();
  const fingerprint = await baselineFingerprint(payload);
  localStorage.setItem(`base:v1:i:${name}:${fingerprint}`, key);
  return { key, fingerprint, body: JSON.stringify(payload) };
}

// Create, persist the record, send, persist the finished record (what `send()` adds).
async function baselineCreateAndSend(name, payload, url, fetchFn) {
  const c = await baselineCreate(name, payload);
  const storageKey = `base:v1:a:${c.key}`;
  const rec = { v: 1, k: c.key, a: name, f: c.fingerprint, q: { u: url, m: "POST", b: c.body }, s: "sending", c: Date.now() };
  localStorage.setItem(storageKey, JSON.stringify(rec));
  const res = await fetchFn(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": c.key },
    body: c.body,
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  rec.s = "done";
  delete rec.q; // like sendonce, the finished record keeps the reply, not the request
  rec.r = { s: res.status, j: body };
  rec.u = Date.now();
  localStorage.setItem(storageKey, JSON.stringify(rec));
  return { storageKey, rec };
}

// The same, one tab at a time as sendonce does it: a Web Lock around the send (taken at once
// when free, as sendonce's `ifAvailable` first try).
function baselineCreateAndSendLocked(name, payload, url, fetchFn) {
  return navigator.locks.request(`base:${name}`, { ifAvailable: true }, () =>
    baselineCreateAndSend(name, payload, url, fetchFn),
  );
}

// ---------- fetch stubs

function reply() {
  return new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });
}
const instantFetch = async () => reply();

function keyOf(input, initArg) {
  const h = input instanceof Request ? input.headers : new Headers(initArg?.headers || {});
  return h.get("Idempotency-Key");
}

function clearStorage() {
  localStorage.clear();
}

// ---------- 4. init: compile + instantiate a fresh module

// A copy of the wasm bytes with a custom section appended, so the engine cannot hand back a
// module it compiled before from its cache of identical bytes.
function distinctBytes(bytes, i) {
  const name = enc.encode("bench");
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, i);
  const size = 1 + name.length + payload.length;
  const out = new Uint8Array(bytes.length + 2 + size);
  out.set(bytes, 0);
  let o = bytes.length;
  out[o++] = 0; // custom section id
  out[o++] = size; // < 128: one LEB128 byte
  out[o++] = name.length;
  out.set(name, o);
  out.set(payload, o + name.length);
  return out;
}

async function benchInit(bytes, runs, log) {
  const total = [], compile = [], instantiate = [], firstAction = [];
  for (let i = 0; i < runs; i++) {
    const glue = await import(`${PKG}?fresh=${i}`); // a fresh glue module: init() runs again
    const b = distinctBytes(bytes, i + 1);
    const t0 = performance.now();
    const module = await WebAssembly.compile(b);
    const t1 = performance.now();
    await glue.default({ module_or_path: module });
    const t2 = performance.now();
    const so = new glue.Sendonce({ namespace: `init${i}`, storage: "memory" });
    so.action("first", { item: "tea", qty: 2 }).fingerprint;
    const t3 = performance.now();
    compile.push(t1 - t0);
    instantiate.push(t2 - t1);
    total.push(t2 - t0);
    firstAction.push(t3 - t2);
    so.dispose();
  }
  log(`init: ${runs} fresh modules`);
  return { runs, total: summary(total), compile: summary(compile), instantiate: summary(instantiate), firstAction: summary(firstAction) };
}

// ---------- 2. per action, interleaved

async function interleave(n, warmup, a, b, every, between) {
  const sa = [], sb = [];
  for (let i = 0; i < warmup + n; i++) {
    if (every && i % every === 0) between();
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) {
      const t0 = performance.now();
      if (which === 0) await a(i);
      else await b(i);
      const dt = performance.now() - t0;
      if (i >= warmup) (which === 0 ? sa : sb).push(dt);
    }
  }
  return [summary(sa), summary(sb)];
}

async function benchPerAction(n, warmup, log) {
  const payloadOf = makePayload(1024);
  const bytes = JSON.stringify(payloadOf(0)).length;
  const so = new Sendonce({ namespace: "bench", fetch: instantFetch });
  const created = [];
  const freeAll = () => {
    for (const a of created.splice(0)) a.free();
    clearStorage();
  };
  // Create: key + fingerprint + the index write (so.action does not write the action record).
  const [soCreate, baseCreate] = await interleave(
    n, warmup,
    (i) => {
      const a = so.action("order", payloadOf(i));
      a.key;
      a.fingerprint;
      created.push(a);
    },
    (i) => baselineCreate("order", payloadOf(i)),
    100, freeAll,
  );
  freeAll();
  log(`per action (create): ${n} iterations`);
  // Create and send with a fetch stub that answers 201 at once: the finished record is written.
  const [soSend, baseSend] = await interleave(
    n, warmup,
    async (i) => {
      const a = so.action("orderSend", payloadOf(i));
      await a.send("/api/orders", { method: "POST" });
      created.push(a);
    },
    (i) => baselineCreateAndSend("orderSend", payloadOf(i), "/api/orders", instantFetch),
    100, freeAll,
  );
  freeAll();
  log(`per action (create + send): ${n} iterations`);
  // The same against a baseline that also takes a Web Lock for its send: what one send per
  // key across tabs costs by itself.
  const [soLocked, baseLocked] = await interleave(
    n, warmup,
    async (i) => {
      const a = so.action("orderLocked", payloadOf(i));
      await a.send("/api/orders", { method: "POST" });
      created.push(a);
    },
    (i) => baselineCreateAndSendLocked("orderLocked", payloadOf(i), "/api/orders", instantFetch),
    100, freeAll,
  );
  freeAll();
  so.dispose();
  log(`per action (create + send, Web Lock in both): ${n} iterations`);
  return {
    payloadBytes: bytes,
    create: { sendonce: soCreate, baseline: baseCreate, ratio: soCreate.median / baseCreate.median },
    createAndSend: { sendonce: soSend, baseline: baseSend, ratio: soSend.median / baseSend.median },
    createAndSendLocked: { sendonce: soLocked, baseline: baseLocked, ratio: soLocked.median / baseLocked.median },
  };
}

// ---------- 3. fingerprint throughput

async function benchFingerprint(plan, log) {
  const so = new Sendonce({ namespace: "fp", storage: "memory" });
  const out = [];
  for (const { bytes, n, warmup, wide } of plan) {
    const payloadOf = wide ? makeWidePayload(bytes) : makePayload(bytes);
    const size = JSON.stringify(payloadOf(0)).length;
    const [s, b] = await interleave(
      n, warmup,
      (i) => {
        const a = so.action(`fp${bytes}`, payloadOf(i));
        a.fingerprint;
        a.free();
      },
      (i) => baselineFingerprint(payloadOf(i)),
    );
    const mbps = (ms) => size / 1e6 / (ms / 1000);
    out.push({
      bytes: size,
      wide: Boolean(wide),
      sendonce: { ...s, mbPerS: mbps(s.median) },
      baseline: { ...b, mbPerS: mbps(b.median) },
      ratio: s.median / b.median,
    });
    log(`fingerprint ${size} B: ${n} iterations`);
  }
  so.dispose();
  return out;
}

// ---------- 5. click storm

async function benchStorm(clicks, latencyMs, log) {
  clearStorage();
  let requests = 0;
  const keys = new Set();
  const fetchFn = async (input, initArg) => {
    requests++;
    keys.add(keyOf(input, initArg));
    if (latencyMs) await sleep(latencyMs);
    return reply();
  };
  const so = new Sendonce({ namespace: `storm${latencyMs}`, fetch: fetchFn });
  const button = document.getElementById("storm");
  const payload = { item: "tea", qty: 2 };
  const sends = [];
  const actionKeys = new Set();
  const handler = () => {
    const a = so.action("storm", payload);
    actionKeys.add(a.key);
    sends.push(a.send("/api/storm", { method: "POST" }).catch((e) => e));
  };
  button.addEventListener("click", handler);
  const t0 = performance.now();
  for (let i = 0; i < clicks; i++) button.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
  const t1 = performance.now();
  await Promise.all(sends);
  const t2 = performance.now();
  await sleep(50 + latencyMs); // anything late still counts
  button.removeEventListener("click", handler);
  const stats = so.stats();
  so.dispose();
  clearStorage();
  log(`storm: ${clicks} clicks, stub latency ${latencyMs} ms, ${requests} requests`);
  return {
    clicks,
    latencyMs,
    requests,
    extraRequests: Math.max(0, requests - 1),
    distinctKeysSent: keys.size,
    distinctActionKeys: actionKeys.size,
    dispatchMs: t1 - t0,
    settleMs: t2 - t0,
    stats,
  };
}

// ---------- 6. storage bytes per finished record

async function benchStorage(log) {
  const out = [];
  for (const [label, payload] of [
    ["small", { item: "tea", qty: 2 }],
    ["1 KB", makePayload(1024)(1)],
  ]) {
    clearStorage();
    const so = new Sendonce({ namespace: "rec", fetch: instantFetch });
    const a = so.action("createOrder", payload);
    await a.send("/api/orders", { method: "POST" });
    await sleep(20);
    const entries = [];
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k.startsWith("rec:")) continue;
      const v = localStorage.getItem(k);
      entries.push({ kind: k.includes(":a:") ? "record" : k.includes(":i:") ? "index" : "other", keyChars: k.length, valueChars: v.length, key: k, value: v });
    }
    so.dispose();
    clearStorage();
    const base = await baselineCreateAndSend("createOrder", payload, "/api/orders", instantFetch);
    const baseRecord = base.storageKey.length + JSON.stringify(base.rec).length;
    clearStorage();
    const body = JSON.stringify(payload).length; // the draft, if a form keeps one
    const sum = (kind) => entries.filter((e) => e.kind === kind).reduce((n, e) => n + e.keyChars + e.valueChars, 0);
    const record = sum("record");
    out.push({
      payload: label,
      payloadChars: body,
      recordChars: record,
      indexChars: sum("index"),
      otherChars: sum("other"),
      baselineRecordChars: baseRecord,
      entries: entries.map(({ value, ...e }) => (e.kind === "record" && label === "small" ? { ...e, value } : e)),
    });
    log(`storage (${label}): record ${record} chars`);
  }
  return out;
}

// ---------- 7. click to disabled, inside the click task

// A bound form (so.form) with a submit button: the time of `button.click()`, which runs the
// click and the submit listeners in the same task (what Interaction to Next Paint counts for
// the handler), and whether the button is guarded (aria-disabled) when it returns. Each
// iteration changes a field (a new action), then waits for the reply before the next.
async function benchClickToDisabled(n, warmup, entry, log) {
  clearStorage();
  const mod = entry === "forms" ? await import("/pkg/forms.js") : await import("/pkg/sendonce.js");
  await mod.default({ module_or_path: entry === "forms" ? "/pkg/sendonce_forms_bg.wasm" : WASM });
  const root = document.getElementById("form-root");
  root.innerHTML = '<form id="bform"><input name="qty" value="0"><button id="bsend" type="submit">Order</button><p id="bst"></p></form>';
  const so = new mod.Sendonce({ namespace: `click${entry}`, fetch: instantFetch });
  const form = so.form("#bform", { action: "clickBench", url: "/api/orders", status: "#bst" });
  const button = document.getElementById("bsend");
  const input = root.querySelector("input[name=qty]");
  const times = [];
  let guarded = 0;
  for (let i = 0; i < warmup + n; i++) {
    input.value = String(i + 1);
    let off = () => {};
    const settled = new Promise((resolve) => {
      off = form.onStatus((s) => {
        if (s.code === "done" || s.code === "already_received" || s.code === "failed") resolve();
      });
    });
    const t0 = performance.now();
    button.click();
    const dt = performance.now() - t0;
    const isGuarded = button.getAttribute("aria-disabled") === "true";
    await settled;
    off();
    await sleep(0);
    if (i >= warmup) {
      times.push(dt);
      if (isGuarded) guarded++;
    }
  }
  form.dispose?.();
  so.dispose();
  root.innerHTML = "";
  clearStorage();
  log(`click to disabled (${entry}): ${n} clicks`);
  return { entry, ...summary(times), guarded, clicks: n };
}

// ---------- all

export async function runAll(opts = {}, log = () => {}) {
  const quick = !!opts.quick;
  const bytes = new Uint8Array(await (await fetch(WASM)).arrayBuffer());
  const results = { crossOriginIsolated: self.crossOriginIsolated, userAgent: navigator.userAgent };
  results.init = await benchInit(bytes, quick ? 5 : 15, log);
  await init({ module_or_path: await WebAssembly.compile(bytes) });
  results.perAction = await benchPerAction(quick ? 100 : 500, quick ? 20 : 50, log);
  results.fingerprint = await benchFingerprint(
    quick
      ? [{ bytes: 1024, n: 50, warmup: 10 }, { bytes: 100 * 1024, n: 10, warmup: 2 }, { bytes: 1024 * 1024, n: 3, warmup: 1 }, { bytes: 1024 * 1024, n: 3, warmup: 1, wide: true }]
      : [{ bytes: 1024, n: 300, warmup: 30 }, { bytes: 100 * 1024, n: 40, warmup: 5 }, { bytes: 1024 * 1024, n: 10, warmup: 2 }, { bytes: 1024 * 1024, n: 10, warmup: 2, wide: true }],
    log,
  );
  results.storm = [await benchStorm(1000, 0, log), await benchStorm(1000, 50, log)];
  results.storage = await benchStorage(log);
  results.clickToDisabled = [
    await benchClickToDisabled(quick ? 100 : 500, quick ? 10 : 50, "full", log),
  ];
  if ((await fetch("/pkg/forms.js", { method: "HEAD" })).ok) {
    results.clickToDisabled.push(await benchClickToDisabled(quick ? 100 : 500, quick ? 10 : 50, "forms", log));
  }
  return results;
}
