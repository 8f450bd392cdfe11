// The one error class of sendonce. The wasm module throws instances of this very class (it
// imports it), and the package entry exports it, so `err instanceof SendonceError` works for
// every error sendonce throws or rejects with.

/** A clear error about bad input or misuse: `name` is "SendonceError", `code` is stable. */
export class SendonceError extends Error {
  /**
   * @param {string} code A stable code, e.g. "invalid_option".
   * @param {string} message What went wrong, for people.
   */
  constructor(code, message) {
    super(message);
    this.name = "SendonceError";
    this.code = code;
  }
}
