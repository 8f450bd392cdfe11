// Node >= 20: memory storage has a quota like a browser's localStorage (5 MiB of key + value
// text), and a full memory store evicts the way a full localStorage does: finished records
// first, never an action that is still being sent.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import init, { Sendonce } from "../../pkg/node.js";

let wasm;
before(async () => {
  wasm = await init();
});

const mib = () => wasm.memory.buffer.byteLength / 2 ** 20;

test("memory storage stays under its quota: old finished records go, a live action stays", async () => {
  let release;
  const hanging = new Promise((resolve) => {
    release = resolve;
  });
  const sent = [];
  // Kept with each finished action (replies up to 2,048 bytes are stored).
  const answer = JSON.stringify({ ok: true, receipt: "r".repeat(1900) });
  const fetch = async (url, init) => {
    const { id } = JSON.parse(init.body);
    sent.push(id);
    if (id === "live") await hanging;
    return new Response(answer, { status: 201, headers: { "content-type": "application/json" } });
  };
  const so = new Sendonce({
    storage: "memory",
    namespace: "quota",
    fetch,
    // Nothing expires during the test: only the quota can make room.
    windows: { default: "24h" },
    retry: { timeoutMs: 120_000, deadlineMs: 120_000 },
  });
  // Sent first and still waiting for its reply when the store fills up.
  const live = so.action("order", { id: "live" });
  const liveKey = live.key;
  const liveReply = live.send("/api/orders", { method: "POST" });

  // Each finished action keeps its reply and its index entry: about 2,300 characters, so
  // some 2,300 actions fill 5 MiB.
  const order = (i) => ({ id: i, note: "tea" });
  const send = async (i) => {
    const a = so.action("order", order(i));
    const reply = await a.send("/api/orders", { method: "POST" });
    a.free();
    return reply;
  };
  try {
    for (let i = 0; i < 3000; i += 1) await send(i);
    const full = mib();
    for (let i = 3000; i < 6000; i += 1) await send(i);
    const later = mib();
    // Without the quota every record stays: 3,000 more actions hold 7 MB more.
    assert.ok(later - full < 2, `wasm memory grew from ${full} to ${later} MiB once the store was full`);

    // The oldest finished action was evicted: its repeat is a new request. The latest is kept
    // and answered locally.
    const before = sent.length;
    await send(0);
    assert.equal(sent.length, before + 1, "the oldest finished record was evicted");
    await send(5999);
    assert.equal(sent.length, before + 1, "the latest finished record was kept");

    // The live action was never evicted: still pending, and the same data keeps its key.
    assert.ok(
      so.pending().some((p) => p.key === liveKey),
      "the action being sent is still in storage",
    );
    const again = so.action("order", { id: "live" });
    assert.equal(again.key, liveKey);
  } finally {
    release();
  }
  const reply = await liveReply;
  assert.equal(reply.key, liveKey);
  assert.equal(sent.filter((id) => id === "live").length, 1);
  so.dispose();
});
