/** The stable codes of `SendonceError`. */
export type SendonceErrorCode =
  | "invalid_option"
  | "invalid_key"
  | "invalid_window"
  | "invalid_payload"
  | "payload_too_large"
  | "weak_random"
  | "not_initialized"
  | "storage"
  | "disposed"
  | "invalid_hook"
  | "http_error"
  | "network"
  | "aborted";

/**
 * A clear error about bad input or misuse, thrown before anything is sent or stored (a method
 * that returns a Promise rejects with it instead). Every error sendonce throws is an instance:
 * `err instanceof SendonceError` works.
 */
export declare class SendonceError extends Error {
  constructor(code: SendonceErrorCode, message: string);
  readonly name: "SendonceError";
  /** What went wrong, stable across versions: switch on this, not on `message`. */
  readonly code: SendonceErrorCode;
}
