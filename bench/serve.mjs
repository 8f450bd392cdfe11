// The benchmark pages' file server, shared by bench/run.mjs, ab.mjs and profile.mjs: every
// reply cross-origin isolated (COOP/COEP), so that `performance.now()` has its fine (5 us)
// resolution in the page, and never cached.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { normalize } from "node:path";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/**
 * Serves on a free local port the file `fileFor(path)` names for a URL path (normalised; a
 * path with `..` is never asked), or 404 where it answers null. Resolves with `{ base, close }`.
 */
export async function serveFiles(fileFor) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    try {
      if (path === "/favicon.ico") return res.writeHead(204).end();
      const file = path.includes("..") ? null : fileFor(path);
      if (!file) throw new Error("not served");
      const body = await readFile(file);
      res.writeHead(200, {
        "Content-Type": TYPES[path.slice(path.lastIndexOf("."))] || "application/octet-stream",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cache-Control": "no-store",
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
