// Writes pkg/package.json for the npm package `sendonce` (wasm-pack's --no-pack leaves it to us,
// so that the types entry, the exports map and the Node entry are exactly right).
import { readFileSync, writeFileSync, copyFileSync } from "node:fs";

/** Entries copied as they are from js/ (each with its .d.ts). */
const NODE_ENTRIES = ["redis", "grammy", "bolt"];

const cargo = readFileSync(new URL("../Cargo.toml", import.meta.url), "utf8");
const field = (name) => cargo.match(new RegExp(`^${name} = "(.*)"`, "m"))?.[1];
const pkg = {
  name: "sendonce",
  version: field("version"),
  description: field("description"),
  license: field("license"),
  type: "module",
  main: "./sendonce.js",
  types: "./sendonce.d.ts",
  exports: {
    ".": { types: "./sendonce.d.ts", node: "./node.js", default: "./sendonce.js" },
    "./web": { types: "./sendonce.d.ts", default: "./sendonce.js" },
    "./sendonce_bg.wasm": "./sendonce_bg.wasm",
    // Node entries for bot servers: nothing here lands in a browser bundle that does not
    // import them.
    "./redis": { types: "./redis.d.ts", default: "./redis.js" },
    "./grammy": { types: "./grammy.d.ts", default: "./grammy.js" },
    "./bolt": { types: "./bolt.d.ts", default: "./bolt.js" },
  },
  files: [
    "sendonce.js", "sendonce.d.ts", "sendonce_bg.wasm", "sendonce_bg.wasm.d.ts", "node.js", "README.md",
    ...NODE_ENTRIES.flatMap((name) => [`${name}.js`, `${name}.d.ts`]),
  ],
  // The middleware entries work with these frameworks; neither is needed by anything else.
  peerDependencies: { grammy: "^1.20.0", "@slack/bolt": ">=3.0.0" },
  peerDependenciesMeta: { grammy: { optional: true }, "@slack/bolt": { optional: true } },
  sideEffects: false,
  engines: { node: ">=20" },
  keywords: ["idempotency", "idempotency-key", "retry", "forms", "chat", "wasm"],
};
writeFileSync(new URL("../pkg/package.json", import.meta.url), JSON.stringify(pkg, null, 2) + "\n");
copyFileSync(new URL("../js/node.js", import.meta.url), new URL("../pkg/node.js", import.meta.url));
for (const name of NODE_ENTRIES) {
  for (const file of [`${name}.js`, `${name}.d.ts`]) {
    copyFileSync(new URL(`../js/${file}`, import.meta.url), new URL(`../pkg/${file}`, import.meta.url));
  }
}
copyFileSync(new URL("../README.md", import.meta.url), new URL("../pkg/README.md", import.meta.url));
