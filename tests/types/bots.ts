// Typed usage of the bot entries (sendonce/redis, sendonce/grammy, sendonce/bolt) with the
// frameworks' own types, compiled with `tsc --noEmit` (strict) against pkg/.
import { Sendonce, type PendingAction, type Reply, type StorageAdapter } from "../../pkg/sendonce.js";
import { redisStorage, type RedisStorage } from "../../pkg/redis.js";
import { sendonceGrammy, type SendonceContextFlavor } from "../../pkg/grammy.js";
import { sendonceBolt } from "../../pkg/bolt.js";
import { createClient } from "redis";
import { Bot, type Context } from "grammy";
import { App } from "@slack/bolt";

export async function bots(): Promise<void> {
  const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
  const storage: RedisStorage = redisStorage(client, { prefix: "shop:" });
  const adapter: StorageAdapter = storage;
  const so = new Sendonce({ namespace: "bot", storage: adapter, leaseMs: 10_000 });
  const claimed: boolean = await storage.claim("k", "v", 1000);
  void claimed;

  type ShopContext = Context & SendonceContextFlavor;
  const bot = new Bot<ShopContext>("123:token");
  bot.use(sendonceGrammy(so, { buttonWindow: "10s", updateWindow: "1h", repeatText: "Done already" }));
  bot.callbackQuery("ticket", async (ctx) => {
    const key: string | undefined = ctx.sendonce?.key;
    const repeat: boolean | undefined = ctx.sendonce?.repeat;
    void key, repeat;
  });

  const app = new App({ token: "xoxb-1", signingSecret: "s" });
  app.use(sendonceBolt(so, { eventWindow: "1h", actionWindow: "10s" }));
  app.action("approve", async ({ ack, context }) => {
    await ack();
    const key: string | undefined = context.sendonceKey;
    void key;
  });

  const action = so.action("sendMessage", { chat: 1, text: "hi" }, { idempotent: false });
  const reply: Reply = await action.send("https://api.example.test/sendMessage", { method: "POST" });
  if (reply.outcome === "uncertain") console.log("check before sending again");
  const pending: PendingAction[] = await so.pendingAsync();
  const resumed: Reply[] = await so.resumePending();
  void pending, resumed;
}
