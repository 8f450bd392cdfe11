// Node >= 20: numbers in a payload get the same fingerprint in the package (wasm, which reads
// unusual numbers through JavaScript's parser) as in the native Rust core (a server computes the
// fingerprint with the same crate). The expected hex below is the native core's fingerprint of
// the same payload; a different number spelling in the wasm changes it.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";

before(async () => {
  await init();
});

const text =
  '{"a":0.1,"b":0.30000000000000004,"c":1e21,"d":1e-7,"e":1.7976931348623157e308,"f":5e-324,' +
  '"g":123456789012345680000,"h":9007199254740993,"i":2.2250738585072011e-308,"j":-0,' +
  '"k":1.00000000000000011102230246251565404236316680908203125,"l":4.35,"m":12345678901234567890.5}';
const native = "929da3c98db0df8fa0d9549009116a012e6bb82691520943ea0908b349f2bfb1";

test("awkward numbers fingerprint as the native core does, and the same payload is one action", async () => {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push(init.headers["Idempotency-Key"]);
    return new Response("{}", { status: 201, headers: { "content-type": "application/json" } });
  };
  const so = new Sendonce({ storage: "memory", fetch });
  const first = so.action("numbers", JSON.parse(text));
  assert.equal(first.fingerprint, native);
  await first.send("/api/n", { method: "POST" });
  // The same numbers written differently by the page (1e21 vs 1000000000000000000000) are the
  // same payload: answered locally, no second request.
  const again = so.action("numbers", JSON.parse(text.replace("1e21", "1000000000000000000000")));
  assert.equal(again.fingerprint, native);
  await again.send("/api/n", { method: "POST" });
  assert.equal(calls.length, 1);
});
