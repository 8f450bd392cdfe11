#!/usr/bin/env node
// The chaos run: drives N user actions through the real SDK in headless Chromium against the
// reference server's random fault profile, with page reloads in flight and second tabs sending
// the same data, then prints what happened and fails if anything was done twice or lost.
// The page it drives is tests/pages/chaos.html (with chaos.js), which the server it starts
// serves at /test/.
//
//   node scripts/chaos.mjs [--actions 60] [--rate 0.3] [--seed 7] [--only MODE] [--json] [--verbose]
//
// Each user action carries a business reference in its payload (`orderRef`, `ticketRef`,
// `messageRef`: `<run>-<n>`), and the server counts effects per reference, whatever keys they
// came under: two orders for one reference are a double order even if each key ran once.
// The request figures are the server's totals since the run began (`/api/log/counts`, never
// capped), cross-checked against the request log read page by page as the run goes.
//
// A lost action is one that is neither confirmed by the server nor shown to the user as
// failed/offline with its request kept for a retry, nor as `uncertain` ("We are not sure this
// was sent"): an action to a target that honours no key that may have happened.
//
// Adversities besides the server's faults: page reloads in flight, second tabs (a moment
// later, and in the same millisecond), a `headers` hook that stamps every request with a key
// of its own (`hook-key`: a shared API client), and `{ idempotent: false }` actions to a
// target that honours no key (`not-idempotent`: every request reaches the server under a key
// of its own, so a blind retry after a 5xx or a drop is a second effect).
import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, launchBrowser, openPage } from "../tests/e2e/harness.mjs";

/** The kinds of user action, by `i % 10`. */
export const MODES = ["plain", "chat", "quick-reply", "reload", "hook-key", "auto-resume", "not-idempotent", "two-tabs", "quick-reply", "two-tabs-0ms"];
/** Kinds run only with `--only`: a payment form with a file, reloaded while it sends (the
 * browser clears the file input; the user presses Pay without it, then attaches it again). */
export const EXTRA_MODES = ["file-reload"];

/** The receipt of order `n` on disk, with a fixed modification time: attached again after a
 * reload it is the same file. */
function receipt(dir, n) {
  const file = join(dir, `receipt-${n}.txt`);
  writeFileSync(file, `paid order ${n}`);
  utimesSync(file, new Date("2026-01-02T03:04:05Z"), new Date("2026-01-02T03:04:05Z"));
  return file;
}

const confirmed = (o) => o === "done" || o === "already_received" || o === "accepted";

/** Reads the request log from `log.seq` on, page by page, into `log.entries`; counts in
 * `log.missed` what fell off the ring before it was read. */
async function readLog(server, log) {
  for (;;) {
    const page = await server.json(`/api/log?since=${log.seq}`);
    log.missed += page.missed;
    if (page.requests.length === 0) return;
    log.entries.push(...page.requests);
    log.seq = page.requests[page.requests.length - 1].seq;
  }
}

/** Runs the chaos scenario; resolves with the figures (`pass` and `failures` say the verdict). */
export async function chaos({ actions = 60, rate = 0.3, seed = 7, only, log: say = () => {}, beforeVerdict } = {}) {
  if (only && !MODES.includes(only) && !EXTRA_MODES.includes(only)) {
    throw new Error(`--only wants one of ${[...new Set([...MODES, ...EXTRA_MODES])].join(", ")}`);
  }
  const files = mkdtempSync(join(tmpdir(), "sendonce-chaos-"));
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    await fetch(server.url + "/api/reset", { method: "POST" });
    await fetch(server.url + "/api/faults/profile", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ rate, seed }),
    });
    const context = await browser.newContext();
    let page = await openPage(context, server.url + "/test/chaos.html");
    // The other tab of the same-millisecond mode, open all along like a second window.
    let twin = null;
    const run = `r${seed}`;
    const ref = (i) => `${run}-${i}`;
    const results = new Map();
    const log = { seq: 0, entries: [], missed: 0 };

    for (let i = 0; i < actions; i += 1) {
      const mode = only ?? MODES[i % 10];
      if (mode === "reload") {
        // Reload while the request is in flight, then resume with the same key.
        const key = await page.evaluate(([n, r]) => window.chaos.start(n, r), [i, run]);
        await new Promise((r) => setTimeout(r, 5 + (i % 7) * 10));
        await page.reload();
        await page.waitForFunction(() => window.sendonceReady === true);
        const resumed = await page.evaluate(() => window.chaos.resume());
        const mine = resumed.find((x) => x.key === key);
        // Not pending any more: it finished before the reload. The user submits again and is
        // answered from the stored result.
        const again = mine ?? (await page.evaluate(([n, r]) => window.chaos.order(n, r), [i, run]));
        results.set(i, { key, outcome: again.outcome, againKey: again.key, mode });
      } else if (mode === "file-reload") {
        const key = await page.evaluate(([n, r]) => window.chaos.fileForm(n, r), [i, run]);
        const file = receipt(files, i);
        const pay = () => page.locator(`#pay-${i} button`).click();
        await page.locator(`#pay-${i} input[name=receipt]`).setInputFiles(file);
        await pay();
        await new Promise((r) => setTimeout(r, 5 + (i % 7) * 10));
        await page.reload();
        await page.waitForFunction(() => window.sendonceReady === true);
        await page.evaluate(([n, r]) => window.chaos.fileForm(n, r), [i, run]);
        // Still pending: the browser cleared the file; Pay without it must send nothing under
        // another key (it says what it waits for).
        if ((await page.evaluate(() => window.chaos.filePending())).some((p) => p.key === key)) await pay();
        await page.locator(`#pay-${i} input[name=receipt]`).setInputFiles(file);
        await pay();
        await page.waitForFunction(() => window.chaos.fileState().replies.length > 0, null, { timeout: 60_000 });
        const again = await page.evaluate(() => window.chaos.fileState().replies.at(-1));
        results.set(i, { key, outcome: again.outcome, againKey: again.key, mode });
      } else if (mode === "auto-resume") {
        // Reload while the request is in flight; the next page only creates an instance with
        // `autoResume: true`, which sends the action again by itself (same key).
        const key = await page.evaluate(([n, r]) => window.chaos.start(n, r), [i, run]);
        await new Promise((r) => setTimeout(r, 5 + (i % 7) * 10));
        await page.reload();
        await page.waitForFunction(() => window.sendonceReady === true);
        const again = await page.evaluate(([n, r, k]) => window.chaos.autoResumed(n, r, k), [i, run, key]);
        results.set(i, { key, outcome: again.outcome, againKey: again.key, mode, stalled: again.stalled });
      } else if (mode === "two-tabs") {
        // A second tab sends the same data a moment later.
        const second = await openPage(context, server.url + "/test/chaos.html");
        const first = page.evaluate(([n, r]) => window.chaos.order(n, r), [i, run]);
        await new Promise((r) => setTimeout(r, 15));
        const other = second.evaluate(([n, r]) => window.chaos.order(n, r), [i, run]);
        const [a, b] = await Promise.all([first, other]);
        await second.close();
        results.set(i, { ...a, mode, otherKey: b.key, otherOutcome: b.outcome });
      } else if (mode === "two-tabs-0ms") {
        // Two open tabs submit the same data in the same millisecond.
        twin ??= await openPage(context, server.url + "/test/chaos.html");
        const at = Date.now() + 250;
        const [a, b] = await Promise.all([
          page.evaluate(([n, r, t]) => window.chaos.orderAt(n, r, t), [i, run, at]),
          twin.evaluate(([n, r, t]) => window.chaos.orderAt(n, r, t), [i, run, at]),
        ]);
        results.set(i, { ...a, mode, otherKey: b.key, otherOutcome: b.outcome, gapMs: Math.abs(a.startedAt - b.startedAt), late: Math.max(a.startedAt, b.startedAt) - at });
      } else if (mode === "chat") {
        const r = await page.evaluate(([n, r]) => window.chaos.message(n, r), [i, run]);
        results.set(i, { ...r, mode });
      } else if (mode === "quick-reply") {
        const r = await page.evaluate(([n, r]) => window.chaos.quick(n, r), [i, run]);
        results.set(i, { ...r, mode });
      } else if (mode === "hook-key") {
        const r = await page.evaluate(([n, r]) => window.chaos.orderStamped(n, r), [i, run]);
        results.set(i, { ...r, mode });
      } else if (mode === "not-idempotent") {
        const r = await page.evaluate(([n, r]) => window.chaos.orderKeyless(n, r), [i, run]);
        results.set(i, { ...r, mode });
      } else {
        const r = await page.evaluate(([n, r]) => window.chaos.order(n, r), [i, run]);
        results.set(i, { ...r, mode });
      }
      // What a user does with "Connection lost. Retry?" / "Something went wrong. Retry?"; an
      // `uncertain` action ("We are not sure this was sent. Check before sending again.") is
      // not sent again blindly.
      for (let tries = 0; tries < 3 && !confirmed(results.get(i).outcome) && results.get(i).outcome !== "uncertain"; tries += 1) {
        const { mode: m, key } = results.get(i);
        const retryFn = { "hook-key": "retryStamped", "not-idempotent": "retryKeyless" }[m] ?? "retry";
        const r =
          m === "chat"
            ? await page.evaluate((id) => window.chaos.retryMessage(id), key)
            : m === "quick-reply"
              ? await page.evaluate(([n, r]) => window.chaos.quick(n, r), [i, run])
              : m === "file-reload"
                ? await page.evaluate(() => window.chaos.fileRetry())
                : await page.evaluate(([f, n, r]) => window.chaos[f](n, r), [retryFn, i, run]);
        results.set(i, { ...results.get(i), ...r, retried: tries + 1 });
      }
      // Page through the log as the run goes, so no entry can fall off the ring unread.
      await readLog(server, log);
      say(`action ${i} (${results.get(i).mode}): ${results.get(i).outcome}${results.get(i).gapMs !== undefined ? ` gap ${results.get(i).gapMs} ms, late ${results.get(i).late} ms` : ""}`);
    }

    const pending = new Set((await page.evaluate(() => window.chaos.pending())).map((p) => p.key));
    for (const p of await page.evaluate(() => window.chaos.filePending())) pending.add(p.key);
    for (const r of results.values()) {
      if (r.mode === "chat" && (await page.evaluate((id) => window.chaos.kept(id), r.key))) pending.add(r.key);
    }
    // Let requests still under way (a background retry after a 429, say) land, then read the
    // rest of the log and the server's own totals.
    await new Promise((r) => setTimeout(r, 500));
    // For the gate's own tests: something done to the server behind the pages' backs.
    await beforeVerdict?.({ server, ref });
    const counts = await server.json("/api/log/counts");
    const effects = await server.effects();
    await readLog(server, log);
    // One snapshot: the log up to the last request the counts include.
    log.entries = log.entries.filter((e) => e.seq <= counts.lastSeq);
    return figures({ actions, rate, seed, ref, results, pending, log, counts, effects });
  } finally {
    await browser.close();
    await server.cleanup();
  }
}

/** The verdict and the numbers, from what the pages showed and what the server holds. */
function figures({ actions, rate, seed, ref, results, pending, log, counts, effects }) {
  const all = [...results.entries()];
  const perRef = new Map(effects.byRef.all.map((r) => [r.ref, r.count]));
  const ours = new Set(all.map(([i]) => ref(i)));
  const modes = {};
  for (const [, r] of all) modes[r.mode] = (modes[r.mode] ?? 0) + 1;
  const doubled = effects.byRef.doubled.map((d) => {
    const i = all.find(([n]) => ref(n) === d.ref);
    return `${d.ref} (${i ? i[1].mode : "not an action of this run"}): ${d.count} effects under ${new Set(d.keys).size} key(s)`;
  });
  const sameMs = all.filter(([, r]) => r.gapMs !== undefined).map(([, r]) => r.gapMs);
  const f = {
    actions,
    byKind: Object.entries(modes).map(([k, v]) => `${k} ${v}`).join(", "),
    faultRate: rate,
    seed,
    // The server's totals over every request of the run (never capped by the log's ring):
    // requests with a key, attempts beyond the first of each key (over every page and
    // reload), faults injected, replays.
    requests: counts.keyed,
    retries: counts.retries,
    faultsInjected: counts.faults,
    faultsByKind: Object.entries(counts.faultsByName).map(([k, v]) => `${k} ${v}`).join(", ") || "none",
    replays: counts.replayed,
    keysUsed: counts.keys,
    effects: effects.total,
    actionsWithAnEffect: all.filter(([i]) => (perRef.get(ref(i)) ?? 0) > 0).length,
    // Effects beyond one per business reference, whatever keys they came under.
    duplicateEffects: effects.byRef.duplicates,
    duplicateKeyEffects: effects.duplicates,
    effectsWithoutRef: effects.byRef.withoutRef,
    effectsOfOtherRefs: effects.byRef.all.filter((r) => !ours.has(r.ref)).reduce((a, r) => a + r.count, 0),
    doubled: doubled.join("; ") || "none",
    confirmed: all.filter(([, r]) => confirmed(r.outcome)).length,
    confirmedWithoutEffect: all.filter(([i, r]) => confirmed(r.outcome) && !perRef.get(ref(i))).length,
    shownFailedAndKept: all.filter(([, r]) => !confirmed(r.outcome) && r.outcome !== "uncertain" && pending.has(r.key)).length,
    // `{ idempotent: false }` actions told "We are not sure this was sent": with the effect
    // the server has for them (1: it happened; 0: it did not) and the requests they made (one
    // each: never a blind retry).
    uncertain: all.filter(([, r]) => r.outcome === "uncertain").length,
    uncertainWithEffect: all.filter(([i, r]) => r.outcome === "uncertain" && perRef.get(ref(i))).length,
    notIdempotentRequests: all.filter(([, r]) => r.mode === "not-idempotent").reduce((a, [, r]) => a + (r.requests ?? 0), 0),
    hookKeyActions: all.filter(([, r]) => r.mode === "hook-key").length,
    lostActions: all.filter(([, r]) => !confirmed(r.outcome) && r.outcome !== "uncertain" && !pending.has(r.key)).length,
    // Reloads and second tabs that ended with another key than the first (the same-millisecond
    // pairs apart: there either tab may be first, and what counts is one effect).
    keyChanges: all.filter(([, r]) => r.gapMs === undefined && ((r.otherKey && r.otherKey !== r.key) || (r.againKey && r.againKey !== r.key))).length,
    sameMsPairs: sameMs.length,
    // How far apart the two tabs of a pair really started (timers on a loaded machine).
    sameMsMedianGapMs: sameMs.length ? [...sameMs].sort((a, b) => a - b)[Math.floor((sameMs.length - 1) / 2)] : null,
    sameMsLargestGapMs: sameMs.length ? Math.max(...sameMs) : null,
    sameMsPairsWithTwoKeys: all.filter(([, r]) => r.gapMs !== undefined && r.otherKey !== r.key).length,
    logEntriesRead: log.entries.length,
    logEntriesMissed: log.missed,
    // `autoResume: true` pages whose pending order was still not under way after 10 s.
    autoResumeStalled: all.filter(([, r]) => r.stalled).length,
  };
  const failures = [];
  if (f.effects > f.actions) failures.push(`${f.effects} effects for ${f.actions} actions`);
  if (f.duplicateEffects > 0) failures.push(`${f.duplicateEffects} duplicate effect(s) by business reference: ${f.doubled}`);
  if (f.duplicateKeyEffects > 0) failures.push(`${f.duplicateKeyEffects} key(s) ran their effect twice`);
  if (f.effectsWithoutRef > 0) failures.push(`${f.effectsWithoutRef} effect(s) named no business reference`);
  if (f.effectsOfOtherRefs > 0) failures.push(`${f.effectsOfOtherRefs} effect(s) for references no action made`);
  if (f.confirmedWithoutEffect > 0) failures.push(`${f.confirmedWithoutEffect} action(s) shown as confirmed have no effect on the server`);
  if (f.lostActions > 0) failures.push(`${f.lostActions} action(s) lost`);
  const uncertainNotKeyless = all.filter(([, r]) => r.outcome === "uncertain" && r.mode !== "not-idempotent").length;
  if (uncertainNotKeyless > 0) failures.push(`${uncertainNotKeyless} action(s) with a key the server honours ended uncertain`);
  if (f.autoResumeStalled > 0) failures.push(`${f.autoResumeStalled} pending action(s) not resent by autoResume: true`);
  // Cross-check: when the log was read whole, it must agree with the server's totals.
  if (log.missed === 0) {
    const posts = log.entries.filter((e) => e.key && !e.internal);
    const keys = new Set(posts.map((e) => `${e.method} ${e.path} ${e.key}`));
    const faults = log.entries.filter((e) => e.fault && !e.internal).length;
    if (posts.length !== counts.keyed || posts.length - keys.size !== counts.retries || faults !== counts.faults) {
      failures.push(
        `the request log (${posts.length} requests, ${posts.length - keys.size} retries, ${faults} faults) disagrees with the server's totals (${counts.keyed}, ${counts.retries}, ${counts.faults})`,
      );
    }
  }
  return { ...f, pass: failures.length === 0, failures };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const result = await chaos({
    actions: Number(arg("actions", 60)),
    rate: Number(arg("rate", 0.3)),
    seed: Number(arg("seed", 7)),
    only: arg("only", undefined),
    log: process.argv.includes("--verbose") ? console.error : () => {},
  });
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    for (const [k, v] of Object.entries(result)) {
      if (k !== "failures") console.log(`${k.padEnd(24)} ${v}`);
    }
    for (const why of result.failures) console.log(`FAIL: ${why}`);
  }
  process.exit(result.pass ? 0 : 1);
}
