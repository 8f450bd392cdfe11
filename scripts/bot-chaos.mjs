#!/usr/bin/env node
// The bot chaos run: many bot processes over one Redis, the way bot servers run behind a load
// balancer. Starts redis-server on a free loopback port (no persistence), N bot processes
// (scripts/lib/bot-worker.mjs: the built package with sendonce/redis), then drives M quick-reply
// taps, each delivered several times (a user tapping 5x, a channel redelivering) to random
// processes, and inbound webhooks with redeliveries, while SIGKILLing processes in the middle of
// a handler and starting them again. A delivery that hits a dead process is redelivered to
// another one, as a channel does.
//
//   node scripts/bot-chaos.mjs [--processes 3] [--taps 30] [--deliveries 5] [--webhooks 20]
//                              [--kills 3] [--seed 7] [--lease-ms 2000] [--skew-ms 6000]
//                              [--window 5s] [--inbound 10] [--json]
//
// Inbound messages handled at least once (--inbound, qr.handleOnce): each is delivered one to
// three times, its handler takes as long as a tap's, and kills hit it too. A message whose
// process died mid-handler must be handled again by a redelivery (with the same key): none may
// be lost, and the backend sees one effect each.
//
// Clock skew between processes (--skew-ms): the processes' clocks are shifted by 0, +skew and
// -skew in turn (bot servers whose clocks disagree), the quick-reply window is --window (5 s by
// default with a skew, so the skew exceeds it), and every tap also gets a late repeat after its
// handler has finished, inside the window: a process that judged the window by its own clock
// would run it again under a new key.
//
// The handlers' backend honours keys (one effect per idempotency key, like a ticket API), so a
// handler run again after a kill with the same key is one effect; a run with another key is a
// duplicate effect. A lost tap is one whose handler never completed, or that no delivery got an
// answer for. Handler runs beyond one per tap (plus one per run a kill cut off) are counted as
// extra runs. Exits non-zero on any duplicate effect, extra run or lost tap. Build the package first
// (./scripts/build.sh); ./scripts/setup.sh installs redis-server.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { startRedis } from "./lib/redis-server.mjs";

const WORKER = fileURLToPath(new URL("./lib/bot-worker.mjs", import.meta.url));

/** A small seeded generator (xorshift32), so a run can be repeated. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One bot process: spawned, its port read from its first line, its running handlers tracked. */
export class Bot {
  constructor(env, name) {
    this.env = env;
    this.name = name;
    this.active = new Set();
    this.activeInbound = new Set();
    this.port = null;
    this.child = null;
  }

  async start() {
    this.active = new Set();
    this.activeInbound = new Set();
    const child = spawn(process.execPath, [WORKER], { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stderr.on("data", () => {});
    const lines = createInterface({ input: child.stdout });
    this.port = await new Promise((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`${this.name} exited (${code}) before it was ready`)));
      lines.on("line", (line) => {
        let o;
        try {
          o = JSON.parse(line);
        } catch {
          return;
        }
        if (o.ready) resolve(o.ready);
        // Quick-reply runs and inbound messages (handleOnce) are tracked apart.
        const set = o.kind === "inbound" ? this.activeInbound : this.active;
        if (o.start) {
          set.add(o.start);
          this.onStart?.(o.start);
        }
        if (o.done) set.delete(o.done);
      });
    });
    child.removeAllListeners("exit");
    this.exited = new Promise((r) => child.once("exit", r));
  }

  get alive() {
    return this.child && this.child.exitCode === null && this.child.signalCode === null && this.port;
  }

  async post(path, body) {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const out = await res.json();
    if (res.status !== 200) throw Object.assign(new Error(out.error ?? `HTTP ${res.status}`), { http: res.status });
    return out;
  }

  async kill() {
    this.port = null;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  async stop() {
    if (!this.alive) return;
    this.child.kill("SIGTERM");
    await Promise.race([this.exited, sleep(2000)]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** Runs the scenario; resolves with the figures. */
export async function botChaos({
  processes = 3,
  taps = 30,
  deliveries = 5,
  webhooks = 20,
  inbound = 0,
  kills = 3,
  seed = 7,
  leaseMs = 2000,
  handlerMs = [40, 250],
  deadlineMs = 90_000,
  skewMs = 0,
  window = skewMs ? "5s" : "1m",
  log = () => {},
} = {}) {
  const random = rng(seed);
  const pick = (n) => Math.floor(random() * n);
  const redis = await startRedis();
  const prefix = `chaos${seed}:`;
  const env = { ...process.env, REDIS_URL: redis.url, PREFIX: prefix, LEASE_MS: String(leaseMs), NS: "chaosbot", WINDOW: window };
  // With a skew, the processes' clocks are 0, +skew, -skew, 0, ... off.
  const skews = Array.from({ length: processes }, (_, i) => [0, skewMs, -skewMs][i % 3]);
  const bots = Array.from(
    { length: processes },
    (_, i) => new Bot({ ...env, CLOCK_SKEW_MS: String(skews[i]) }, `bot-${i}${skews[i] ? ` (clock ${skews[i] > 0 ? "+" : ""}${skews[i]} ms)` : ""}`),
  );
  const client = createClient({ url: redis.url });
  client.on("error", () => {});
  const figures = {
    processes,
    skews,
    window,
    taps,
    tapDeliveries: 0,
    lateRepeats: 0,
    failedDeliveries: 0,
    handlerRuns: 0,
    kills: 0,
    killsMidHandler: 0,
    runsCutOff: 0,
    extraRuns: 0,
    restarts: 0,
    effectsPerTap: {},
    keysPerTap: {},
    duplicateEffects: 0,
    lostTaps: 0,
    webhooks,
    inbound,
    inboundDeliveries: 0,
    inboundRuns: 0,
    inboundCutOff: 0,
    inboundDuplicates: 0,
    lostInbound: 0,
    webhookDeliveries: 0,
    webhookDuplicates: 0,
    lostWebhooks: 0,
    ms: 0,
  };
  const started = Date.now();
  try {
    await client.connect();
    await Promise.all(bots.map((b) => b.start()));
    log(`redis on ${redis.port}, ${processes} bot processes`);

    const answered = new Map();
    /** Delivers one request to a random live process; a dead or failing one -> redelivered. */
    async function deliver(path, body, onAnswer) {
      const until = Date.now() + deadlineMs;
      while (Date.now() < until) {
        const live = bots.filter((b) => b.alive);
        if (live.length > 0) {
          const bot = live[pick(live.length)];
          try {
            const out = await bot.post(path, body);
            onAnswer(out);
            return true;
          } catch {
            figures.failedDeliveries += 1;
          }
        }
        await sleep(100 + pick(100));
      }
      return false;
    }

    const work = [];
    for (let i = 0; i < taps; i += 1) {
      const target = { conversationId: `c-${i % 7}`, actionKey: `createTicket|order=${i}` };
      const id = `${target.conversationId}|${target.actionKey}`;
      const first = i * 60 + pick(40);
      for (let d = 0; d < deliveries; d += 1) {
        const at = first + pick(400);
        const sleepMs = handlerMs[0] + pick(handlerMs[1] - handlerMs[0]);
        work.push(
          sleep(at).then(() => {
            figures.tapDeliveries += 1;
            return deliver("/tap", { ...target, sleepMs }, () => answered.set(id, true));
          }),
        );
      }
      if (skewMs) {
        // A late repeat: after the handler has finished (its runs take at most
        // handlerMs[1]), well inside the window, on a random process.
        work.push(
          sleep(first + 400 + handlerMs[1] + 600 + pick(600)).then(() => {
            figures.tapDeliveries += 1;
            figures.lateRepeats += 1;
            return deliver("/tap", { ...target, sleepMs: 0 }, () => answered.set(id, true));
          }),
        );
      }
    }
    for (let i = 0; i < inbound; i += 1) {
      const message = { conversationId: `c-${i % 4}`, eventId: `msg-${i}`, text: `message number ${i}` };
      const times = 1 + pick(3);
      for (let d = 0; d < times; d += 1) {
        const sleepMs = handlerMs[0] + pick(handlerMs[1] - handlerMs[0]);
        work.push(
          sleep(i * 70 + pick(500)).then(() => {
            figures.inboundDeliveries += 1;
            return deliver("/inbound", { ...message, sleepMs }, () => {});
          }),
        );
      }
    }
    for (let i = 0; i < webhooks; i += 1) {
      const event = { conversationId: `c-${i % 5}`, eventId: `evt-${i}` };
      const times = 1 + pick(3);
      for (let d = 0; d < times; d += 1) {
        work.push(
          sleep(i * 80 + pick(600)).then(() => {
            figures.webhookDeliveries += 1;
            return deliver("/hook", event, () => {});
          }),
        );
      }
    }
    // Kills: spread over the taps, each aimed at a process that is running a handler.
    const span = taps * 60 + 400;
    for (let k = 0; k < kills; k += 1) {
      work.push(
        sleep(((k + 1) * span) / (kills + 1)).then(async () => {
          let victim = null;
          for (let t = 0; t < 40 && !victim; t += 1) {
            const busy = bots.filter((b) => b.alive && b.active.size + b.activeInbound.size > 0);
            victim = busy.length > 0 ? busy[pick(busy.length)] : null;
            if (!victim) await sleep(25);
          }
          victim ??= bots.filter((b) => b.alive)[0];
          if (!victim) return;
          if (victim.active.size + victim.activeInbound.size > 0) figures.killsMidHandler += 1;
          figures.runsCutOff += victim.active.size;
          figures.inboundCutOff += victim.activeInbound.size;
          figures.kills += 1;
          log(`SIGKILL ${victim.name} with ${victim.active.size} quick-reply and ${victim.activeInbound.size} inbound handler(s) running`);
          await victim.kill();
          await sleep(300);
          await victim.start();
          figures.restarts += 1;
        }),
      );
    }
    await Promise.all(work);

    // What the backend saw.
    const cmd = (...args) => client.sendCommand(args.map(String));
    figures.handlerRuns = Number((await cmd("GET", `${prefix}runs`)) ?? 0);
    // One run per tap, plus at most one more for each run a kill cut off: anything beyond is
    // a handler run twice (a backend that does not honour keys would have done it twice).
    figures.extraRuns = Math.max(0, figures.handlerRuns - taps - figures.runsCutOff);
    for (let i = 0; i < taps; i += 1) {
      const id = `c-${i % 7}|createTicket|order=${i}`;
      const effects = Number(await cmd("SCARD", `${prefix}effects:${id}`));
      const keys = Number(await cmd("SCARD", `${prefix}runkeys:${id}`));
      figures.effectsPerTap[effects] = (figures.effectsPerTap[effects] ?? 0) + 1;
      figures.keysPerTap[keys] = (figures.keysPerTap[keys] ?? 0) + 1;
      if (effects > 1) figures.duplicateEffects += effects - 1;
      if (effects === 0 || !answered.get(id)) figures.lostTaps += 1;
    }
    for (let i = 0; i < inbound; i += 1) {
      figures.inboundRuns += Number((await cmd("GET", `${prefix}inbound-runs:msg-${i}`)) ?? 0);
      const n = Number(await cmd("SCARD", `${prefix}inbound-effects:msg-${i}`));
      if (n > 1) figures.inboundDuplicates += n - 1;
      if (n === 0) figures.lostInbound += 1;
    }
    for (let i = 0; i < webhooks; i += 1) {
      const n = Number(await cmd("SCARD", `${prefix}hook:evt-${i}`));
      if (n > 1) figures.webhookDuplicates += n - 1;
      if (n === 0) figures.lostWebhooks += 1;
    }
  } finally {
    await Promise.all(bots.map((b) => b.stop()));
    await client.close?.().catch?.(() => {});
    await redis.stop();
    figures.ms = Date.now() - started;
  }
  return figures;
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = process.argv.includes("--json");
  const f = await botChaos({
    processes: arg("processes", 3),
    taps: arg("taps", 30),
    deliveries: arg("deliveries", 5),
    webhooks: arg("webhooks", 20),
    inbound: arg("inbound", 0),
    kills: arg("kills", 3),
    seed: arg("seed", 7),
    leaseMs: arg("lease-ms", 2000),
    skewMs: arg("skew-ms", 0),
    ...(process.argv.includes("--window") ? { window: process.argv[process.argv.indexOf("--window") + 1] } : {}),
    log: json ? () => {} : (m) => console.log(`  ${m}`),
  });
  if (json) {
    console.log(JSON.stringify(f));
  } else {
    const hist = (h) => Object.entries(h).map(([n, c]) => `${n}: ${c}`).join(", ");
    console.log(`bot processes      ${f.processes} (${f.kills} SIGKILLs, ${f.killsMidHandler} mid-handler, ${f.restarts} restarts)`);
    if (f.skews.some((s) => s !== 0)) {
      console.log(`clock skew         ${f.skews.map((s) => `${s > 0 ? "+" : ""}${s} ms`).join(", ")} (window ${f.window}, ${f.lateRepeats} late repeats)`);
    }
    console.log(`taps               ${f.taps} (${f.tapDeliveries} deliveries, ${f.failedDeliveries} redelivered after a dead or failing process)`);
    console.log(`handler runs       ${f.handlerRuns} (${f.runsCutOff} cut off by a kill, ${f.extraRuns} beyond those)`);
    console.log(`effects per tap    ${hist(f.effectsPerTap)}`);
    console.log(`keys per tap       ${hist(f.keysPerTap)} (every run of a tap, killed ones included)`);
    console.log(`duplicate effects  ${f.duplicateEffects}`);
    console.log(`lost taps          ${f.lostTaps}`);
    console.log(`webhooks           ${f.webhooks} (${f.webhookDeliveries} deliveries), duplicates ${f.webhookDuplicates}, lost ${f.lostWebhooks}`);
    if (f.inbound) {
      console.log(`inbound (at least once) ${f.inbound} (${f.inboundDeliveries} deliveries, ${f.inboundRuns} handler runs, ${f.inboundCutOff} cut off by a kill), duplicate effects ${f.inboundDuplicates}, lost ${f.lostInbound}`);
    }
    console.log(`time               ${(f.ms / 1000).toFixed(1)} s`);
  }
  const bad = f.duplicateEffects + f.extraRuns + f.lostTaps + f.webhookDuplicates + f.lostWebhooks + f.inboundDuplicates + f.lostInbound;
  process.exit(bad > 0 ? 1 : 0);
}
