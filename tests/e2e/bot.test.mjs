// End to end in Chromium against the reference server: a quick reply tapped many times opens
// one ticket; tapped again after its window, a second one. Tickets are counted on the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();

const tickets = async () => (await env.server.json("/api/tickets")).count;

test("a quick reply tapped five times opens one ticket; tapped after the window, a second one", async () => {
  const page = await openPage(env.context, `${env.server.url}/bot.html?window=1s&c=e2e-bot`);
  await page.locator("#ticket").click({ clickCount: 5, delay: 0 });
  await page.waitForFunction(() => /Ticket/.test(document.querySelector("#result").textContent));
  // More taps inside the window: the stored result, no handler call.
  await page.locator("#ticket").click();
  await page.locator("#ticket").click();
  assert.equal(await tickets(), 1);
  assert.equal(await page.evaluate(() => window.handlerCalls), 1);
  assert.equal((await env.server.effects()).duplicates, 0);

  await page.waitForTimeout(1_200);
  await page.evaluate(() => (document.querySelector("#result").textContent = ""));
  await page.locator("#ticket").click();
  await page.waitForFunction(() => /Ticket/.test(document.querySelector("#result").textContent));
  assert.equal(await tickets(), 2);
  assert.equal(await page.evaluate(() => window.handlerCalls), 2);
});

test("the button is guarded in the same event task as the tap (aria-disabled, focus kept)", async () => {
  const page = await openPage(env.context, `${env.server.url}/bot.html?c=e2e-bot-2`);
  await env.server.arm("/api/tickets", ["delay=800"]);
  const state = await page.evaluate(() => {
    const b = document.querySelector("#ticket");
    b.click();
    return { disabled: b.disabled, ariaDisabled: b.getAttribute("aria-disabled"), busy: b.getAttribute("aria-busy") };
  });
  assert.deepEqual(state, { disabled: false, ariaDisabled: "true", busy: "true" });
  await page.waitForFunction(() => document.querySelector("#ticket").getAttribute("aria-disabled") === null, null, { timeout: 10_000 });
  assert.equal(await page.locator("#ticket").getAttribute("aria-busy"), null);
  assert.equal(await tickets(), 1);
});

test("the same quick reply tapped in two tabs at once runs its handler in one tab only", async () => {
  const url = `${env.server.url}/bot.html?c=e2e-bot-tabs`;
  const one = await openPage(env.context, url);
  const two = await openPage(env.context, url);
  await env.server.arm("/api/tickets", ["delay=600"]);
  await Promise.all([one.locator("#ticket").click(), two.locator("#ticket").click()]);
  for (const p of [one, two]) {
    await p.waitForFunction(() => /Ticket/.test(document.querySelector("#result").textContent), null, { timeout: 15_000 });
  }
  const calls = (await one.evaluate(() => window.handlerCalls)) + (await two.evaluate(() => window.handlerCalls));
  assert.equal(calls, 1, "the second tab waited for the lock and got the stored result");
  assert.equal(await tickets(), 1);
});

test("an inbound event delivered twice is handled once", async () => {
  const page = await openPage(env.context, `${env.server.url}/bot.html?c=e2e-bot-3`);
  await page.click("#deliver");
  await page.click("#redeliver");
  const items = await page.locator("#inbound li").allTextContents();
  assert.deepEqual(items, ["evt-1: duplicate, ignored", "evt-1: handled"]);
});
