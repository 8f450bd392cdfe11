// End to end in Chromium against the reference server: the chat outbox delivers every message
// once and in order through a flaky network and a reload, and a cut reply stream resumes
// without sending the user's message again. Every test counts messages on the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();

const messagesPath = (c) => `/api/conversations/${c}/messages`;

async function send(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
}

async function until(f, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await f()) return;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("three messages over a flaky network with a reload mid-outbox: three on the server, in order, three bubbles delivered", async () => {
  const c = "e2e-flaky";
  const page = await openPage(env.context, `${env.server.url}/chat.html?c=${c}`);
  await env.server.arm(messagesPath(c), ["drop", "500", "reset"]);
  await send(page, "one");
  await send(page, "two");
  await send(page, "three");
  assert.equal(await page.locator("li.bubble.mine").count(), 3, "three bubbles at once");
  // Reload while the outbox is still being worked through (the first message is retrying).
  await until(async () => {
    const log = await env.server.json("/api/log");
    return log.requests.filter((r) => r.method === "POST" && r.path === messagesPath(c)).length >= 2;
  });
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  await page.waitForFunction(
    () => {
      const b = [...document.querySelectorAll("li.bubble.mine")];
      return b.length === 3 && b.every((x) => x.dataset.status === "delivered");
    },
    null,
    { timeout: 30_000 },
  );
  const { messages } = await env.server.json(messagesPath(c));
  assert.deepEqual(messages.map((m) => m.text), ["one", "two", "three"]);
  assert.deepEqual(messages.map((m) => m.seq), [1, 2, 3]);
  const texts = await page.locator("li.bubble.mine").evaluateAll((els) => els.map((e) => e.firstChild.textContent));
  assert.deepEqual(texts, ["one", "two", "three"]);
  assert.equal((await env.server.effects()).duplicates, 0);
  const log = await env.server.json("/api/log");
  const posts = log.requests.filter((r) => r.method === "POST" && r.path === messagesPath(c));
  assert.ok(posts.some((r) => r.fault), "the network did fail");
  assert.equal(new Set(posts.map((r) => r.key)).size, 3, "three ids, whatever the number of attempts");
  assert.deepEqual(
    [...new Set(posts.map((r) => r.key))],
    messages.map((m) => m.id),
    "the ids went out in order, each used as the Idempotency-Key",
  );
});

test("a reply stream cut in the middle resumes: one complete reply, the user's message sent once", async () => {
  const c = "e2e-stream";
  const page = await openPage(env.context, `${env.server.url}/chat.html?c=${c}`);
  await env.server.arm(messagesPath(c), ["cut"]);
  await send(page, "hello");
  await page.waitForFunction(() => document.querySelector("li.bubble.reply")?.dataset.done === "true", null, {
    timeout: 20_000,
  });
  const { messages } = await env.server.json(messagesPath(c));
  assert.equal(messages.length, 1);
  const id = messages[0].id;
  // The complete reply, read straight from the server.
  const raw = await (await fetch(`${env.server.url}${messagesPath(c)}/${id}/reply`)).text();
  const expected = raw
    .split("\n\n")
    .filter((block) => !/^event: done/m.test(block))
    .map((block) => block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.replace(/^data: ?/, "")).join("\n"))
    .join("");
  assert.ok(expected.length > 0);
  assert.equal(await page.locator("li.bubble.reply").textContent(), expected);
  const log = await env.server.json("/api/log");
  const posts = log.requests.filter((r) => r.method === "POST" && r.path === messagesPath(c));
  assert.equal(posts.length, 1, "the user's message was sent once");
  const streams = log.requests.filter((r) => r.method === "GET" && r.path.endsWith("/reply"));
  assert.ok(streams.some((r) => r.fault === "cut"), "the stream was cut");
  assert.ok(streams.length >= 3, "cut, resumed, and our own read");
});
