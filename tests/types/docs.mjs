// Type-checks every JavaScript / TypeScript code block of README.md and the package README
// (js/README.md) against the built package (pkg/), with `tsc` in strict mode, lib ES2022 +
// DOM and skipLibCheck off, so the docs cannot drift from the API.
//
// Each block is its own module (`target/doc-types/<readme>-<line>.ts`, `.tsx` for tsx/jsx
// blocks); names a snippet uses without defining (`statusElement`, `render`, `callBackend`)
// are declared in tests/types/docs-globals.d.ts. A block preceded by the line
// `<!-- types: skip -->` is left out (say why next to it). Errors are printed with the README
// line they come from. Usage: node tests/types/docs.mjs
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const out = `${root}target/doc-types/`;
const readmes = { readme: "README.md", package: "js/README.md" };

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const files = [];
const origin = new Map();
for (const [name, path] of Object.entries(readmes)) {
  const lines = readFileSync(root + path, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(js|javascript|ts|typescript|jsx|tsx|mjs)\s*$/);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith("```")) end++;
    const skip = lines[i - 1]?.trim() === "<!-- types: skip -->";
    if (!skip) {
      const ext = ["jsx", "tsx"].includes(open[1]) ? "tsx" : "ts";
      const file = `${name}-${start + 1}.${ext}`;
      // `export {}` makes each block a module (top-level await, no clashes between blocks).
      writeFileSync(out + file, lines.slice(start, end).join("\n") + "\nexport {};\n");
      files.push(file);
      origin.set(file, { path, line: start + 1 });
    }
    i = end;
  }
}
if (files.length === 0) {
  console.error("no code blocks found: is the README there?");
  process.exit(1);
}
writeFileSync(
  out + "tsconfig.json",
  JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "bundler",
        lib: ["ES2022", "DOM", "DOM.Iterable"],
        skipLibCheck: false,
        jsx: "react-jsx",
        // Node's own types: the bot examples run in Node (and `require` is Node's).
        types: ["node"],
        typeRoots: [`${root}node_modules/@types`],
        baseUrl: root,
        paths: {
          sendonce: ["pkg/sendonce.d.ts"],
          "sendonce/react": ["pkg/react.d.ts"],
          "sendonce/redis": ["pkg/redis.d.ts"],
          "sendonce/grammy": ["pkg/grammy.d.ts"],
          "sendonce/bolt": ["pkg/bolt.d.ts"],
          "sendonce/forms": ["pkg/forms.d.ts"],
          "sendonce/htmx": ["pkg/htmx.d.ts"],
          "sendonce/sw": ["pkg/sw.d.ts"],
          "sendonce/package.json": ["pkg/package.json"],
        },
      },
      files: [...files, `${root}tests/types/docs-globals.d.ts`, `${root}tests/types/shims.d.ts`],
    },
    null,
    2,
  ),
);
const tsc = spawnSync(`${root}node_modules/.bin/tsc`, ["-p", `${out}tsconfig.json`, "--pretty", "false"], {
  encoding: "utf8",
});
const report = (tsc.stdout + tsc.stderr).replace(
  /(?:^|\n)(?:[^\n]*\/)?((?:readme|package)-\d+\.tsx?)\((\d+),(\d+)\)/g,
  (m, file, line, col) => {
    const o = origin.get(file);
    return o ? `\n${o.path}:${o.line + Number(line) - 1}:${col}` : m;
  },
);
if (tsc.status !== 0) {
  console.error(report.trim());
  console.error(`\n${files.length} code blocks checked: the docs do not type-check against pkg/`);
  process.exit(1);
}
console.log(`${files.length} code blocks of ${Object.values(readmes).join(" and ")} type-check against pkg/`);
