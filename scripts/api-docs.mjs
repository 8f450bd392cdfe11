// Writes the "API reference" of the package README (js/README.md, between the
// `<!-- api:start -->` and `<!-- api:end -->` lines) from the built package's TypeScript types
// (pkg/*.d.ts), with the TypeScript compiler's own parser: every exported class, function,
// interface and type, each member's signature and the first paragraph of its doc comment.
// With --check it writes nothing and fails when the README is not up to date (the tests
// run it that way). Usage: node scripts/api-docs.mjs [--check]
import { readFileSync, writeFileSync } from "node:fs";
import ts from "typescript";

const root = new URL("../", import.meta.url);
const entries = [
  ["sendonce", ["pkg/sendonce_wasm.d.ts", "pkg/error.d.ts"]],
  ["sendonce/react", ["pkg/react.d.ts"]],
  ["sendonce/htmx", ["pkg/htmx.d.ts"]],
  ["sendonce/redis", ["pkg/redis.d.ts"]],
  ["sendonce/grammy", ["pkg/grammy.d.ts"]],
  ["sendonce/bolt", ["pkg/bolt.d.ts"]],
  ["sendonce/sw", ["pkg/sw.d.ts"]],
];
// Inline code: doubled backticks around text that has one (template literal types).
const code = (s) => (s.includes("`") ? `\`\` ${s} \`\`` : `\`${s}\``);
const oneLine = (s) => s.replace(/\s+/g, " ").replace(/\( /g, "(").replace(/ \)/g, ")").trim();

function doc(node) {
  const tags = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = tags.map((t) => (typeof t.comment === "string" ? t.comment : ts.getTextOfJSDocComment(t.comment) ?? "")).join("\n");
  return oneLine(text.split(/\n\s*\n/)[0] ?? "");
}

function signature(member, source) {
  let text = member.getText(source);
  // Drop the body of a declaration with one (there is none in .d.ts) and the doc comment.
  text = text.replace(/;\s*$/, "");
  return oneLine(text);
}

function section(title, files) {
  const out = [`### \`${title}\``, ""];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(new URL(file, root), "utf8"), ts.ScriptTarget.Latest, true);
    for (const node of source.statements) {
      const exported = ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export;
      if (!exported || !node.name) continue;
      const name = node.name.getText(source);
      if (["InitInput", "InitOutput", "SyncInitInput"].includes(name)) continue;
      const what = ts.isClassDeclaration(node)
        ? "class"
        : ts.isInterfaceDeclaration(node)
          ? "interface"
          : ts.isTypeAliasDeclaration(node)
            ? "type"
            : ts.isFunctionDeclaration(node)
              ? "function"
              : null;
      if (!what) continue;
      if (what === "function") {
        if (name === "initSync") continue;
        const sig = signature(node, source).replace(/^export (declare )?/, "");
        if (sig.startsWith("default function __wbg_init")) {
          // The generated name of the default export: users import it as `init`.
          out.push(`- ${code(sig.replace(/^default function __wbg_init ?/, "init"))} (the default export)`);
          out.push("  Loads and instantiates the wasm module, once; call it (and await it) before anything else. In Node the package's entry reads the `.wasm` from disk. Resolves with `{ memory }`, the module's memory (its size: `memory.buffer.byteLength`).");
          continue;
        }
        out.push(`- ${code(sig)}`);
        const d = doc(node);
        if (d) out.push(`  ${d}`);
        continue;
      }
      out.push(`#### ${what} \`${name}\``, "");
      const d = doc(node);
      if (d) out.push(d, "");
      if (what === "type") {
        out.push(code(oneLine(node.type.getText(source)).replace(/^\| /, "")), "");
        continue;
      }
      for (const member of node.members) {
        if (member.modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) continue;
        if (ts.isConstructorDeclaration(member) && name !== "Sendonce" && name !== "SendonceError") continue;
        const sig = signature(member, source);
        if (sig === "free(): void") continue;
        const md = doc(member);
        out.push(`- ${code(sig)}${md ? ` ${md}` : ""}`);
      }
      out.push("");
    }
  }
  return out.join("\n");
}

const api = entries.map(([title, files]) => section(title, files)).join("\n");
const readmeUrl = new URL("js/README.md", root);
const readme = readFileSync(readmeUrl, "utf8");
const start = "<!-- api:start -->\n";
const end = "<!-- api:end -->";
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) {
  console.error("js/README.md has no <!-- api:start --> ... <!-- api:end --> block");
  process.exit(1);
}
const next = readme.slice(0, a + start.length) + api.trim() + "\n" + readme.slice(b);
if (process.argv.includes("--check")) {
  if (next !== readme) {
    console.error("js/README.md: the API reference is not up to date with pkg/*.d.ts: run node scripts/api-docs.mjs");
    process.exit(1);
  }
  console.log("js/README.md: the API reference matches the package's types");
} else {
  writeFileSync(readmeUrl, next);
}
