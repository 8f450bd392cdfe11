// Node >= 20: the `sendonce/forms` entry (actions and forms, its own wasm) through the
// package's exports map, as `import ... from "sendonce/forms"` resolves it: an action sends
// once, chat and quick replies are not there, and its wasm and JS are smaller than the full
// entry's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";

const pkg = new URL("../../pkg/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("package.json", pkg), "utf8"));

test("sendonce/forms is exported with types, a Node entry and a browser entry", () => {
  const e = manifest.exports["./forms"];
  assert.deepEqual(Object.keys(e), ["types", "node", "default"]);
  for (const file of [e.types, e.node, e.default, "./sendonce_forms_bg.wasm"]) {
    assert.ok(statSync(new URL(file, pkg)).size > 0, file);
    assert.ok(manifest.files.includes(file.slice(2)), `${file} is in the published files`);
  }
});

test("the forms entry sends an action once, has no chat or quick replies, and is smaller", async () => {
  const forms = await import(new URL(manifest.exports["./forms"].node, pkg));
  await forms.default();
  const calls = [];
  const fetch = async (url, init) => {
    calls.push(init.headers["Idempotency-Key"]);
    await new Promise((r) => setTimeout(r, 20));
    return new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });
  };
  const so = new forms.Sendonce({ storage: "memory", fetch });
  const replies = await Promise.all(
    Array.from({ length: 50 }, () => so.action("order", { item: "tea", qty: 2 }).send("/api/orders", { method: "POST" })),
  );
  assert.equal(calls.length, 1, "fifty sends of one action: one request");
  assert.equal(new Set(replies.map((r) => r.key)).size, 1);
  assert.deepEqual([replies[0].status, replies[0].outcome, replies[0].body], [201, "done", { id: 1 }]);
  assert.equal(typeof so.form, "function");
  assert.equal(typeof so.chat, "undefined");
  assert.equal(typeof so.quickReplies, "undefined");
  assert.throws(() => new forms.Sendonce({ storage: "nope" }), (e) => e instanceof forms.SendonceError && e.code === "invalid_option");

  const gz = (file) => gzipSync(readFileSync(new URL(file, pkg)), { level: 9 }).length;
  const full = gz("sendonce_bg.wasm") + gz("sendonce_wasm.js") + gz("sendonce.js");
  const light = gz("sendonce_forms_bg.wasm") + gz("sendonce_forms_wasm.js") + gz("forms.js");
  assert.ok(light < full * 0.9, `forms entry ${light} B gzip vs full ${full} B gzip`);
});
