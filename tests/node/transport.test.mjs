// Node >= 20: transport edge cases against a real local HTTP server (node:http) and injected
// fetches: a fetch that ignores its AbortSignal, bodies and headers that never end, a server
// that answers 409 for ever, and a Retry-After longer than the deadline.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import init, { Sendonce } from "../../pkg/node.js";

before(async () => {
  await init();
});

const servers = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
});

/** Starts a server on a free loopback port; resolves with its base URL and request log. */
async function serve(handler) {
  const log = [];
  const server = http.createServer((req, res) => {
    log.push({ at: Date.now(), key: req.headers["idempotency-key"] });
    handler(req, res, log.length);
  });
  servers.push(server);
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, log, server };
}

/** `p`, or "hung" after `ms` (the timer does not keep the process alive). */
function within(p, ms) {
  return Promise.race([p, new Promise((r) => setTimeout(() => r("hung"), ms).unref())]);
}

test("a fetch that ignores its AbortSignal and never settles still times out after timeoutMs", async () => {
  const calls = [];
  const fetch = (url, init) => {
    calls.push({ at: Date.now(), signal: init.signal });
    return new Promise(() => {}); // never settles, never looks at the signal
  };
  const so = new Sendonce({ storage: "memory", fetch, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 300, deadlineMs: 5000 } });
  const action = so.action("createOrder", { item: "tea" });
  const started = Date.now();
  const reply = await within(action.send("/api/orders"), 5000);
  const elapsed = Date.now() - started;
  assert.notEqual(reply, "hung", "send() never settled");
  assert.equal(reply.outcome, "offline", "two attempts timed out: connection lost, retry offered");
  assert.equal(reply.attempts, 2);
  assert.equal(calls.length, 2);
  assert.ok(elapsed >= 550 && elapsed < 2000, `took ${elapsed} ms`);
  assert.ok(calls.every((c) => c.signal.aborted), "each attempt's signal was aborted too");
  assert.equal(action.status.code, "offline");
});

test("a reply body that never ends is cut at 1 MiB with a note; the action is done, memory stays flat", async () => {
  const { url, log } = await serve((req, res) => {
    res.writeHead(201, { "content-type": "application/json" });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once("drain", pump);
    };
    pump();
  });
  const so = new Sendonce({ storage: "memory", retry: { attempts: 1, timeoutMs: 5000, deadlineMs: 5000 } });
  const started = Date.now();
  const reply = await within(so.action("createOrder", { item: "tea" }).send(`${url}/api/orders`), 8000);
  assert.notEqual(reply, "hung");
  assert.equal(reply.outcome, "done", "the server said 201");
  assert.equal(reply.status, 201);
  assert.match(reply.headers["sendonce-truncated"] ?? "", /body cut at 1048576 bytes/);
  assert.equal(typeof reply.body, "string");
  assert.equal(reply.body.length, 1 << 20);
  assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  assert.equal(log.length, 1);
});

test("a reply whose headers never end (endless, huge values) keeps at most 100 headers and does not exhaust memory", async () => {
  let yielded = 0;
  const fetch = async () => ({
    status: 201,
    headers: {
      *[Symbol.iterator]() {
        for (;;) {
          yielded += 1;
          yield [`x-h${yielded}`, "v".repeat(1 << 20)];
          yield [`x-s${yielded}`, "short"];
        }
      },
    },
    text: async () => '{"id":1}',
  });
  const so = new Sendonce({ storage: "memory", fetch, retry: { attempts: 1, timeoutMs: 5000, deadlineMs: 5000 } });
  const rssBefore = process.memoryUsage().rss;
  const reply = await within(so.action("createOrder", { item: "tea" }).send("/api/orders"), 20_000);
  assert.notEqual(reply, "hung");
  assert.equal(reply.outcome, "done");
  const names = Object.keys(reply.headers);
  assert.ok(names.length <= 101, `${names.length} headers kept`);
  assert.ok(names.includes("x-s1"), "short headers are kept");
  assert.ok(!names.includes("x-h1"), "a 1 MiB header value is left out");
  assert.match(reply.headers["sendonce-truncated"] ?? "", /headers left out/);
  assert.ok(yielded < 1000, `read ${yielded} header pairs`);
  const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grown < 300, `memory grew by ${grown.toFixed(0)} MiB`);
});

test("a server answering 409 for ever gets about one request a second, not ~50 in 5 s", async () => {
  for (const retryAfter of ["0", null]) {
    const { url, log } = await serve((req, res) => {
      const headers = { "content-type": "text/html" };
      if (retryAfter !== null) headers["retry-after"] = retryAfter;
      res.writeHead(409, headers);
      res.end("<html><body>409 Conflict</body></html>");
    });
    const so = new Sendonce({ storage: "memory", retry: { baseDelayMs: 1, maxDelayMs: 10, timeoutMs: 1000, deadlineMs: 5000 } });
    const statuses = [];
    const action = so.action("createOrder", { item: "tea" });
    action.onStatus((s) => statuses.push(s.code));
    const reply = await within(action.send(`${url}/api/orders`), 10_000);
    assert.notEqual(reply, "hung");
    assert.ok(log.length <= 6, `${log.length} requests in 5 s (Retry-After: ${retryAfter})`);
    assert.ok(log.length >= 3, `${log.length} requests`);
    for (let i = 1; i < log.length; i += 1) {
      assert.ok(log[i].at - log[i - 1].at >= 900, `request ${i + 1} came ${log[i].at - log[i - 1].at} ms after the one before`);
    }
    assert.equal(new Set(log.map((r) => r.key)).size, 1, "one key throughout");
    // Still in progress at the deadline: the server has it.
    assert.equal(reply.outcome, "accepted");
    assert.ok(!statuses.includes("failed"));
  }
});

test("Retry-After: 120 waits while the deadline allows and then tries again, instead of failing at once", async () => {
  const { url, log } = await serve((req, res, n) => {
    if (n === 1) {
      res.writeHead(503, { "retry-after": "120", "content-type": "application/problem+json" });
      res.end('{"title":"busy"}');
    } else {
      res.writeHead(201, { "content-type": "application/json" });
      res.end('{"id":7}');
    }
  });
  const events = [];
  const so = new Sendonce({ storage: "memory", onEvent: (e) => events.push(e), retry: { timeoutMs: 1000, deadlineMs: 3000 } });
  const statuses = [];
  const action = so.action("createOrder", { item: "tea" });
  action.onStatus((s) => statuses.push(s.code));
  const reply = await within(action.send(`${url}/api/orders`), 10_000);
  assert.notEqual(reply, "hung");
  assert.equal(reply.outcome, "done", `statuses: ${statuses.join(", ")}`);
  assert.deepEqual(reply.body, { id: 7 });
  assert.equal(log.length, 2);
  const gap = log[1].at - log[0].at;
  assert.ok(gap >= 2500 && gap < 3200, `the retry came ${gap} ms after the first request`);
  assert.ok(!statuses.includes("failed"));
  assert.ok(statuses.includes("retrying"));
  const wait = events.find((e) => e.type === "send.retry");
  assert.ok(wait && wait.ms >= 2500 && wait.ms < 3000, `send.retry waited ${wait?.ms} ms`);
});

test("hostile reply objects (throwing getters, a reader that throws, odd statuses) end the attempt as a network failure, never a hang or a crash", async () => {
  // Each fetch answers with a reply object a broken polyfill or proxy could give. A reply that
  // cannot be read is a network failure: retried with the same key, then "offline"; nothing
  // throws through the wasm and nothing waits for ever. [reply, attempts, final status]
  const ok = (extra) => ({ status: 200, headers: new Headers({ "content-type": "application/json" }), text: async () => "{}", ...extra });
  const throws = () => {
    throw new Error("boom");
  };
  const cases = {
    "headers getter throws": [() => ({ status: 200, get headers() { return throws(); }, text: async () => "{}" }), 2, "offline"],
    "headers iterator throws": [() => ok({ headers: { [Symbol.iterator]: throws } }), 2, "offline"],
    "reader.read throws": [() => ok({ body: { getReader: () => ({ read: throws, cancel: throws }) } }), 2, "offline"],
    "a chunk that is not bytes": [() => ok({ body: { getReader: () => ({ read: async () => ({ done: false, value: "text" }), cancel: async () => throws() }) } }), 2, "offline"],
    "text() rejects": [() => ok({ text: () => Promise.reject(new Error("cut")) }), 2, "offline"],
    "the reply is null": [() => null, 2, "offline"],
    // Readable, if odd: a body that is not text is an empty body.
    "text() resolves a number": [() => ok({ text: async () => 42 }), 1, "done"],
  };
  for (const [name, [reply, attempts, status]] of Object.entries(cases)) {
    const keys = [];
    const fetch = async (url, init) => {
      keys.push(init.headers["Idempotency-Key"]);
      return reply();
    };
    const so = new Sendonce({ storage: "memory", namespace: "hostile-reply", fetch, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 500 } });
    const action = so.action("createOrder", { case: name });
    const result = await within(action.send("http://127.0.0.1:9/api/orders").then((r) => r, (e) => ({ rejected: e })), 5000);
    assert.notEqual(result, "hung", `${name}: the send never ended`);
    assert.ok(!result.rejected, `${name}: rejected with ${result.rejected}`);
    assert.equal(keys.length, attempts, `${name}: attempts`);
    assert.match(keys[0] ?? "", /^[0-9a-f-]{36}$/, `${name}: a key is sent`);
    assert.equal(new Set(keys).size, 1, `${name}: one key on every attempt`);
    assert.equal(action.status.code, status, name);
    so.dispose();
  }
});
