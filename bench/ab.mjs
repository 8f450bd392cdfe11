// A/B in one page: two builds of the wasm (each a directory with the wasm-bindgen glue
// `sendonce_wasm.js`, its JS snippets and `sendonce_bg.wasm`), loaded side by side in headless
// Chromium and measured interleaved (order flipped every iteration), so that both see the same
// load: `button.click()` on a bound form (click to guarded), the same click on a form with a
// bare submit listener (the browser's own share), and `so.action()` with a 1 KB payload.
// Usage: node bench/ab.mjs <dirA> <dirB> [clicks] [creates]
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { serveFiles } from "./serve.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [dirA, dirB] = process.argv.slice(2, 4).map((d) => resolve(d));
const clicks = Number(process.argv[4] || 600);
const creates = Number(process.argv[5] || 2000);
const server = await serveFiles((path) =>
  path.startsWith("/a/") ? join(dirA, path.slice(3)) : path.startsWith("/b/") ? join(dirB, path.slice(3)) : join(root, path),
);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage();
  await page.goto(`${server.base}/bench/bench.html`);
  await page.waitForFunction(() => window.benchReady === true);
  const r = await page.evaluate(async ({ clicks, creates }) => {
    const { makePayload } = await import("/bench/bench.js");
    const reply = async () => new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });
    const summary = (s) => {
      s.sort((a, b) => a - b);
      const q = (f) => s[Math.min(s.length - 1, Math.ceil(f * s.length) - 1)];
      return { median: +q(0.5).toFixed(3), p90: +q(0.9).toFixed(3), p99: +q(0.99).toFixed(3) };
    };
    const root = document.getElementById("form-root");
    const sides = {};
    for (const side of ["a", "b"]) {
      const m = await import(`/${side}/sendonce_wasm.js`);
      await m.default({ module_or_path: `/${side}/sendonce_bg.wasm` });
      const div = document.createElement("div");
      div.innerHTML = `<form id="f${side}"><input name="qty" value="0"><button type="submit">Order</button><p></p></form>`;
      root.append(div);
      const so = new m.Sendonce({ namespace: `ab${side}`, fetch: reply });
      const form = div.querySelector("form");
      const bound = so.form(form, { action: "ab", url: "/api/orders", status: div.querySelector("p") });
      sides[side] = { m, so, bound, button: div.querySelector("button"), input: div.querySelector("input"), clicks: [], creates: [] };
    }
    const bare = document.createElement("div");
    bare.innerHTML = '<form><input name="qty" value="0"><button type="submit">Order</button></form>';
    root.append(bare);
    bare.querySelector("form").addEventListener("submit", (e) => e.preventDefault());
    const bareButton = bare.querySelector("button");
    const bareTimes = [];
    const settle = (bound) =>
      new Promise((resolve) => {
        const off = bound.onStatus((s) => {
          if (s.code === "done" || s.code === "already_received" || s.code === "failed") {
            off();
            resolve();
          }
        });
      });
    for (let i = 0; i < clicks + 20; i++) {
      for (const side of i % 2 ? ["b", "a"] : ["a", "b"]) {
        const s = sides[side];
        s.input.value = String(i + 1);
        const done = settle(s.bound);
        const t = performance.now();
        s.button.click();
        const dt = performance.now() - t;
        if (s.button.getAttribute("aria-disabled") !== "true") throw new Error(`${side}: not guarded`);
        await done;
        await new Promise((r) => setTimeout(r, 0));
        if (i >= 20) s.clicks.push(dt);
      }
      const t = performance.now();
      bareButton.click();
      if (i >= 20) bareTimes.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 0));
    }
    localStorage.clear();
    const payloadOf = makePayload(1024);
    for (let i = 0; i < creates + 100; i++) {
      if (i % 100 === 0) localStorage.clear();
      for (const side of i % 2 ? ["b", "a"] : ["a", "b"]) {
        const s = sides[side];
        const t = performance.now();
        const a = s.so.action("order", payloadOf(i));
        a.key;
        a.fingerprint;
        const dt = performance.now() - t;
        a.free();
        if (i >= 100) s.creates.push(dt);
      }
    }
    localStorage.clear();
    return {
      bareClick: summary(bareTimes),
      a: { click: summary(sides.a.clicks), create: summary(sides.a.creates) },
      b: { click: summary(sides.b.clicks), create: summary(sides.b.creates) },
    };
  }, { clicks, creates });
  console.log(JSON.stringify(r));
} finally {
  await browser.close();
  server.close();
}
