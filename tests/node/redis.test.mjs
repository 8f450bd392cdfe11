// Bot processes over one real Redis (Debian's redis-server on a free loopback port, started and
// stopped here): quick-reply runs, inbound webhooks and actions are done once across processes,
// a process killed mid-handler is taken over with the same key, a restarted process resumes its
// action with its key, and Redis going away is a clear error with nothing marked done.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createClient } from "redis";
import init, { Sendonce } from "../../pkg/node.js";
import { redisStorage } from "../../pkg/redis.js";
import { startRedis } from "../../scripts/lib/redis-server.mjs";
import { botChaos, Bot } from "../../scripts/bot-chaos.mjs";
import { otherProcess } from "./support/other-process.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let redis;
let client;
const started = [];

before(async () => {
  await init();
  redis = await startRedis();
  client = createClient({ url: redis.url });
  client.on("error", () => {});
  await client.connect();
});

after(async () => {
  await Promise.all(started.map((b) => b.stop()));
  await client.close().catch(() => {});
  await redis.stop();
});

/** Starts `n` bot processes over the test Redis, with their own key prefix. */
async function bots(n, prefix, extra = {}) {
  const env = { ...process.env, REDIS_URL: redis.url, PREFIX: prefix, LEASE_MS: "1500", NS: "bot", ...extra };
  const list = Array.from({ length: n }, (_, i) => new Bot(env, `${prefix}${i}`));
  started.push(...list);
  await Promise.all(list.map((b) => b.start()));
  return list;
}

const cmd = (...args) => client.sendCommand(args.map(String));

test("three processes, 30 taps each delivered 5 times to random processes: 30 handler effects", { timeout: 120_000 }, async () => {
  const f = await botChaos({ processes: 3, taps: 30, deliveries: 5, webhooks: 0, kills: 0, seed: 3 });
  assert.equal(f.tapDeliveries, 150);
  assert.equal(f.handlerRuns, 30, "each tap ran its handler once, whatever process the deliveries hit");
  assert.deepEqual(f.effectsPerTap, { 1: 30 });
  assert.equal(f.duplicateEffects, 0);
  assert.equal(f.lostTaps, 0);
});

test("bot chaos, small: SIGKILLs mid-handler and redeliveries -> 0 duplicate effects, 0 lost taps", { timeout: 180_000 }, async () => {
  const f = await botChaos({ processes: 3, taps: 20, deliveries: 5, webhooks: 10, kills: 2, seed: 5 });
  assert.equal(f.kills, 2);
  assert.equal(f.extraRuns, 0, "one handler run per tap, plus one per run a kill cut off");
  assert.ok(f.killsMidHandler >= 1, "at least one process died in the middle of a handler");
  assert.deepEqual(f.keysPerTap, { 1: 20 }, "every run of a tap, the killed ones included, used the same key");
  assert.equal(f.duplicateEffects, 0);
  assert.equal(f.lostTaps, 0);
  assert.equal(f.webhookDuplicates, 0);
  assert.equal(f.lostWebhooks, 0);
});

test("bot chaos with clock skew (processes at 0, +6 s, -6 s; window 5 s), SIGKILLs and at-least-once inbound messages: one effect each, no extra runs, nothing lost", { timeout: 180_000 }, async () => {
  const f = await botChaos({ processes: 3, taps: 15, deliveries: 4, webhooks: 5, inbound: 10, kills: 2, seed: 11, skewMs: 6000 });
  assert.deepEqual(f.skews, [0, 6000, -6000]);
  assert.equal(f.window, "5s");
  assert.equal(f.lateRepeats, 15);
  assert.equal(f.extraRuns, 0, "no process ran a tap again because its clock said the window was over");
  assert.deepEqual(f.keysPerTap, { 1: 15 });
  assert.equal(f.duplicateEffects, 0);
  assert.equal(f.lostTaps, 0);
  assert.equal(f.webhookDuplicates, 0);
  assert.equal(f.lostWebhooks, 0);
  // Inbound messages handled at least once (handleOnce): none lost to a kill, one effect each.
  assert.equal(f.lostInbound, 0);
  assert.equal(f.inboundDuplicates, 0);
  assert.ok(f.inboundRuns >= 10 && f.inboundRuns <= 10 + f.inboundCutOff, "one run per message, plus one per run a kill cut off");
});

test("a webhook redelivered to every process is handled once (seenAsync with claims)", { timeout: 60_000 }, async () => {
  const list = await bots(3, "hook1:");
  const event = { conversationId: "c-1", eventId: "evt-77", text: "I want a refund" };
  const answers = await Promise.all([...list, ...list].map((b) => b.post("/webhook", event)));
  assert.equal(answers.filter((a) => a.seen === false).length, 1, "one process won the message");
  // A later redelivery, with the id changed by the channel but the same text, is a duplicate too.
  const again = await list[1].post("/webhook", { ...event, eventId: "evt-78" });
  assert.equal(again.seen, true);
  assert.equal(Number(await cmd("GET", "hook1:inbound:evt-77")), 1);
  assert.equal(await cmd("GET", "hook1:inbound:evt-78"), null);
});

test("SIGKILL mid-handler, then a tap on another process runs the handler with the same key", { timeout: 60_000 }, async () => {
  const [a, b] = await bots(2, "kill1:");
  const tap = { conversationId: "c-9", actionKey: "createTicket|order=9" };
  const startedKey = new Promise((resolve) => (a.onStart = resolve));
  const first = a.post("/tap", { ...tap, sleepMs: 30_000 }).catch((e) => e);
  const key = await startedKey;
  // The user taps again; the channel delivers it to the other process while the first runs.
  const pendingSecond = b.post("/tap", { ...tap, sleepMs: 0 });
  await sleep(2500);
  assert.equal(Number(await cmd("GET", "kill1:runs")), 1, "the other process waits: one run, longer than the lease");
  await a.kill();
  assert.ok((await first) instanceof Error, "the first delivery got no answer");
  const t0 = Date.now();
  const second = await pendingSecond;
  assert.equal(second.ranHere, true, "the other process ran the handler");
  assert.equal(second.result.key, key, "with the same key");
  assert.ok(Date.now() - t0 < 5_000, "after the dead process's lease lapsed (1.5 s), not much later");
  assert.deepEqual(await cmd("SMEMBERS", `kill1:runkeys:c-9|createTicket|order=9`), [key]);
  assert.deepEqual(await cmd("SMEMBERS", `kill1:effects:c-9|createTicket|order=9`), [key]);
  // A further tap gets the stored result.
  const third = await b.post("/tap", tap);
  assert.equal(third.ranHere, false);
});

/** A chat API that records each request's key; `hold` requests get no answer until released. */
async function targetApi() {
  const requests = [];
  let holding = true;
  const held = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      requests.push({ key: req.headers["idempotency-key"], body });
      if (holding) {
        held.push(res);
        return;
      }
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, n: requests.length }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/api/messages`,
    requests,
    answerFromNowOn() {
      holding = false;
    },
    releaseHeld() {
      holding = false;
      for (const res of held.splice(0)) {
        res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
      }
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

test("a restarted process resumes its in-flight action with its key (pendingAsync, resumePending)", { timeout: 60_000 }, async () => {
  const api = await targetApi();
  try {
    const [a] = await bots(1, "act1:");
    const action = { name: "notifyCustomer", payload: { order: 42, text: "Shipped" }, url: api.url };
    const inFlight = a.post("/act", action).catch((e) => e);
    while (api.requests.length === 0) await sleep(20);
    const key = api.requests[0].key;
    await a.kill();
    assert.ok((await inFlight) instanceof Error, "the process died before the answer");
    api.answerFromNowOn();
    await a.start();
    const pending = await a.post("/pending", {});
    assert.ok(pending.some((p) => p.key === key && p.action === "notifyCustomer"), "pendingAsync() lists it after the restart");
    const resumed = await a.post("/resume", {});
    const mine = resumed.find((r) => r.key === key);
    assert.ok(mine, "resumePending() resent it");
    assert.equal(mine.outcome, "done");
    assert.equal(api.requests.length, 2);
    assert.equal(api.requests[1].key, key, "with its key");
    assert.equal(api.requests[1].body, api.requests[0].body, "and the same bytes");
  } finally {
    await api.close();
  }
});

test("the same action on another process is one request: it waits while the first sends, then is answered locally", { timeout: 60_000 }, async () => {
  const api = await targetApi();
  try {
    const [a, b] = await bots(2, "act2:");
    const action = { name: "notifyCustomer", payload: { order: 43, text: "Shipped" }, url: api.url };
    const first = a.post("/act", action);
    while (api.requests.length === 0) await sleep(20);
    const key = api.requests[0].key;
    const twin = b.post("/act", action);
    // Longer than the lease (1.5 s): the live first process keeps renewing it.
    await sleep(2500);
    assert.equal(api.requests.length, 1, "the other process waits instead of sending");
    api.releaseHeld();
    const [one, two] = await Promise.all([first, twin]);
    assert.equal(one.outcome, "done");
    assert.equal(two.key, key, "the same key");
    assert.ok(["done", "already_received"].includes(two.outcome));
    assert.equal(api.requests.length, 1);
    // Later, the same action anywhere is answered from the stored result: no request.
    const repeat = await b.post("/act", action);
    assert.equal(repeat.outcome, "already_received");
    assert.equal(repeat.key, key);
    assert.equal(api.requests.length, 1);
  } finally {
    await api.close();
  }
});

test("a not-idempotent action cut off mid-request is not resent after a restart: it rests uncertain", { timeout: 60_000 }, async () => {
  const api = await targetApi();
  try {
    const [a] = await bots(1, "unc1:");
    const action = { name: "sendMessage", payload: { chat: 1, text: "Hello" }, url: api.url, idempotent: false };
    const inFlight = a.post("/act", action).catch((e) => e);
    while (api.requests.length === 0) await sleep(20);
    await a.kill();
    await inFlight;
    api.answerFromNowOn();
    await a.start();
    const pending = await a.post("/pending", {});
    assert.equal(pending.find((p) => p.action === "sendMessage")?.status, "uncertain");
    await a.post("/resume", {});
    const again = await a.post("/act", action);
    assert.equal(again.outcome, "uncertain");
    assert.equal(api.requests.length, 1, "never resent without a person's decision");
  } finally {
    await api.close();
  }
});

test("Redis going away mid-run: a clear storage error within the bound, the handler is not run, and nothing is marked done", { timeout: 90_000 }, async () => {
  const own = await startRedis();
  const c = createClient({ url: own.url, socket: { reconnectStrategy: () => 100 } });
  c.on("error", () => {});
  await c.connect();
  try {
    const events = [];
    const so = new Sendonce({ namespace: "gone", storage: redisStorage(c), leaseMs: 1000, onEvent: (e) => events.push(e) });
    const qr = so.quickReplies({ conversationId: "c-1", window: "1m" });
    const keys = [];
    // The handler runs while Redis is killed under it: its result cannot be stored.
    const first = await qr.run("createTicket", async (key) => {
      keys.push(key);
      await own.stop({ kill: true });
      return "T-1";
    });
    assert.equal(first, "T-1");
    assert.ok(events.some((e) => e.type === "storage.fallback" && /did not answer|rejected|threw/.test(e.detail ?? "")), "the failed write was reported");
    // While Redis is away: a clear error, no handler call.
    const t0 = Date.now();
    await assert.rejects(
      qr.run("createTicket", (key) => keys.push(key)),
      (e) => e.name === "SendonceError" && e.code === "storage" && /not run/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 12_000, "bounded, not a hang");
    assert.equal(keys.length, 1);
    // Redis is back (empty: it kept nothing). The result was never stored, so the tap runs
    // the handler again, with the same key: a key-honouring backend makes one effect.
    const back = await startRedis({ port: own.port });
    try {
      for (let i = 0; i < 100 && !c.isReady; i += 1) await sleep(50);
      const again = await qr.run("createTicket", (key) => {
        keys.push(key);
        return "T-1";
      });
      assert.equal(again, "T-1");
      assert.equal(keys.length, 2);
      assert.equal(keys[1], keys[0], "the same key");
    } finally {
      await c.close().catch(() => {});
      await back.stop();
    }
  } finally {
    await own.stop();
  }
});

test("node-redis and the adapter: every key sendonce writes has a time to live", { timeout: 30_000 }, async () => {
  const so = new Sendonce({ namespace: "ttl", storage: redisStorage(client, { prefix: "ttl1:" }) });
  const qr = so.quickReplies({ conversationId: "c-1" });
  await qr.run("a", () => 1);
  await qr.seenAsync("m-1", "hello");
  const keys = await cmd("KEYS", "ttl1:*");
  assert.ok(keys.length >= 3);
  for (const k of keys) assert.ok(Number(await cmd("PTTL", k)) > 0, `${k} has a TTL`);
  const storage = redisStorage(client, { prefix: "ttl1:" });
  assert.equal(await storage.claim("x", "v1", 5000), true);
  assert.equal(await storage.claim("x", "v2", 5000), false);
  assert.equal(await storage.release("x", "v2"), false, "release compares the value");
  assert.equal(await storage.get("x"), "v1");
  assert.equal(await storage.renew("x", "v1", 60_000), true);
  assert.equal(await storage.release("x", "v1"), true);
  assert.equal(await storage.get("x"), null);
  assert.ok((await storage.keys("ttl:v1:")).length >= 3, "SCAN lists without the prefix");
});

test("over Redis, a handler longer than the lease keeps it (renew script): another instance waits and gets its result", { timeout: 30_000 }, async () => {
  const a = new Sendonce({ namespace: "long", storage: redisStorage(client, { prefix: "long1:" }), leaseMs: 1000 });
  const Other = await otherProcess();
  const b = new Other({ namespace: "long", storage: redisStorage(client, { prefix: "long1:" }), leaseMs: 1000 });
  let calls = 0;
  const slow = a.quickReplies({ conversationId: "c" }).run("report", async () => {
    calls += 1;
    await sleep(3000);
    return "R-1";
  });
  // The first run holds the lease (its handler started) before the other instance taps.
  while (calls === 0) await sleep(5);
  const other = await b.quickReplies({ conversationId: "c" }).run("report", () => {
    calls += 1;
    return "R-2";
  });
  assert.equal(await slow, "R-1");
  assert.equal(other, "R-1");
  assert.equal(calls, 1);
});

test("an ioredis client works the same: claims, release, renew, SCAN, and one run across two processes", { timeout: 30_000 }, async () => {
  const { default: IORedis } = await import("ioredis");
  const io = new IORedis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await io.connect();
  try {
    const storage = redisStorage(io, { prefix: "io1:" });
    assert.equal(await storage.claim("x", "v1", 5000), true);
    assert.equal(await storage.claim("x", "v2", 5000), false);
    assert.equal(await storage.renew("x", "v2", 5000), false);
    assert.equal(await storage.renew("x", "v1", 60_000), true);
    assert.ok(Number(await io.pttl("io1:x")) > 5000);
    assert.equal(await storage.release("x", "v1"), true);
    assert.equal(await storage.get("x"), null);
    const Other = await otherProcess();
    const a = new Sendonce({ namespace: "io", storage: storage });
    const b = new Other({ namespace: "io", storage: redisStorage(io, { prefix: "io1:" }) });
    let calls = 0;
    const handler = async (key) => {
      calls += 1;
      await sleep(50);
      return key;
    };
    const [r1, r2] = await Promise.all([
      a.quickReplies({ conversationId: "c" }).run("t", handler),
      b.quickReplies({ conversationId: "c" }).run("t", handler),
    ]);
    assert.equal(calls, 1);
    assert.equal(r1, r2);
    assert.ok((await storage.keys("io:v1:q:")).length === 1, "SCAN finds the stored result");
  } finally {
    io.disconnect();
  }
});

/** Taps `tap` on each bot in turn (one after the other: a user tapping again), returning the
 * answers. */
async function tapInTurn(list, tap) {
  const out = [];
  for (const b of list) out.push(await b.post("/tap", tap));
  return out;
}

for (const skew of [6000, -6000]) {
  test(`clock skew ${skew > 0 ? "+" : ""}${skew / 1000} s between two processes (window 5 s): a repeated tap runs once, one effect`, { timeout: 60_000 }, async () => {
    const prefix = `skew${skew > 0 ? "p" : "m"}:`;
    const [right] = await bots(1, prefix, { WINDOW: "5s" });
    const [skewed] = await bots(1, prefix, { WINDOW: "5s", CLOCK_SKEW_MS: String(skew) });
    const clocks = await Promise.all([right.post("/now", {}), skewed.post("/now", {})]);
    assert.ok(Math.abs(clocks[1].now - clocks[0].now - skew) < 1000, "the second process's clock is off by the skew");
    // Both orders: the process with the right clock first, then the skewed one first.
    for (const [name, order] of [["a", [right, skewed, right]], ["b", [skewed, right, skewed]]]) {
      const tap = { conversationId: "c-1", actionKey: `createTicket|order=${name}` };
      const answers = await tapInTurn(order, tap);
      assert.deepEqual(answers.map((a) => a.ranHere), [true, false, false], `order ${name}: only the first tap ran the handler`);
      const id = `c-1|${tap.actionKey}`;
      assert.equal((await cmd("SMEMBERS", `${prefix}effects:${id}`)).length, 1, `order ${name}: one backend effect`);
      assert.equal((await cmd("SMEMBERS", `${prefix}runkeys:${id}`)).length, 1, `order ${name}: one key`);
    }
    assert.equal(Number(await cmd("GET", `${prefix}runs`)), 2, "one handler run per tap");
  });
}

test("clock skew: the window still ends, when the store expires it (not when a clock says)", { timeout: 60_000 }, async () => {
  const prefix = "skewend:";
  const [right] = await bots(1, prefix, { WINDOW: "2s" });
  const [behind] = await bots(1, prefix, { WINDOW: "2s", CLOCK_SKEW_MS: "-6000" });
  const tap = { conversationId: "c-2", actionKey: "ping" };
  const first = await right.post("/tap", tap);
  assert.equal(first.ranHere, true);
  const t0 = Date.now();
  // The process whose clock is 6 s behind would think the window lasts 8 s more; the store
  // ends it after 2 s.
  let again = await behind.post("/tap", tap);
  while (!again.ranHere && Date.now() - t0 < 20_000) {
    await sleep(100);
    again = await behind.post("/tap", tap);
  }
  assert.equal(again.ranHere, true, "after the window a tap is a new action");
  assert.ok(Date.now() - t0 < 6_000, "ended by the store's 2 s, not the skewed clock's 8 s");
  assert.notEqual(again.result.key, first.result.key, "with a new key (a new action on purpose)");
});

test("clock skew: a lease is the store's (a handler longer than the lease, on a process 6 s behind, keeps it)", { timeout: 60_000 }, async () => {
  const prefix = "skewlease:";
  const [behind] = await bots(1, prefix, { CLOCK_SKEW_MS: "-6000" });
  const [ahead] = await bots(1, prefix, { CLOCK_SKEW_MS: "6000" });
  const tap = { conversationId: "c-3", actionKey: "report" };
  const startedKey = new Promise((resolve) => (behind.onStart = resolve));
  const first = behind.post("/tap", { ...tap, sleepMs: 4000 });
  await startedKey;
  // Taps on the process 12 s ahead while the handler runs (3x the 1.5 s lease): they wait.
  const second = await ahead.post("/tap", tap);
  const one = await first;
  assert.equal(one.ranHere, true);
  assert.equal(second.ranHere, false, "the other process waited for the lease holder's result");
  assert.equal(second.result.key, one.result.key);
  assert.equal(Number(await cmd("GET", `${prefix}runs`)), 1);
});

test("handleOnce: SIGKILL mid-handler, the redelivery on another process runs it again with the same key; later ones are duplicates", { timeout: 60_000 }, async () => {
  const [a, b] = await bots(2, "inb1:");
  const message = { conversationId: "c-5", eventId: "evt-5", text: "Cancel my order" };
  const startedKey = new Promise((resolve) => (a.onStart = resolve));
  const first = a.post("/inbound", { ...message, sleepMs: 30_000 }).catch((e) => e);
  const key = await startedKey;
  // The channel redelivers (no answer yet) to the other process, which waits: in progress.
  const redelivery = b.post("/inbound", message);
  await sleep(2500);
  assert.equal(Number(await cmd("GET", "inb1:inbound-runs:evt-5")), 1, "the redelivery waits while the first handles it (longer than the lease)");
  await a.kill();
  assert.ok((await first) instanceof Error, "the first delivery got no answer");
  const second = await redelivery;
  assert.equal(second.duplicate, false, "the message was not lost: the redelivery handled it");
  assert.equal(second.key, key, "with the same key");
  assert.equal(Number(await cmd("GET", "inb1:inbound-runs:evt-5")), 2);
  assert.deepEqual(await cmd("SMEMBERS", "inb1:inbound-effects:evt-5"), [key], "one effect");
  // Done now: any further delivery, by id or by the same text, is a duplicate.
  const third = await b.post("/inbound", message);
  assert.equal(third.duplicate, true);
  assert.equal(third.key, key);
  const sameText = await b.post("/inbound", { ...message, eventId: "evt-5b" });
  assert.equal(sameText.duplicate, true);
  assert.equal(Number(await cmd("GET", "inb1:inbound-runs:evt-5")), 2);
});

test("redisStorage as the README shows it writes each key once under the namespace (no doubled prefix)", { timeout: 30_000 }, async () => {
  const so = new Sendonce({ namespace: "shop-bot", storage: redisStorage(client) });
  const qr = so.quickReplies({ conversationId: "c-1" });
  await qr.run("createTicket", () => "T-1");
  await qr.seenAsync("m-1", "hello");
  const keys = await cmd("KEYS", "*shop-bot*");
  assert.ok(keys.length >= 3);
  for (const k of keys) assert.match(k, /^shop-bot:v1:/, `${k} starts with the namespace, once`);
  // The prefix option goes in front, for a Redis shared with other apps.
  const tenant = new Sendonce({ namespace: "shop-bot", storage: redisStorage(client, { prefix: "tenant-a:" }) });
  await tenant.quickReplies({ conversationId: "c-1" }).run("createTicket", () => "T-2");
  assert.ok((await cmd("KEYS", "tenant-a:shop-bot:v1:*")).length >= 1);
  // Every example in the docs: no redisStorage prefix that repeats the namespace.
  const { readFile, readdir } = await import("node:fs/promises");
  const root = new URL("../../", import.meta.url);
  const files = ["README.md", "js/README.md", "js/redis.d.ts", "js/redis.js"];
  for (const f of await readdir(new URL("examples/", root))) files.push(`examples/${f}`);
  for (const f of files) {
    const text = await readFile(new URL(f, root), "utf8");
    for (const m of text.matchAll(/namespace:\s*"([^"]+)"[\s\S]{0,200}?redisStorage\([^)]*prefix:\s*"([^"]*)"/g)) {
      assert.notEqual(m[2], `${m[1]}:`, `${f}: redisStorage's prefix repeats the namespace`);
    }
  }
});

test("clock skew: the same action on a process whose clock is 2 min ahead (window 1 min) is answered from the store: no second request, the record left in place", { timeout: 60_000 }, async () => {
  const api = await targetApi();
  api.answerFromNowOn();
  try {
    const [right] = await bots(1, "skewact:");
    const [ahead] = await bots(1, "skewact:", { CLOCK_SKEW_MS: "120000" });
    const action = { name: "notifyCustomer", payload: { order: 77, text: "Shipped" }, url: api.url };
    const first = await right.post("/act", action);
    assert.equal(first.outcome, "done");
    const stored = await cmd("KEYS", "skewact:bot:v1:a:*");
    assert.equal(stored.length, 1);
    const again = await ahead.post("/act", action);
    assert.equal(again.key, first.key, "the same key");
    assert.equal(again.outcome, "already_received", "inside the window by the store's clock");
    assert.equal(api.requests.length, 1, "no second request");
    assert.deepEqual(await cmd("KEYS", "skewact:bot:v1:a:*"), stored, "the process ahead did not delete the record the others still read");
  } finally {
    await api.close();
  }
});
