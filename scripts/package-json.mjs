// Writes pkg/package.json for the npm package `sendonce` (wasm-pack's --no-pack leaves it to us,
// so that the types entry, the exports map and the Node entry are exactly right).
import { readFileSync, writeFileSync, copyFileSync, chmodSync } from "node:fs";

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
  },
  // `npx sendonce check <url>`: the pre-launch check (js/check.mjs), Node only.
  bin: { sendonce: "./check.mjs" },
  files: ["sendonce.js", "sendonce.d.ts", "sendonce_bg.wasm", "sendonce_bg.wasm.d.ts", "node.js", "check.mjs", "README.md"],
  sideEffects: false,
  engines: { node: ">=20" },
  keywords: ["idempotency", "idempotency-key", "retry", "forms", "chat", "wasm"],
};
writeFileSync(new URL("../pkg/package.json", import.meta.url), JSON.stringify(pkg, null, 2) + "\n");
copyFileSync(new URL("../js/node.js", import.meta.url), new URL("../pkg/node.js", import.meta.url));
copyFileSync(new URL("../js/check.mjs", import.meta.url), new URL("../pkg/check.mjs", import.meta.url));
chmodSync(new URL("../pkg/check.mjs", import.meta.url), 0o755);
copyFileSync(new URL("../README.md", import.meta.url), new URL("../pkg/README.md", import.meta.url));
