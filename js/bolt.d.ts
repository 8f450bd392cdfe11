import type { Sendonce, WindowSpec } from "./sendonce.js";

export interface SendonceBoltOptions {
  /** How long a handled event_id is recognised. Default "1h". */
  eventWindow?: WindowSpec;
  /** How long a button's result answers repeat clicks. Default "10s". */
  actionWindow?: WindowSpec;
  /**
   * What makes two clicks the same; default: message ts, block_id, action_id and value. Return
   * a list of parts (encoded as a JSON array: any character in them is safe) or a string
   * (used as it is: 1..=16384 bytes, no newline).
   */
  actionKey?: (body: any) => string | ReadonlyArray<string | number | boolean | null>;
}

/** The parts of Bolt's middleware arguments the middleware reads and writes. */
export interface BoltMiddlewareArgsLike {
  body: any;
  context: Record<string, any> & {
    /** The idempotency key of this event or click: pass it to your backend. */
    sendonceKey?: string;
    /** True when this event or click repeated one already handled (listeners not called). */
    sendonceRepeat?: boolean;
    /** True when the middleware acknowledged this click already (it waited on a run elsewhere
     * whose process died, and then ran the listener): the listener's ack() is a second one. */
    sendonceAcked?: boolean;
  };
  next: () => Promise<void>;
  ack?: (response?: any) => Promise<void>;
}

/**
 * Bolt global middleware: an event Slack retries (same event_id) is acknowledged and not
 * handled again; a block_actions button runs once per button and window, and every click
 * that does not run the listener (a repeat, or a click while the first one's listener runs,
 * here or on another process) is acknowledged at once. Listeners read the key from
 * `context.sendonceKey`. `app.use(sendonceBolt(so))`.
 */
export function sendonceBolt(
  so: Sendonce,
  options?: SendonceBoltOptions,
): (args: BoltMiddlewareArgsLike) => Promise<void>;
export default sendonceBolt;
