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
// - every JS file minified (the docs live in the .d.ts files), and the two browser entries
//   (sendonce.js, forms.js) each bundled with their glue and its snippets into one file.
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

/**
 * A binding's trailing parameters typed `T | undefined` (wasm-bindgen writes every parameter
 * as required) become optional, `name?: T`, so that `qr.bind(button, key, handler)` and
 * `qr.seen(id)` compile as the docs call them. Depth-aware: parameter types may hold
 * callbacks with parameters of their own.
 */
function optionalTails(text) {
  return text
    .split("\n")
    .map((line) => {
      if (!/^\s*(?:export function |static )?\w+(?:<[^(]*>)?\(/.test(line)) return line;
      const open = line.indexOf("(");
      let depth = 0;
      let close = -1;
      const cuts = [];
      for (let i = open; i < line.length && close < 0; i++) {
        const c = line[i];
        if ("(<[{".includes(c)) depth++;
        else if (")]}".includes(c) || (c === ">" && line[i - 1] !== "=")) {
          depth--;
          if (depth === 0) close = i;
        } else if (c === "," && depth === 1) cuts.push(i);
      }
      if (close < 0) return line;
      const bounds = [open, ...cuts, close];
      const params = bounds.slice(1).map((end, i) => line.slice(bounds[i] + 1, end).trim());
      for (let i = params.length - 1; i >= 0; i--) {
        const m = params[i].match(/^(\w+)\??: (.+) \| undefined$/);
        if (!m) break;
        params[i] = `${m[1]}?: ${m[2]}`;
      }
      return `${line.slice(0, open + 1)}${params.join(", ")}${line.slice(close)}`;
    })
    .join("\n");
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
  // `ActionRun` is the handle the JS shell holds on an action's run (src/driver/action.rs),
  // handed to `drive` by the wasm: internal, so the glue does not export it (nor does the
  // entry's `export *`).
  glue = edit(glue, `${base}.js`, "export class ActionRun {", "class ActionRun {");
  if (/from\s*['"]\.\/snippets\//.test(glue)) {
    console.error(`scripts/entry.mjs: ${base}.js imports a snippet that is not a file in js/`);
    process.exit(1);
  }
  if (!/from\s*['"]\.\/error\.js['"]/.test(glue)) {
    console.error(`scripts/entry.mjs: ${base}.js does not import the SendonceError class from ./error.js`);
    process.exit(1);
  }
  // Each free function of the glue needs its `not_initialized` wrapper in js/sendonce.js.
  const entry = readFileSync(js("sendonce.js"), "utf8");
  for (const [, name] of glue.matchAll(/export function (\w+)\(/g)) {
    if (name !== "initSync" && !entry.includes(`export function ${name}(`)) {
      console.error(`scripts/entry.mjs: ${base}.js exports ${name}, which js/sendonce.js does not wrap`);
      process.exit(1);
    }
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
  // `InitOutput` is wasm-bindgen's table of raw wasm exports (`__wbg_*`,
  // `wasm_bindgen__convert__closures...`): internals, not API. `init()` resolves with the
  // module's memory, all a user may read (its size), under a type the package does not export.
  types = edit(
    types,
    f,
    /^export interface InitOutput \{\n[\s\S]*?\n\}\n/m,
    "/** What `init()` resolves with: the module's memory (its size is `memory.buffer.byteLength`). */\n" +
      "interface InitOutput {\n  readonly memory: { readonly buffer: ArrayBuffer };\n}\n",
  );
  // No DOM in a Node project's libs: the compiled module's type is the global one where the
  // project has it (see WEB_TYPES in src/bindings/types.rs for the others).
  // (Code lines only: the doc comments keep naming `WebAssembly.Module`.)
  types = edit(types, f, /^(?!\s*(?:\*|\/\*|\/\/))(.*)\bWebAssembly\.Module\b/gm, "$1WasmModule", { all: true });
  types = optionalTails(types);
  if (/^(?!\s*(?:\*|\/\*|\/\/)).*\bWebAssembly\./m.test(types)) {
    console.error(`scripts/entry.mjs: ${f}: a WebAssembly type is left (it fails without lib DOM)`);
    process.exit(1);
  }
  types +=
    "\ntype WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer T } } } ? T : never;\n" +
    "// Only what is declared `export` above is the package's: the web type stand-ins stay local.\nexport {};\n";
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

for (const name of ["sendonce.js", "sendonce.d.ts", "error.d.ts", "node.js", "react.js", "react.d.ts", "htmx.js", "htmx.d.ts", ...snippets]) {
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
// which editors read, and in js/ in the repository. Each other file stays its own ES module, so
// the imports between them (and `import.meta.url`, which finds the .wasm) are untouched. Local
// names are shortened (keeping them as written, esbuild's keepNames, measured +0.8 KB gzip).
//
// A page's two entries, `sendonce.js` and `forms.js`, are each bundled with their glue and the
// glue's snippets (the payload walk, the web adapters) into one file: one request instead of
// four, and one gzip stream, -0.7 KB gzip per entry (BENCHMARKS.md, "issue 21: size levers").
// `./error.js` stays its own module, shared by both entries, so that `instanceof
// SendonceError` holds for errors from either. The glue and snippet files still ship (the
// package's types name the glue; the Node entries load the bundled entries).
const { buildSync, transformSync } = await import("esbuild");
const banner = "// sendonce (MIT OR Apache-2.0): the API and its docs are in the .d.ts files and README.md.";
for (const name of ["sendonce.js", "forms.js"]) {
  const path = `${dir}/${name}`;
  const [out] = buildSync({
    entryPoints: [path],
    bundle: true,
    write: false,
    outfile: path,
    format: "esm",
    platform: "neutral",
    minify: true,
    legalComments: "none",
    banner: { js: banner },
    external: ["./error.js"],
    logLevel: "silent",
  }).outputFiles;
  writeFileSync(path, out.text);
}
for (const name of [
  "sendonce_wasm.js",
  "sendonce_forms_wasm.js",
  "forms-node.js",
  "node.js",
  "react.js",
  "htmx.js",
  ...snippets,
]) {
  const path = `${dir}/${name}`;
  const { code } = transformSync(readFileSync(path, "utf8"), {
    format: "esm",
    minify: true,
    legalComments: "none",
    banner,
  });
  writeFileSync(path, code);
}
