import type { Sendonce, WindowSpec } from "./sendonce.js";

export interface SendonceBoltOptions {
  /** How long a handled event_id is recognised. Default "1h". */
  eventWindow?: WindowSpec;
  /** How long a button's result answers repeat clicks. Default "10s". */
  actionWindow?: WindowSpec;
  /** What makes two clicks the same; default: message ts, block_id, action_id and value. */
  actionKey?: (body: any) => string;
}

/** The parts of Bolt's middleware arguments the middleware reads and writes. */
export interface BoltMiddlewareArgsLike {
  body: any;
  context: Record<string, any> & { sendonceKey?: string; sendonceRepeat?: boolean };
  next: () => Promise<void>;
  ack?: (response?: any) => Promise<void>;
}

/**
 * Bolt global middleware: an event Slack retries (same event_id) is acknowledged and not
 * handled again; a block_actions button runs once per button and window. Listeners read the
 * key from `context.sendonceKey`. `app.use(sendonceBolt(so))`.
 */
export function sendonceBolt(
  so: Sendonce,
  options?: SendonceBoltOptions,
): (args: BoltMiddlewareArgsLike) => Promise<void>;
export default sendonceBolt;
