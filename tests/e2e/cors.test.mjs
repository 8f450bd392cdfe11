// In Chromium: an API on another origin that does not allow the Idempotency-Key header
// fails every attempt at once, like a lost connection. sendonce says what is missing in a
// `cors.suspect` event (once); the same API with the right CORS answers works and says
// nothing. Also: the errors the wasm throws in a page are the exported SendonceError class,
// and the API used before init() is a clear not_initialized error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { openPage, useEnvironment } from "./harness.mjs";

const env = useEnvironment();
let api;
let apiUrl;
let posts = 0;

before(async () => {
  // A second origin (another port): `/strict` answers without CORS headers, `/open` with them.
  api = createServer((req, res) => {
    const open = req.url.startsWith("/open");
    if (open) {
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.setHeader("Access-Control-Allow-Headers", "Idempotency-Key, Content-Type");
      res.setHeader("Access-Control-Allow-Methods", "POST");
      res.setHeader("Access-Control-Expose-Headers", "Idempotent-Replayed, Retry-After, Location");
    }
    if (req.method === "OPTIONS") {
      res.writeHead(open ? 204 : 404).end();
      return;
    }
    posts += 1;
    res.writeHead(201, { "Content-Type": "application/json" }).end('{"id":1}');
  });
  await new Promise((r) => api.listen(0, "127.0.0.1", r));
  apiUrl = `http://127.0.0.1:${api.address().port}`;
});

after(() => api?.close());

async function sendFromPage(page, url) {
  return page.evaluate(async (url) => {
    const { Sendonce } = await import("/pkg/sendonce.js");
    const events = [];
    const so = new Sendonce({
      storage: "memory",
      retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 50 },
      onEvent: (e) => events.push(e),
    });
    const reply = await so.action("createOrder", { item: "tea" }).send(url);
    return { outcome: reply.outcome, suspects: events.filter((e) => e.type === "cors.suspect") };
  }, url);
}

test("a cross-origin API without CORS for the key: a cors.suspect event names the missing headers, once", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  const { outcome, suspects } = await sendFromPage(page, `${apiUrl}/strict/orders`);
  assert.equal(outcome, "offline", "what the user sees stays calm");
  assert.equal(suspects.length, 1, "told once");
  for (const needed of [apiUrl, "Access-Control-Allow-Headers", "Idempotency-Key", "Access-Control-Expose-Headers", "Idempotent-Replayed", "Retry-After", "Location"]) {
    assert.ok(suspects[0].detail.includes(needed), `${needed}: ${suspects[0].detail}`);
  }
});

test("the same API with the right CORS answers: sent, and no cors.suspect", async () => {
  const page = await openPage(env.context, env.server.url + "/");
  const before = posts;
  const { outcome, suspects } = await sendFromPage(page, `${apiUrl}/open/orders`);
  assert.equal(outcome, "done");
  assert.equal(suspects.length, 0);
  assert.equal(posts - before, 1);
});

test("in a page, errors are instances of the exported SendonceError, and use before init() says not_initialized", async () => {
  const page = await env.context.newPage();
  await page.goto(env.server.url + "/favicon.svg");
  const result = await page.evaluate(async () => {
    const m = await import("/pkg/sendonce.js");
    let early;
    try {
      new m.Sendonce();
    } catch (e) {
      early = { is: e instanceof m.SendonceError, code: e.code };
    }
    await m.default();
    let bad;
    try {
      new m.Sendonce({ storage: "memory" }).action("a", { n: 1 }, { key: "" });
    } catch (e) {
      bad = { is: e instanceof m.SendonceError, name: e.name, code: e.code };
    }
    return { early, bad };
  });
  assert.deepEqual(result.early, { is: true, code: "not_initialized" });
  assert.deepEqual(result.bad, { is: true, name: "SendonceError", code: "invalid_key" });
});
