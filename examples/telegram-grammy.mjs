// A Telegram bot (grammY) that runs as several processes behind a load balancer, with
// sendonce/grammy over Redis: a webhook Telegram delivers again is not handled again, and a
// "Open a ticket" button tapped five times, on any process, opens one ticket.
//
//   ./scripts/build.sh
//   REDIS_URL=redis://127.0.0.1:6379 TELEGRAM_TOKEN=123:abc node examples/telegram-grammy.mjs
//
// Without TELEGRAM_TOKEN it feeds itself a few fake updates (a button tapped three times, an
// update redelivered) and answers the Bot API locally, so it runs offline. Without REDIS_URL it
// keeps its state in memory (one process only).
import { Bot, InlineKeyboard } from "grammy";
import { createClient } from "redis";
import init, { Sendonce } from "../pkg/node.js";
import { redisStorage } from "../pkg/redis.js";
import { sendonceGrammy } from "../pkg/grammy.js";

await init();
const client = process.env.REDIS_URL ? await createClient({ url: process.env.REDIS_URL }).connect() : null;
const so = new Sendonce({
  namespace: "shop-bot",
  storage: client ? redisStorage(client) : "memory",
});

/** The ticket backend: it honours the idempotency key (one ticket per key). */
const tickets = new Map();
async function openTicket(key, orderId) {
  if (!tickets.has(key)) tickets.set(key, { id: `T-${tickets.size + 1}`, orderId });
  return tickets.get(key);
}

const offline = !process.env.TELEGRAM_TOKEN;
const bot = new Bot(process.env.TELEGRAM_TOKEN ?? "1:offline", offline ? {
  botInfo: { id: 1, is_bot: true, first_name: "Shop", username: "shop_bot", can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false },
} : undefined);
if (offline) {
  bot.api.config.use(async (_prev, method, payload) => {
    console.log(`  Bot API ${method}`, payload.text ?? "");
    return { ok: true, result: true };
  });
}

bot.use(sendonceGrammy(so, { buttonWindow: "30s", repeatText: "Your ticket is already open" }));
bot.command("start", (ctx) =>
  ctx.reply("Need help with order 123?", { reply_markup: new InlineKeyboard().text("Open a ticket", "ticket:123") }),
);
bot.callbackQuery(/^ticket:(\d+)$/, async (ctx) => {
  // ctx.sendonce.key: the same for every tap of this button, on every process.
  const ticket = await openTicket(ctx.sendonce.key, ctx.match[1]);
  await ctx.answerCallbackQuery({ text: `Ticket ${ticket.id} opened` });
});

if (offline) {
  const tap = (updateId) => ({
    update_id: updateId,
    callback_query: {
      id: `q${updateId}`, chat_instance: "c", data: "ticket:123",
      from: { id: 7, is_bot: false, first_name: "Ana" },
      message: { message_id: 10, date: 1, chat: { id: 7, type: "private", first_name: "Ana" }, text: "Need help?" },
    },
  });
  await Promise.all([bot.handleUpdate(tap(1)), bot.handleUpdate(tap(2)), bot.handleUpdate(tap(3))]);
  await bot.handleUpdate(tap(3)); // Telegram delivered update 3 again
  console.log(`tickets opened: ${tickets.size}`);
  await client?.close();
} else {
  await bot.start();
}
