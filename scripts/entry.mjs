// Turns wasm-bindgen's output in DIR into the package's entry files (run by scripts/build.sh
// before the files move into pkg/):
//
// - sendonce.js -> sendonce_wasm.js, the generated glue, importing its JS snippets (the
//   `#[wasm_bindgen(module = "/js/...")]` files: the SendonceError class in ./error.js, the
//   one module the entry exports too, so `instanceof` works; the payload walk in
//   ./payload.js) from package files instead of hashed snippets/ paths;
// - sendonce.d.ts -> sendonce_wasm.d.ts, with what wasm-bindgen cannot write: generic
//   replies (`send<T>()`, `run<T>()`), and no `[Symbol.dispose]` members (they need lib
//   esnext.disposable: TS2550 under ES2020/ES2022 libs without skipLibCheck);
// - the hand-written entry (js/sendonce.js: `init`, `not_initialized`, `SendonceError`), the
//   error class, the Node entry and the React hooks, with their types;
// - the same for the `sendonce/forms` entry (sendonce_forms.js -> sendonce_forms_wasm.js, and
//   forms.js / forms.d.ts / forms-node.js made from the hand-written entries);
// - every JS file minified (the docs live in the .d.ts files).
//
// Every edit must find what it edits: a wasm-bindgen upgrade that changes its output fails
// the build here instead of shipping wrong types. Usage: node scripts/entry.mjs DIR
import { copyFileSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/entry.mjs DIR");
  process.exit(2);
}
const js = (name) => new URL(`../js/${name}`, import.meta.url);

function edit(text, file, from, to, { all = false } = {}) {
  const count = typeof from === "string" ? text.split(from).length - 1 : (text.match(from) ?? []).length;
  if (count === 0 || (!all && count > 1)) {
    console.error(`scripts/entry.mjs: ${file}: expected ${all ? "at least one" : "one"} ${from}, found ${count}`);
    process.exit(1);
  }
  return all ? text.replaceAll(from, to) : text.replace(from, to);
}

// Each wasm's glue: `sendonce` (the full entry) and `sendonce_forms` (the `sendonce/forms`
// entry, built without chat and quick replies: its types have no `run()` to make generic).
/** The JS snippets the glue imports (file names in js/), each copied next to it. */
const snippets = new Set();
for (const [base, full] of [["sendonce", true], ["sendonce_forms", false]]) {
  let glue = readFileSync(`${dir}/${base}.js`, "utf8");
  // The JS modules the wasm imports (js/error.js, js/payload.js, js/platform.js) ship as
  // package files next to the glue. Only the `from` paths change: the wasm's import object
  // keeps the module names the wasm asks for.
  const from = /(from\s*)(['"])\.\/snippets\/[^'"]*\/js\/([\w-]+\.js)\2/g;
  for (const [, , , name] of glue.matchAll(from)) snippets.add(name);
  glue = edit(glue, `${base}.js`, from, "$1$2./$3$2", { all: true });
  if (/from\s*['"]\.\/snippets\//.test(glue)) {
    console.error(`scripts/entry.mjs: ${base}.js imports a snippet that is not a file in js/`);
    process.exit(1);
  }
  if (!/from\s*['"]\.\/error\.js['"]/.test(glue)) {
    console.error(`scripts/entry.mjs: ${base}.js does not import the SendonceError class from ./error.js`);
    process.exit(1);
  }
  writeFileSync(`${dir}/${base}_wasm.js`, glue);
  unlinkSync(`${dir}/${base}.js`);

  let types = readFileSync(`${dir}/${base}.d.ts`, "utf8");
  const f = `${base}.d.ts`;
  types = edit(types, f, /^ *\[Symbol\.dispose\]\(\): void;\n/gm, "", { all: true });
  types = edit(types, f, "export interface Reply {", "export interface Reply<T = unknown> {");
  types = edit(types, f, "  body: unknown;", "  body: T;");
  types = edit(
    types,
    f,
    "send(url: string | URL, init?: SendInit | null): Promise<Reply>;",
    "send<T = unknown>(url: string | URL, init?: SendInit | null): Promise<Reply<T>>;",
  );
  types = edit(types, f, "    retry(): Promise<Reply>;", "    retry<T = unknown>(): Promise<Reply<T>>;");
  if (full) {
    types = edit(
      types,
      f,
      "run(actionKey: string, handler: QuickReplyHandler, options?: QuickRunOptions | null): Promise<unknown>;",
      "run<T = unknown>(actionKey: string, handler: QuickReplyHandler<T>, options?: QuickRunOptions | null): Promise<T>;",
    );
    types = edit(
      types,
      f,
      "handleOnce(id: string | null | undefined, text: string | null | undefined, handler: QuickReplyHandler): Promise<HandleOnceResult>;",
      "handleOnce<T = unknown>(id: string | null | undefined, text: string | null | undefined, handler: QuickReplyHandler<T>): Promise<HandleOnceResult<T>>;",
    );
  } else if (/quickReplies|chat\(/.test(types)) {
    console.error(`scripts/entry.mjs: ${f}: the forms build still exports chat or quick replies`);
    process.exit(1);
  }
  writeFileSync(`${dir}/${base}_wasm.d.ts`, types);
  unlinkSync(`${dir}/${base}.d.ts`);
}
rmSync(`${dir}/snippets`, { recursive: true, force: true });

for (const name of ["sendonce.js", "sendonce.d.ts", "error.d.ts", "node.js", "react.js", "react.d.ts", ...snippets]) {
  copyFileSync(js(name), `${dir}/${name}`);
}
// The `sendonce/forms` entry: the same hand-written entry and Node entry, over the forms glue
// and its wasm.
const forms = [
  ["sendonce.js", "forms.js", [["./sendonce_wasm.js", "./sendonce_forms_wasm.js"]]],
  ["sendonce.d.ts", "forms.d.ts", [["./sendonce_wasm.js", "./sendonce_forms_wasm.js"]]],
  ["node.js", "forms-node.js", [["./sendonce.js", "./forms.js"], ["./sendonce_bg.wasm", "./sendonce_forms_bg.wasm"]]],
];
for (const [from, to, swaps] of forms) {
  let text = readFileSync(js(from), "utf8");
  for (const [a, b] of swaps) text = edit(text, from, a, b, { all: true });
  writeFileSync(`${dir}/${to}`, text);
}

// The JS a page loads, minified (esbuild, a dev dependency): the docs stay in the .d.ts files,
// which editors read, and in js/ in the repository. Each file stays its own ES module, so the
// imports between them (and `import.meta.url`, which finds the .wasm) are untouched. Local
// names are shortened (keeping them as written, esbuild's keepNames, measured +0.8 KB gzip).
const { transformSync } = await import("esbuild");
for (const name of [
  "sendonce.js",
  "sendonce_wasm.js",
  "forms.js",
  "sendonce_forms_wasm.js",
  "forms-node.js",
  "node.js",
  "react.js",
  ...snippets,
]) {
  const path = `${dir}/${name}`;
  const { code } = transformSync(readFileSync(path, "utf8"), {
    format: "esm",
    minify: true,
    legalComments: "none",
    banner: "// sendonce (MIT OR Apache-2.0): the API and its docs are in the .d.ts files and README.md.",
  });
  writeFileSync(path, code);
}
