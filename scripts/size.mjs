// Prints what a page downloads for each browser entry of the built package, the way issue 21's
// table measures it: the entry's JS closure (the entry file and every JS file it imports,
// transitively, static and dynamic imports alike) plus every wasm those files load
// (`new URL("..wasm", import.meta.url)`), each file gzipped on its own at level 9, as a server
// sends it, and the gzip sizes summed. The closure is read from the files themselves (esbuild's
// import graph, the entry resolved through pkg/package.json's `exports`), so a file a later
// change adds to an entry is counted without editing this script.
//
// Usage: node scripts/size.mjs [--json] [--files] [--dir DIR]
//   --json   the figures as JSON (bench/run.mjs reads them)
//   --files  each file of each closure with its own figures
//   --dir    a built package elsewhere (default pkg/), to compare two builds
// KB = 1,000 B throughout (the unit of issue 21's targets).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const dirArg = args.indexOf("--dir");
const pkg = resolve(dirArg >= 0 ? args[dirArg + 1] : join(root, "pkg"));

/** The download figures' targets (issue 21), in bytes. */
const TARGETS = { sendonce: 64_000, "sendonce/forms": 48_000 };
/** The browser entries measured: package specifier -> `exports` key. */
const ENTRIES = { sendonce: ".", "sendonce/forms": "./forms" };

function entryFile(key) {
  const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
  const target = manifest.exports?.[key];
  // What a bundler or a page resolves for a browser: the `default` (or `browser`) condition.
  const file = typeof target === "string" ? target : (target?.browser ?? target?.default);
  return file ? join(pkg, file) : null;
}

/** Every local JS file reachable from `entry`, with how each was first reached. */
async function closure(entry) {
  const { build } = await import("esbuild");
  const { metafile } = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "browser",
    splitting: true,
    outdir: join(pkg, ".size-out"),
    logLevel: "silent",
    // Bare specifiers (react, node:...) are the page's own, not this package's bytes.
    plugins: [{ name: "bare", setup: (b) => b.onResolve({ filter: /^[^./]/ }, (a) => ({ path: a.path, external: true })) }],
  });
  const inputs = metafile.inputs;
  const abs = (p) => resolve(process.cwd(), p);
  const seen = new Map([[abs(Object.keys(inputs).find((p) => abs(p) === entry) ?? entry), "entry"]]);
  const queue = [...seen.keys()];
  while (queue.length) {
    const file = queue.shift();
    const key = Object.keys(inputs).find((p) => abs(p) === file);
    for (const imp of key ? inputs[key].imports : []) {
      if (imp.external) continue;
      const next = abs(imp.path);
      if (!seen.has(next)) {
        seen.set(next, imp.kind === "dynamic-import" ? "dynamic import" : "import");
        queue.push(next);
      }
    }
  }
  // The wasm each file loads next to itself.
  const wasmRef = /new\s+URL\(\s*(["'`])([^"'`]+\.wasm)\1\s*,\s*import\.meta\.url\s*\)/g;
  for (const file of [...seen.keys()]) {
    for (const [, , name] of readFileSync(file, "utf8").matchAll(wasmRef)) {
      const wasm = resolve(dirname(file), name);
      if (!existsSync(wasm)) throw new Error(`${relative(pkg, file)} loads ${name}, which is not in the package`);
      if (!seen.has(wasm)) seen.set(wasm, "wasm");
    }
  }
  return seen;
}

const gzip = (b) => gzipSync(b, { level: 9 }).length;
const brotli = (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

const result = {};
for (const [name, key] of Object.entries(ENTRIES)) {
  const entry = entryFile(key);
  if (!entry || !existsSync(entry)) continue; // a package built before the entry existed
  const files = [];
  for (const [file, how] of await closure(entry)) {
    const bytes = readFileSync(file);
    files.push({ file: relative(pkg, file), how, raw: bytes.length, gzip: gzip(bytes), brotli: brotli(bytes) });
  }
  if (!files.some((f) => f.file.endsWith(".wasm"))) throw new Error(`${name}: no wasm in the entry's closure`);
  const sum = (pick, k) => files.filter(pick).reduce((n, f) => n + f[k], 0);
  const isWasm = (f) => f.file.endsWith(".wasm");
  const part = (pick) => ({ raw: sum(pick, "raw"), gzip: sum(pick, "gzip"), brotli: sum(pick, "brotli") });
  result[name] = {
    wasm: part(isWasm),
    js: part((f) => !isWasm(f)),
    total: part(() => true),
    target: TARGETS[name],
    files,
  };
}

if (args.includes("--json")) {
  console.log(JSON.stringify(result));
} else {
  const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
  console.log("download per entry (its JS closure + wasm, each file gzip -9 as served, summed; KB = 1,000 B)");
  console.log("  entry            files  raw        gzip -9    (wasm + JS)          brotli     target");
  for (const [name, r] of Object.entries(result)) {
    const split = `${kb(r.wasm.gzip)} + ${kb(r.js.gzip)}`;
    const verdict = `<= ${kb(r.target)} ${r.total.gzip <= r.target ? "met" : "NOT MET"}`;
    console.log(
      `  ${name.padEnd(16)} ${String(r.files.length).padEnd(6)} ${kb(r.total.raw).padEnd(10)} ${kb(r.total.gzip).padEnd(10)} ${split.padEnd(20)} ${kb(r.total.brotli).padEnd(10)} ${verdict}`,
    );
    if (args.includes("--files")) {
      for (const f of r.files) console.log(`      ${f.file.padEnd(28)} ${String(f.raw).padStart(8)} B  gzip ${String(f.gzip).padStart(7)} B  (${f.how})`);
    }
  }
}
