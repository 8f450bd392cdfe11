// Node >= 20: what counts as "the same action" (the payload's fingerprint), seen as requests
// reaching a server: volatile names (`ts`, `nonce`, ...) are left out at the top level only,
// and an action can turn them off.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";
import { countingFetch } from "./support/fetch.mjs";

before(async () => {
  await init();
});

test("two bookings that differ only in a nested ts are two actions: two requests, two keys", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const first = await so.action("book", { room: 1, slot: { ts: "10:00" } }).send("/api/bookings");
  const second = await so.action("book", { room: 1, slot: { ts: "11:00" } }).send("/api/bookings");
  assert.equal(first.outcome, "done");
  assert.equal(second.outcome, "done", "the second booking is not 'already received'");
  assert.equal(calls.length, 2, "both bookings reached the server");
  assert.notEqual(first.key, second.key);
  assert.deepEqual(calls.map((c) => JSON.parse(c.body).slot.ts), ["10:00", "11:00"]);
});

test("every volatile name is data below the top level, in objects and arrays", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const names = ["timestamp", "ts", "sentAt", "nonce", "attempt", "requestId"];
  for (const name of names) {
    for (const wrap of [(v) => ({ a: { [name]: v } }), (v) => ({ items: [{ [name]: v }] }), (v) => [{ [name]: v }]]) {
      const one = so.action(`nested-${name}`, wrap(1));
      const other = so.action(`nested-${name}`, wrap(2));
      assert.notEqual(one.fingerprint, other.fingerprint, `${name} in ${JSON.stringify(wrap(1))}`);
      await one.send("/api/x");
      await other.send("/api/x");
    }
  }
  assert.equal(calls.length, names.length * 3 * 2);
});

test("a top-level ts is a client's stamp: the repeat is answered locally, unless volatile: [] says it is data", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const a = await so.action("order", { item: "tea", ts: 1 }).send("/api/orders");
  const b = await so.action("order", { item: "tea", ts: 2 }).send("/api/orders");
  assert.equal(b.outcome, "already_received");
  assert.equal(b.key, a.key);
  assert.equal(calls.length, 1);

  const c = await so.action("reading", { meter: 7, ts: 1 }, { volatile: [] }).send("/api/readings");
  const d = await so.action("reading", { meter: 7, ts: 2 }, { volatile: [] }).send("/api/readings");
  assert.equal(d.outcome, "done");
  assert.notEqual(c.key, d.key);
  assert.equal(calls.length, 3);

  // An own list replaces the defaults: `clientTime` is left out, `ts` counts.
  const own = { volatile: ["clientTime"] };
  const e = so.action("ping", { ts: 1, clientTime: 1 }, own);
  assert.equal(e.fingerprint, so.action("ping", { ts: 1, clientTime: 2 }, own).fingerprint);
  assert.notEqual(e.fingerprint, so.action("ping", { ts: 2, clientTime: 1 }, own).fingerprint);
});

test("a bad volatile option is a SendonceError naming it, and nothing is sent", async () => {
  const { calls, fetch } = countingFetch();
  const so = new Sendonce({ storage: "memory", fetch });
  const bads = ["ts", [1], { length: 1e9 }, [Symbol("x")]];
  bads.forEach((bad, i) => {
    assert.throws(
      () => so.action("x", { ts: 1 }, { volatile: bad }),
      (e) => e.name === "SendonceError" && e.code === "invalid_option" && /volatile/.test(e.message),
      `bad volatile #${i}`,
    );
  });
  assert.equal(calls.length, 0);
});
