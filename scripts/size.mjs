// Prints the size of the built package: the .wasm and the JS glue, raw, gzip -9 and brotli.
// With --json, prints the same figures as JSON (the benchmark reads them).
import { readFileSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

// The JS a page loads with the main entry: the entry, the generated glue and the error class.
const files = {
  wasm: ["pkg/sendonce_bg.wasm"],
  js: ["pkg/sendonce.js", "pkg/sendonce_wasm.js", "pkg/error.js"],
};
const rows = {};
for (const [name, paths] of Object.entries(files)) {
  const bytes = Buffer.concat(paths.map((p) => readFileSync(new URL(`../${p}`, import.meta.url))));
  rows[name] = {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}
rows.total = Object.fromEntries(["raw", "gzip", "brotli"].map((k) => [k, rows.wasm[k] + rows.js[k]]));
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(rows));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log("package size      raw        gzip -9    brotli");
  for (const [name, r] of Object.entries(rows)) {
    console.log(`  ${name.padEnd(14)}  ${kb(r.raw).padEnd(9)}  ${kb(r.gzip).padEnd(9)}  ${kb(r.brotli)}`);
  }
}
