// A second, separate instance of the wasm module in this Node process: its own memory and its
// own in-process registries, like another bot process. Only the storage adapter is shared.
import { readFile } from "node:fs/promises";

let count = 0;

/** The `Sendonce` class of a fresh module instance. */
export async function otherProcess() {
  count += 1;
  const mod = await import(`../../../pkg/sendonce.js?process=${count}`);
  mod.initSync({ module: await readFile(new URL("../../../pkg/sendonce_bg.wasm", import.meta.url)) });
  return mod.Sendonce;
}
