// Patches the JS glue that wasm-bindgen writes (sendonce.js) so that using sendonce before
// `await init()` throws a SendonceError with code "not_initialized" (SPEC section 9), instead of
// "TypeError: Cannot read properties of undefined (reading 'sendonce_new')".
//
// Before init the glue's `wasm` variable is `undefined`; here it starts as a Proxy that throws
// that error on any use, and the glue's "already initialised?" checks compare against it. The
// patterns are those of the wasm-bindgen version pinned in Cargo.toml; if one is missing (a new
// wasm-bindgen), the build fails here rather than shipping glue without the check.
import { readFileSync, writeFileSync } from "node:fs";

const path = process.argv[2];
if (!path) {
  console.error("usage: node scripts/glue-not-initialized.mjs <path to sendonce.js>");
  process.exit(2);
}
let glue = readFileSync(path, "utf8");
const marker = "const NOT_INITIALIZED = new Proxy(";
if (!glue.includes(marker)) {
  const declaration = "let wasmModule, wasmInstance, wasm;";
  const check = "if (wasm !== undefined) return wasm;";
  const checks = glue.split(check).length - 1;
  if (!glue.includes(declaration) || checks !== 2) {
    console.error(`glue-not-initialized: the glue of this wasm-bindgen version is not the expected one (declaration: ${glue.includes(declaration)}, checks: ${checks})`);
    process.exit(1);
  }
  const proxy = `// Used before \`await init()\`: a SendonceError "not_initialized" (see scripts/glue-not-initialized.mjs).
${marker}{}, {
    get() {
        const e = new Error("sendonce is not initialised: call \`await init()\` (the module's default export) before using it");
        e.name = "SendonceError";
        e.code = "not_initialized";
        throw e;
    },
});
let wasmModule, wasmInstance, wasm = NOT_INITIALIZED;`;
  glue = glue.replace(declaration, proxy).replaceAll(check, "if (wasm !== NOT_INITIALIZED) return wasm;");
  writeFileSync(path, glue);
}
