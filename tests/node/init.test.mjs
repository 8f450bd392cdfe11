// Node >= 20: using sendonce before `await init()` is a SendonceError "not_initialized" (SPEC
// section 9), not "TypeError: Cannot read properties of undefined"; after init it works.
import { test } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";

test("new Sendonce() before init() throws not_initialized; after init() it works", async () => {
  assert.throws(
    () => new Sendonce({ storage: "memory" }),
    (e) => e instanceof Error && e.name === "SendonceError" && e.code === "not_initialized" && /await init\(\)/.test(e.message),
  );
  await init();
  await init(); // a second init is harmless
  const calls = [];
  const fetch = async (url, init) => {
    calls.push(init.headers["Idempotency-Key"]);
    return new Response("{}", { status: 201, headers: { "content-type": "application/json" } });
  };
  const so = new Sendonce({ storage: "memory", fetch });
  const action = so.action("createOrder", { item: "tea" });
  assert.equal((await action.send("/api/orders")).outcome, "done");
  assert.deepEqual(calls, [action.key]);
});
