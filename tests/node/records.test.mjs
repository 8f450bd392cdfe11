// Node >= 20 with a Web Storage (`localStorage`) stand-in: a record copied under another
// storage key (by a buggy migration, an extension, a hostile script) is not accepted there:
// it is removed and reported with `record.corrupt`, and never listed or resent twice.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { installLocalStorage } from "./support/web-storage.mjs";

installLocalStorage();

const { default: init, Sendonce } = await import("../../pkg/node.js");

before(async () => {
  await init();
});

test("a pending action's record copied under another key is refused there: one pending entry, one resend", async () => {
  const failing = async () => {
    throw new TypeError("fetch failed");
  };
  const so = new Sendonce({ namespace: "shop", fetch: failing, retry: { attempts: 1 } });
  const action = so.action("createOrder", { item: "tea" });
  const reply = await action.send("/api/orders");
  assert.equal(reply.outcome, "offline");
  so.dispose();

  const prefix = "shop:v1:a:";
  const own = [...Array(localStorage.length).keys()].map((i) => localStorage.key(i)).filter((k) => k.startsWith(prefix));
  assert.equal(own.length, 1);
  const copyKey = `${prefix}0f8e1c2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b`;
  localStorage.setItem(copyKey, localStorage.getItem(own[0]));

  // The next page.
  const calls = [];
  const events = [];
  const fetch = async (url, init) => {
    calls.push(init.headers["Idempotency-Key"]);
    return new Response("{}", { status: 201, headers: { "content-type": "application/json" } });
  };
  const next = new Sendonce({ namespace: "shop", fetch, onEvent: (e) => events.push(e) });
  const pending = next.pending();
  assert.equal(pending.length, 1, `pending: ${JSON.stringify(pending)}`);
  assert.equal(pending[0].key, action.key);
  assert.equal(localStorage.getItem(copyKey), null, "the copy was removed");
  assert.ok(localStorage.getItem(own[0]), "the real record stays");
  const corrupt = events.filter((e) => e.type === "record.corrupt");
  assert.equal(corrupt.length, 1);
  assert.match(corrupt[0].detail, /does not belong under this storage key/);

  const replies = await next.resumePending();
  assert.equal(replies.length, 1);
  assert.equal(replies[0].outcome, "done");
  assert.deepEqual(calls, [action.key], "sent once, with its own key");
});
