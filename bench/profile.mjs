// A CPU profile of the two hot paths of bench.js (create, and a click on a bound form), taken
// with Chromium's own profiler over CDP: self time per function, largest first. A tool for
// finding what to speed up; it measures nothing the benchmark reports.
// Usage: node bench/profile.mjs [create|click|bare] [entry: full|forms]
//   bare: the same click on a form whose submit listener only prevents the submission (the
//   browser's own share). Environment: ONLY_CLICK=1 counts only the samples inside
//   button.click(); PROFILE_PKG=<dir> serves /pkg/ from another build (one whose wasm keeps
//   its function names: wasm-bindgen's output before wasm-opt); NOPROF=1 only times;
//   SMALL=1 creates with a tiny payload; MEMORY=1 with memory storage; TOP=n rows.
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";
import { serveFiles } from "./serve.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const what = process.argv[2] || "click";
const entry = process.argv[3] || "full";
const server = await serveFiles((path) => {
  if (!(path.startsWith("/pkg/") || path.startsWith("/bench/"))) return null;
  // PROFILE_PKG: another build's pkg/ (one whose wasm keeps its function names).
  return process.env.PROFILE_PKG && path.startsWith("/pkg/") ? join(process.env.PROFILE_PKG, path.slice(5)) : join(root, path);
});
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage();
  await page.goto(`${server.base}/bench/bench.html`);
  await page.waitForFunction(() => window.benchReady === true);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
  await page.evaluate(async ({ what, entry }) => {
    const mod = entry === "forms" ? await import("/pkg/forms.js") : await import("/pkg/sendonce.js");
    await mod.default({ module_or_path: entry === "forms" ? "/pkg/sendonce_forms_bg.wasm" : "/pkg/sendonce_bg.wasm" });
    window.__mod = mod;
  }, { what, entry });
  const profiling = !process.env.NOPROF;
  if (profiling) await cdp.send("Profiler.start");
  const ms = await page.evaluate(async ({ what, small, memory }) => {
    const mod = window.__mod;
    const reply = async () => new Response('{"id":1}', { status: 201, headers: { "content-type": "application/json" } });
    const t0 = performance.now();
    let total = 0;
    const samples = [];
    if (what === "create") {
      const { makePayload } = await import("/bench/bench.js");
      const payloadOf = small ? (i) => ({ id: i }) : makePayload(1024);
      const so = new mod.Sendonce({ namespace: "prof", fetch: reply, ...(memory ? { storage: "memory" } : {}) });
      for (let i = 0; i < 20000; i++) {
        const t = performance.now();
        const a = so.action("order", payloadOf(i));
        a.key;
        a.fingerprint;
        total += performance.now() - t;
        samples.push(performance.now() - t);
        a.free();
        if (i % 100 === 99) localStorage.clear();
      }
    } else if (what === "bare") {
      // The browser's own click handling: the same form, a submit listener that only
      // prevents the native submission.
      const root = document.getElementById("form-root");
      root.innerHTML = '<form id="bform"><input name="qty" value="0"><button id="bsend" type="submit">Order</button><p id="bst"></p></form>';
      document.getElementById("bform").addEventListener("submit", (e) => e.preventDefault());
      const button = document.getElementById("bsend");
      const input = root.querySelector("input[name=qty]");
      for (let i = 0; i < 1500; i++) {
        input.value = String(i + 1);
        const t = performance.now();
        button.click();
        total += performance.now() - t;
        samples.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 0));
      }
    } else {
      const root = document.getElementById("form-root");
      root.innerHTML = '<form id="bform"><input name="qty" value="0"><button id="bsend" type="submit">Order</button><p id="bst"></p></form>';
      const so = new mod.Sendonce({ namespace: "profc", fetch: reply });
      const form = so.form("#bform", { action: "clickBench", url: "/api/orders", status: "#bst" });
      const button = document.getElementById("bsend");
      const input = root.querySelector("input[name=qty]");
      for (let i = 0; i < 1500; i++) {
        input.value = String(i + 1);
        const settled = new Promise((resolve) => {
          const off = form.onStatus((s) => {
            if (s.code === "done" || s.code === "already_received" || s.code === "failed") { off(); resolve(); }
          });
        });
        const t = performance.now();
        button.click();
        total += performance.now() - t;
        samples.push(performance.now() - t);
        await settled;
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    localStorage.clear();
    samples.sort((a, b) => a - b);
    const q = (f) => samples[Math.min(samples.length - 1, Math.ceil(f * samples.length) - 1)];
    return { wall: performance.now() - t0, measured: total, median: q(0.5), p99: q(0.99) };
  }, { what, small: !!process.env.SMALL, memory: !!process.env.MEMORY });
  console.log(`${what} (${entry}): median ${ms.median.toFixed(3)} ms, p99 ${ms.p99.toFixed(3)} ms${profiling ? " (profiled)" : ""}`);
  if (!profiling) process.exit(0);
  const { profile } = await cdp.send("Profiler.stop");
  // Self time per function; with ONLY_CLICK, only of the samples taken inside
  // `button.click()` (a native `click` frame on the stack): what the click task itself costs.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const inClick = (n) => {
    for (let p = n; p; p = parent.get(p.id)) if (p.callFrame.functionName === "click" && !p.callFrame.url) return true;
    return false;
  };
  const self = new Map();
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) || 0) + (profile.timeDeltas[i] || 0));
  let sum = 0;
  for (const n of profile.nodes) {
    const t = (dt.get(n.id) || 0) / 1000;
    if (!t) continue;
    if (process.env.ONLY_CLICK && !inClick(byId.get(n.id))) continue;
    const cf = n.callFrame;
    const name = `${cf.functionName || "(anon)"} ${cf.url.split("/").pop()}:${cf.lineNumber}:${cf.columnNumber}`;
    self.set(name, (self.get(name) || 0) + t);
    sum += t;
  }
  console.log(`${what} (${entry}): wall ${ms.wall.toFixed(0)} ms, inside the measured calls ${ms.measured.toFixed(0)} ms, sampled ${sum.toFixed(0)} ms`);
  for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP || 40))) console.log(`${t.toFixed(1).padStart(8)} ms  ${name}`);
} finally {
  await browser.close();
  server.close();
}
