// Node >= 20: how a payload becomes a request body (js/payload.js walks it, the wasm parses
// the text): the body is what JSON.stringify sends, refused payloads get their exact message,
// and `maxPayloadBytes` is the largest size accepted (a payload of exactly the limit is sent,
// one byte more is refused), counted in UTF-8 bytes.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";
import { countingFetch } from "./support/fetch.mjs";

before(async () => {
  await init();
});


/** The SendonceError `fn()` throws, as "code: message". */
function thrown(fn) {
  try {
    fn();
  } catch (e) {
    assert.equal(e.name, "SendonceError", `${e.name}: ${e.message}`);
    return `${e.code}: ${e.message}`;
  }
  assert.fail("nothing was thrown");
}

test("the body sent is what JSON.stringify sends, getters read once", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  let reads = 0;
  const payloads = [
    { b: 1, a: [1, , 3, undefined], c: undefined, 2: "two", 1: "one", "k\"\\\n": "\u0000\u001f\u007f\u2028\t" },
    { n: [0.1, 1e21, 1e-7, -0, 5e-324, 1.7976931348623157e308, 123456789012345680000], e: "😀é" },
    { at: new Date(Date.UTC(2026, 0, 2)), boxed: [new Number(3), new String("x"), new Boolean(false)] },
    { skip: { toJSON: () => undefined }, key: { toJSON: (k) => `key ${k}` }, list: [{ toJSON: (k) => k }] },
    Object.assign(Object.create(null), { plain: true }),
    [[[]], {}, "", 0, false, null],
    // Names repeated from item to item, with and without escapes (each quoted once per walk).
    { items: [{ "q\"": 1, a: 2, "": 0 }, { a: 4, "q\"": 3, "": 1 }], "q\"": 5, a: { a: { a: 6 } } },
    "a string",
    { get counted() { reads += 1; return reads; } },
  ];
  for (const [i, payload] of payloads.entries()) {
    await so.action(`p${i}`, payload).send("/api/p", { method: "POST" });
    reads = 0;
    assert.equal(calls.at(-1).body, JSON.stringify(payload), `payload ${i}`);
  }
  assert.equal(calls.at(-1).body, '{"counted":1}', "the getter ran once for the body");
  // A toJSON that gives undefined at the top is null (JSON.stringify gives no text at all).
  await so.action("undef", { toJSON: () => undefined }).send("/api/p", { method: "POST" });
  assert.equal(calls.at(-1).body, "null");
});

test("refused payloads keep their exact messages", () => {
  const so = new Sendonce({ storage: "memory" });
  const boom = () => {
    throw new Error("boom");
  };
  const cyclic = [];
  cyclic.push({ x: cyclic });
  const cases = [
    [{ items: [{ price: NaN }] }, "NaN or Infinity at $.items[0].price: JSON has no such number (JSON.stringify would send null)"],
    [{ "unit price": 10n }, 'a BigInt at $["unit price"]: JSON has no BigInt; send it as a string'],
    [[Symbol("s")], "a symbol at $[0]: a symbol is not data"],
    [{ f() {} }, "a function at $.f: a function is not data"],
    [{ m: new Map() }, "a Map at $.m: JSON.stringify would send it as {} or lose it; send a plain object or array"],
    [{ b: new Uint8Array(1) }, "a Uint8Array at $.b: JSON.stringify would send it as an object of indices; send an array"],
    [{ s: "\ud800" }, "a string with a lone surrogate at $.s: it is not valid Unicode and would be sent as U+FFFD (two different strings, the same bytes)"],
    [cyclic, "a cycle at $[0].x: the value contains itself"],
    [{ n: Object.assign(new Number(1), { valueOf: () => ({}) }) }, "a boxed value at $.n: it does not unbox"],
    [{ get g() { return boom(); } }, "a member at $.g: reading it threw Error: boom"],
    [Object.defineProperty([], 0, { get: boom }), "an item at $[0]: reading it threw Error: boom"],
    [{ t: { toJSON: boom } }, "a toJSON() at $.t: reading it threw Error: boom"],
    [{ t: { get toJSON() { return boom(); } } }, "a property at $.t: reading it threw Error: boom"],
    [new Proxy({}, { ownKeys: boom }), "an object at $: listing its keys threw Error: boom"],
  ];
  for (const [payload, message] of cases) {
    assert.equal(thrown(() => so.action("x", payload)), `invalid_payload: invalid payload: the payload has ${message}`);
  }
  let deep = 1;
  for (let i = 0; i < 64; i += 1) deep = [deep];
  assert.equal(
    thrown(() => so.action("x", deep)),
    `invalid_payload: invalid payload: the payload has nesting deeper than 64 at $${"[0]".repeat(64)}: flatten the payload (deeper JSON is refused)`,
  );
  const badLength = new Proxy([1], { get: (t, k) => (k === "length" ? boom() : t[k]) });
  assert.equal(thrown(() => so.action("x", badLength)), "invalid_payload: invalid payload: the payload cannot be written as JSON (Error: boom)");
});

test("maxPayloadBytes is the largest size accepted: exactly the limit is sent, one byte more is refused", async () => {
  const { calls, fetch } = countingFetch();
  // `{"note":"` + n characters + `"}` is n + 11 bytes of JSON.
  for (const limit of [100, 1 << 20]) {
    const so = new Sendonce({ storage: "memory", fetch, ...(limit === 1 << 20 ? {} : { maxPayloadBytes: limit }) });
    const atLimit = { note: "y".repeat(limit - 11) };
    assert.equal(JSON.stringify(atLimit).length, limit);
    await so.action("fits", atLimit).send("/api/p", { method: "POST" });
    assert.equal(calls.at(-1).body.length, limit, `exactly ${limit} bytes is sent`);
    assert.equal(
      thrown(() => so.action("over", { note: "y".repeat(limit - 10) })),
      `payload_too_large: payload too large: ${limit + 1} bytes or more, the limit is ${limit} (option maxPayloadBytes)`,
    );
    // Counted in UTF-8 bytes, not characters: "é" is two bytes.
    const note = "é".repeat(Math.floor((limit - 11) / 2)) + "y".repeat((limit - 11) % 2);
    assert.equal(new TextEncoder().encode(JSON.stringify({ note })).length, limit);
    await so.action("utf8", { note }).send("/api/p", { method: "POST" });
    assert.equal(calls.at(-1).body, JSON.stringify({ note }));
    assert.equal(
      thrown(() => so.action("utf8 over", { note: `${note}y` })),
      `payload_too_large: payload too large: ${limit + 1} bytes or more, the limit is ${limit} (option maxPayloadBytes)`,
    );
  }
});

test("the walk finds lone surrogates without String.prototype.isWellFormed too (engines before 2023)", async () => {
  const own = Object.getOwnPropertyDescriptor(String.prototype, "isWellFormed");
  delete String.prototype.isWellFormed;
  let payloadJson;
  try {
    ({ payloadJson } = await import("../../js/payload.js?without-isWellFormed"));
  } finally {
    Object.defineProperty(String.prototype, "isWellFormed", own);
  }
  for (const s of ["\ud800", "a\udc00", "\udc00\ud800", "😀\udc00", "x\ud800y"]) {
    assert.equal(payloadJson({ s }, 100).reason, "surrogate", JSON.stringify(s));
  }
  for (const s of ["", "abc", "😀", "a😀b😀"]) {
    assert.equal(payloadJson({ s }, 100), JSON.stringify({ s }));
  }
});

test("a payload of one object with 50,000 different member names takes well under a second, not a quarter of a minute", async () => {
  // Each name is quoted once; the walk once sliced every new name back out of the text it
  // was building, which copies that whole text each time: 17 s for this payload in Node.
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const wide = {};
  for (let i = 0; i < 50_000; i++) wide[`k${(i * 7919) % 50_000}`] = i;
  const t0 = performance.now();
  const action = so.action("wide", wide);
  const ms = performance.now() - t0;
  assert.ok(ms < 5_000, `${ms.toFixed(0)} ms to create it (about 100 ms here)`);
  // The same object with its members in another order is the same action.
  assert.equal(so.action("wide", Object.fromEntries(Object.entries(wide).reverse())).key, action.key);
  await action.send("/api/wide", { method: "POST" });
  assert.equal(calls.at(-1).body, JSON.stringify(wide));
});
