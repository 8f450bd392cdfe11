// End to end in Chromium: a job created through the demo shows one chain for its key, from the
// request to the worker, and no personal data in any line of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();

/** Waits until the page shows the worker's last line for the key; returns the chain. */
async function finishedChain(page) {
  await page.waitForSelector('#chain li[data-event="worker_finished"]', { timeout: 15_000 });
  return page.evaluate(() => window.lastChain);
}

test("a job sent through the demo, its answer dropped: one job, one chain from the click to the worker, masked", async () => {
  const page = await openPage(env.context, env.server.url + "/jobs.html");
  await env.server.arm("/api/jobs", ["drop"]);
  await page.locator("#send").click();
  const chain = await finishedChain(page);
  const key = await page.locator("#key").textContent();
  assert.equal(chain.key, key);
  const events = chain.events.map((e) => e.event);
  // The dropped answer's retry is answered from the stored result, never a second job. (The
  // retry's backoff is random, so it may land before or after the worker starts.)
  assert.deepEqual([...events].sort(), ["enqueued", "new", "replay", "worker_finished", "worker_started"], events.join(", "));
  assert.deepEqual(events.slice(0, 2), ["new", "enqueued"]);
  assert.ok(events.indexOf("worker_started") < events.indexOf("worker_finished"));
  assert.ok(chain.events.every((e) => e.key === key));
  const effects = await env.server.effects();
  assert.equal(effects.total, 1, "one job");
  assert.equal(effects.duplicates, 0);
  // What the page shows beside the request log, and what the server logged: no email, no phone.
  const shown = await page.locator("#chain").textContent();
  for (const text of [shown, JSON.stringify(chain)]) {
    assert.ok(!text.includes("ada@example.com") && !text.includes("7946 0958"), text);
    assert.match(text, /Monthly report for \[email\], call \[phone\]/);
  }
  const requests = await page.locator("#requests").textContent();
  assert.match(requests, new RegExp(`POST /api/jobs → 202 \\(replay\\) key ${key.slice(0, 8)}`));
});
