// The package entry: the generated wasm glue (./sendonce_wasm.js) with what the glue cannot
// say on its own: `SendonceError` as a class users can import (the wasm throws instances of
// this very class), and a clear `not_initialized` error when the API is used before
// `await init()` instead of "Cannot read properties of undefined".
import wasmInit, * as wasm from "./sendonce_wasm.js";
import { SendonceError } from "./error.js";

export * from "./sendonce_wasm.js";
export { SendonceError };

let ready = false;

function notInitialized(what) {
  return new SendonceError(
    "not_initialized",
    `${what} was called before \`await init()\` finished: call \`await init()\` once, before anything else`,
  );
}

/**
 * Loads and instantiates the wasm module (once; later calls return the same instance). In a
 * page it fetches `sendonce_bg.wasm` next to this module; pass `{ module_or_path }` to load it
 * from elsewhere.
 */
export default async function init(input) {
  const exports = await wasmInit(input);
  ready = true;
  return exports;
}

/** Instantiates the module synchronously from bytes or a compiled `WebAssembly.Module`. */
export function initSync(input) {
  const exports = wasm.initSync(input);
  ready = true;
  return exports;
}

/** How sendonce reads one server reply (`sendonce check` uses it); see the package README. */
export function classifyReply(status, headers, body, replayHeader, page) {
  if (!ready) throw notInitialized("classifyReply()");
  return wasm.classifyReply(status, headers, body, replayHeader, page);
}

/** A request checked by sendonce's rules (`sendonce check` uses it); see the package README. */
export function checkRequest(method, headers) {
  if (!ready) throw notInitialized("checkRequest()");
  return wasm.checkRequest(method, headers);
}

/** The entry point of the API; see the package README. */
export class Sendonce extends wasm.Sendonce {
  constructor(options) {
    if (!ready) throw notInitialized("new Sendonce()");
    super(options);
  }
}
