// One bot process for the bot chaos run and the Node bot tests: the built package over a shared
// Redis (sendonce/redis), behind a small HTTP server on loopback that plays the channel's
// webhook. It prints one JSON line per event on stdout: {"ready":port} first, then
// {"start":key} / {"end":key} around every quick-reply handler and {"done":key} once its run
// is over (result stored, lease released), so a driver can kill it mid-run.
//
//   REDIS_URL=redis://127.0.0.1:6400 [NS=bot] [PREFIX=t1:] [LEASE_MS=2000] [WINDOW=1m]
//     [CLOCK_SKEW_MS=6000] node bot-worker.mjs
//
// CLOCK_SKEW_MS shifts this process's clock (Date.now, which the package reads) by that many
// ms, ahead or (negative) behind: bot servers whose clocks disagree.
//
// The "backend" of the handlers honours keys, the way a ticket or payment API does: it records
// each effect under its idempotency key in Redis (SADD effects:{target} key), so the same key
// twice is one effect and two keys for one tap are a duplicate the driver sees.
import { createServer } from "node:http";
import { createClient } from "redis";
import init, { Sendonce } from "../../pkg/node.js";
import { redisStorage } from "../../pkg/redis.js";

// The package reads the clock through Date.now at every call: shifting it shifts this process.
const skew = Number(process.env.CLOCK_SKEW_MS ?? 0);
if (skew) {
  const realNow = Date.now;
  Date.now = () => realNow() + skew;
}

await init();
const env = process.env;
const prefix = env.PREFIX ?? "chaos:";
const client = createClient({ url: env.REDIS_URL, socket: { reconnectStrategy: () => 200 } });
client.on("error", () => {}); // reconnects; sendonce reports what fails
await client.connect();
const events = [];
const so = new Sendonce({
  namespace: env.NS ?? "bot",
  storage: redisStorage(client, { prefix }),
  leaseMs: Number(env.LEASE_MS ?? 2000),
  retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200, timeoutMs: Number(env.TIMEOUT_MS ?? 10000) },
  onEvent: (e) => {
    if (e.type === "storage.fallback") events.push(e.detail);
  },
});
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cmd = (...args) => client.sendCommand(args.map(String));

const window = env.WINDOW ?? "1m";

async function tap({ conversationId, actionKey, sleepMs = 0 }) {
  const qr = so.quickReplies({ conversationId, window });
  let ranHere = false;
  const result = await qr.run(actionKey, async (key) => {
    ranHere = true;
    say({ start: key });
    await cmd("INCR", `${prefix}runs`);
    await cmd("SADD", `${prefix}runkeys:${conversationId}|${actionKey}`, key);
    if (sleepMs) await sleep(sleepMs);
    // The backend: one effect per key.
    await cmd("SADD", `${prefix}effects:${conversationId}|${actionKey}`, key);
    say({ end: key });
    return { key, pid: process.pid };
  });
  // The run is over here: its result is stored and its lease released.
  if (ranHere) say({ done: result.key });
  return { result, ranHere };
}

async function webhook({ conversationId, eventId, text }) {
  const qr = so.quickReplies({ conversationId, window: "1m" });
  if (await qr.seenAsync(eventId, text ?? null)) return { seen: true };
  await cmd("INCR", `${prefix}inbound:${eventId}`);
  return { seen: false };
}

/** An inbound webhook handled through run(): once per event id across processes, and a
 * process killed in the middle lets a redelivery handle it again (seenAsync() marks first). */
async function hook({ conversationId, eventId }) {
  const qr = so.quickReplies({ conversationId, window: "1m" });
  return qr.run(`inbound|${eventId}`, async (key) => {
    await cmd("SADD", `${prefix}hook:${eventId}`, key);
    return { key };
  });
}

/** An inbound message handled at least once (handleOnce): marked done only after the handler,
 * so a process killed in the middle leaves it to a redelivery, which runs it with the same key. */
async function inbound({ conversationId, eventId, text, sleepMs = 0 }) {
  const qr = so.quickReplies({ conversationId, window: "1m" });
  const out = await qr.handleOnce(eventId, text ?? null, async (key) => {
    say({ start: key, kind: "inbound" });
    await cmd("INCR", `${prefix}inbound-runs:${eventId}`);
    if (sleepMs) await sleep(sleepMs);
    await cmd("SADD", `${prefix}inbound-effects:${eventId}`, key);
    say({ end: key, kind: "inbound" });
    return { key, pid: process.pid };
  });
  if (!out.duplicate) say({ done: out.key, kind: "inbound" });
  return out;
}

async function act({ name, payload, url, idempotent }) {
  const reply = await so.action(name, payload, { idempotent: idempotent ?? true }).send(url);
  return { outcome: reply.outcome, key: reply.key, attempts: reply.attempts };
}

const routes = {
  "/tap": tap,
  "/webhook": webhook,
  "/inbound": inbound,
  "/now": async () => ({ now: Date.now() }),
  "/hook": hook,
  "/act": act,
  "/resume": async () => (await so.resumePending()).map((r) => ({ outcome: r.outcome, key: r.key })),
  "/pending": async () => so.pendingAsync(),
  "/events": async () => events,
};

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", async () => {
    const route = routes[req.url];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    try {
      const out = await route(body ? JSON.parse(body) : {});
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
    } catch (e) {
      res
        .writeHead(500, { "content-type": "application/json" })
        .end(JSON.stringify({ error: String(e?.message ?? e), code: e?.code ?? null }));
    }
  });
});
server.listen(0, "127.0.0.1", () => say({ ready: server.address().port }));
process.on("SIGTERM", () => {
  server.close();
  client.disconnect().finally(() => process.exit(0));
});
