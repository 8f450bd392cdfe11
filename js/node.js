// The Node entry of the package: the same module, initialised from the wasm bytes on disk
// (Node has no fetch of file: URLs), so `await init()` works the same in a bot server.
import { readFile } from "node:fs/promises";
import webInit, { initSync } from "./sendonce.js";

export * from "./sendonce.js";

/** Initialises the module from the .wasm next to this file (or from given bytes). */
export default async function init(input) {
  if (input !== undefined) return webInit(input);
  const bytes = await readFile(new URL("./sendonce_bg.wasm", import.meta.url));
  return initSync({ module: bytes });
}
