// The package entry's types: the generated API (./sendonce_wasm.js), `init`, and the
// `SendonceError` class with the union of its codes.
export * from "./sendonce_wasm.js";
export { default, initSync } from "./sendonce_wasm.js";
export { SendonceError, type SendonceErrorCode } from "./error.js";
