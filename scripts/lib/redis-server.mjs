// Starts Debian's redis-server on a free loopback port, without persistence, for the bot tests
// and the bot chaos run; `stop()` ends it (only the process started here).
import { spawn } from "node:child_process";
import { createServer, connect } from "node:net";

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before use). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" }, () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

/** Starts redis-server (`--save '' --appendonly no`) on `port` (a free one by default). */
export async function startRedis({ port } = {}) {
  port ??= await freePort();
  const child = spawn(
    "redis-server",
    ["--save", "", "--appendonly", "no", "--port", String(port), "--bind", "127.0.0.1"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const spawnError = new Promise((resolve) => child.once("error", resolve));
  for (let i = 0; i < 100; i += 1) {
    if (await canConnect(port)) break;
    const failed = await Promise.race([spawnError, new Promise((r) => setTimeout(() => r(null), 50))]);
    if (failed) {
      throw new Error(`could not start redis-server (${failed.message}); ./scripts/setup.sh installs it`);
    }
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${stderr}`);
  }
  if (!(await canConnect(port))) throw new Error(`redis-server did not listen on port ${port}`);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    child,
    /** Ends the server (SIGKILL with `{ kill: true }`, as when Redis goes away). */
    async stop({ kill = false } = {}) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(kill ? "SIGKILL" : "SIGTERM");
      await exited;
    },
  };
}
