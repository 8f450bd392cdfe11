// sendonce/grammy with grammY's own Bot: fake updates through bot.handleUpdate (botInfo set, and
// an API transformer that answers every Bot API call locally: no network). Two Bot + Sendonce
// pairs over one claim-capable store are two bot processes.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { Bot } from "grammy";
import init, { Sendonce } from "../../pkg/node.js";
import { sendonceGrammy } from "../../pkg/grammy.js";
import { memoryClaims } from "./support/claims.mjs";
import { otherProcess } from "./support/other-process.mjs";

before(async () => {
  await init();
});

const botInfo = {
  id: 4242,
  is_bot: true,
  first_name: "Shop",
  username: "shop_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
};

/** A grammY bot (one "process") with the middleware, recording every Bot API call. */
function telegramBot(store, backend, SendonceClass = Sendonce) {
  const so = new SendonceClass({ namespace: "tg", storage: store });
  const bot = new Bot("4242:TEST", { botInfo });
  const api = [];
  bot.api.config.use(async (_prev, method, payload) => {
    api.push({ method, payload });
    return { ok: true, result: true };
  });
  bot.use(sendonceGrammy(so, { repeatText: "Already done" }));
  bot.on("message:text", async (ctx) => {
    backend.messages.push({ key: ctx.sendonce.key, text: ctx.message.text });
  });
  bot.callbackQuery(/^ticket:/, async (ctx) => {
    backend.tickets.push(ctx.sendonce.key);
    await new Promise((r) => setTimeout(r, 30));
    await ctx.answerCallbackQuery({ text: "Ticket opened" });
  });
  bot.callbackQuery("silent", async (ctx) => {
    backend.tickets.push(ctx.sendonce.key);
  });
  return { bot, api };
}

const message = (updateId, text) => ({
  update_id: updateId,
  message: { message_id: updateId, date: 1, chat: { id: 7, type: "private", first_name: "Ana" }, from: { id: 7, is_bot: false, first_name: "Ana" }, text },
});

const tap = (updateId, data, messageId = 500) => ({
  update_id: updateId,
  callback_query: {
    id: `cq-${updateId}`,
    chat_instance: "ci",
    data,
    from: { id: 7, is_bot: false, first_name: "Ana" },
    message: { message_id: messageId, date: 1, chat: { id: 7, type: "private", first_name: "Ana" }, text: "Open a ticket?" },
  },
});

test("grammY: an update delivered again (same update_id), to either process, is handled once", async () => {
  const store = memoryClaims();
  const backend = { messages: [], tickets: [] };
  const a = telegramBot(store, backend);
  const b = telegramBot(store, backend, await otherProcess());
  await Promise.all([a.bot.handleUpdate(message(1001, "hello")), b.bot.handleUpdate(message(1001, "hello"))]);
  await a.bot.handleUpdate(message(1001, "hello"));
  assert.equal(backend.messages.length, 1);
  // A new update with the same text is a new message.
  await b.bot.handleUpdate(message(1002, "hello"));
  assert.equal(backend.messages.length, 2);
  assert.notEqual(backend.messages[0].key, backend.messages[1].key);
});

test("grammY: a button tapped 5 times across two processes runs once, and every tap is answered", async () => {
  const store = memoryClaims();
  const backend = { messages: [], tickets: [] };
  const a = telegramBot(store, backend);
  const b = telegramBot(store, backend, await otherProcess());
  const updates = [1, 2, 3, 4, 5].map((i) => tap(2000 + i, "ticket:order=123"));
  await Promise.all(updates.map((u, i) => (i % 2 ? a : b).bot.handleUpdate(u)));
  assert.equal(backend.tickets.length, 1, "one ticket");
  const answers = [...a.api, ...b.api].filter((c) => c.method === "answerCallbackQuery");
  assert.deepEqual(
    answers.map((c) => c.payload.callback_query_id).sort(),
    updates.map((u) => u.callback_query.id).sort(),
    "each tap answered exactly once",
  );
  assert.equal(answers.filter((c) => c.payload.text === "Ticket opened").length, 1);
  assert.equal(answers.filter((c) => c.payload.text === "Already done").length, 4);
  // The same button on another message is another button.
  await a.bot.handleUpdate(tap(2100, "ticket:order=123", 501));
  assert.equal(backend.tickets.length, 2);
});

test("grammY: a handler that does not answer its tap gets it answered by the middleware", async () => {
  const store = memoryClaims();
  const backend = { messages: [], tickets: [] };
  const a = telegramBot(store, backend);
  await a.bot.handleUpdate(tap(3001, "silent"));
  assert.equal(backend.tickets.length, 1);
  const answers = a.api.filter((c) => c.method === "answerCallbackQuery");
  assert.deepEqual(answers.map((c) => c.payload.callback_query_id), ["cq-3001"]);
});

test("grammY: callback data holding newlines, `|` or control characters works, and buttons never share a key", async () => {
  const store = memoryClaims();
  const backend = { messages: [], tickets: [] };
  const a = telegramBot(store, backend);
  const b = telegramBot(store, backend, await otherProcess());
  // Tapped twice each, on both processes.
  const data = ["ticket:a\nb", "ticket:a|b", "ticket:a\u0001b"];
  let id = 4000;
  for (const d of data) {
    await Promise.all([a.bot.handleUpdate(tap((id += 1), d)), b.bot.handleUpdate(tap((id += 1), d))]);
  }
  assert.equal(backend.tickets.length, 3, "each button ran once");
  assert.equal(new Set(backend.tickets).size, 3, "with a key of its own");
  const answers = [...a.api, ...b.api].filter((c) => c.method === "answerCallbackQuery");
  assert.equal(answers.length, 6, "every tap answered once");
});

test("grammY: a handler that throws still gets its tap answered (no spinner left), and the next tap runs it again", async () => {
  const store = memoryClaims();
  const backend = { messages: [], tickets: [] };
  const so = new Sendonce({ namespace: "tg", storage: store });
  const bot = new Bot("4242:TEST", { botInfo });
  const api = [];
  bot.api.config.use(async (_prev, method, payload) => {
    api.push({ method, payload });
    return { ok: true, result: true };
  });
  bot.use(sendonceGrammy(so));
  let calls = 0;
  bot.callbackQuery("pay", async (ctx) => {
    calls += 1;
    backend.tickets.push(ctx.sendonce.key);
    if (calls === 1) throw new Error("payment API down");
    await ctx.answerCallbackQuery({ text: "Paid" });
  });
  // The handler's error still reaches grammY (handleUpdate rejects; a running bot's catch).
  await assert.rejects(bot.handleUpdate(tap(5001, "pay")), /payment API down/);
  assert.deepEqual(api.filter((c) => c.method === "answerCallbackQuery").map((c) => c.payload.callback_query_id), ["cq-5001"], "the failed tap was answered");
  await bot.handleUpdate(tap(5002, "pay"));
  assert.equal(calls, 2, "nothing was stored for the failed tap: the next one runs");
  assert.equal(backend.tickets[0], backend.tickets[1], "with the same key");
  const answers = api.filter((c) => c.method === "answerCallbackQuery");
  assert.deepEqual(answers.map((c) => c.payload.callback_query_id), ["cq-5001", "cq-5002"]);
  assert.equal(answers[1].payload.text, "Paid");
});

test("grammY: a tap while the first tap's handler runs (other process) is answered at once, not after it", async () => {
  const store = memoryClaims();
  const backend = { messages: [], tickets: [] };
  let release;
  const gate = new Promise((r) => (release = r));
  const make = (SendonceClass) => {
    const so = new SendonceClass({ namespace: "tg", storage: store });
    const bot = new Bot("4242:TEST", { botInfo });
    const api = [];
    bot.api.config.use(async (_prev, method, payload) => {
      api.push({ method, payload });
      if (method === "answerCallbackQuery" && payload.callback_query_id === "cq-6002") release("answered");
      return { ok: true, result: true };
    });
    bot.use(sendonceGrammy(so, { repeatText: "Working on it" }));
    bot.callbackQuery("slow", async (ctx) => {
      backend.tickets.push(ctx.sendonce.key);
      const why = await Promise.race([gate, new Promise((r) => setTimeout(() => r("timeout"), 5000))]);
      backend.messages.push(why);
      await ctx.answerCallbackQuery({ text: "Done" });
    });
    return { bot, api };
  };
  const a = make(Sendonce);
  const b = make(await otherProcess());
  const first = a.bot.handleUpdate(tap(6001, "slow"));
  while (backend.tickets.length === 0) await new Promise((r) => setTimeout(r, 5));
  const second = b.bot.handleUpdate(tap(6002, "slow"));
  await Promise.all([first, second]);
  assert.deepEqual(backend.messages, ["answered"], "the second tap was answered while the first handler still ran");
  assert.equal(backend.tickets.length, 1);
  assert.equal(b.api.find((c) => c.payload.callback_query_id === "cq-6002")?.payload.text, "Working on it");
});

test("grammY: a tap whose store fails (Redis away) still gets answered, and the error reaches grammY", async () => {
  const broken = {
    get: async () => {
      throw new Error("connection refused");
    },
    set: async () => {},
    delete: async () => {},
    claim: async () => {
      throw new Error("connection refused");
    },
    release: async () => true,
  };
  const backend = { messages: [], tickets: [] };
  const a = telegramBot(broken, backend);
  await assert.rejects(a.bot.handleUpdate(tap(7001, "ticket:1")), /connection refused|storage/);
  assert.equal(backend.tickets.length, 0, "the handler was not run on a guess");
  assert.deepEqual(a.api.filter((c) => c.method === "answerCallbackQuery").map((c) => c.payload.callback_query_id), ["cq-7001"]);
});
