// Node >= 20: every public entry called with hostile values (wrong types, array-likes with huge
// lengths, symbols, BigInts, payloads JSON cannot hold) gives a SendonceError with a stable
// code, never a raw RuntimeError or a trap, and the module keeps working afterwards.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";
import { countingFetch } from "./support/fetch.mjs";

before(async () => {
  await init();
});


/** Asserts that `fn()` throws a SendonceError with `code` (and a message matching `message`). */
function throwsCode(fn, code, message, label) {
  let thrown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `${label}: nothing was thrown`);
  assert.ok(thrown instanceof Error, `${label}: ${thrown} is not an Error`);
  assert.equal(thrown.name, "SendonceError", `${label}: ${thrown.name}: ${thrown.message}`);
  assert.equal(thrown.code, code, `${label}: ${thrown.message}`);
  if (message) assert.match(thrown.message, message, label);
}

/** Asserts that `fn()` returns a Promise (it does not throw) that rejects with `code`. */
async function rejectsCode(fn, code, label) {
  let p;
  try {
    p = fn();
  } catch (e) {
    assert.fail(`${label}: threw instead of rejecting: ${e?.name}: ${e?.message}`);
  }
  assert.ok(p instanceof Promise, `${label}: no Promise`);
  await assert.rejects(p, (e) => {
    assert.equal(e?.name, "SendonceError", `${label}: ${e?.name}: ${e?.message}`);
    assert.equal(e.code, code, `${label}: ${e.message}`);
    return true;
  });
}

const hugeArrayLike = { length: 1e9 };
const hostileStrings = [5, hugeArrayLike, { length: 2 ** 31 }, Symbol("s"), 10n, null, undefined, () => "x", {}, ["a"]];

/** The module still works: an ordinary action goes out once and is done. */
async function stillWorks(label) {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const reply = await so.action(`after-${label}`, { ok: 1 }).send("/api/orders");
  assert.equal(reply.outcome, "done", label);
  assert.equal(calls.length, 1, label);
  assert.equal(calls[0].body, '{"ok":1}');
}

test("action names, urls, ids and callbacks of the wrong type are SendonceErrors, and nothing leaks", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const rssBefore = process.memoryUsage().rss;
  for (const bad of hostileStrings) {
    throwsCode(() => so.action(bad, {}), "invalid_option", /action/, `so.action(${String(typeof bad)})`);
  }
  // Copying a huge name into the wasm before refusing it used to cost ~1 GB.
  for (let i = 0; i < 3; i += 1) throwsCode(() => so.action(hugeArrayLike, {}), "invalid_option", /action/, "huge");
  throwsCode(() => so.action("x".repeat(5_000_000), {}), "invalid_option", /action/, "long name");
  throwsCode(() => so.action("x".repeat(101), {}), "invalid_option", /1\.\.=100/, "101 characters");
  assert.equal(typeof so.action("😀".repeat(100), {}).key, "string", "100 characters of two UTF-16 units each");
  throwsCode(() => so.action("x", {}, 5), "invalid_option", /options/, "options 5");
  throwsCode(() => so.action("x", {}, { exclude: hugeArrayLike }), "invalid_option", /exclude/, "exclude");
  throwsCode(() => so.action("x", {}, { key: 5 }), "invalid_option", /key/, "key");
  throwsCode(() => so.action("x", {}, { window: {} }), "invalid_window", undefined, "window");

  const action = so.action("createOrder", { item: "tea" });
  for (const bad of hostileStrings) {
    await rejectsCode(() => action.send(bad), "invalid_option", `send(${String(typeof bad)})`);
  }
  await rejectsCode(() => action.send("/api/orders", 5), "invalid_option", "send init 5");
  await rejectsCode(() => action.send("/api/orders", { headers: 5 }), "invalid_option", "send headers 5");
  await rejectsCode(
    () => action.send("/api/orders", { headers: { [Symbol.iterator]: function* () { for (;;) yield ["x-a", "b"]; }, forEach() {} } }),
    "invalid_option",
    "endless headers",
  );
  throwsCode(() => action.onStatus(5), "invalid_option", /function/, "onStatus(5)");
  throwsCode(() => action.onStatus(), "invalid_option", /function/, "onStatus()");

  const chat = so.chat({ conversationId: "c-1", url: "/api/messages" });
  for (const bad of hostileStrings) {
    throwsCode(() => chat.retry(bad), "invalid_option", /id/, `chat.retry(${String(typeof bad)})`);
    throwsCode(() => chat.discard(bad), "invalid_option", /id/, `chat.discard(${String(typeof bad)})`);
    throwsCode(() => chat.send(bad), "invalid_option", /text/, `chat.send(${String(typeof bad)})`);
    await rejectsCode(() => chat.streamReply(bad, "/r"), "invalid_option", `streamReply id ${String(typeof bad)}`);
    await rejectsCode(() => chat.streamReply("m-1", bad), "invalid_option", `streamReply url ${String(typeof bad)}`);
  }
  throwsCode(() => chat.onChange(5), "invalid_option", /function/, "onChange(5)");
  throwsCode(() => chat.receive(5), "invalid_option", /id/, "receive(5)");
  assert.equal(chat.retry("no-such-id"), false);
  assert.equal(chat.discard("no-such-id"), false);

  throwsCode(() => so.chat(5), "invalid_option", /options/, "so.chat(5)");
  throwsCode(() => so.quickReplies({ conversationId: 5 }), "invalid_option", /conversationId/, "conversationId 5");
  const qr = so.quickReplies({ conversationId: "c-1" });
  for (const bad of hostileStrings) {
    await rejectsCode(() => qr.run(bad, () => 1), "invalid_option", `qr.run(${String(typeof bad)})`);
    throwsCode(() => qr.key(bad), "invalid_option", /actionKey/, `qr.key(${String(typeof bad)})`);
  }
  await rejectsCode(() => qr.run("createTicket", 5), "invalid_option", "qr.run handler 5");
  throwsCode(() => qr.bind(5, "createTicket", () => 1), "invalid_option", /button/, "qr.bind(5)");
  throwsCode(() => qr.seen(5), "invalid_option", /id/, "qr.seen(5)");
  await rejectsCode(() => qr.seenAsync(5), "invalid_option", "qr.seenAsync(5)");

  // Getters and proxies that throw: a clear error, not an exception run through the wasm.
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const boom = () => {
    throw new Error("boom");
  };
  throwsCode(() => new Sendonce({ messages: { get done() { return boom(); } } }), "invalid_option", /messages.*boom/, "messages getter");
  await rejectsCode(() => action.send("/api/orders", { headers: { get "X-A"() { return boom(); } } }), "invalid_option", "headers getter");
  await rejectsCode(() => action.send("/api/orders", { headers: revoked.proxy }), "invalid_option", "headers revoked proxy");
  throwsCode(() => so.action("x", { get price() { return boom(); } }), "invalid_payload", /\$\.price.*boom/, "payload getter");
  throwsCode(() => so.action("x", revoked.proxy), "invalid_payload", /\$/, "payload revoked proxy");
  throwsCode(() => so.action("x", {}, { exclude: revoked.proxy }), "invalid_option", /exclude/, "exclude revoked proxy");

  for (const bad of [5, "local storage", { namespace: 5 }, { maxPayloadBytes: -1 }, { maxPayloadBytes: "1MB" }, { maxPayloadBytes: 1.5 }, { maxPayloadBytes: Infinity }, { onEvent: 5 }]) {
    throwsCode(() => new Sendonce(bad), "invalid_option", undefined, `new Sendonce(${JSON.stringify(bad)})`);
  }
  global.gc?.();
  const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grown < 300, `memory grew by ${grown.toFixed(0)} MiB`);
  assert.equal(calls.length, 0, "nothing was sent");
  await stillWorks("types");
});

test("payloads JSON cannot hold are invalid_payload with their JSON path, never silently {} or null", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const cyclic = { a: [1] };
  cyclic.a.push(cyclic);
  let deep = [];
  for (let i = 0; i < 64; i += 1) deep = [deep];
  const cases = [
    [new Map([["a", 1]]), /a Map at \$:/],
    [new Set([1]), /a Set at \$:/],
    [{ items: [{}, {}, { price: NaN }] }, /NaN or Infinity at \$\.items\[2\]\.price/],
    [{ total: Infinity }, /\$\.total/],
    [{ total: -Infinity }, /\$\.total/],
    [{ cb: () => 1 }, /a function at \$\.cb/],
    [{ s: Symbol("x") }, /a symbol at \$\.s/],
    [{ id: 10n }, /a BigInt at \$\.id/],
    [{ name: "ok\ud800" }, /lone surrogate at \$\.name/],
    [{ "\udc00": 1 }, /lone surrogate/],
    [{ "unit price": new Map() }, /\$\["unit price"\]/],
    [{ bytes: new Uint8Array([1, 2]) }, /a Uint8Array at \$\.bytes/],
    [cyclic, /a cycle at \$\.a\[1\]/],
    [deep, /nesting deeper than 64/],
    [() => 1, /a function at \$/],
  ];
  for (const [payload, message] of cases) {
    throwsCode(() => so.action("x", payload), "invalid_payload", message, String(message));
  }
  // Two different payloads that JSON.stringify sends as the same bytes are refused, not
  // collided: { a: NaN } and { a: null }, "\ud800" and "\ufffd".
  assert.equal(typeof so.action("x", { a: null }).key, "string");
  throwsCode(() => so.action("x", { a: NaN }), "invalid_payload", /\$\.a/, "NaN vs null");
  // What JSON.stringify does well stays: toJSON (a Date), boxed values, undefined members,
  // and 64 levels of nesting.
  const date = new Date(Date.UTC(2026, 0, 2));
  const ok = so.action("fine", { at: date, n: new Number(3), s: new String("x"), gone: undefined, deep: (() => { let d = []; for (let i = 0; i < 62; i += 1) d = [d]; return d; })() });
  const reply = await ok.send("/api/orders");
  assert.equal(reply.outcome, "done");
  const sent = JSON.parse(calls.at(-1).body);
  assert.equal(sent.at, "2026-01-02T00:00:00.000Z");
  assert.equal(sent.n, 3);
  assert.equal(sent.s, "x");
  assert.ok(!("gone" in sent));
  assert.equal(calls.length, 1, "no refused payload was sent");
  await stillWorks("payloads");
});

test("payloads over maxPayloadBytes are payload_too_large before anything is built or sent", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const rssBefore = process.memoryUsage().rss;
  // The default limit is 1 MiB.
  throwsCode(() => so.action("big", { text: "x".repeat(1_100_000) }), "payload_too_large", /1048576/, "1.1 MB string");
  throwsCode(() => so.action("big", new Array(2 ** 31)), "payload_too_large", undefined, "sparse array of 2^31");
  throwsCode(() => so.action("big", "x".repeat(200_000_000)), "payload_too_large", undefined, "200 MB string");
  const many = {};
  for (let i = 0; i < 200_000; i += 1) many[`k${i}`] = i;
  throwsCode(() => so.action("big", many), "payload_too_large", undefined, "200k members");
  const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grown < 400, `memory grew by ${grown.toFixed(0)} MiB`);
  // Just under the limit is fine.
  assert.equal(typeof so.action("fits", { text: "x".repeat(1_000_000) }).key, "string");

  const small = new Sendonce({ storage: "memory", fetch, maxPayloadBytes: 100 });
  throwsCode(() => small.action("x", { note: "y".repeat(200) }), "payload_too_large", /maxPayloadBytes/, "over 100");
  assert.equal(typeof small.action("x", { note: "y".repeat(50) }).key, "string");
  const chat = small.chat({ conversationId: "c-1", url: "/api/messages" });
  throwsCode(() => chat.send("z".repeat(500)), "payload_too_large", undefined, "chat text");
  throwsCode(() => chat.send("hi", { blob: "z".repeat(500) }), "payload_too_large", undefined, "chat extra");
  throwsCode(() => chat.send("hi\udfff"), "invalid_payload", /lone surrogate/, "chat lone surrogate");
  assert.equal(chat.messages.length, 0, "no bubble for a refused message");
  assert.equal(calls.length, 0);
  await stillWorks("size");
});

test("send(undefined) rejects its Promise instead of throwing", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const action = so.action("x", {});
  await rejectsCode(() => action.send(undefined), "invalid_option", "send(undefined)");
  await rejectsCode(() => action.send(), "invalid_option", "send()");
  // A URL object is a URL.
  const reply = await action.send(new URL("http://127.0.0.1/api/orders"));
  assert.equal(reply.outcome, "done");
  assert.equal(calls[0].url, "http://127.0.0.1/api/orders");
});

test("newlines in the namespace, conversation id or action key are refused, so bot keys never collide", async () => {
  throwsCode(() => new Sendonce({ storage: "memory", namespace: "a\nb" }), "invalid_option", /namespace.*newline/, "namespace");
  const so = new Sendonce({ storage: "memory", namespace: "a" });
  throwsCode(() => so.quickReplies({ conversationId: "b\nc" }), "invalid_option", /conversationId/, "conversation");
  const qr = so.quickReplies({ conversationId: "b" });
  throwsCode(() => qr.key("c\nd"), "invalid_option", /actionKey.*newline/, "action key");
  let ran = 0;
  await rejectsCode(() => qr.run("c\nd", () => (ran += 1)), "invalid_option", "run");
  assert.equal(ran, 0, "the handler did not run");
});
