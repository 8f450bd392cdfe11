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
  SendonceError,
  Status,
} from "./sendonce.js";

/**
 * What happens when a send settles, as TanStack Query's mutations have it. A callback that
 * throws is reported (an uncaught error in the console), never breaking the hook.
 */
export interface SettleCallbacks<R, E = SendonceError | Status> {
  /** The server has it: the reply's outcome is `done` or `already_received`. */
  onSuccess?: (reply: R) => void;
  /** Refused before anything was sent (a `SendonceError`, `reply` null), or ended without
   * the server's confirmation: then `error` is the status the action rests in (`{ code,
   * text }`: "offline", "failed", "rejected", "changed", "uncertain"; its text is calm and
   * ready to show) and `reply` what the server answered, if anything. */
  onError?: (error: E, reply: R | null) => void;
  /** After `onSuccess` or `onError`: the reply (or null) and the error (or null). */
  onSettled?: (reply: R | null, error: E | null) => void;
}

/** `useAction()` options: where to send, the options of `so.action()`, and what to do when a
 * send settles. */
export interface UseActionOptions<T = unknown> extends Omit<ActionOptions, "again">, SettleCallbacks<Reply<T>> {
  /** Where `send()` sends the payload. */
  url: string;
  /** `method` (default "POST"), `headers` and `signal` of the request (an `AbortSignal`
   * cancels the send: it rejects with "aborted" and the action keeps its key). */
  init?: SendInit;
}

/** `buttonProps()`'s options. */
export interface ButtonPropsOptions {
  /** A submit button of a form that sends on submit (react-hook-form's `handleSubmit`): its
   * click only guards (a click while a send is under way submits nothing). Default false: a
   * click sends. */
  submit?: boolean;
  /** Your own click handler, called first when the click is not swallowed; calling
   * `event.preventDefault()` in it stops the send. */
  onClick?: (event: ButtonClick) => void;
}

/** The part of a click event `buttonProps()` uses. */
export interface ButtonClick {
  preventDefault(): void;
  readonly defaultPrevented: boolean;
}

/** Props to spread on a `<button>`: guarded with `aria-disabled` and `aria-busy` while the work
 * is under way, never `disabled` (which drops keyboard focus to `<body>`). */
export interface GuardedButtonProps {
  type: "button" | "submit";
  "aria-disabled": boolean;
  "aria-busy": boolean;
  /** Swallows clicks while the work is under way; otherwise starts it (without `submit`). */
  onClick: (event: ButtonClick) => void;
}

/** What `useAction()` returns. */
export interface ActionState<T = unknown> {
  /** The action's status, `{ code, text }`; `idle` before the first send. */
  status: Status;
  /** The idempotency key, once the action exists (from the first `send()` on). */
  key: string | null;
  /** The reply, once the action rests. */
  reply: Reply<T> | null;
  /** The `SendonceError` (bad input: nothing was sent or stored) the last send was refused
   * with, else null. */
  error: SendonceError | null;
  /** True while the send is under way (sending, retrying, accepted, another tab sending). */
  isPending: boolean;
  /** Sends the hook's payload, or `payload` when given (react-hook-form's `handleSubmit`
   * data), or joins the send in flight with the same data: call it in the event handler. It
   * never throws: a refused payload or option rejects the Promise (and shows as `error`). */
  send(payload?: unknown): Promise<Reply<T>>;
  /** "Buy again": sends the same data (the hook's payload, or `payload`) once more on purpose,
   * as a new action with a new key, even inside the window where `send()` would answer "We
   * already received this request" without a request. While a send of that data is under way
   * it joins it, as `send()` does: a double click is one request. */
  again(payload?: unknown): Promise<Reply<T>>;
  /** Sends again with the same key (after "offline" or "failed"). */
  retry(): Promise<Reply<T>>;
  /** Shows nothing again (idle, no reply, no error). A send under way goes on with its key,
   * and the same data inside its window is still answered from the stored result. */
  reset(): void;
  /** Props for the button that sends: `<button {...order.buttonProps()}>Buy</button>`. */
  buttonProps(options?: ButtonPropsOptions): GuardedButtonProps;
}

/**
 * One action: `send()` in a click handler sends `payload` as the action `name` once (clicks
 * while it runs join it, with the same key); the component re-renders with `status`, `key`
 * and `reply`. A remount while it runs shows the same action. Pass `undefined` as `payload`
 * to give the data to `send(data)` instead. An action no component shows any more is freed
 * (its stored record stays), so memory does not grow with the number of sends.
 */
export function useAction<T = unknown>(
  so: Sendonce,
  name: string,
  payload: unknown,
  options: UseActionOptions<T>,
): ActionState<T>;

/** `useSendonceForm()` options: the form's, and what to do when a submission settles. */
export interface UseFormOptions extends FormOptions, SettleCallbacks<Reply, Status> {}

/** What `useSendonceForm()` returns. */
export interface FormState {
  /** Pass to the `<form>`: the binding lives while the form is mounted. */
  ref: (form: HTMLFormElement | null) => void | (() => void);
  status: Status;
  /** The key of the form's current action, if it has one. */
  key: string | null;
  /** The last reply. */
  reply: Reply | null;
  /** The `SendonceError` the form's options were refused with, else null. */
  error: SendonceError | null;
  /** True while a submission is under way. */
  isPending: boolean;
  /** Shows "idle" and no reply again; the form, its draft and its key are kept. */
  reset(): void;
}

/** A form bound with `so.form()` while it is mounted; options are read when it mounts. The
 * binding guards the form's button itself (`aria-disabled`, `aria-busy`). */
export function useSendonceForm(so: Sendonce, options: UseFormOptions): FormState;

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

/** `useQuickReply()` options: the quick replies', and what to do when a run settles. */
export interface UseQuickReplyOptions<T = unknown> extends QuickRepliesOptions {
  /** The handler returned (or the stored result of a repeat came back). */
  onSuccess?: (result: T) => void;
  /** The handler threw or rejected, or the action key was refused (a `SendonceError`). */
  onError?: (error: unknown) => void;
  /** After `onSuccess` or `onError`. */
  onSettled?: (result: T | undefined, error: unknown) => void;
}

/** What `useQuickReply()` returns. */
export interface QuickReplyState<T = unknown> {
  status: QuickReplyStatus;
  /** The key the handler gets (the first-run key until a run says otherwise); null for an
   * action key sendonce refuses. */
  key: string | null;
  /** The handler's result (or the stored one of a repeat). */
  result: T | undefined;
  /** What the handler threw (or the `SendonceError` a bad action key got), else null. */
  error: unknown;
  /** True while the handler runs. */
  isPending: boolean;
  /** Runs the quick reply (or joins the run in flight): call it in the click handler. It
   * never throws: a refused action key rejects the Promise. */
  run(): Promise<T>;
  /** Shows "idle" again; a run under way goes on, and a repeat in the window still gets
   * its stored result. */
  reset(): void;
  /** Props for the button that runs it: `<button {...ticket.buttonProps()}>Open</button>`. */
  buttonProps(options?: ButtonPropsOptions): GuardedButtonProps;
}

/** A quick reply: `run()` calls `handler(key)` once per quick reply and window. */
export function useQuickReply<T = unknown>(
  so: Sendonce,
  options: UseQuickReplyOptions<T>,
  actionKey: string,
  handler: (key: string) => T | Promise<T>,
): QuickReplyState<T>;
