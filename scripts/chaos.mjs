#!/usr/bin/env node
// The chaos run: drives N user actions through the real SDK in headless Chromium against the
// reference server's random fault profile, with page reloads in flight and a second tab for
// some, then prints what happened and whether anything was done twice or lost.
//
//   node scripts/chaos.mjs [--actions 60] [--rate 0.3] [--seed 7] [--json]
//
// A lost action is one that is neither confirmed by the server nor shown to the user as
// failed/offline with its request kept for a retry.
import { startServer, launchBrowser, openPage } from "../tests/e2e/harness.mjs";

/** Runs the chaos scenario; resolves with the figures. */
export async function chaos({ actions = 60, rate = 0.3, seed = 7, log = () => {} } = {}) {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    await fetch(server.url + "/api/faults/profile", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ rate, seed }),
    });
    const context = await browser.newContext();
    let page = await openPage(context, server.url + "/chaos.html");
    const run = `r${seed}`;
    const results = new Map();
    const confirmed = (o) => o === "done" || o === "already_received" || o === "accepted";

    for (let i = 0; i < actions; i += 1) {
      const mode = i % 10;
      if (mode === 3) {
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
        results.set(i, { key, outcome: again.outcome, againKey: again.key, mode: "reload" });
      } else if (mode === 7) {
        // A second tab sends the same action a moment later.
        const second = await openPage(context, server.url + "/chaos.html");
        const first = page.evaluate(([n, r]) => window.chaos.order(n, r), [i, run]);
        await new Promise((r) => setTimeout(r, 15));
        const other = second.evaluate(([n, r]) => window.chaos.order(n, r), [i, run]);
        const [a, b] = await Promise.all([first, other]);
        await second.close();
        results.set(i, { ...a, mode: "two-tabs", otherKey: b.key, otherOutcome: b.outcome });
      } else if (mode === 1 || mode === 5) {
        const r = await page.evaluate(([n, r]) => window.chaos.message(n, r), [i, run]);
        results.set(i, { ...r, mode: "chat" });
      } else if (mode === 2 || mode === 8) {
        const r = await page.evaluate(([n, r]) => window.chaos.quick(n, r), [i, run]);
        results.set(i, { ...r, mode: "quick-reply" });
      } else {
        const r = await page.evaluate(([n, r]) => window.chaos.order(n, r), [i, run]);
        results.set(i, { ...r, mode: "plain" });
      }
      // What a user does with "Connection lost. Retry?" / "Something went wrong. Retry?".
      for (let tries = 0; tries < 3 && !confirmed(results.get(i).outcome); tries += 1) {
        const { mode: m, key } = results.get(i);
        const r =
          m === "chat"
            ? await page.evaluate((id) => window.chaos.retryMessage(id), key)
            : m === "quick-reply"
              ? await page.evaluate(([n, r]) => window.chaos.quick(n, r), [i, run])
              : await page.evaluate(([n, r]) => window.chaos.retry(n, r), [i, run]);
        results.set(i, { ...results.get(i), ...r, retried: tries + 1 });
      }
      log(`action ${i} (${results.get(i).mode}): ${results.get(i).outcome}`);
    }

    const pending = new Set((await page.evaluate(() => window.chaos.pending())).map((p) => p.key));
    for (const r of results.values()) {
      if (r.mode === "chat" && (await page.evaluate((id) => window.chaos.kept(id), r.key))) pending.add(r.key);
    }
    const effects = await server.effects();
    const requests = [];
    for (let since = 0; ; ) {
      const { requests: batch } = await server.json(`/api/log?since=${since}`);
      if (batch.length === 0) break;
      requests.push(...batch);
      since = batch[batch.length - 1].seq;
    }
    const posts = requests.filter((r) => r.method === "POST" && r.key);
    const lost = [...results.values()].filter((r) => !confirmed(r.outcome) && !pending.has(r.key));
    const keys = new Set([...results.values()].map((r) => r.key));
    const modes = {};
    for (const r of results.values()) modes[r.mode] = (modes[r.mode] ?? 0) + 1;
    return {
      actions,
      byKind: Object.entries(modes).map(([k, v]) => `${k} ${v}`).join(", "),
      faultRate: rate,
      seed,
      requests: posts.length,
      // Attempts beyond the first of each key (stats() counts per page, and pages reload).
      retries: posts.length - new Set(posts.map((r) => r.key)).size,
      faultsInjected: posts.filter((r) => r.fault).length,
      effects: effects.total,
      duplicateEffects: effects.duplicates,
      keysUsed: keys.size,
      confirmed: [...results.values()].filter((r) => confirmed(r.outcome)).length,
      shownFailedAndKept: [...results.values()].filter((r) => !confirmed(r.outcome) && pending.has(r.key)).length,
      lostActions: lost.length,
      keyChanges: [...results.values()].filter((r) => (r.otherKey && r.otherKey !== r.key) || (r.againKey && r.againKey !== r.key)).length,
    };
  } finally {
    await browser.close();
    await server.cleanup();
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const figures = await chaos({
    actions: arg("actions", 60),
    rate: arg("rate", 0.3),
    seed: arg("seed", 7),
    log: process.argv.includes("--verbose") ? console.error : () => {},
  });
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(figures, null, 2));
  } else {
    for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(24)} ${v}`);
  }
  process.exit(figures.duplicateEffects === 0 && figures.lostActions === 0 ? 0 : 1);
}
