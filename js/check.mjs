#!/usr/bin/env node
// `sendonce check <url>`: the UX brief's "quick check before launch", automated. It sends one
// request several times with the same Idempotency-Key (immediately, after 2 s, after an
// artificial timeout, five at once, with a changed and with a reordered payload, without a
// key, and as a page on another origin would) and says, rule by rule, whether the server
// makes one effect per key and answers repeats the way sendonce reads them. Keys,
// fingerprints and the reading of replies come from the package itself (the same wasm the
// browser runs), so "what users see" is what sendonce will show against this server. Every
// rule it applies to a request or a reply (classification, the replay mark, Retry-After,
// "the same JSON", header and method grammar, CORS lists, size limits, default header names)
// is the core's, through `classifyReply` and `checkRequest`: this file keeps the HTTP, the
// order of the rules (a table, `RULES`) and the printing.
//
// Exit status: 0 every required rule holds, 1 one fails, 2 bad usage or unreachable server,
// 3 none fails but a required one could not be observed (inconclusive).
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { closeSync, openSync, readSync, realpathSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import init, { Sendonce, checkRequest, classifyReply } from "./node.js";

const USAGE = `usage: sendonce check <url> [options]

Sends one request several times with the same Idempotency-Key and says whether the server
makes one effect per key and answers repeats the way sendonce reads them.

  --method M               HTTP method (default POST)
  --header "K: V"          extra request header (repeatable), e.g. an Authorization
  --body JSON              the request body (default {"item":"sendonce check","qty":1})
  --data @FILE             the body from a file (JSON)
  --origin URL             check CORS as a page on this origin would meet it
  --effects URL            GET URL returns JSON with a number that counts the server's effects
  --effects-pointer PTR    JSON pointer to that number (default: the whole document), e.g. /total
  --scope-url URL          another idempotent endpoint of the server: are keys scoped per URL?
  --timeout-ms N           limit for each request (default 5000)
  --json                   print { url, verdict, rules, options } as JSON
  --help                   print this text

Exit status: 0 when every required rule holds, 1 when one fails, 2 for bad usage or an
unreachable server, 3 when none fails but a required rule could not be observed.
`;

const DEFAULT_BODY = { item: "sendonce check", qty: 1 };
/** Rules that would start after this are skipped ... */
const BUDGET_MS = 45_000;
/** ... and no request outlives this, so the whole check ends within a minute whatever the
 * server does (each request is also cut at --timeout-ms). */
const HARD_LIMIT_MS = 55_000;
/** How long one rule may keep asking again after 409 / 429 / 503 before it gives up. */
const SETTLE_MS = 8_000;
/** Longest Retry-After the check honours, to end within a minute (sendonce itself honours
 * up to 60 s). */
const MAX_RETRY_AFTER_MS = 2_000;
/** Replies are compared whole (a digest of every byte) up to this size; a body that goes on
 * past it is judged "never ends". */
export const MAX_REPLY_BYTES = 64 << 20;

class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// Command line

/** The command line as options; needs `init()` first (the grammar is the core's). */
export function parseArgs(argv) {
  // Defaults and limits, from the core: the key and replay header names, what sendonce reads
  // of a reply, the largest payload it sends.
  const core = checkRequest("POST", []);
  const args = [...argv];
  if (args[0] === "--help" || args[0] === "-h") return { help: true };
  if (args.length === 0) throw new UsageError("which command? sendonce check <url>");
  const command = args.shift();
  if (command !== "check") throw new UsageError(`unknown command ${JSON.stringify(command)}; try: sendonce check <url>`);
  const o = { core, method: "POST", headers: [], body: undefined, origin: null, effects: null, effectsPointer: "", scopeUrl: null, timeoutMs: 5000, json: false, url: null };
  let bodySource = null;
  const value = (name) => {
    if (args.length === 0 || args[0].startsWith("--")) throw new UsageError(`${name} needs a value`);
    return args.shift();
  };
  while (args.length) {
    let arg = args.shift();
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    if (eq > 0) {
      args.unshift(arg.slice(eq + 1));
      arg = arg.slice(0, eq);
    }
    switch (arg) {
      case "--help":
      case "-h":
        return { help: true };
      case "--json":
        o.json = true;
        break;
      case "--method": {
        const m = value(arg);
        o.method = coreRule(() => checkRequest(m, []).method, `--method wants a method name, got ${JSON.stringify(m)}`);
        break;
      }
      case "--header": {
        const h = value(arg);
        const colon = h.indexOf(":");
        const pair = [colon > 0 ? h.slice(0, colon).trim() : h, h.slice(colon + 1).trim()];
        coreRule(() => checkRequest("POST", [pair]), `--header wants "Name: value", got ${JSON.stringify(h)}`);
        o.headers.push(pair);
        break;
      }
      case "--body":
      case "--data": {
        if (bodySource) throw new UsageError(`give the body once (${bodySource} and ${arg})`);
        bodySource = arg;
        let text = value(arg);
        if (text.startsWith("@")) text = readBounded(text.slice(1), arg, core.maxPayloadBytes);
        else if (Buffer.byteLength(text) > core.maxPayloadBytes) throw new UsageError(`${arg}: the body is larger than ${core.maxPayloadBytes} bytes (sendonce's maxPayloadBytes)`);
        try {
          o.body = JSON.parse(text);
        } catch (e) {
          throw new UsageError(`${arg}: the body must be JSON (${e.message})`);
        }
        break;
      }
      case "--origin":
        o.origin = httpUrl(value(arg), arg).origin;
        break;
      case "--effects":
        o.effects = httpUrl(value(arg), arg).href;
        break;
      case "--effects-pointer":
        o.effectsPointer = value(arg);
        if (o.effectsPointer !== "" && !o.effectsPointer.startsWith("/")) throw new UsageError(`--effects-pointer wants a JSON pointer such as /total, got ${JSON.stringify(o.effectsPointer)}`);
        break;
      case "--scope-url":
        o.scopeUrl = httpUrl(value(arg), arg).href;
        break;
      case "--timeout-ms": {
        const v = value(arg);
        o.timeoutMs = Number(v);
        if (!Number.isInteger(o.timeoutMs) || o.timeoutMs < 50 || o.timeoutMs > 60_000) throw new UsageError(`--timeout-ms wants a whole number from 50 to 60000, got ${JSON.stringify(v)}`);
        break;
      }
      default:
        if (arg.startsWith("-")) throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
        if (o.url) throw new UsageError(`one URL only (got ${o.url} and ${arg})`);
        o.url = httpUrl(arg, "the URL").href;
    }
  }
  if (!o.url) throw new UsageError("which URL? sendonce check <url>");
  if (o.effectsPointer && !o.effects) throw new UsageError("--effects-pointer needs --effects");
  // The request as a whole, by the core's rules (and the headers a CORS preflight must allow).
  o.core = coreRule(() => checkRequest(o.method, o.headers), "the request");
  o.body ??= DEFAULT_BODY;
  return o;
}

/** A core rule's answer, or its SendonceError as bad usage (`what` says what was wrong, the
 * core's message why). */
function coreRule(fn, what) {
  try {
    return fn();
  } catch (e) {
    if (e?.code !== "invalid_option") throw e;
    throw new UsageError(`${what}: ${e.message}`);
  }
}

/** A file's text, read up to `max` bytes and no further (`/dev/zero`, a pipe or a huge file
 * is a clear error, not a read without end). */
function readBounded(path, arg, max) {
  let fd;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new UsageError(`${arg} @${path}: cannot read the file (${e.code ?? e.message})`);
  }
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > max) throw new UsageError(`${arg} @${path}: the file is larger than ${max} bytes (sendonce's maxPayloadBytes); the check read no further`);
    return buf.subarray(0, n).toString("utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${arg} @${path}: cannot read the file (${e.code ?? e.message})`);
  } finally {
    closeSync(fd);
  }
}

function httpUrl(text, what) {
  let u;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`${what}: not a URL: ${JSON.stringify(text)}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UsageError(`${what}: wants an http(s) URL, got ${JSON.stringify(text)}`);
  return u;
}

// ---------------------------------------------------------------------------------------------
// HTTP: one request per connection, a hard timeout, and a way to hang up mid-flight.

/**
 * Sends one request. Resolves with `{ status, headers: [[name, value]], head, body, cut,
 * size, digest, ms }`: `headers` are the raw pairs (what the core reads), `head` Node's map of
 * them (for printing), `body` is what sendonce reads of the reply (its first `keepBytes`, the
 * core's `maxBodyBytes`, cut on a character boundary, `cut` then true), `size` the whole body's bytes and `digest` a SHA-256
 * of all of them, so that two replies compare whole whatever the network's chunks. A body that
 * goes past MAX_REPLY_BYTES or does not end within the timeout resolves with `endless` (why)
 * and no digest. Or `{ error: "timeout" | "network", message, ms }` when no answer came, or
 * with `abortAfterWrite`, `{ aborted: true }` as soon as the request left (the client gives up
 * mid-flight, as a phone losing its network). `onWritten` is called once the request has been
 * handed to the network.
 */
export function send(url, { method = "POST", headers = [], body = null, timeoutMs = 5000, keepBytes, abortAfterWrite = false, onWritten } = {}) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const started = performance.now();
    let settled = false;
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, ms: Math.round(performance.now() - started) });
    };
    const head = {};
    for (const [k, v] of headers) head[k] = v;
    if (body != null) head["Content-Length"] = Buffer.byteLength(body);
    const lib = u.protocol === "https:" ? https : http;
    let req;
    /** The reply so far, once its head arrived. */
    let partial = null;
    try {
      req = lib.request(u, { method, headers: head, agent: false }, (res) => {
        const kept = [];
        let keptBytes = 0;
        let size = 0;
        const hash = createHash("sha256");
        const pairs = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        partial = () => {
          const bytes = Buffer.concat(kept);
          const cut = size > keptBytes;
          // Cut on a character boundary, as sendonce does (a streaming decode keeps back an
          // unfinished character).
          const body = new TextDecoder().decode(bytes, { stream: cut });
          return { status: res.statusCode, headers: pairs, head: res.headers, body, cut, size };
        };
        res.on("data", (c) => {
          size += c.length;
          hash.update(c);
          if (keptBytes < keepBytes) {
            const part = c.subarray(0, keepBytes - keptBytes);
            kept.push(part);
            keptBytes += part.length;
          }
          if (size > MAX_REPLY_BYTES) {
            finish({ ...partial(), endless: `more than ${MAX_REPLY_BYTES >> 20} MiB and still going` });
            req.destroy();
          }
        });
        res.on("end", () => finish({ ...partial(), digest: hash.digest("hex") }));
        res.on("error", (e) => finish({ error: "network", message: e.code ?? e.message }));
      });
    } catch (e) {
      resolve({ error: "network", message: e.code ?? e.message, ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      // The status came and the body did not end: an endless body, not a missing answer.
      if (partial) finish({ ...partial(), endless: `it did not end within ${timeoutMs} ms` });
      else finish({ error: "timeout", message: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on("error", (e) => finish({ error: "network", message: e.code ?? e.message }));
    req.on("finish", () => {
      onWritten?.();
      if (abortAfterWrite) {
        req.destroy();
        finish({ aborted: true });
      }
    });
    req.end(body ?? undefined);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Payload variants

/** The same JSON with the members of every object in reverse order; null when no object has
 * two members (nothing to reorder). */
export function reordered(value) {
  let changed = false;
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const entries = Object.entries(v);
      if (entries.length > 1) changed = true;
      return Object.fromEntries(entries.reverse().map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  const out = walk(value);
  return changed ? out : null;
}

/** The payload with its first string or number changed (a user who corrected a field), or
 * with one field added when it has none. */
export function changed(value) {
  let done = false;
  const walk = (v) => {
    if (done) return v;
    if (typeof v === "string") {
      done = true;
      return `${v} (changed)`;
    }
    if (typeof v === "number") {
      done = true;
      return v + 1;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const out = walk(value);
  if (done) return out;
  if (out && typeof out === "object" && !Array.isArray(out)) return { ...out, sendonceCheck: "changed" };
  return [out, "changed"];
}

const jsonPointer = (doc, pointer) => {
  if (pointer === "") return doc;
  let v = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const k = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (v == null || typeof v !== "object" || !(k in v)) return undefined;
    v = v[k];
  }
  return v;
};

// ---------------------------------------------------------------------------------------------
// The check

/**
 * What sendonce shows when no reply comes, from the SDK itself: one action through a fetch
 * that fails (`network`) or never answers (`timeout`), with the status texts it went through.
 */
async function noReplyTexts() {
  const out = {};
  const failing = { network: () => Promise.reject(new TypeError("fetch failed")), timeout: () => new Promise(() => {}) };
  for (const [kind, fetch] of Object.entries(failing)) {
    const so = new Sendonce({ storage: "memory", namespace: `sendonce-check-${kind}`, fetch, retry: { attempts: 1, timeoutMs: 100 } });
    const action = so.action("no-reply", { probe: kind });
    const seen = [];
    action.onStatus((s) => seen.push(s.text));
    await action.send("http://127.0.0.1/no-reply", { method: "POST" });
    out[kind] = { first: seen[0] ?? action.status.text, last: action.status.text };
  }
  return out;
}

/** Runs every rule of the table in order; returns the report (never throws for what a server
 * does). */
export async function runCheck(opts) {
  const noReply = await noReplyTexts();
  const started = performance.now();
  const so = new Sendonce({ storage: "memory", namespace: "sendonce-check" });
  const { headerName, replayHeader: defaultReplay, maxBodyBytes } = opts.core;
  const elapsed = () => performance.now() - started;
  /** The request limit: --timeout-ms, or less near the end of the check. */
  const limit = () => Math.max(1, Math.min(opts.timeoutMs, HARD_LIMIT_MS - elapsed()));
  const userHeaders = opts.headers;
  let replayHeader = null; // a header the server marks replays with, once seen
  let slowest = 0;
  let timedOut = 0;
  const rules = [];

  // The headers sendonce sends with a JSON body (the core's: a Content-Type unless given).
  const baseHeaders = (key, extra = []) => [...opts.core.headers, ...(key ? [[headerName, key]] : []), ...extra];
  const request = async (key, payload, more = {}) => {
    const r = await send(more.url ?? opts.url, {
      method: opts.method,
      headers: baseHeaders(key, more.headers),
      body: payload === undefined ? null : JSON.stringify(payload),
      timeoutMs: limit(),
      keepBytes: maxBodyBytes,
      abortAfterWrite: more.abortAfterWrite,
      onWritten: more.onWritten,
    });
    if (r.status) slowest = Math.max(slowest, r.ms);
    // A body that does not end costs the whole limit too.
    if (r.error === "timeout" || r.endless?.startsWith("it did not end")) timedOut += 1;
    return r;
  };
  /** How sendonce reads a reply (with the replay header this server uses, once known): the
   * core's classification, the status users see, Retry-After and the header that marks a
   * replay. */
  const readings = new WeakMap();
  const read = (r) => {
    const header = replayHeader ?? defaultReplay;
    const seen = readings.get(r);
    if (seen?.header === header) return seen.reading;
    const reading = classifyReply(r.status, r.headers, r.body, header);
    readings.set(r, { header, reading });
    return reading;
  };
  /** The header that marks this reply as a replay, if any (the core's reading, on any status). */
  const markerOf = (r) => (r.status ? read(r).marker : null);
  const noteMarker = (r) => {
    const m = markerOf(r);
    // Header names are case-insensitive: keep the usual spelling when it is the default.
    if (m && !replayHeader) replayHeader = m.toLowerCase() === defaultReplay.toLowerCase() ? defaultReplay : m;
    return m;
  };
  /** Asks again while the server says "in progress" or "try later", as sendonce would, after
   * the Retry-After the core reads (seconds or an HTTP date; at most MAX_RETRY_AFTER_MS). */
  const settle = async (key, payload, first) => {
    const seen = [];
    let r = first ?? (await request(key, payload));
    const until = Math.min(performance.now() + SETTLE_MS, started + HARD_LIMIT_MS);
    while (r.status && ["in_progress", "retryable"].includes(read(r).kind) && performance.now() < until) {
      seen.push(r);
      const ra = read(r).retryAfterMs;
      await sleep(ra > 0 ? Math.min(ra, MAX_RETRY_AFTER_MS) : 300);
      r = await request(key, payload);
    }
    if (r.status) noteMarker(r);
    return { reply: r, waited: seen };
  };
  const effects = async () => {
    if (!opts.effects) return null;
    const r = await send(opts.effects, { method: "GET", headers: userHeaders.filter(([k]) => k.toLowerCase() !== "content-type"), timeoutMs: limit(), keepBytes: maxBodyBytes });
    let n;
    try {
      n = jsonPointer(JSON.parse(r.body), opts.effectsPointer);
    } catch {
      n = undefined;
    }
    if (typeof n !== "number") throw new Error(`--effects ${opts.effects}: no number at ${JSON.stringify(opts.effectsPointer || "(the document)")} (${r.error ? r.message : `HTTP ${r.status}`})`);
    return n;
  };
  /** A reply header's value as Node read it (for printing only: every rule reads the raw
   * pairs through the core). */
  const shown = (r, name) => {
    const v = r.head?.[name.toLowerCase()];
    return Array.isArray(v) ? v.join(", ") : v;
  };
  const contentType = (r) => (shown(r, "content-type") ?? "").split(";")[0];
  const describe = (r) => {
    if (r.error) return r.error === "timeout" ? r.message : `no answer (${r.message})`;
    const ct = contentType(r);
    const marker = markerOf(r);
    const odd = r.status > 599 ? " (not an HTTP status: a fault of the server or a proxy)" : "";
    return `${r.status}${odd}${ct ? ` ${ct}` : ""}${marker ? ` + ${marker}: ${shown(r, marker)}` : ""}${r.endless ? `, but its body never ended (${r.endless})` : ""}`;
  };
  /** What a user of sendonce sees after this reply, in the SDK's own words (its reading of the
   * reply, through the wasm); for no reply at all, what it shows once its retries are spent. */
  const shows = (r) => {
    if (r.error) return r.error === "timeout" ? `"${noReply.timeout.first}" until the timeout, then retries, then "${noReply.timeout.last}"` : `"${noReply.network.last}"`;
    const text = `"${read(r).status.text}"`;
    if (!r.endless) return text;
    return r.endless.startsWith("it did not end") ? `"${noReply.timeout.first}" until the timeout (sendonce waits for the body), then retries, then "${noReply.timeout.last}"` : `${text}, with the reply cut at ${maxBodyBytes >> 20} MiB (sendonce reads no more)`;
  };
  /** What sendonce shows for this reply once it is marked as a replay (its status text for a
   * replayed answer of this status). */
  const replayText = (r) => classifyReply(r.status, [[replayHeader ?? defaultReplay, "true"], ...r.headers], r.body, replayHeader ?? defaultReplay).status.text;
  /** Whether two replies carry the same body: the same bytes (compared whole, by digest), or
   * the same JSON by the core's canonical reading; null when a body never ended (nothing to
   * compare). */
  const sameBody = (a, b) => {
    if (!a.digest || !b.digest) return null;
    if (a.digest === b.digest) return true;
    if (a.cut || b.cut) return false;
    const ca = read(a).canonicalBody;
    return ca !== null && ca === read(b).canonicalBody;
  };
  /** Whether `later` answers the same action as `first`: the same body (a new effect would
   * have a new id), marked as a replay or with the same status, or another 2xx. A reply marked
   * as a replay with another body is not a replay: the server ran the request again and only
   * said otherwise. `repeat` is null when it cannot be told (a body that never ended). */
  const repeatOf = (first, later) => {
    if (!later.status) return { repeat: false, by: "no answer" };
    const same = sameBody(first, later);
    if (same === null) return { repeat: null, by: "a body never ended, so the answers cannot be compared" };
    const marked = read(later).replayed || markerOf(later);
    if (marked && same) return { repeat: true, by: "marked as a replay" };
    if (marked) return { repeat: false, by: "marked as a replay, but with another body (the server ran it again)" };
    if (same && later.status === first.status) return { repeat: true, by: "the same status and body" };
    if (same && read(first).kind === "success" && read(later).kind === "success") return { repeat: true, by: `the same body (status ${first.status}, then ${later.status})` };
    return { repeat: false, by: "another answer (a new effect)" };
  };
  /** The verdict on a repeat `later` of the action `first` answered, with the server's own
   * count of effects when --effects gives one: that count decides whether a second effect
   * happened; without it, the answers do. */
  const repeatVerdict = (first, later, effects) => {
    const same = first.status ? repeatOf(first, later) : { repeat: false, by: "the first attempt got no answer" };
    const silent = [first, later].find((r) => !r.status);
    const endless = [first, later].find((r) => r.endless);
    if (silent) return { ok: false, same, users: shows(silent), fix: "answer every request within the timeout" };
    if (endless) return { ok: false, same, users: shows(endless), fix: "end every reply's body (a Content-Length, or the chunked stream's last chunk)" };
    if (effects !== null) {
      if (effects > 1) return { ok: false, same, users: "a second effect for one action (a double order, a second message)", fix: "look the key up before doing the work, and answer a repeat with the stored result" };
      if (effects === 1 && recognised(later)) return { ok: true, same, users: shows(later), fix: same.repeat ? storedFailure(later) : "no second effect, but the repeat's answer differs from the first: replay the stored status and body" };
      return { ok: false, same, users: `${shows(later)} on a repeat`, fix: effects === 0 ? "the effects counter did not move: check --effects" : "answer a repeat with the stored result of the first request" };
    }
    if (same.repeat === null) return { ok: false, inconclusive: true, same, users: "-", fix: "" };
    if (same.repeat) return { ok: true, same, users: shows(later), fix: storedFailure(later) };
    return { ok: false, same, users: recognised(later) ? "a second effect for one action (a double order, a second message)" : `${shows(later)} on a repeat`, fix: "look the key up before doing the work, and answer a repeat with the stored result" };
  };
  /** The server took this reply as the same action: a 2xx or 202, or anything it marks as a
   * replay (a replayed 5xx is judged by replay-same-status, not here). */
  const recognised = (r) => Boolean(r.status && (["success", "accepted"].includes(read(r).kind) || read(r).replayed || markerOf(r)));
  /** For a rule that holds although users meet an error on the repeat. */
  const storedFailure = (...replies) => (replies.some((r) => r.status && read(r).kind === "replayed_failure") ? "no second effect, but the repeat is a stored error: see replay-same-status" : "");
  const keyFor = (id) => so.action(`check:${id}`, opts.body).key;
  const payloadFingerprint = (name, payload) => so.action(`fingerprint:${name}`, payload).fingerprint;

  /** Runs `body` for one rule with the effects count before and after (when --effects). */
  const withEffects = async (fn) => {
    const before = await effects();
    const out = await fn();
    const after = await effects();
    return { ...out, effects: before === null ? null : after - before };
  };
  const effectsText = (n) => (n === null ? "" : `; effects +${n}`);
  /** What a rule returns when it could not observe what it checks: not ok, not failed. */
  const notSeen = (why, more = {}) => ({ inconclusive: true, detail: why, saw: "-", users: "-", fix: "-", ...more });

  /** A repeat of the same request after `waitMs`. */
  const repeatRule = (waitMs) => async () => {
    const key = keyFor(waitMs ? "repeat-after-2s" : "repeat-immediate");
    const out = await withEffects(async () => {
      const a = await request(key, opts.body);
      if (waitMs) await sleep(waitMs);
      const b = await settle(key, opts.body);
      return { a, b: b.reply };
    });
    const v = repeatVerdict(out.a, out.b, out.effects);
    return {
      ok: v.ok,
      inconclusive: v.inconclusive,
      saw: `${describe(out.a)}, then ${waitMs ? `after ${waitMs / 1000} s ` : ""}${describe(out.b)}: ${v.same.by}${effectsText(out.effects)}`,
      users: v.users,
      fix: v.fix,
    };
  };
  /** A first answer and its repeat, for the replay-* rules (each with its own key). */
  const replayPair = async (id) => {
    const key = keyFor(id);
    const a = await request(key, opts.body);
    const { reply: b } = await settle(key, opts.body);
    return { a, b, silent: !a.status || !b.status ? { ok: false, saw: `${describe(a)}, then ${describe(b)}`, users: shows(b.status ? a : b), fix: "answer every request within the timeout" } : null };
  };
  /** The CORS exchange, once for both CORS rules: the preflight, the request as the page sends
   * it and its repeat. */
  let corsSeen = null;

  // The rules, in the order they run: each its id, whether the verdict needs it, and one
  // function that observes it and says what it saw (`ok`, or `inconclusive` when it could not
  // tell, `saw`, `users`, `fix`). `needs` says why it is skipped (an option not given).
  const RULES = [
    {
      id: "first-is-new",
      required: true,
      run: async () => {
        const first = await withEffects(async () => ({ reply: await request(keyFor("first-is-new"), opts.body) }));
        const fr = first.reply;
        if (fr.error === "network") return { unreachable: `${opts.url}: ${fr.message}` };
        const cls = fr.status ? read(fr) : null;
        const good = cls && !fr.endless && (cls.kind === "success" || cls.kind === "accepted") && !cls.replayed && !markerOf(fr) && (first.effects === null || first.effects === 1);
        const fault = fr.status > 599 || ["server_failure", "retryable", "replayed_failure"].includes(cls?.kind);
        if (good) noteMarker(fr);
        return {
          ok: Boolean(good),
          saw: `${describe(fr)} in ${fr.ms} ms${effectsText(first.effects)}`,
          users: shows(fr),
          fix: good
            ? ""
            : !fr.status
              ? "answer within the timeout (or raise --timeout-ms)"
              : fr.endless
                ? "end the reply's body (a Content-Length, or the chunked stream's last chunk)"
                : fr.status > 599
                  ? `the server answered ${fr.status}, which is not an HTTP status (100-599): a fault in the server or a proxy in front of it`
                  : fault
                    ? `the server failed (${fr.status}): see its logs`
                    : cls.kind === "success" || cls.kind === "accepted"
                      ? first.effects === 0
                        ? "the effects counter did not move: check --effects, or make the request do its work"
                        : first.effects > 1
                          ? "one request made several effects"
                          : "a fresh key must not be answered as a replay"
                      : "make the request succeed first: check the URL, method, headers and body",
        };
      },
    },
    { id: "repeat-immediate", required: true, run: repeatRule(0) },
    { id: "repeat-after-2s", required: true, run: repeatRule(2000) },
    {
      id: "repeat-after-timeout",
      required: true,
      run: async () => {
        const key = keyFor("repeat-after-timeout");
        const out = await withEffects(async () => {
          await request(key, opts.body, { abortAfterWrite: true });
          const b = await settle(key, opts.body);
          const c = await settle(key, opts.body);
          return { b, c: c.reply };
        });
        const br = out.b.reply;
        const good = recognised(br) && !br.endless;
        const v = repeatVerdict(br, out.c, out.effects);
        const ok = Boolean(good && v.ok);
        const ran = !br.status ? "no answer" : read(br).replayed || markerOf(br) ? "the aborted attempt had run; the repeat got its stored answer" : "the repeat ran the action";
        return {
          ok,
          inconclusive: good && v.inconclusive,
          saw: `client hung up after sending; the repeat${out.b.waited.length ? ` (after ${out.b.waited.map((r) => r.status).join(", ")})` : ""}: ${describe(br)} (${ran}); once more: ${describe(out.c)}, ${v.same.by}${effectsText(out.effects)}`,
          users: !good ? shows(br) : ok ? shows(br) : v.users.startsWith("a second effect") ? "a second effect after a lost answer (the phone in the tunnel)" : v.users,
          fix: ok ? v.fix : good ? (v.users.startsWith("a second effect") ? "store the key with the result in the same transaction as the effect, and finish the work even when the client hangs up" : v.fix) : br.endless ? "end every reply's body (a Content-Length, or the chunked stream's last chunk)" : "a repeat after a lost answer must get the stored result (or 409 while it runs)",
        };
      },
    },
    {
      id: "replay-same-status",
      required: true,
      run: async () => {
        const { a, b, silent } = await replayPair("replay-same-status");
        if (silent) return silent;
        const ca = read(a);
        const cb = read(b);
        const sameClass = ca.kind === cb.kind && !(cb.kind === "replayed_failure");
        const ok = a.status === b.status || (sameClass && ca.kind === "success");
        return {
          ok,
          saw: `${a.status}, then ${describe(b)}${a.status !== b.status && ok ? " (another 2xx: sendonce shows the same, other clients may not)" : ""}`,
          users: ok ? shows(b) : `${shows(b)} though the action happened`,
          fix: ok ? (a.status !== b.status ? "replay the original status (the draft: a 201 stays a 201)" : "") : "replay the stored status and body of the first answer; never store a 5xx as the result of a key",
        };
      },
    },
    {
      id: "replay-same-body",
      required: true,
      run: async () => {
        const { a, b, silent } = await replayPair("replay-same-body");
        if (silent) return silent;
        const same = sameBody(a, b);
        const cut = (s) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);
        if (same === null) return { inconclusive: true, saw: `${describe(a)}, then ${describe(b)}: nothing to compare`, users: shows(a.endless ? a : b), fix: "end every reply's body (a Content-Length, or the chunked stream's last chunk)" };
        return {
          ok: same,
          saw: same ? `the same ${a.size}-byte body${a.digest === b.digest ? "" : " (the same JSON, spelled differently)"}` : `first ${cut(a.body)}${a.size > a.body.length ? ` (${a.size} bytes)` : ""}, then ${cut(b.body)}${b.size > b.body.length ? ` (${b.size} bytes)` : ""}`,
          users: same ? "the same confirmation (order number, message) on every repeat" : "another confirmation on a repeat (an order number that changes, an error page)",
          fix: same ? "" : "store the first answer's body with the key and send it back as it was",
        };
      },
    },
    {
      id: "replay-marked",
      required: false,
      run: async () => {
        const { b, silent } = await replayPair("replay-marked");
        if (silent) return silent;
        const marker = markerOf(b);
        const isDefault = marker && marker.toLowerCase() === defaultReplay.toLowerCase();
        return {
          ok: Boolean(marker),
          saw: marker ? `${marker}: ${shown(b, marker)}` : "no header marks the replay",
          users: marker ? shows(b) : `${shows(b)} on a repeat, instead of "${replayText(b)}"`,
          fix: marker ? (isDefault ? "" : `new Sendonce({ replayHeader: "${marker}" })`) : `send "${defaultReplay}: true" with every replay`,
        };
      },
    },
    {
      id: "concurrent-one-effect",
      required: true,
      run: async () => {
        const key = keyFor("concurrent-one-effect");
        const out = await withEffects(async () => {
          const replies = await Promise.all(Array.from({ length: 5 }, () => request(key, opts.body)));
          const settled = await Promise.all(replies.map((r) => settle(key, opts.body, r)));
          return { replies, finals: settled.map((s) => s.reply) };
        });
        const finals = out.finals;
        const answered = finals.filter(recognised);
        // The one answer that is not a replay is the action; every other must repeat it.
        const original = answered.find((r) => !(read(r).replayed || markerOf(r))) ?? answered[0];
        const verdicts = answered.filter((r) => r !== original).map((r) => repeatOf(original, r));
        const repeats = verdicts.every((v) => v.repeat === true);
        const unknown = verdicts.some((v) => v.repeat === null);
        const distinct = new Set(answered.map((r) => `${r.status} ${r.digest ?? r.endless}`)).size;
        const ok = answered.length === 5 && !finals.some((r) => r.endless) && (out.effects === null ? repeats : out.effects === 1);
        const first = out.replies.map((r) => r.status ?? r.error).join(", ");
        return {
          ok,
          inconclusive: !ok && out.effects === null && unknown,
          saw: `five at once: ${first}; in the end ${finals.map((r) => r.status ?? r.error).join(", ")}, ${distinct} distinct answer${distinct === 1 ? "" : "s"}${effectsText(out.effects)}`,
          users: ok ? "one order for five taps (sendonce sends one; other tabs, apps and proxies may not)" : answered.length < 5 ? "errors for requests that were repeats" : "several effects for one action sent at once (two tabs, a retrying proxy)",
          fix: ok ? storedFailure(...finals) : "claim the key atomically before the work (insert-if-absent, a unique index or a lock) and answer others 409 until it finishes",
        };
      },
    },
    {
      id: "in-flight-409",
      required: true,
      run: async () => {
        // Requests sent at once, so that some arrive while the first runs; a fast server may
        // finish each before the next arrives, so up to three bursts, each with its own key.
        // A server that never had two at once (it finishes or serialises them) gave nothing to
        // judge: the rule is not seen, never a pass.
        let busy = [];
        let wrong = [];
        let replies = [];
        for (let burst = 0; burst < 3 && !busy.length && !wrong.length && !gaveUp(); burst += 1) {
          const key = keyFor(`in-flight-409#${burst}`);
          replies = await Promise.all(Array.from({ length: 6 }, () => request(key, opts.body)));
          busy = replies.filter((r) => r.status && read(r).kind === "in_progress");
          // Anything but "wait" or the action's answer (or its replay) would show users an error.
          wrong = replies.filter((r) => r.status && !recognised(r) && !["in_progress", "retryable"].includes(read(r).kind));
          await Promise.all(replies.map((r) => settle(key, opts.body, r)));
        }
        if (wrong.length) {
          const w = wrong[0];
          return {
            ok: false,
            saw: `while the first request ran, another got ${describe(w)}`,
            users: `${shows(w)} for a request that is only being processed`,
            fix: "answer 409 Conflict with Retry-After while a request with the key runs",
          };
        }
        if (!busy.length) {
          return notSeen(`not seen: no request arrived while another with its key ran (three bursts of six at once, the last answered ${replies.map((r) => r.status ?? r.error).join(", ")}); a server that finishes or serialises each request gives nothing to judge`);
        }
        const b = busy[0];
        const ra = shown(b, "retry-after");
        const ct = contentType(b);
        const html = /html/i.test(ct) || /^\s*</.test(b.body);
        return {
          ok: true,
          saw: `${b.status}${ct ? ` ${ct}` : ""}${ra ? ` + Retry-After: ${ra}` : ", no Retry-After"}${html ? " (an HTML page: sendonce reads the status only)" : ""}`,
          users: `"${read(b).status.text}", then the result, same key`,
          fix: read(b).retryAfterMs !== null ? (html ? "a problem+json body would tell other clients more" : "") : "send Retry-After with the 409 (sendonce then waits with its own backoff)",
        };
      },
    },
    {
      id: "payload-mismatch-rejected",
      required: true,
      run: async () => {
        const key = keyFor("payload-mismatch-rejected");
        const other = changed(opts.body);
        const out = await withEffects(async () => {
          const a = await request(key, opts.body);
          const b = await settle(key, other);
          return { a, b: b.reply };
        });
        const { a, b } = out;
        const cls = b.status ? read(b) : null;
        const ok = cls?.kind === "changed";
        let saw = `another payload with the same key: ${describe(b)}`;
        let users = shows(b);
        if (cls && ["success", "accepted"].includes(cls.kind)) {
          const same = repeatOf(a, b);
          saw += same.repeat ? " with the first answer (a silent replay)" : " as a new action under the same key";
          users = same.repeat ? `${shows(b)} while their change is dropped` : "a second effect under one key";
        } else if (ok && b.status === 417) saw += " (sendonce reads 417 like 422)";
        return {
          ok,
          saw: saw + effectsText(out.effects),
          users,
          fix: ok ? "" : "keep a fingerprint of the payload with the key and answer 422 when a key comes back with another one",
          fingerprints: { first: payloadFingerprint("a", opts.body), changed: payloadFingerprint("b", other) },
        };
      },
    },
    {
      id: "field-order-ignored",
      required: true,
      needs: () => (reordered(opts.body) ? null : "skipped: the body has no object with two fields to reorder"),
      run: async () => {
        const shuffled = reordered(opts.body);
        const key = keyFor("field-order-ignored");
        const out = await withEffects(async () => {
          const a = await request(key, opts.body);
          const b = await settle(key, shuffled);
          return { a, b: b.reply };
        });
        const v = repeatVerdict(out.a, out.b, out.effects);
        return {
          ok: v.ok,
          inconclusive: v.inconclusive,
          saw: `the same JSON, fields reordered: ${describe(out.b)}, ${v.same.by}${effectsText(out.effects)}`,
          users: v.ok ? v.users : `${shows(out.b)} for the same data sent again (a restored draft, another app version)`,
          fix: v.ok ? v.fix : "fingerprint the payload's meaning (sorted keys, one spelling of numbers), not its bytes",
          fingerprints: { first: payloadFingerprint("a", opts.body), reordered: payloadFingerprint("c", shuffled) },
        };
      },
    },
    {
      id: "missing-key",
      required: false,
      run: async () => {
        const r = await request(null, opts.body);
        const ok = r.status === 400;
        return {
          ok,
          saw: `no ${headerName}: ${describe(r)}`,
          users: "sendonce always sends a key; this is about clients that forget it",
          fix: ok ? "" : r.status && r.status < 300 ? "answer 400 when the key is missing, so that no client can double-submit without one" : "answer 400 (the draft) for a missing key",
        };
      },
    },
    {
      id: "cors-allows-key",
      required: true,
      needs: () => (opts.origin ? null : "skipped: no --origin given (a page on another origin needs it)"),
      run: async () => {
        const wanted = opts.core.corsHeaders;
        const pre = await send(opts.url, {
          method: "OPTIONS",
          headers: [["Origin", opts.origin], ["Access-Control-Request-Method", opts.method], ["Access-Control-Request-Headers", wanted.join(",")]],
          timeoutMs: limit(),
          keepBytes: maxBodyBytes,
        });
        // The core's reading of each answer's CORS headers for the page (any status).
        const page = { origin: opts.origin, method: opts.method, requestHeaders: wanted };
        const cors = (r) => classifyReply(r.status >= 100 && r.status <= 999 ? r.status : 200, r.headers ?? [], "", replayHeader ?? defaultReplay, page).cors;
        const preCors = cors(pre);
        const preOk = Boolean(pre.status && pre.status < 300 && preCors.originAllowed && preCors.headersMissing.length === 0 && preCors.methodAllowed);
        // The request itself, as the page sends it, and its repeat: the browser hands a page the
        // answer only when it names the page's origin too. Without that, the action happened on
        // the server and the page sees a network error.
        const key = keyFor("cors-exposes-replay");
        const a = await request(key, opts.body, { headers: [["Origin", opts.origin]] });
        const r = await request(key, opts.body, { headers: [["Origin", opts.origin]] });
        corsSeen = { r, reading: r.status ? cors(r) : null, name: replayHeader ?? defaultReplay };
        const hidden = [a, r].find((x) => x.status && !cors(x).originAllowed);
        const ok = preOk && !hidden && Boolean(a.status && r.status);
        const allowOrigin = (x) => shown(x, "access-control-allow-origin") ?? "(none)";
        const preSaw = pre.status ? `preflight from ${opts.origin}: ${pre.status}, Allow-Origin ${allowOrigin(pre)}, Allow-Headers ${shown(pre, "access-control-allow-headers") || "(none)"}${preCors.methodAllowed ? "" : `, ${opts.method} not allowed`}` : `preflight: ${describe(pre)}`;
        return {
          ok,
          saw: `${preSaw}; ${opts.method} from ${opts.origin}: ${a.status ? `${a.status}, Allow-Origin ${allowOrigin(a)}` : describe(a)}`,
          users: ok
            ? "requests leave the page with their key, and the page reads the answers"
            : !preOk
              ? `"${noReply.network.last}": the browser blocks every request before it leaves`
              : `"${noReply.network.last}" after the server did the work: the browser hides the answer from the page (and the retries get hidden replays)`,
          fix: ok
            ? ""
            : !preOk
              ? `answer the preflight with Access-Control-Allow-Origin: ${opts.origin} and Access-Control-Allow-Headers: ${wanted.join(", ")}`
              : hidden
                ? `send Access-Control-Allow-Origin: ${opts.origin} on every answer to the page, ${opts.method} replies and replays included (not only on the preflight)`
                : "answer every request within the timeout",
        };
      },
    },
    {
      id: "cors-exposes-replay",
      required: false,
      needs: () => (opts.origin ? null : "skipped: no --origin given"),
      // It reads the replies cors-allows-key got: no requests of its own.
      observed: () => corsSeen !== null,
      run: async () => {
        if (!corsSeen) return notSeen("not seen: cors-allows-key did not run");
        // `reading` is the core's, made with the replay header `name`.
        const { r, reading, name } = corsSeen;
        const ok = Boolean(r.status && reading && !reading.notExposed.includes(name));
        const alsoMissing = (reading?.notExposed ?? []).filter((h) => h !== name);
        return {
          ok,
          saw: r.status ? `replay from ${opts.origin}: Allow-Origin ${shown(r, "access-control-allow-origin") ?? "(none)"}, Expose-Headers ${shown(r, "access-control-expose-headers") || "(none)"}` : describe(r),
          // What the page reads: the core's reading without the headers the browser hides.
          users: !r.status ? shows(r) : ok ? shows(r) : `"${reading.pageStatus.text}" on a repeat: the page cannot read the replay header`,
          fix: `${ok ? "" : `Access-Control-Expose-Headers: ${name}`}${alsoMissing.length ? `${ok ? "" : "; "}also expose ${alsoMissing.map((h) => h.toLowerCase()).join(", ")} (Retry-After is honoured only when exposed)` : ""}`,
        };
      },
    },
    {
      id: "key-scope",
      required: false,
      needs: () => (opts.scopeUrl ? null : "skipped: no --scope-url given"),
      run: async () => {
        const key = keyFor("key-scope");
        const a = await request(key, opts.body);
        const b = await request(key, opts.body, { url: opts.scopeUrl });
        const cls = b.status ? read(b) : null;
        const global = cls && (cls.kind === "changed" || (["success", "accepted"].includes(cls.kind) && repeatOf(a, b).repeat));
        return {
          ok: Boolean(cls && !global),
          saw: `the same key on ${new URL(opts.scopeUrl).pathname}: ${describe(b)}${global ? " (keys are global: it found the first endpoint's record)" : ""}`,
          users: global ? "two actions that share an explicit key: the second shows \"We already received this request\" (or \"changed\") and never runs" : "-",
          fix: global ? "scope keys per method and path (the draft), or never reuse an explicit key across endpoints" : "",
        };
      },
    },
  ];

  /** Why the remaining rules are not observed, if they are not: out of time, or a server that
   * stopped answering (each further rule would only wait for its timeouts). */
  const gaveUp = () => (timedOut >= 4 ? "skipped: the server stopped answering" : elapsed() > BUDGET_MS ? "skipped: the check ran out of time" : null);

  let firstFailed = false;
  for (const { id, required, needs, observed, run } of RULES) {
    let fields;
    if (firstFailed) fields = notSeen("skipped: the first request did not succeed", { skipped: true });
    else if (needs?.()) fields = { skipped: true, detail: needs(), saw: "-", users: "-", fix: "-" };
    else if (gaveUp() && !observed?.()) fields = notSeen(gaveUp(), { skipped: true });
    else fields = await run();
    if (fields.unreachable) return { unreachable: fields.unreachable, rules, replayHeader, elapsed: elapsed() };
    const r = { id, ok: true, required, skipped: false, inconclusive: false, detail: "", saw: "", users: "", fix: "", ...fields };
    // A rule not observed is not ok, and not failed either.
    if (r.inconclusive) r.ok = false;
    if (!r.detail) r.detail = r.saw;
    r.verdict = ruleVerdict(r);
    rules.push(r);
    if (id === "first-is-new" && !r.ok) firstFailed = true;
  }
  return { rules, replayHeader, slowest, elapsed: elapsed() };
}

/** One rule's verdict, the same in the table and in --json: "pass" (holds), "note" (holds,
 * with something worth changing), "fail" (a required rule does not hold), "warn" (an optional
 * one does not), "inconclusive" (could not be observed: never a pass), "skip" (not asked for). */
function ruleVerdict(r) {
  if (r.inconclusive) return "inconclusive";
  if (r.skipped) return "skip";
  if (r.ok) return r.fix && r.fix !== "-" ? "note" : "pass";
  return r.required ? "fail" : "warn";
}

// ---------------------------------------------------------------------------------------------
// Output

function report(opts, result) {
  const failed = result.rules.filter((r) => r.verdict === "fail");
  const unsure = result.rules.filter((r) => r.verdict === "inconclusive" && r.required);
  const options = { headerName: opts.core.headerName, replayHeader: result.replayHeader ?? opts.core.replayHeader };
  if (result.slowest > 2500) options.retry = { timeoutMs: Math.min(60_000, Math.ceil((result.slowest * 4) / 1000) * 1000) };
  return {
    url: opts.url,
    // "inconclusive": nothing failed, but a required rule could not be observed (not a pass).
    verdict: failed.length ? "fail" : unsure.length ? "inconclusive" : "pass",
    // `verdict` is the rule's (see ruleVerdict; the table shows the same word); `detail` is
    // what the check saw (or why it skipped the rule); `users` what sendonce shows against
    // this server; `fix` what to change on the server (empty when nothing).
    rules: result.rules.map(({ id, verdict, ok, required, skipped, inconclusive, detail, users, fix, fingerprints }) => ({ id, verdict, ok, required, skipped, inconclusive, detail, users, fix, ...(fingerprints ? { fingerprints } : {}) })),
    options,
    tookMs: Math.round(result.elapsed),
  };
}

function table(out, opts) {
  const lines = [];
  lines.push(`sendonce check ${opts.method} ${out.url}  (${(out.tookMs / 1000).toFixed(1)} s)`, "");
  const w = Math.max(...out.rules.map((r) => r.id.length)) + 2;
  const v = "inconclusive".length + 2;
  lines.push(`${"rule".padEnd(w)}${"verdict".padEnd(v)}what it saw`);
  for (const r of out.rules) {
    // "note": it holds, and there is still something worth changing (shown under "fix").
    lines.push(`${r.id.padEnd(w)}${(r.verdict === "fail" ? "FAIL" : r.verdict).padEnd(v)}${r.detail}`);
    const pad = " ".repeat(w + v);
    if (!r.skipped && r.users && r.users !== "-") lines.push(`${pad}users see: ${r.users}`);
    if (!r.skipped && r.fix && r.fix !== "-") lines.push(`${pad}fix: ${r.fix}`);
  }
  const counts = (verdict) => out.rules.filter((r) => r.verdict === verdict).length;
  lines.push(
    "",
    `verdict: ${out.verdict} (${counts("pass") + counts("note")} hold, ${counts("fail")} required failing, ${counts("warn")} warnings, ${counts("inconclusive")} not observed, ${counts("skip")} skipped)`,
    `sendonce options for this server: ${JSON.stringify(out.options)}`,
  );
  return lines.join("\n");
}

export async function main(argv, { stdout = process.stdout, stderr = process.stderr } = {}) {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20) {
    stderr.write(`sendonce check needs Node >= 20 (this is ${process.versions.node})\n`);
    return 2;
  }
  // The rules are the core's, from the wasm: loaded before the command line is read.
  await init();
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    stderr.write(`sendonce: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    stdout.write(USAGE);
    return 0;
  }
  let result;
  try {
    result = await runCheck(opts);
  } catch (e) {
    // A bad --effects URL or pointer, or a body sendonce refuses (a SendonceError): bad usage.
    stderr.write(`sendonce: ${e.message}\n`);
    return 2;
  }
  if (result.unreachable) {
    if (opts.json) stdout.write(`${JSON.stringify({ url: opts.url, verdict: "unreachable", error: result.unreachable })}\n`);
    stderr.write(`sendonce: cannot reach ${result.unreachable}\n`);
    return 2;
  }
  const out = report(opts, result);
  stdout.write(opts.json ? `${JSON.stringify(out, null, 2)}\n` : `${table(out, opts)}\n`);
  return out.verdict === "pass" ? 0 : out.verdict === "inconclusive" ? 3 : 1;
}

// Run when executed (also through the npm bin's symlink), not when imported by a test.
const invoked = process.argv[1] && realpathSync(process.argv[1]);
if (invoked === realpathSync(fileURLToPath(import.meta.url))) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`sendonce: ${e.stack ?? e}\n`);
      process.exitCode = 2;
    },
  );
}
