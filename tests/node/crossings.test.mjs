// The wasm checks a string argument (an action name, a URL, a header of checkRequest) in one
// call into JS, not one per character: a 60,000-character URL used to be 60,000 calls of
// `charCodeAt` on every send, and a page paid them on every create for the action name. The
// checks themselves are unchanged: a lone surrogate is still refused with the same error.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce, checkRequest } from "../../pkg/node.js";

before(async () => {
  await init();
});

/**
 * Runs `fn` counting the calls of `String.prototype.charCodeAt` made for the wasm by its
 * import of that method (one per UTF-16 unit where a string was checked character by
 * character); the glue's own copying of strings into wasm memory is not counted.
 */
async function countCharCodeAt(fn) {
  const real = String.prototype.charCodeAt;
  let calls = 0;
  String.prototype.charCodeAt = function (...args) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 2;
    const stack = new Error().stack;
    Error.stackTraceLimit = limit;
    if (/__wbg_charCodeAt_/.test(stack)) calls++;
    return real.apply(this, args);
  };
  try {
    await fn();
  } finally {
    String.prototype.charCodeAt = real;
  }
  return calls;
}

const ok = () => new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });

test("an action's name and its send URL are checked without a call per character", async () => {
  const sent = [];
  const so = new Sendonce({ namespace: "crossings", storage: "memory", fetch: async (url) => (sent.push(url), ok()) });
  const name = "a".repeat(100);
  const url = "https://api.example.com/orders?" + "q=1&".repeat(10_000);
  const calls = await countCharCodeAt(async () => {
    const a = so.action(name, { item: "tea" });
    const reply = await a.send(url);
    assert.equal(reply.status, 201);
  });
  assert.deepEqual(sent, [url], "sent once, to the whole URL");
  assert.equal(calls, 0, `charCodeAt was called ${calls} times for a ${name.length}-character name and a ${url.length}-character URL`);
  so.dispose();
});

test("checkRequest reads a long header value without a call per character", async () => {
  const value = "x".repeat(4000);
  const calls = await countCharCodeAt(() => {
    const req = checkRequest("POST", [["X-Long", value]]);
    const long = req.headers.find(([name]) => name === "X-Long");
    assert.ok(long && long[1] === value, "the header is kept whole");
  });
  assert.equal(calls, 0, `charCodeAt was called ${calls} times for a ${value.length}-character header`);
});

test("lone surrogates are still refused, with the same errors, in names, URLs and headers", async () => {
  const so = new Sendonce({ namespace: "crossings-bad", storage: "memory", fetch: async () => ok() });
  const lone = "order\ud800";
  assert.throws(() => so.action(lone, {}), (e) => e.code === "invalid_option" && /must be valid Unicode \(it has a lone surrogate\)/.test(e.message));
  const a = so.action("order", { item: "tea" });
  await assert.rejects(a.send("/api/orders\udc00"), (e) => e.code === "invalid_option" && /url/.test(e.message));
  assert.throws(() => checkRequest("POST", [["X-A", "a\udbff"]]), (e) => e.name === "SendonceError");
  // A well-formed pair is fine.
  assert.doesNotThrow(() => so.action("order\ud83d\ude00", {}));
  so.dispose();
});
