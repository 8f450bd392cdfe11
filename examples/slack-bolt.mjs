// A Slack app (Bolt) that runs as several processes, with sendonce/bolt over Redis: an event
// Slack retries (X-Slack-Retry-Num) is acknowledged and not handled again, and an "Approve"
// button clicked several times, on any process, approves once.
//
//   ./scripts/build.sh
//   REDIS_URL=redis://127.0.0.1:6379 SLACK_BOT_TOKEN=xoxb-... SLACK_SIGNING_SECRET=... node examples/slack-bolt.mjs
//
// Without SLACK_BOT_TOKEN it feeds itself fake requests through app.processEvent (no network).
// Without REDIS_URL it keeps its state in memory (one process only).
import bolt from "@slack/bolt";
import { createClient } from "redis";
import init, { Sendonce } from "../pkg/node.js";
import { redisStorage } from "../pkg/redis.js";
import { sendonceBolt } from "../pkg/bolt.js";

const { App, LogLevel } = bolt;
await init();
const client = process.env.REDIS_URL ? await createClient({ url: process.env.REDIS_URL }).connect() : null;
const so = new Sendonce({
  namespace: "approvals",
  storage: client ? redisStorage(client) : "memory",
});

const offline = !process.env.SLACK_BOT_TOKEN;
const app = offline
  ? new App({
      receiver: { init() {}, start: async () => {}, stop: async () => {} },
      authorize: async () => ({ botToken: "xoxb-offline", botId: "B1", botUserId: "U1" }),
      logLevel: LogLevel.ERROR,
    })
  : new App({ token: process.env.SLACK_BOT_TOKEN, signingSecret: process.env.SLACK_SIGNING_SECRET });

/** The approvals backend: it honours the idempotency key. */
const approvals = new Set();
app.use(sendonceBolt(so, { actionWindow: "1m" }));
app.event("app_mention", async ({ event, context }) => {
  console.log(`  mention ${event.ts} handled with key ${context.sendonceKey}`);
});
app.action("approve", async ({ ack, context }) => {
  await ack();
  approvals.add(context.sendonceKey);
});

if (offline) {
  const mention = { type: "event_callback", team_id: "T1", api_app_id: "A1", event_id: "Ev1", event_time: 1,
    event: { type: "app_mention", user: "U2", text: "<@U1> hi", ts: "1.0", channel: "C1", event_ts: "1.0" } };
  const click = { type: "block_actions", team: { id: "T1" }, user: { id: "U2" }, api_app_id: "A1", trigger_id: "t",
    channel: { id: "C1" }, container: { type: "message", message_ts: "2.0", channel_id: "C1" }, message: { ts: "2.0", text: "Approve?" },
    actions: [{ type: "button", action_id: "approve", block_id: "b", value: "order-7", action_ts: "3.0" }] };
  const ack = async () => {};
  await app.processEvent({ body: mention, ack });
  await app.processEvent({ body: mention, ack, retryNum: 1, retryReason: "http_timeout" }); // Slack's retry
  await Promise.all([1, 2, 3].map(() => app.processEvent({ body: click, ack })));
  console.log(`approvals: ${approvals.size}`);
  await client?.close();
} else {
  await app.start(Number(process.env.PORT ?? 3000));
}
