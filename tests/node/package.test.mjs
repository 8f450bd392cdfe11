// The package as a Node user meets it: a clear error before init(), SendonceError as a class
// (instanceof works for what the wasm throws), misspelled options refused with a suggestion,
// chat bubbles with a calm text, and `require("sendonce")` from CommonJS through the exports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, symlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import init, { Sendonce, SendonceError } from "../../pkg/node.js";

const pkgDir = new URL("../../pkg", import.meta.url).pathname;

// First in this file (each test file runs in its own process): nothing initialised yet.
test("new Sendonce() before await init() is a clear not_initialized SendonceError", () => {
  assert.throws(
    () => new Sendonce(),
    (e) => e instanceof SendonceError && e.code === "not_initialized" && /await init\(\)/.test(e.message),
  );
});

test("errors the wasm throws are instances of the exported SendonceError class", async () => {
  await init();
  let caught;
  try {
    new Sendonce({ namespace: "a:b" });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SendonceError, "instanceof works");
  assert.ok(caught instanceof Error);
  assert.equal(caught.name, "SendonceError");
  assert.equal(caught.code, "invalid_option");
  // A Promise-returning method rejects with the same class.
  const so = new Sendonce({ storage: "memory" });
  const qr = so.quickReplies({ conversationId: "c-1" });
  await assert.rejects(qr.run("x", "not a function"), (e) => e instanceof SendonceError && e.code === "invalid_option");
});

test("a misspelled option is refused with the name the user meant, nothing silently ignored", async () => {
  await init();
  const cases = [
    [() => new Sendonce({ namspace: "shop" }), /`namspace`.*did you mean `namespace`\?/],
    [() => new Sendonce({ retry: { atempts: 3 } }), /`retry\.atempts`.*did you mean `retry\.attempts`\?/],
    [() => new Sendonce({ windows: { quickreply: "5s" } }), /did you mean `windows\.quickReply`\?/],
    [() => new Sendonce({ storage: "memory" }).action("a", {}, { windw: "1m" }), /did you mean `window`\?/],
    [() => new Sendonce({ storage: "memory" }).chat({ conversationId: "c", url: "/m", conversationID: "c" }), /did you mean `conversationId`\?/],
    [() => new Sendonce({ storage: "memory" }).quickReplies({ conversationId: "c", windows: "5s" }), /did you mean `window`\?/],
  ];
  for (const [call, message] of cases) {
    assert.throws(call, (e) => e instanceof SendonceError && e.code === "invalid_option" && message.test(e.message), String(message));
  }
  // The right names still work.
  new Sendonce({ namespace: "shop", storage: "memory", showServerReason: true, retry: { attempts: 3 } }).dispose();
});

test("a chat bubble has a calm status text in the user's language; the server's reason only on request", async () => {
  await init();
  const refusing = async () =>
    new Response(JSON.stringify({ detail: "Field `text` is forbidden" }), {
      status: 400,
      headers: { "content-type": "application/problem+json" },
    });
  for (const [showServerReason, expected] of [
    [false, "Не удалось отправить: сервер отклонил запрос"],
    [true, "Не удалось отправить: Field `text` is forbidden"],
  ]) {
    const so = new Sendonce({ storage: "memory", locale: "ru", fetch: refusing, showServerReason });
    const chat = so.chat({ conversationId: "c-ru", url: "https://chat.example/messages" });
    const seen = [];
    chat.onChange((messages) => seen.push(...messages.map((m) => m.statusText)));
    chat.send("привет");
    await new Promise((resolve) => {
      const t = setInterval(() => {
        if (chat.messages[0]?.status === "error") {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    assert.equal(seen[0], "Отправка...");
    assert.equal(chat.messages[0].code, "rejected");
    assert.equal(chat.messages[0].statusText, expected);
    so.dispose();
  }
  const ok = async () => new Response("{}", { status: 201, headers: { "content-type": "application/json" } });
  const so = new Sendonce({ storage: "memory", locale: "pt-BR", fetch: ok });
  const chat = so.chat({ conversationId: "c-pt", url: "https://chat.example/messages" });
  chat.send("oi");
  await new Promise((resolve) => chat.onChange((m) => m[0]?.status === "delivered" && resolve()));
  assert.equal(chat.messages[0].statusText, "Entregue");
});

test("the entries export the API only: nothing internal (the shell's run handle) beside it", async () => {
  for (const entry of ["../../pkg/node.js", "../../pkg/forms-node.js", "../../pkg/sendonce.js", "../../pkg/forms.js"]) {
    const m = await import(entry);
    assert.ok(!("ActionRun" in m), `${entry} exports ActionRun`);
    assert.equal(typeof m.Sendonce, "function", entry);
  }
});

test("require('sendonce') from CommonJS works through the package's exports (Node >= 20.19)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendonce-cjs-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(pkgDir, join(dir, "node_modules", "sendonce"), "dir");
    writeFileSync(
      join(dir, "bot.cjs"),
      `const { default: init, Sendonce, SendonceError } = require("sendonce");
       const pkg = require("sendonce/package.json");
       init().then(() => {
         const so = new Sendonce({ storage: "memory" });
         const key = so.quickReplies({ conversationId: "c-1" }).key("createTicket");
         try { new Sendonce({ namspace: "x" }); } catch (e) { console.log(pkg.name, key.length, e instanceof SendonceError, e.code); }
       });`,
    );
    const r = spawnSync(process.execPath, [join(dir, "bot.cjs")], { encoding: "utf8", cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "sendonce 36 true invalid_option");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
