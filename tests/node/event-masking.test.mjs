// Node >= 20: what onEvent shows is masked: a caller's own key or an action name holding an
// email or a phone number never reaches the decision log as typed; sendonce's own keys do.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";
import { countingFetch } from "./support/fetch.mjs";

before(async () => {
  await init();
});

test("a caller's key and an action name with personal data are masked in every event; the request still carries the key", async () => {
  const { calls, fetch } = countingFetch();
  const events = [];
  const so = new Sendonce({ storage: "memory", fetch, onEvent: (e) => events.push(e) });
  const key = "signup:ana.silva@example.com";
  const reply = await so.action("invite +55 11 98765-4321", { plan: "pro" }, { key }).send("/api/invites");
  assert.equal(reply.outcome, "done");
  assert.equal(calls[0].key, key, "the server gets the key as given");
  assert.ok(events.length > 0);
  const text = JSON.stringify(events);
  for (const personal of ["ana.silva", "example.com", "98765", "4321"]) {
    assert.ok(!text.includes(personal), `${personal} in ${text}`);
  }
  assert.ok(events.some((e) => e.key === "signup:[email]"), text);
  assert.ok(events.some((e) => e.action === "invite [phone]"), text);
});

test("sendonce's own keys appear in events as they are, so events match action.key", async () => {
  const { fetch } = countingFetch();
  const events = [];
  const so = new Sendonce({ storage: "memory", fetch, onEvent: (e) => events.push(e) });
  for (let i = 0; i < 50; i += 1) {
    const action = so.action("order", { n: i });
    await action.send("/api/orders");
    assert.ok(events.some((e) => e.type === "action.new" && e.key === action.key), action.key);
  }
});
