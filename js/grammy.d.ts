import type { Sendonce, WindowSpec } from "./sendonce.js";

/**
 * What the middleware puts on the context for the handlers below it, as a grammY context
 * flavor: `type MyContext = Context & SendonceContextFlavor; new Bot<MyContext>(token)`, then
 * `ctx.sendonce?.key` in a handler.
 */
export interface SendonceContextFlavor {
  sendonce?: {
    /** The idempotency key of this update or button tap: pass it to your backend. */
    key: string;
    /** True when this tap repeated one already handled (the handlers were not called). */
    repeat: boolean;
  };
}

/** The parts of a grammY context the middleware reads. */
export interface GrammyContextLike {
  update: { update_id: number };
  me?: { id: number };
  chat?: { id: number | string };
  callbackQuery?: {
    id: string;
    data?: string;
    game_short_name?: string;
    inline_message_id?: string;
    message?: { message_id: number };
    from?: { id: number };
  };
  answerCallbackQuery?: (other?: { text?: string } | string) => Promise<unknown>;
}

export interface SendonceGrammyOptions {
  /** How long a handled update_id is recognised. Default "1h". */
  updateWindow?: WindowSpec;
  /** How long a button's result answers repeat taps. Default "10s". */
  buttonWindow?: WindowSpec;
  /**
   * What makes two taps the same button; default: the message id and the callback data.
   * Return a list of parts (encoded as a JSON array: any character in them is safe, newlines
   * included) or a string (used as it is: 1..=16384 bytes, no newline).
   */
  buttonKey?: (ctx: any) => string | ReadonlyArray<string | number | boolean | null>;
  /** Text shown to the user on a repeated tap (answerCallbackQuery). Default: none. */
  repeatText?: string;
}

/**
 * grammY middleware: a redelivered update (same update_id) is not handled again; a
 * callback_query button runs its handlers once per button and window, and every tap is
 * answered exactly once: a repeat at once, a handler that did not answer (or threw) when it
 * ends. `bot.use(sendonceGrammy(so))`.
 */
export function sendonceGrammy<C extends GrammyContextLike & SendonceContextFlavor>(
  so: Sendonce,
  options?: SendonceGrammyOptions,
): (ctx: C, next: () => Promise<void>) => Promise<void>;
export default sendonceGrammy;
