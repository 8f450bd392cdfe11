// `sendonce check <url>`, run as a user runs it (the package's bin, a child process) against
// the real reference server in its faithful mode and in each of its quirks, against a server
// written here that ignores keys, against one that never answers, and with bad usage.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../e2e/harness.mjs";

const bin = new URL("../../pkg/check.mjs", import.meta.url).pathname;

/** Runs `sendonce check ...args`; resolves with `{ code, stdout, stderr, ms, report }`. */
function check(args) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    // "close", not "exit": the process may exit before its output has all been read.
    child.on("close", (code) => {
      let report = null;
      try {
        report = JSON.parse(stdout);
      } catch {
        // not --json, or nothing printed
      }
      resolve({ code, stdout, stderr, ms: Date.now() - started, report });
    });
  });
}

const byId = (report) => Object.fromEntries(report.rules.map((r) => [r.id, r]));

const SHOP = "http://shop.example:5173";

/** The check against the reference server with the options every server test uses: effects
 * counted by the server, a second endpoint for the key scope, CORS for a shop front on
 * another origin, and the server's own test header holding the first request of each key in
 * flight for 300 ms so that a request in flight is always seen. */
async function checkReference(quirks) {
  const server = await startServer({ args: ["--cors-origin", SHOP, ...(quirks ? ["--quirks", quirks] : [])] });
  try {
    const run = await check([
      "check",
      `${server.url}/api/orders`,
      "--effects", `${server.url}/api/effects`,
      "--effects-pointer", "/total",
      "--scope-url", `${server.url}/api/tickets`,
      "--header", "X-Sendonce-Fault: delay=300",
      "--origin", SHOP,
      "--json",
    ]);
    assert.ok(run.report, `a JSON report (exit ${run.code}): ${run.stderr}${run.stdout}`);
    const effects = await server.effects();
    return { run, effects };
  } finally {
    await server.cleanup();
  }
}

/** Every rule ran, and every one holds except `failing`. */
function assertOnly(report, failing) {
  for (const r of report.rules) {
    assert.equal(r.skipped, false, `${r.id} ran: ${r.detail}`);
    assert.equal(r.ok, !failing.includes(r.id), `${r.id}: ${r.detail}`);
  }
}

test("the bin is declared in the package and the faithful reference server passes every rule", async () => {
  const pkg = JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url), "utf8"));
  assert.equal(pkg.bin.sendonce, "./check.mjs");
  assert.ok(pkg.files.includes("check.mjs"));

  const { run, effects } = await checkReference("");
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.equal(run.report.verdict, "pass");
  assertOnly(run.report, []);
  const rules = byId(run.report);
  assert.match(rules["in-flight-409"].detail, /^409 application\/problem\+json \+ Retry-After: 1/);
  assert.match(rules["repeat-after-timeout"].detail, /effects \+1/);
  assert.match(rules["concurrent-one-effect"].detail, /1 distinct answer; effects \+1/);
  assert.match(rules["replay-marked"].detail, /^Idempotent-Replayed: true$/i);
  assert.match(rules["cors-allows-key"].detail, /^preflight from http:\/\/shop\.example:5173: 204, Allow-Origin http:\/\/shop\.example:5173, Allow-Headers content-type, idempotency-key/);
  assert.equal(rules["cors-exposes-replay"].fix, "", "the replay header, Retry-After and Location are exposed");
  assert.equal(effects.duplicates, 0, "the check itself made no duplicate");
  assert.deepEqual(run.report.options, { headerName: "Idempotency-Key", replayHeader: "Idempotent-Replayed" });
  assert.ok(run.ms < 60_000, `took ${run.ms} ms`);
});

test("plain `sendonce check <url>` against the reference server: pass, a table, well under a minute; CORS fails without --cors-origin", async () => {
  const server = await startServer();
  try {
    // The server's test header holds the first request of each key in flight for 300 ms, so
    // the bursts of in-flight-409 meet a request in flight however loaded the machine is (a
    // fast server may finish each before the next arrives: that rule is then inconclusive).
    const run = await check(["check", `${server.url}/api/orders`, "--header", "X-Sendonce-Fault: delay=300"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^cors-allows-key\s+skip\s+skipped: no --origin given/m);
    assert.match(run.stdout, /^rule\s+verdict\s+what it saw$/m);
    assert.match(run.stdout, /^repeat-after-2s\s+pass\s+201 application\/json, then after 2 s 201 application\/json \+ Idempotent-Replayed: true: marked as a replay$/im);
    assert.match(run.stdout, /^verdict: pass /m);
    assert.ok(run.ms < 30_000, `took ${run.ms} ms`);
    assert.equal((await server.effects()).duplicates, 0);
    // The same server seen from a page on another origin: the browser would block every request.
    const cors = await check(["check", `${server.url}/api/orders`, "--origin", SHOP, "--json"]);
    assert.equal(cors.code, 1);
    const rules = byId(cors.report);
    assert.equal(rules["cors-allows-key"].ok, false);
    assert.match(rules["cors-allows-key"].users, /Connection lost/);
    assert.equal(rules["cors-exposes-replay"].ok, false);
  } finally {
    await server.cleanup();
  }
});

describe("each quirk of the reference server fails its own rule and no other", { concurrency: 2 }, () => {
  test("no-replay-header: replay-marked warns (not required), the check still passes", async () => {
    const { run } = await checkReference("no-replay-header");
    assertOnly(run.report, ["replay-marked"]);
    const r = byId(run.report)["replay-marked"];
    assert.equal(r.required, false);
    assert.match(r.users, /"Sent" on a repeat/);
    assert.equal(run.report.verdict, "pass");
    assert.equal(run.code, 0);
  });

  test("replay-5xx: replay-same-status and replay-same-body fail; repeats made no new effect", async () => {
    const { run, effects } = await checkReference("replay-5xx");
    assertOnly(run.report, ["replay-same-status", "replay-same-body"]);
    assert.match(byId(run.report)["replay-same-status"].users, /Something went wrong\. Retry\?" though the action happened/);
    assert.equal(run.report.verdict, "fail");
    assert.equal(run.code, 1);
    assert.equal(effects.duplicates, 0);
  });

  test("mismatch-417: a mismatch answered 417 still holds, and the check says 417", async () => {
    const { run } = await checkReference("mismatch-417");
    assertOnly(run.report, []);
    assert.match(byId(run.report)["payload-mismatch-rejected"].detail, /^another payload with the same key: 417 .*sendonce reads 417 like 422/);
    assert.equal(run.code, 0);
  });

  test("html-409: the in-flight 409 holds, seen as an HTML page without Retry-After, with a fix", async () => {
    const { run } = await checkReference("html-409");
    assertOnly(run.report, []);
    const r = byId(run.report)["in-flight-409"];
    assert.match(r.detail, /^409 text\/html, no Retry-After \(an HTML page/);
    assert.match(r.fix, /Retry-After/);
    assert.equal(run.code, 0);
  });

  test("mismatch-silent-replay: payload-mismatch-rejected fails, exit 1", async () => {
    const { run } = await checkReference("mismatch-silent-replay");
    assertOnly(run.report, ["payload-mismatch-rejected"]);
    assert.match(byId(run.report)["payload-mismatch-rejected"].detail, /a silent replay/);
    assert.equal(run.code, 1);
  });

  test("global-keys: key-scope warns that another endpoint found the first one's record", async () => {
    const { run } = await checkReference("global-keys");
    assertOnly(run.report, ["key-scope"]);
    assert.match(byId(run.report)["key-scope"].detail, /keys are global/);
    assert.equal(run.code, 0);
  });

  test("order-sensitive: field-order-ignored fails, exit 1", async () => {
    const { run } = await checkReference("order-sensitive");
    assertOnly(run.report, ["field-order-ignored"]);
    const r = byId(run.report)["field-order-ignored"];
    assert.match(r.detail, /fields reordered: 422/);
    assert.equal(r.fingerprints.first, r.fingerprints.reordered, "sendonce gives both the same fingerprint");
    assert.equal(run.code, 1);
  });
});

/** A server that ignores keys: every POST makes a new record; it answers CORS preflights but
 * exposes no header. */
async function keyIgnoringServer() {
  let records = 0;
  const server = http.createServer((req, res) => {
    const cors = { "Access-Control-Allow-Origin": req.headers.origin ?? "*" };
    if (req.method === "OPTIONS") {
      res.writeHead(204, { ...cors, "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key" });
      return res.end();
    }
    if (req.method === "GET") {
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ records }));
    }
    req.resume();
    req.on("end", () => {
      records += 1;
      res.writeHead(201, { ...cors, "Content-Type": "application/json" });
      res.end(JSON.stringify({ id: records }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, records: () => records, close: () => new Promise((r) => server.close(r)) };
}

test("a server that ignores keys fails: repeats make new effects", async () => {
  const server = await keyIgnoringServer();
  try {
    const run = await check(["check", `${server.url}/orders`, "--effects", `${server.url}/count`, "--effects-pointer", "/records", "--origin", "https://shop.example", "--json"]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.report.verdict, "fail");
    const rules = byId(run.report);
    for (const id of ["repeat-immediate", "repeat-after-2s", "repeat-after-timeout", "concurrent-one-effect", "payload-mismatch-rejected", "field-order-ignored", "replay-same-body"]) {
      assert.equal(rules[id].ok, false, `${id}: ${rules[id].detail}`);
    }
    assert.match(rules["repeat-immediate"].detail, /another answer \(a new effect\); effects \+2$/);
    assert.match(rules["concurrent-one-effect"].detail, /5 distinct answers; effects \+5$/);
    assert.equal(rules["first-is-new"].ok, true);
    assert.equal(rules["cors-allows-key"].ok, true, rules["cors-allows-key"].detail);
    assert.equal(rules["cors-exposes-replay"].ok, false);
    assert.match(rules["cors-exposes-replay"].fix, /Access-Control-Expose-Headers: Idempotent-Replayed/);
    assert.equal(rules["missing-key"].ok, false, "it ran a request without a key");
    assert.ok(server.records() > 15, "the check counted what the server did");
  } finally {
    await server.close();
  }
});

test("a server that marks replays with its own header, in its own letter case: found, and given as replayHeader", async () => {
  const done = new Map();
  const canonical = (v) => (v && typeof v === "object" && !Array.isArray(v) ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}` : JSON.stringify(v));
  let records = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const key = req.headers["idempotency-key"];
      if (!key) {
        res.writeHead(400);
        return res.end();
      }
      const fingerprint = canonical(JSON.parse(body));
      const seen = done.get(key);
      if (seen && seen.fingerprint !== fingerprint) {
        res.writeHead(422);
        return res.end();
      }
      if (seen) {
        res.writeHead(201, { "Content-Type": "application/json", "X-Idempotency-Replayed": "TRUE" });
        return res.end(seen.answer);
      }
      records += 1;
      const answer = JSON.stringify({ id: records });
      done.set(key, { fingerprint, answer });
      res.writeHead(201, { "Content-Type": "application/json" });
      res.end(answer);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const run = await check(["check", `http://127.0.0.1:${server.address().port}/orders`, "--json"]);
    // Every rule holds but one: this server answers each request before the next arrives, so
    // no request in flight is ever seen, and that rule is not observed (not a pass).
    assert.equal(run.code, 3, run.stdout);
    assert.equal(run.report.verdict, "inconclusive");
    for (const r of run.report.rules) assert.equal(r.ok || r.inconclusive || r.skipped, true, `${r.id}: ${r.detail}`);
    const inFlight = byId(run.report)["in-flight-409"];
    assert.deepEqual([inFlight.ok, inFlight.inconclusive], [false, true]);
    assert.match(inFlight.detail, /^not seen: no request arrived while another with its key ran/);
    assert.equal(inFlight.verdict, "inconclusive");
    assert.equal(run.report.options.replayHeader, "X-Idempotency-Replayed");
    const marked = byId(run.report)["replay-marked"];
    assert.equal(marked.ok, true);
    assert.equal(marked.detail, "X-Idempotency-Replayed: TRUE");
    assert.equal(marked.fix, 'new Sendonce({ replayHeader: "X-Idempotency-Replayed" })');
    assert.equal(byId(run.report)["repeat-after-2s"].users, '"We already received this request"');
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("a server that never answers is a verdict within the timeout, not a hang", async () => {
  const sockets = new Set();
  const server = http.createServer(() => {});
  server.on("connection", (s) => sockets.add(s));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const run = await check(["check", `http://127.0.0.1:${server.address().port}/orders`, "--timeout-ms", "300", "--json"]);
    assert.equal(run.code, 1);
    const first = byId(run.report)["first-is-new"];
    assert.equal(first.ok, false);
    assert.match(first.detail, /no answer within 300 ms/);
    assert.ok(run.report.rules.slice(1).every((r) => r.skipped));
    assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});

test("a server that answers once and then stops: the repeats fail, the rest is skipped, no hang", async () => {
  let posts = 0;
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    posts += 1;
    if (posts > 1) return; // never answers again
    req.resume();
    req.on("end", () => {
      res.writeHead(201, { "Content-Type": "application/json" });
      res.end('{"id":1}');
    });
  });
  server.on("connection", (s) => sockets.add(s));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const run = await check(["check", `http://127.0.0.1:${server.address().port}/orders`, "--timeout-ms", "300", "--json"]);
    assert.equal(run.code, 1);
    const rules = byId(run.report);
    assert.equal(rules["first-is-new"].ok, true);
    assert.equal(rules["repeat-immediate"].ok, false);
    assert.match(rules["repeat-immediate"].detail, /no answer within 300 ms/);
    assert.match(rules["repeat-immediate"].users, /Connection lost/);
    assert.equal(rules["missing-key"].detail, "skipped: the server stopped answering");
    assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});

test("bad usage and an unreachable server exit 2 with a reason", async () => {
  const cases = [
    [[], /which command/],
    [["check"], /which URL/],
    [["check", "ftp://example.test/x"], /wants an http\(s\) URL/],
    [["check", "http://127.0.0.1:9/x", "--timeout-ms", "soon"], /--timeout-ms wants a whole number/],
    [["check", "http://127.0.0.1:9/x", "--body", "{oops"], /the body must be JSON/],
    [["check", "http://127.0.0.1:9/x", "--data", "@/nonexistent/body.json"], /cannot read the file/],
    [["check", "http://127.0.0.1:9/x", "--header", "no colon"], /--header wants "Name: value"/],
    [["check", "http://127.0.0.1:9/x", "--bogus"], /unknown option "--bogus"/],
    [["check", "http://127.0.0.1:9/x"], /cannot reach http:\/\/127\.0\.0\.1:9\/x: ECONNREFUSED/],
  ];
  for (const [args, reason] of cases) {
    const run = await check(args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stdout}`);
    assert.match(run.stderr, reason, args.join(" "));
  }
  const help = await check(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: sendonce check <url>/);
});

test("classifyReply (the check's reading of a reply) is the SDK's, and bad input is a SendonceError", async () => {
  const { default: init, classifyReply } = await import("../../pkg/node.js");
  await init();
  const replay = classifyReply(201, [["IDEMPOTENT-REPLAYED", "TRUE"]], "{}");
  assert.deepEqual([replay.kind, replay.replayed, replay.status.code, replay.status.text], ["success", true, "already_received", "We already received this request"]);
  const custom = classifyReply(201, [["X-Replayed", "1"]], "{}", "x-replayed");
  assert.equal(custom.status.code, "already_received");
  assert.equal(classifyReply(500, [["Idempotent-Replayed", "true"]], "").status.code, "failed");
  assert.equal(classifyReply(409, [], "<html>busy</html>").kind, "in_progress");
  assert.equal(classifyReply(417, [], "").status.text, "This request changed. Send it as a new one?");
  assert.equal(classifyReply(202, [["Location", "/api/jobs/7"]], "").pollUrl, "/api/jobs/7");
  // What users see by default: the locale's calm text (the server's detail only with
  // showServerReason), and the reason kept apart for the check's report.
  const refused = classifyReply(403, [["Content-Type", "application/json"]], '{"detail":"not yours"}');
  assert.deepEqual([refused.status.text, refused.reason], ["Could not send: the server refused the request", "not yours"]);
  for (const bad of [() => classifyReply("200", [], ""), () => classifyReply(200.5, [], ""), () => classifyReply(200, [["a", 1]], ""), () => classifyReply(200, { "X-Replayed": "1" }, ""), () => classifyReply(200, "x", ""), () => classifyReply(200, [], 5)]) {
    assert.throws(bad, (e) => e.name === "SendonceError" && e.code === "invalid_option");
  }
});

test("classifyReply takes hostile values in every position: a SendonceError, never a trap", async () => {
  const { default: init, classifyReply } = await import("../../pkg/node.js");
  await init();
  const throwing = new Proxy([], {
    get() {
      throw new Error("hostile get");
    },
    has() {
      throw new Error("hostile has");
    },
    ownKeys() {
      throw new Error("hostile ownKeys");
    },
  });
  const revoked = Proxy.revocable([], {});
  revoked.revoke();
  const getter = [];
  Object.defineProperty(getter, 0, {
    get() {
      throw new Error("hostile getter");
    },
  });
  const hostile = [5, 1.5, true, 10n, Symbol("s"), {}, null, undefined, throwing, revoked.proxy, getter, [[Symbol("k"), "v"]], [["k", 10n]], () => 1];
  const names = ["5", "1.5", "true", "10n", "Symbol", "{}", "null", "undefined", "throwing Proxy", "revoked Proxy", "throwing getter", "Symbol header name", "BigInt header value", "function"];
  const good = [200, [["Content-Type", "application/json"]], "{}", "Idempotent-Replayed"];
  // Positions where absent is allowed: the body (empty) and the replay header (the default).
  const allowed = (position, v) => (position === 2 || position === 3) && v == null;
  for (let position = 0; position < 4; position += 1) {
    for (const [i, v] of hostile.entries()) {
      const args = [...good];
      args[position] = v;
      if (allowed(position, v)) {
        assert.equal(classifyReply(...args).kind, "success");
        continue;
      }
      // A string where one is wanted is valid input, not hostile.
      if (typeof v === "string") continue;
      assert.throws(
        () => classifyReply(...args),
        (e) => e.name === "SendonceError" && e.code === "invalid_option" && /status|headers|body|replayHeader/.test(e.message),
        `position ${position}: ${names[i]}`,
      );
    }
  }
  // The module still works after all of that (nothing was left half-done in the wasm).
  assert.equal(classifyReply(201, [["idempotent-replayed", "true"]], "{}").status.code, "already_received");
  // A status no HTTP client should meet is still a reply (a server fault), not bad input.
  assert.equal(classifyReply(600, [], "").kind, "rejected");
  assert.throws(() => classifyReply(1000, [], ""), (e) => e.code === "invalid_option");
});

test("classifyReply before init() is a SendonceError not_initialized, like every other entry point", async () => {
  const script = `
    const m = await import(${JSON.stringify(new URL("../../pkg/node.js", import.meta.url).href)});
    try { m.classifyReply(200, [], ""); console.log("no error"); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, is: e instanceof m.SendonceError })); }`;
  const out = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.on("error", reject);
    child.on("close", () => resolve(stdout.trim()));
  });
  const e = JSON.parse(out);
  assert.equal(e.name, "SendonceError");
  assert.equal(e.code, "not_initialized");
  assert.equal(e.is, true);
  assert.match(e.message, /classifyReply\(\).*await init\(\)/);
});

/**
 * A small server that honours keys in a way given by the test: `status` of a first answer,
 * `replayStatus` and `marker` (the replay header, or null) of a repeat, `runsRepeats` (every
 * request makes a new effect, and repeats are still marked as replays), `answer(n)` the body of
 * effect n, `write(res, text)` how a body is sent, `cors` (`{ preflight, replies }`: which
 * answers carry Access-Control-Allow-Origin; `write` is told whether the answer is a replay).
 * `GET /count` gives `{ effects }`.
 */
async function keyedServer({ status = 201, replayStatus = status, marker = "Idempotent-Replayed", runsRepeats = false, answer = (n) => JSON.stringify({ id: n }), write = (res, text) => res.end(text), cors = null } = {}) {
  const done = new Map();
  let effects = 0;
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const allow = (on) => (on && req.headers.origin ? { "Access-Control-Allow-Origin": req.headers.origin } : {});
    if (req.method === "OPTIONS") {
      res.writeHead(204, { ...allow(cors?.preflight), "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "content-type, idempotency-key", "Access-Control-Expose-Headers": "idempotent-replayed, retry-after, location" });
      return res.end();
    }
    if (req.method === "GET") {
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ effects }));
    }
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const key = req.headers["idempotency-key"];
      const head = { "Content-Type": "application/json", ...allow(cors?.replies), "Access-Control-Expose-Headers": "idempotent-replayed, retry-after, location" };
      if (!key) {
        res.writeHead(400, head);
        return res.end();
      }
      const seen = done.get(key);
      if (seen && seen.body !== JSON.stringify(JSON.parse(body)) && !runsRepeats) {
        // Reordered fields are the same payload here; another payload is a 422.
        const sorted = (t) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(t)).sort()));
        if (sorted(seen.body) !== sorted(body)) {
          res.writeHead(422, head);
          return res.end();
        }
      }
      if (seen && !runsRepeats) {
        res.writeHead(replayStatus, { ...head, ...(marker ? { [marker]: "true" } : {}) });
        return write(res, seen.answer, true);
      }
      effects += 1;
      const text = answer(effects);
      if (!seen) done.set(key, { body: JSON.stringify(JSON.parse(body)), answer: text });
      res.writeHead(seen ? replayStatus : status, { ...head, ...(seen && marker ? { [marker]: "true" } : {}) });
      write(res, text, Boolean(seen));
    });
  });
  server.on("connection", (s) => sockets.add(s));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    effects: () => effects,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

describe("hostile servers get the verdict their users would meet", { concurrency: 2 }, () => {
  test("POST replies without Access-Control-Allow-Origin (preflight fine) fail cors-allows-key, exit 1", async () => {
    const server = await keyedServer({ cors: { preflight: true, replies: false } });
    try {
      const run = await check(["check", `${server.url}/orders`, "--origin", "https://shop.example", "--json"]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.equal(run.report.verdict, "fail");
      const r = byId(run.report)["cors-allows-key"];
      assert.equal(r.ok, false, r.detail);
      assert.match(r.detail, /POST from https:\/\/shop\.example: 201, Allow-Origin \(none\)/);
      assert.match(r.users, /Connection lost\. Retry\?" after the server did the work/);
      assert.match(r.fix, /Access-Control-Allow-Origin: https:\/\/shop\.example on every answer/);
    } finally {
      await server.close();
    }
  });

  test("a replay answered 200 with the same body, one effect counted: no rule calls it a second effect", async () => {
    const server = await keyedServer({ status: 201, replayStatus: 200, marker: null });
    try {
      const run = await check(["check", `${server.url}/orders`, "--effects", `${server.url}/count`, "--effects-pointer", "/effects", "--json"]);
      const rules = byId(run.report);
      for (const r of run.report.rules) assert.doesNotMatch(r.users, /second effect|several effects/, `${r.id}: ${r.users}`);
      for (const id of ["repeat-immediate", "repeat-after-2s", "repeat-after-timeout", "concurrent-one-effect", "field-order-ignored", "replay-same-body"]) {
        assert.equal(rules[id].ok, true, `${id}: ${rules[id].detail}`);
      }
      assert.match(rules["repeat-immediate"].detail, /the same body \(status 201, then 200\); effects \+1$/);
      assert.equal(rules["replay-marked"].ok, false, "no marker: a warning");
    } finally {
      await server.close();
    }
  });

  test("a server that runs every repeat but marks it replayed fails, without --effects", async () => {
    const server = await keyedServer({ runsRepeats: true });
    try {
      const run = await check(["check", `${server.url}/orders`, "--json"]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.equal(run.report.verdict, "fail");
      const rules = byId(run.report);
      for (const id of ["repeat-immediate", "repeat-after-2s", "concurrent-one-effect", "replay-same-body"]) {
        assert.equal(rules[id].ok, false, `${id}: ${rules[id].detail}`);
      }
      assert.match(rules["repeat-immediate"].detail, /marked as a replay, but with another body \(the server ran it again\)$/);
      assert.match(rules["repeat-immediate"].users, /a second effect/);
      assert.match(rules["concurrent-one-effect"].detail, /5 distinct answers/);
      assert.ok(server.effects() > 15, "the server did run every repeat");
    } finally {
      await server.close();
    }
  });

  test("identical large replies, sent in pieces of random size, are the same body", async () => {
    const big = JSON.stringify({ id: 1, pad: "é".repeat(2_000_000) }); // 4 MB of UTF-8
    const write = async (res, text) => {
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(Math.random() * 200_000);
        res.write(bytes.subarray(at, at + n));
        at += n;
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    };
    const server = await keyedServer({ answer: () => big, write });
    try {
      const run = await check(["check", `${server.url}/orders`, "--timeout-ms", "20000", "--json"]);
      const rules = byId(run.report);
      assert.equal(rules["replay-same-body"].ok, true, rules["replay-same-body"].detail);
      assert.equal(rules["replay-same-body"].detail, `the same ${Buffer.byteLength(big)}-byte body`);
      for (const id of ["first-is-new", "repeat-immediate", "repeat-after-2s", "repeat-after-timeout", "replay-same-status", "replay-marked"]) {
        assert.equal(rules[id].ok, true, `${id}: ${rules[id].detail}`);
      }
      assert.notEqual(run.report.verdict, "fail", run.stdout);
    } finally {
      await server.close();
    }
  });

  test("an endless body is a verdict of its own, not \"no answer\"", async () => {
    const sockets = new Set();
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(201, { "Content-Type": "application/json" });
      res.write('{"id":1,"pad":"');
      const timer = setInterval(() => res.write("x".repeat(1000)), 10);
      res.on("close", () => clearInterval(timer));
    });
    server.on("connection", (s) => sockets.add(s));
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    try {
      const run = await check(["check", `http://127.0.0.1:${server.address().port}/orders`, "--timeout-ms", "800", "--json"]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      const first = byId(run.report)["first-is-new"];
      assert.equal(first.ok, false);
      assert.match(first.detail, /^201 application\/json, but its body never ended \(it did not end within 800 ms\)/);
      assert.doesNotMatch(first.detail, /no answer/);
      assert.match(first.fix, /end the reply's body/);
      assert.ok(run.ms < 20_000, `took ${run.ms} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test("replays whose body never ends: the repeats say so, later rules are not observed, no hang", async () => {
    const write = (res, text, replay) => {
      if (!replay) return res.end(text);
      res.write(text.slice(0, -1));
      const timer = setInterval(() => res.write(" "), 20);
      res.on("close", () => clearInterval(timer));
    };
    const server = await keyedServer({ write });
    try {
      const run = await check(["check", `${server.url}/orders`, "--timeout-ms", "500", "--json"]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      const rules = byId(run.report);
      assert.equal(rules["first-is-new"].ok, true);
      assert.equal(rules["repeat-immediate"].ok, false);
      assert.match(rules["repeat-immediate"].detail, /then 201 application\/json \+ Idempotent-Replayed: true, but its body never ended \(it did not end within 500 ms\)/);
      assert.match(rules["repeat-immediate"].fix, /end every reply's body/);
      assert.ok(run.report.rules.some((r) => r.inconclusive && /stopped answering/.test(r.detail)), "the rest is not observed, not passed");
      assert.ok(run.report.rules.every((r) => !(r.ok && r.skipped && r.required && r.id !== "cors-allows-key")), "nothing unobserved passes");
      assert.ok(run.ms < 30_000, `took ${run.ms} ms`);
    } finally {
      await server.close();
    }
  });

  test("a status of 600 is the server's fault, not bad usage", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(600, { "Content-Type": "text/plain" });
        res.end("odd");
      });
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    try {
      const run = await check(["check", `http://127.0.0.1:${server.address().port}/orders`, "--json"]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.doesNotMatch(run.stderr, /invalid option/);
      const first = byId(run.report)["first-is-new"];
      assert.equal(first.ok, false);
      assert.match(first.detail, /^600 \(not an HTTP status: a fault of the server or a proxy\)/);
      assert.match(first.fix, /not an HTTP status \(100-599\): a fault in the server/);
      // What sendonce itself makes of it, from its own reading of the reply.
      assert.match(first.users, /^"Could not send/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

test("--data @/dev/zero reads a bounded amount and says why it stops", async () => {
  const run = await check(["check", "http://127.0.0.1:9/x", "--data", "@/dev/zero"]);
  assert.equal(run.code, 2, run.stdout);
  assert.match(run.stderr, /--data @\/dev\/zero: the file is larger than 1048576 bytes/);
  assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
  // A regular file one byte over sendonce's maxPayloadBytes: the same clear error.
  const dir = mkdtempSync(join(tmpdir(), "sendonce-check-"));
  try {
    const big = join(dir, "big.json");
    writeFileSync(big, JSON.stringify({ pad: "x".repeat(1 << 20) }));
    const run2 = await check(["check", "http://127.0.0.1:9/x", "--data", `@${big}`]);
    assert.equal(run2.code, 2);
    assert.match(run2.stderr, /the file is larger than 1048576 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The replies both readings are fed: every class, a mark under another name, Retry-After as
 * seconds and as an HTTP date, a reason from a problem body. */
function sampleReplies() {
  const inOneSecond = new Date(Date.now() + 1500).toUTCString();
  return [
    { status: 201, headers: [["Content-Type", "application/json"]], body: '{"id":1}' },
    { status: 201, headers: [["Content-Type", "application/json"], ["IDEMPOTENT-REPLAYED", "TRUE"]], body: '{"id":1}' },
    { status: 200, headers: [["X-Replayed", "1"]], body: '{"id":1}', replayHeader: "X-Replayed" },
    { status: 202, headers: [["Location", "/api/jobs/7"]], body: "" },
    { status: 409, headers: [["Retry-After", "1"]], body: "<html>busy</html>" },
    { status: 425, headers: [], body: "" },
    { status: 422, headers: [["Content-Type", "application/problem+json"]], body: '{"title":"key reused"}' },
    { status: 417, headers: [], body: "" },
    { status: 429, headers: [["Retry-After", inOneSecond]], body: "" },
    { status: 503, headers: [["Retry-After", "120"]], body: "" },
    { status: 500, headers: [["Idempotent-Replayed", "true"]], body: "" },
    { status: 501, headers: [], body: "" },
    { status: 403, headers: [["Content-Type", "application/json"]], body: '{"detail":"not yours"}' },
    { status: 404, headers: [["Content-Type", "text/plain"]], body: "no such order" },
  ];
}

test("the SDK and the check read the same replies the same way (one action with an injected fetch vs classifyReply)", async () => {
  const { default: init, Sendonce, classifyReply } = await import("../../pkg/node.js");
  await init();
  for (const [i, reply] of sampleReplies().entries()) {
    const fetch = async () => new Response(reply.body || null, { status: reply.status, headers: reply.headers });
    const so = new Sendonce({ storage: "memory", namespace: `same-${i}`, fetch, retry: { attempts: 2 }, ...(reply.replayHeader ? { replayHeader: reply.replayHeader } : {}) });
    try {
      const action = so.action("same-reading", { n: i });
      // The first status the action shows after the reply (it may go on retrying after).
      const first = new Promise((resolve) => {
        action.onStatus((s) => {
          if (!["idle", "sending"].includes(s.code)) resolve(s);
        });
      });
      action.send("http://127.0.0.1/orders", { method: "POST" }).catch(() => {});
      const sdk = await first;
      const check = classifyReply(reply.status, reply.headers, reply.body, reply.replayHeader);
      assert.deepEqual([check.status.code, check.status.text], [sdk.code, sdk.text], `HTTP ${reply.status} ${JSON.stringify(reply.headers)}`);
    } finally {
      so.dispose();
    }
  }
  // Retry-After, as the core reads it: seconds or an HTTP date (the check used to read seconds only).
  const [, , , , busy, , , , dated, later] = sampleReplies().map((r) => classifyReply(r.status, r.headers, r.body, r.replayHeader));
  assert.equal(busy.retryAfterMs, 1000);
  assert.equal(later.retryAfterMs, 120_000);
  assert.ok(dated.retryAfterMs > 0 && dated.retryAfterMs <= 1500, `an HTTP date 1.5 s ahead: ${dated.retryAfterMs} ms`);
  // The mark under another name is found on any status, as the SDK reads it.
  assert.equal(classifyReply(201, [["X-Idempotency-Replayed", "yes"]], "").marker, "X-Idempotency-Replayed");
  assert.equal(classifyReply(201, [["X-Replay-Count", "2"]], "").marker, null, "a value that does not say true is no mark");
});

test("the check's rules are the core's: same JSON canonically, method and header grammar, CORS lists", async () => {
  const { default: init, checkRequest, classifyReply } = await import("../../pkg/node.js");
  await init();
  const canonical = (body) => classifyReply(200, [], body).canonicalBody;
  assert.equal(canonical('{"id":1,"total":12.5}'), canonical('{ "total": 12.50, "id": 1 }'));
  assert.notEqual(canonical("[1,2]"), canonical("[2,1]"));
  assert.equal(canonical("<html>"), null);
  const req = checkRequest("patch", [["Authorization", "Bearer x"]]);
  assert.equal(req.method, "PATCH");
  assert.deepEqual([req.headerName, req.replayHeader, req.maxBodyBytes, req.maxPayloadBytes], ["Idempotency-Key", "Idempotent-Replayed", 1 << 20, 1 << 20]);
  assert.deepEqual(req.corsHeaders, ["content-type", "idempotency-key", "authorization"]);
  assert.deepEqual(req.headers, [["Authorization", "Bearer x"], ["Content-Type", "application/json"]], "the SDK's Content-Type default");
  assert.deepEqual(checkRequest("POST", [["content-type", "text/plain"]]).headers, [["content-type", "text/plain"]]);
  for (const bad of [() => checkRequest("PO ST", []), () => checkRequest("POST", [["Bad Name", "x"]]), () => checkRequest("POST", [["X-A", "a\r\nX-B: b"]]), () => checkRequest("POST", [["idempotency-key", "k"]])]) {
    assert.throws(bad, (e) => e.name === "SendonceError" && e.code === "invalid_option");
  }
  const page = { origin: "https://shop.example", method: "PUT", requestHeaders: req.corsHeaders };
  const pre = classifyReply(204, [["Access-Control-Allow-Origin", "https://shop.example"], ["Access-Control-Allow-Headers", "Content-Type"], ["Access-Control-Expose-Headers", "Idempotent-Replayed"]], "", null, page).cors;
  const { pageStatus, ...lists } = pre;
  assert.deepEqual(lists, { originAllowed: true, headersMissing: ["idempotency-key", "authorization"], methodAllowed: false, notExposed: ["Retry-After", "Location"] });
  assert.equal(pageStatus.code, "done");
  assert.equal(classifyReply(201, [["access-control-allow-origin", "*"]], "", null, { ...page, method: "POST" }).cors.originAllowed, true);
  assert.equal(classifyReply(201, [], "").cors, undefined, "no page, no CORS reading");
  // What sendonce in the page shows: a replay mark the page cannot read is not seen.
  const hidden = classifyReply(201, [["Idempotent-Replayed", "true"], ["Access-Control-Allow-Origin", "*"]], "{}", null, { ...page, method: "POST" });
  assert.deepEqual([hidden.status.code, hidden.cors.pageStatus.code], ["already_received", "done"]);
  const exposed = classifyReply(201, [["Idempotent-Replayed", "true"], ["Access-Control-Expose-Headers", "Idempotent-Replayed"]], "{}", null, { ...page, method: "POST" });
  assert.equal(exposed.cors.pageStatus.code, "already_received");
  assert.throws(() => classifyReply(201, [], "", null, { origin: "https://x.example", method: "POST", requestHeaders: "x" }), (e) => e.code === "invalid_option");
});

/** A server that ignores the key but serialises requests: each waits for the one before it,
 * so no two ever overlap, and every one makes an effect. */
async function serialisingServer() {
  let effects = 0;
  let queue = Promise.resolve();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.method === "GET") {
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(JSON.stringify({ effects }));
      }
      queue = queue.then(
        () =>
          new Promise((done) =>
            setTimeout(() => {
              effects += 1;
              res.writeHead(201, { "Content-Type": "application/json" });
              res.end(JSON.stringify({ id: effects }));
              done();
            }, 20),
          ),
      );
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, effects: () => effects, close: () => new Promise((r) => server.close(r)) };
}

test("a server that ignores the key but serialises requests: in-flight-409 is inconclusive (not seen), never ok", async () => {
  const server = await serialisingServer();
  try {
    const run = await check(["check", `${server.url}/orders`]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /^in-flight-409\s+inconclusive\s+not seen: no request arrived while another with its key ran/m);
    assert.match(run.stdout, /^repeat-immediate\s+FAIL\s/m);
    assert.match(run.stdout, /^verdict: fail \(.* 1 not observed/m);
    const json = await check(["check", `${server.url}/orders`, "--json"]);
    const inFlight = byId(json.report)["in-flight-409"];
    assert.deepEqual([inFlight.verdict, inFlight.ok, inFlight.inconclusive], ["inconclusive", false, true]);
    assert.ok(server.effects() > 20, "every request made an effect");
  } finally {
    await server.close();
  }
});

test("replays with the same JSON spelled differently (members in another order, 12.50 for 12.5) are the same body", async () => {
  const server = await keyedServer({
    answer: (n) => JSON.stringify({ id: n, total: 12.5 }),
    write: (res, text, replayed) => res.end(replayed ? `{ "total": 12.50, "id": ${JSON.parse(text).id} }` : text),
  });
  try {
    const run = await check(["check", `${server.url}/orders`, "--effects", `${server.url}/count`, "--effects-pointer", "/effects", "--json"]);
    const rules = byId(run.report);
    assert.equal(rules["replay-same-body"].ok, true, rules["replay-same-body"].detail);
    assert.match(rules["replay-same-body"].detail, /the same JSON, spelled differently/);
    assert.equal(rules["repeat-immediate"].ok, true, rules["repeat-immediate"].detail);
  } finally {
    await server.close();
  }
});
