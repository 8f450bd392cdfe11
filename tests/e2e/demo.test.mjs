// The demo pages as a phone user meets them (390 px wide, Chromium, reference server): one
// column and nothing wider than the screen, a favicon, the bot's ticket number and a line
// while it works, its answer still there after a reload, chat bubbles updated in place with
// calm texts, chat replies kept over a reload, and an armed fault's line gone once used.
// Screenshots of each page at 390 px go to target/screenshots/ for a person to look at.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();
const shots = new URL("../../target/screenshots/", import.meta.url).pathname;
mkdirSync(shots, { recursive: true });

async function phone(path) {
  await env.context.close();
  env.context = await env.browser.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  return openPage(env.context, env.server.url + path);
}

for (const [name, path] of [
  ["form", "/"],
  ["chat", "/chat.html?c=demo-390"],
  ["bot", "/bot.html?c=demo-390"],
]) {
  test(`the ${name} page fits a 390 px screen: one column, no sideways scrolling, a favicon`, async () => {
    const page = await phone(path);
    const layout = await page.evaluate(() => {
      const main = document.querySelector("main.columns");
      const [first, second] = main.children;
      return {
        scrollWidth: document.documentElement.scrollWidth,
        stacked: second.getBoundingClientRect().top >= first.getBoundingClientRect().bottom,
        faultsRight: document.querySelector("#faults").getBoundingClientRect().right,
        icon: document.querySelector('link[rel="icon"]')?.href,
      };
    });
    assert.ok(layout.scrollWidth <= 390, `the page is ${layout.scrollWidth} px wide`);
    assert.ok(layout.stacked, "the columns stack");
    assert.ok(layout.faultsRight <= 390, `the fault panel ends at ${layout.faultsRight} px`);
    assert.ok(layout.icon, "a favicon is linked");
    const icon = await fetch(layout.icon);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get("content-type"), /image\/svg\+xml/);
    await page.screenshot({ path: `${shots}${name}-390.png`, fullPage: true });
  });
}

test("the bot page says it is working, then shows the ticket number, and still after a reload", async () => {
  const page = await phone("/bot.html?c=demo-bot");
  await env.server.arm("/api/tickets", ["delay=1500"]);
  await page.locator("#ticket").click();
  assert.match(await page.locator("#result").textContent(), /^Opening a ticket/);
  await page.waitForFunction(() => /^Ticket #/.test(document.querySelector("#result").textContent), null, {
    timeout: 15_000,
  });
  const text = await page.locator("#result").textContent();
  const { tickets } = await env.server.json("/api/tickets");
  assert.equal(tickets.length, 1);
  assert.ok(text.startsWith(`Ticket #${tickets[0].id} is open`), text);
  assert.doesNotMatch(text, /object/);
  await page.screenshot({ path: `${shots}bot-ticket-390.png`, fullPage: true });
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  assert.equal(await page.locator("#result").textContent(), text, "the answer survives a reload");
});

test("an armed fault's line goes away once a request used it", async () => {
  const page = await phone("/bot.html?c=demo-fault");
  await page.locator('[data-fault="500"]').click();
  await page.waitForFunction(() => /Armed: 500/.test(document.querySelector("#armed").textContent));
  await page.locator("#ticket").click();
  await page.waitForFunction(() => document.querySelector("#armed").textContent === "", null, { timeout: 10_000 });
});

test("chat bubbles are updated in place with calm texts, and the bot's replies survive a reload", async () => {
  const c = "demo-chat";
  const page = await phone(`/chat.html?c=${c}`);
  // Count the bubble nodes the page replaces (a re-render of the whole list replaces all).
  await page.evaluate(() => {
    window.replaced = 0;
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.removedNodes) if (n.classList?.contains("mine")) window.replaced += 1;
    }).observe(document.querySelector("#messages"), { childList: true });
  });
  await env.server.arm(`/api/conversations/${c}/messages`, ["reset", "reset", "reset", "reset", "reset", "reset"]);
  await page.fill("#text", "one");
  await page.click("#send");
  const first = await page.locator("li.bubble.mine small").textContent();
  assert.equal(first, "Sending...");
  await page.waitForFunction(() => document.querySelector("li.bubble.mine")?.dataset.status === "error", null, {
    timeout: 30_000,
  });
  assert.equal(await page.locator("li.bubble.mine small").textContent(), "Connection lost. Retry?");
  await page.evaluate(() => fetch("/api/faults", { method: "DELETE" }));
  await page.locator("li.bubble.mine button", { hasText: "Retry" }).click();
  await page.waitForFunction(() => document.querySelector("li.bubble.reply")?.dataset.done === "true", null, {
    timeout: 20_000,
  });
  assert.equal(await page.locator("li.bubble.mine small").textContent(), "Delivered");
  assert.equal(await page.evaluate(() => window.replaced), 0, "the bubble was never replaced, only updated");
  const reply = await page.locator("li.bubble.reply").textContent();
  assert.ok(reply.length > 3);
  await page.screenshot({ path: `${shots}chat-reply-390.png`, fullPage: true });
  await page.reload();
  await page.waitForFunction(() => window.sendonceReady === true);
  await page.waitForFunction(() => document.querySelector("li.bubble.reply")?.dataset.done === "true");
  assert.equal(await page.locator("li.bubble.reply").textContent(), reply, "the reply is still there");
});
