// Per-action cost (create: `so.action(name, payload)`, then `.key` and `.fingerprint`, 1 KB
// payload) of two or more package builds and the hand-written baseline of bench/bench.js,
// interleaved in one headless Chromium page: a before/after ratio from one run, on a shared
// machine where separate runs differ by tens of percent.
// Usage: node bench/compare.mjs NAME=PKG_DIR [NAME=PKG_DIR ...] [--n 2000] [--batch 1]
// --batch k: each sample times k creates in a row and counts a k-th of it: the page's timer
// has 5 us steps, a create some 50 us, so single creates give medians in 10 % steps.
// e.g. node bench/compare.mjs before=pkg-main after=pkg (pkg-main: a copy of pkg/ built on main)
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const nAt = args.indexOf("--n");
const n = nAt >= 0 ? Number(args.splice(nAt, 2)[1]) : 2000;
const batchAt = args.indexOf("--batch");
const batch = batchAt >= 0 ? Math.max(1, Number(args.splice(batchAt, 2)[1]) | 0) : 1;
const builds = Object.fromEntries(args.map((a) => a.split("=")).map(([name, dir]) => [name, resolve(dir)]));
if (!Object.keys(builds).length) {
  console.error("usage: node bench/compare.mjs NAME=PKG_DIR [NAME=PKG_DIR ...] [--n 2000]");
  process.exit(2);
}
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { makePayload, baselineCreate } from "/bench/bench.js";
const median = (s) => [...s].sort((a, b) => a - b)[s.length >> 1];
window.compare = async (names, n, warmup, batch) => {
  const payloadOf = makePayload(1024);
  const runs = [];
  for (const name of names) {
    const glue = await import(\`/build/\${name}/sendonce.js\`);
    await glue.default();
    const so = new glue.Sendonce({ namespace: \`compare-\${name}\` });
    const created = [];
    runs.push((i) => {
      const a = so.action("order", payloadOf(i));
      a.key;
      a.fingerprint;
      created.push(a);
      if (created.length >= 100) for (const c of created.splice(0)) c.free();
    });
  }
  runs.push((i) => baselineCreate("order", payloadOf(i)));
  const samples = runs.map(() => []);
  for (let i = 0; i < warmup + n; i++) {
    if ((i * batch) % 100 < batch) localStorage.clear();
    const order = runs.map((_, j) => (i % 2 ? runs.length - 1 - j : j));
    for (const j of order) {
      const t0 = performance.now();
      for (let b = 0; b < batch; b++) await runs[j](i * batch + b);
      if (i >= warmup) samples[j].push((performance.now() - t0) / batch);
    }
  }
  const base = median(samples.at(-1));
  return [...names, "baseline"].map((name, j) => ({ name, median: median(samples[j]), ratio: median(samples[j]) / base }));
};
window.ready = true;
</script>`;

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
  const [, top, name, ...rest] = path.split("/");
  const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Cache-Control": "no-store" };
  try {
    if (path === "/") return res.writeHead(200, { ...headers, "Content-Type": "text/html" }).end(PAGE);
    let file;
    if (top === "build" && builds[name] && !rest.includes("..")) file = join(builds[name], ...rest);
    else if (top === "bench" && !path.includes("..")) file = join(root, path);
    else if (top === "pkg" && !path.includes("..")) file = join(root, path); // bench.js imports it
    else throw new Error("not served");
    const body = await readFile(file);
    res.writeHead(200, { ...headers, "Content-Type": TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.ready === true);
  const rows = await page.evaluate(([names, n, batch]) => window.compare(names, n, 100, batch), [Object.keys(builds), n, batch]);
  console.log(`create, 1 KB payload, median of ${n}${batch > 1 ? ` samples of ${batch} creates` : ""} (interleaved, one page):`);
  for (const r of rows) console.log(`  ${r.name.padEnd(10)} ${r.median.toFixed(3)} ms  ${r.ratio.toFixed(2)}x`);
} finally {
  await browser.close();
  server.close();
}
