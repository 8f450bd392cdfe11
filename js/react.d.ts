// Types of `sendonce/react`.
import type {
  ActionOptions,
  ChatMessage,
  ChatOptions,
  FormOptions,
  QuickRepliesOptions,
  Reply,
  SendInit,
  Sendonce,
  Status,
} from "./sendonce.js";

/** `useAction()` options: where to send, plus the options of `so.action()`. */
export interface UseActionOptions extends ActionOptions {
  /** Where `send()` sends the payload. */
  url: string;
  /** `method` (default "POST") and `headers` of the request. */
  init?: SendInit;
}

/** What `useAction()` returns. */
export interface ActionState<T = unknown> {
  /** The action's status, `{ code, text }`; `idle` before the first send. */
  status: Status;
  /** The idempotency key, once the action exists (from the first `send()` on). */
  key: string | null;
  /** The reply, once the action rests. */
  reply: Reply<T> | null;
  /** A `SendonceError` (bad input) the last send was refused with, else null. */
  error: unknown;
  /** Sends the hook's payload, or `payload` when given (react-hook-form's `handleSubmit`
   * data), or joins the send in flight with the same data: call it in the event handler. */
  send(payload?: unknown): Promise<Reply<T>>;
  /** Sends again with the same key (after "offline" or "failed"). */
  retry(): Promise<Reply<T>>;
}

/**
 * One action: `send()` in a click handler sends `payload` as the action `name` once (clicks
 * while it runs join it, with the same key); the component re-renders with `status`, `key`
 * and `reply`. A remount while it runs shows the same action. Pass `undefined` as `payload`
 * to give the data to `send(data)` instead.
 */
export function useAction<T = unknown>(
  so: Sendonce,
  name: string,
  payload: unknown,
  options: UseActionOptions,
): ActionState<T>;

/** What `useSendonceForm()` returns. */
export interface FormState {
  /** Pass to the `<form>`: the binding lives while the form is mounted. */
  ref: (form: HTMLFormElement | null) => void | (() => void);
  status: Status;
  /** The key of the form's current action, if it has one. */
  key: string | null;
  /** The last reply. */
  reply: Reply | null;
}

/** A form bound with `so.form()` while it is mounted; options are read when it mounts. */
export function useSendonceForm(so: Sendonce, options: FormOptions): FormState;

/** What `useChat()` returns. */
export interface ChatState {
  /** The messages, each with `status`, `code` and a calm `statusText`. */
  messages: ChatMessage[];
  /** The chat object itself (`streamReply`, `conversationId`). */
  chat: import("./sendonce.js").Chat;
  /** Sends `text`; returns the message id at once. */
  send(text: string, extra?: Record<string, unknown>): string;
  retry(id: string): boolean;
  discard(id: string): boolean;
  receive(message: { id: string; text?: string; [field: string]: unknown }): void;
}

/** A chat outbox, one per conversation and `Sendonce` instance. */
export function useChat(so: Sendonce, options: ChatOptions): ChatState;

/** Where a quick reply stands. */
export type QuickReplyStatus = "idle" | "running" | "done" | "error";

/** What `useQuickReply()` returns. */
export interface QuickReplyState<T = unknown> {
  status: QuickReplyStatus;
  /** The key the handler gets (the first-run key until a run says otherwise). */
  key: string;
  /** The handler's result (or the stored one of a repeat). */
  result: T | undefined;
  /** What the handler threw, else null. */
  error: unknown;
  /** Runs the quick reply (or joins the run in flight): call it in the click handler. */
  run(): Promise<T>;
}

/** A quick reply: `run()` calls `handler(key)` once per quick reply and window. */
export function useQuickReply<T = unknown>(
  so: Sendonce,
  options: QuickRepliesOptions,
  actionKey: string,
  handler: (key: string) => T | Promise<T>,
): QuickReplyState<T>;
