// The download figures of issue 21 (scripts/size.mjs) and what must stay out of the wasm.
// Needs pkg/ (./scripts/build.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const pkg = (name) => new URL(`../../pkg/${name}`, import.meta.url);
const sizes = () => JSON.parse(execFileSync(process.execPath, [new URL("../../scripts/size.mjs", import.meta.url).pathname, "--json"], { encoding: "utf8" }));

test("each entry's download counts every file the entry imports and its wasm, each gzipped on its own", () => {
  const all = sizes();
  for (const [name, entry, wasm] of [
    ["sendonce", "sendonce.js", "sendonce_bg.wasm"],
    ["sendonce/forms", "forms.js", "sendonce_forms_bg.wasm"],
  ]) {
    const r = all[name];
    assert.ok(r, `${name} is measured`);
    const files = r.files.map((f) => f.file);
    assert.equal(files[0], entry);
    assert.ok(files.includes(wasm), `${name} counts ${wasm}`);
    // Every relative import of every counted JS file is counted too (read independently of
    // the script's import graph).
    for (const file of files.filter((f) => f.endsWith(".js"))) {
      const text = readFileSync(pkg(file), "utf8");
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.\/[^"']+)["']/g)) {
        assert.ok(files.includes(spec.slice(2)), `${name}: ${file} imports ${spec}, which is counted`);
      }
    }
    // The figure is the sum of each file's own gzip -9 (as a server sends them), not one
    // archive of all of them.
    const sum = files.reduce((n, f) => n + gzipSync(readFileSync(pkg(f)), { level: 9 }).length, 0);
    assert.equal(r.total.gzip, sum);
    assert.equal(r.total.gzip, r.wasm.gzip + r.js.gzip);
    assert.equal(r.target, { sendonce: 64_000, "sendonce/forms": 48_000 }[name]);
  }
});

test("the package README's \"Which to import\" table states each entry's download as measured (within 1 KB)", () => {
  const all = sizes();
  const readme = readFileSync(pkg("README.md"), "utf8");
  for (const name of ["sendonce", "sendonce/forms"]) {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`${name}\` |`));
    assert.ok(row, `the table has a row for ${name}`);
    const stated = Number(row.match(/\| (\d+) KB \|$/)?.[1]);
    const measured = all[name].total.gzip / 1000;
    assert.ok(Math.abs(stated - measured) <= 1, `${name}: the README says ${stated} KB, the build measures ${measured.toFixed(1)} KB`);
  }
});

test("the wasm carries no str slicing panic (its message, char Debug and Unicode tables) and no tool sections", () => {
  for (const wasm of ["sendonce_bg.wasm", "sendonce_forms_bg.wasm"]) {
    const bytes = readFileSync(pkg(wasm));
    // A range index on a str (`&s[..n]`) links `str::slice_error_fail`, whose message is this.
    assert.equal(bytes.includes("is not a char boundary"), false, `${wasm} links the str slicing panic`);
    // Custom sections read by tools only (stripped by build.sh's wasm-opt).
    assert.equal(bytes.includes("producers"), false, `${wasm} keeps its producers section`);
    assert.equal(bytes.includes("target_features"), false, `${wasm} keeps its target_features section`);
  }
});
