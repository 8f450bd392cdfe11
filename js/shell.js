// The shell: carries out what the wasm decided, for one action's run at a time. The wasm
// answers every step with a command (`["fetch", ...]`, `["hook", ...]`, `["sleep", ...]`,
// `["wait", promise]`) or `undefined` when the run rests; the shell carries it out with the
// platform's objects and hands the result to the next step. It decides nothing: what to send,
// how long to wait, what a reply means and what comes next are the wasm's (src/driver/action.rs,
// over the core's machine). None of these promises rejects.
import { attempt, callSafely, settle, sleepUnless, threw } from "./platform.js";

/**
 * Runs `run` (a wasm `ActionRun`) until it rests, then frees it. Starts after the caller
 * returns, as a task the wasm spawned would.
 */
export async function drive(run) {
  try {
    await undefined;
    let done;
    for (let command = run.step(done); command !== undefined; command = run.step(done)) {
      done = await carryOut(command);
    }
  } finally {
    run.free();
  }
}

function carryOut([op, a, b, c, d, e, f]) {
  switch (op) {
    case "fetch":
      return attempt(a, b, c, d, e, f);
    case "hook": {
      // The caller's `headers` hook with the attempt's details, awaited for at most `c` ms.
      const value = callSafely(a, null, 1, b);
      return threw() ? { ok: false, error: value } : settle(value, c);
    }
    case "sleep":
      return sleepUnless(a, b, c);
    default:
      // "wait": a write the wasm started (over a storage adapter).
      return a;
  }
}
