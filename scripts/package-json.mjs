// Writes pkg/package.json for the npm package `sendonce` (wasm-pack's --no-pack leaves it to us,
// so that the types entries, the exports map and the Node entry are exactly right), and copies
// the package README (js/README.md, written for npm, not the repository's) and the licenses.
import { readFileSync, writeFileSync, copyFileSync, chmodSync } from "node:fs";

/** Entries copied as they are from js/ (each with its .d.ts). */
const NODE_ENTRIES = ["redis", "grammy", "bolt"];
/** Web entries copied as they are from js/: `sendonce/sw` (service worker and IndexedDB store). */
const WEB_ENTRIES = ["sw"];
/** Modules a web entry imports, copied as they are from js/ (not entries). */
const WEB_MODULES = ["idb.js"];

const cargo = readFileSync(new URL("../Cargo.toml", import.meta.url), "utf8");
const field = (name) => cargo.match(new RegExp(`^${name} = "(.*)"`, "m"))?.[1];
const repository = field("repository");
const pkg = {
  name: "sendonce",
  version: field("version"),
  description: field("description"),
  license: field("license"),
  repository: { type: "git", url: `git+${repository}.git` },
  homepage: `${repository}#readme`,
  bugs: { url: `${repository}/issues` },
  type: "module",
  main: "./sendonce.js",
  types: "./sendonce.d.ts",
  exports: {
    ".": { types: "./sendonce.d.ts", node: "./node.js", default: "./sendonce.js" },
    "./web": { types: "./sendonce.d.ts", default: "./sendonce.js" },
    // Actions and forms only (no chat, no quick replies): its own, smaller wasm.
    "./forms": { types: "./forms.d.ts", node: "./forms-node.js", default: "./forms.js" },
    "./react": { types: "./react.d.ts", default: "./react.js" },
    // The htmx extension (hx-ext="sendonce"): it takes the page's htmx and Sendonce, imports neither.
    "./htmx": { types: "./htmx.d.ts", default: "./htmx.js" },
    // A service worker that finishes offline actions (Background Sync), and the IndexedDB
    // store it shares with the page.
    "./sw": { types: "./sw.d.ts", default: "./sw.js" },
    "./sendonce_bg.wasm": "./sendonce_bg.wasm",
    "./sendonce_forms_bg.wasm": "./sendonce_forms_bg.wasm",
    "./package.json": "./package.json",
    // Node entries for bot servers: nothing here lands in a browser bundle that does not
    // import them.
    "./redis": { types: "./redis.d.ts", default: "./redis.js" },
    "./grammy": { types: "./grammy.d.ts", default: "./grammy.js" },
    "./bolt": { types: "./bolt.d.ts", default: "./bolt.js" },
  },
  // `npx sendonce check <url>`: the pre-launch check (js/check.mjs), Node only.
  bin: { sendonce: "./check.mjs" },
  // `sendonce/react`, `sendonce/forms` and the bot entries for TypeScript's older "node" module resolution, which reads no exports.
  typesVersions: {
    "*": {
      react: ["./react.d.ts"],
      htmx: ["./htmx.d.ts"],
      forms: ["./forms.d.ts"],
      sw: ["./sw.d.ts"],
      redis: ["./redis.d.ts"],
      grammy: ["./grammy.d.ts"],
      bolt: ["./bolt.d.ts"],
    },
  },
  files: [
    "sendonce.js",
    "sendonce.d.ts",
    "sendonce_wasm.js",
    "sendonce_wasm.d.ts",
    "sendonce_bg.wasm",
    "sendonce_bg.wasm.d.ts",
    "forms.js",
    "forms.d.ts",
    "forms-node.js",
    "sendonce_forms_wasm.js",
    "sendonce_forms_wasm.d.ts",
    "sendonce_forms_bg.wasm",
    "sendonce_forms_bg.wasm.d.ts",
    "error.js",
    "error.d.ts",
    // The JS modules the wasm imports (`js/payload.js`, `js/platform.js`); internal, not entries.
    "payload.js",
    "platform.js",
    "node.js",
    "check.mjs",
    "react.js",
    "react.d.ts",
    "htmx.js",
    "htmx.d.ts",
    "README.md",
    "LICENSE-MIT",
    "LICENSE-APACHE",
    ...NODE_ENTRIES.flatMap((name) => [`${name}.js`, `${name}.d.ts`]),
    ...WEB_ENTRIES.flatMap((name) => [`${name}.js`, `${name}.d.ts`]),
    ...WEB_MODULES,
  ],
  sideEffects: false,
  // `require("sendonce")` of this ES module (documented in the README) needs Node 20.19.
  engines: { node: ">=20.19" },
  // Each entry that needs a framework works with it; none is needed by anything else.
  peerDependencies: { react: ">=18", grammy: "^1.20.0", "@slack/bolt": ">=3.0.0" },
  peerDependenciesMeta: {
    react: { optional: true },
    grammy: { optional: true },
    "@slack/bolt": { optional: true },
  },
  keywords: ["idempotency", "idempotency-key", "retry", "forms", "chat", "react", "wasm"],
};
// Every module the glue imports (its JS snippets, copied by scripts/entry.mjs) must be packed.
for (const glue of ["sendonce_wasm.js", "sendonce_forms_wasm.js"]) {
  const text = readFileSync(new URL(`../pkg/${glue}`, import.meta.url), "utf8");
  for (const [, file] of text.matchAll(/from\s*["']\.\/([^"']+)["']/g)) {
    if (!pkg.files.includes(file)) {
      console.error(`scripts/package-json.mjs: ${glue} imports ./${file}, which is not in "files"`);
      process.exit(1);
    }
  }
}
writeFileSync(new URL("../pkg/package.json", import.meta.url), JSON.stringify(pkg, null, 2) + "\n");
for (const [from, to] of [
  ["../js/README.md", "../pkg/README.md"],
  ["../js/check.mjs", "../pkg/check.mjs"],
  ["../LICENSE-MIT", "../pkg/LICENSE-MIT"],
  ["../LICENSE-APACHE", "../pkg/LICENSE-APACHE"],
]) {
  copyFileSync(new URL(from, import.meta.url), new URL(to, import.meta.url));
}
chmodSync(new URL("../pkg/check.mjs", import.meta.url), 0o755);
for (const file of WEB_MODULES) {
  copyFileSync(new URL(`../js/${file}`, import.meta.url), new URL(`../pkg/${file}`, import.meta.url));
}
for (const name of [...NODE_ENTRIES, ...WEB_ENTRIES]) {
  for (const file of [`${name}.js`, `${name}.d.ts`]) {
    copyFileSync(new URL(`../js/${file}`, import.meta.url), new URL(`../pkg/${file}`, import.meta.url));
  }
}
