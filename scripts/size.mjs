// Prints the size of the built package: the .wasm and the JS glue, raw, gzip -9 and brotli.
// With --json, prints the same figures as JSON (the benchmark reads them).
import { existsSync, readFileSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

// What a page loads with each entry: its wasm, and its JS (the entry, its generated glue and
// the glue's snippets: the error class, the payload walk and the web adapters, absent from
// packages built before them). `wasm` / `js` / `total` are the full entry `sendonce`; the
// `forms ...` rows are `sendonce/forms` (actions and forms only).
const entries = {
  "": { wasm: ["pkg/sendonce_bg.wasm"], js: ["pkg/sendonce.js", "pkg/sendonce_wasm.js", "pkg/error.js", "pkg/payload.js", "pkg/platform.js"] },
  "forms ": { wasm: ["pkg/sendonce_forms_bg.wasm"], js: ["pkg/forms.js", "pkg/sendonce_forms_wasm.js", "pkg/error.js", "pkg/payload.js", "pkg/platform.js"] },
};
const rows = {};
const exists = (p) => existsSync(new URL(`../${p}`, import.meta.url));
for (const [prefix, files] of Object.entries(entries)) {
  // A package built before an entry existed (a "before" row of the benchmark) has no files.
  if (![...files.wasm, ...files.js.slice(0, 3)].every(exists)) continue;
  for (const [name, paths] of Object.entries(files)) {
    const bytes = Buffer.concat(paths.filter(exists).map((p) => readFileSync(new URL(`../${p}`, import.meta.url))));
    rows[prefix + name] = {
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 9 }).length,
      brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
  }
  rows[`${prefix}total`] = Object.fromEntries(
    ["raw", "gzip", "brotli"].map((k) => [k, rows[`${prefix}wasm`][k] + rows[`${prefix}js`][k]]),
  );
}
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(rows));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log("package size      raw        gzip -9    brotli");
  for (const [name, r] of Object.entries(rows)) {
    console.log(`  ${name.padEnd(14)}  ${kb(r.raw).padEnd(9)}  ${kb(r.gzip).padEnd(9)}  ${kb(r.brotli)}`);
  }
}
