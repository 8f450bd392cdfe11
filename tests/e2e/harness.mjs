// Shared by the end-to-end tests: starts the reference server on a free loopback port with
// a fresh SQLite file (with --demo: the tests read effects, the log and traces), serving the
// demo (www/) at / and the test pages (tests/pages/) at /test/, and launches Debian's Chromium
// through playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, after, beforeEach } from "node:test";
import { chromium } from "playwright-core";

const root = new URL("../..", import.meta.url).pathname;
const serverBin = join(root, "target/debug/sendonce-server");

/** Starts the reference server; resolves with `{ url, stop(), restart(), dir }`. */
export async function startServer({ args = [], dir } = {}) {
  dir ??= mkdtempSync(join(tmpdir(), "sendonce-e2e-"));
  const db = join(dir, "e2e.sqlite3");
  let proc;
  let url;
  async function start(port = 0) {
    proc = spawn(serverBin, ["--addr", `127.0.0.1:${port}`, "--db", db, "--www", join(root, "www"), "--test-pages", join(root, "tests/pages"), "--pkg", join(root, "pkg"), "--quiet", "--demo", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    url = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error("the server did not start in 20 s")), 20_000);
      proc.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/sendonce reference server: (http:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].replace(/\/$/, ""));
        }
      });
      proc.on("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    });
    return url;
  }
  await start();
  const api = {
    dir,
    get url() {
      return url;
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
    },
    /** Stops and starts again on the same port with the same database file. */
    async restart() {
      const port = new URL(url).port;
      await api.stop();
      await start(port);
    },
    async json(path, init) {
      const r = await fetch(url + path, init);
      return r.json();
    },
    async arm(path, faults) {
      await fetch(url + "/api/faults", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ path, faults }),
      });
    },
    async orders() {
      return (await api.json("/api/orders")).count;
    },
    async effects() {
      return api.json("/api/effects");
    },
    async cleanup() {
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}

/** Launches headless Chromium with the flags this machine needs. Each test takes a fresh
 * context (its own localStorage) with `newContext()`. */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    newContext: () => browser.newContext(),
    close: () => browser.close(),
  };
}

/** Opens `path` in a new tab and waits until the page says it is ready. */
export async function openPage(context, url) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.sendonceReady === true);
  return page;
}

/** Registers the usual hooks of an end-to-end test file: one server and one browser for the
 * file; for each test a reset server (no orders, keys or armed faults) and a fresh browser
 * context (its own storage). The returned object's `server`, `browser` and `context` are set
 * by the hooks. */
export function useEnvironment() {
  const env = {};
  before(async () => {
    env.server = await startServer();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.cleanup();
  });
  beforeEach(async () => {
    // The last test's pages first: closed, they send nothing more (a retry, a queued submit)
    // into the next test. (One they sent before is left out of the log and runs no effect
    // after the reset.)
    await env.context?.close();
    await fetch(env.server.url + "/api/reset", { method: "POST" });
    env.context = await env.browser.newContext();
  });
  return env;
}

/**
 * Holds back every wasm download of `context` (a slow phone's first seconds) until the
 * returned `release()` (the download goes on) or `fail()` (it is aborted: the wasm never loads).
 */
export async function holdWasm(context) {
  let settle;
  const decided = new Promise((r) => (settle = r));
  await context.route("**/pkg/*.wasm", async (route) => ((await decided) ? route.continue() : route.abort()));
  return { release: () => settle(true), fail: () => settle(false) };
}

/** Records every POST the page makes to `path`, as `{ url, body, headers }`, in order. */
export function watchPosts(page, path = "/api/orders") {
  const posts = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === path) {
      posts.push({ url: r.url(), body: r.postData() ?? "", headers: r.headers() });
    }
  });
  return posts;
}

/** Every storage key and value of the page's origin, as one string. */
export async function everythingStored(page) {
  return page.evaluate(() => {
    const all = [];
    for (const s of [localStorage, sessionStorage]) {
      for (let i = 0; i < s.length; i++) all.push(s.key(i), s.getItem(s.key(i)));
    }
    return all.join("\n");
  });
}
