// Typed usage of the public API, compiled with `tsc --noEmit` (strict) against pkg/: a wrong
// option name, status code or callback signature here fails the test run.
import init, {
  Sendonce,
  classifyReply,
  type ReplyClassification,
  SendonceError,
  type SendonceErrorCode,
  type Action,
  type ChatMessage,
  type Form,
  type FormOptions,
  type PendingAction,
  type Reply,
  type SendonceEvent,
  type SendonceEventType,
  type SendonceOptions,
  type SendonceStats,
  type Status,
  type StatusCode,
  type StorageAdapter,
} from "../../pkg/sendonce.js";

const memory = new Map<string, string>();
const adapter: StorageAdapter = {
  get: (k) => memory.get(k),
  set: (k, v) => void memory.set(k, v),
  delete: (k) => void memory.delete(k),
  keys: async (prefix) => [...memory.keys()].filter((k) => k.startsWith(prefix)),
};

const options: SendonceOptions = {
  namespace: "shop",
  storage: "local",
  locale: "pt-BR",
  messages: { done: "Order placed", already_received: "Got it already" },
  headerName: "Idempotency-Key",
  replayHeader: "Idempotent-Replayed",
  keyFormat: "uuid-v7",
  retry: { attempts: 5, baseDelayMs: 300, maxDelayMs: 10_000, timeoutMs: 10_000, deadlineMs: 60_000 },
  windows: { default: "1m", form: "10m", chat: "10s", quickReply: 5000 },
  fetch: globalThis.fetch,
  onEvent: (e: SendonceEvent) => {
    const t: string = e.type;
    const code: StatusCode | undefined = e.code;
    void t, code, e.key, e.attempt, e.ms;
  },
  autoResume: true,
  showServerReason: false,
  maxPayloadBytes: 1_048_576,
};

function explain(e: unknown): SendonceErrorCode | undefined {
  if (e instanceof Error && e.name === "SendonceError") {
    const err = e as SendonceError;
    switch (err.code) {
      case "invalid_payload":
      case "payload_too_large":
      case "weak_random":
        return err.code;
      default:
        return err.code;
    }
  }
  return undefined;
}
void explain;

function label(code: StatusCode): string {
  switch (code) {
    case "idle":
    case "sending":
    case "retrying":
    case "accepted":
    case "elsewhere":
    case "done":
    case "already_received":
    case "offline":
    case "changed":
    case "rejected":
    case "failed":
    case "uncertain":
    case "incomplete":
      return code;
  }
}

export async function main(formElement: HTMLFormElement): Promise<void> {
  await init();
  const so = new Sendonce(options);
  const other = new Sendonce({ storage: adapter });
  other.dispose();

  const action: Action = so.action("createOrder", { item: "tea", qty: 2 }, { window: "10m" });
  const key: string = action.key;
  const status: Status = action.status;
  const off: () => void = action.onStatus((s) => console.log(label(s.code), s.text));
  const reply: Reply = await action.send("/api/orders", { method: "POST", headers: { "X-Trace": "1" } });
  const outcome: StatusCode = reply.outcome;
  const replayed: boolean = reply.replayed;
  const confirmed: boolean = reply.confirmed;
  const busy: boolean = status.underWay || !status.final;
  console.log(confirmed, busy);
  const again: Reply = await action.retry();
  // Per-action retries and a cancel signal (issue 22).
  const slow = so.action("pay", { order: 42 }, { retry: { timeoutMs: 30_000, deadlineMs: 120_000 } });
  const controller = new AbortController();
  const cancelled: Promise<Reply> = slow.send("/api/pay", { signal: controller.signal });
  controller.abort();
  await cancelled.catch((e: unknown) => e instanceof SendonceError && e.code === "aborted");
  // @ts-expect-error: a signal is an AbortSignal (and invalid_option at run time).
  slow.send("/api/pay", { signal: "stop" });
  off();
  action.forget();

  const formOptions: FormOptions = {
    action: "createOrder",
    url: "/api/orders",
    button: "#send",
    status: document.querySelector<HTMLElement>("#status") ?? "#status",
    reenableAfterMs: 2000,
    window: "10m",
    exclude: ["captcha"],
    keepDraft: false,
    headers: [["Authorization", "Bearer t"]],
    encoding: "urlencoded",
  };
  const form: Form = so.form(formElement, formOptions);
  so.form("#order", { action: "createOrder" }).dispose();
  const offStatus: () => void = form.onStatus((s: Status) => void label(s.code));
  const offReply: () => void = form.onReply((r: Reply) => void r.body);
  const formKey: string | undefined = form.key;
  const formStatus: StatusCode = form.status.code;
  await form.retry();
  offStatus();
  offReply();
  form.dispose();

  const pending: PendingAction[] = so.pending();
  const resumed: Reply[] = await so.resumePending();
  const stats: SendonceStats = so.stats();
  console.log(key, status, outcome, replayed, again, formKey, formStatus, pending, resumed, stats.clicksSuppressed);
  so.dispose();
}

// A chat widget and a bot handler; the options object of `new Sendonce()` is optional.
export async function chatAndBot(): Promise<void> {
  const so = new Sendonce();
  const chat = so.chat({ conversationId: "c-1", url: "/api/conversations/c-1/messages" });
  const id: string = chat.send("hello");
  chat.send("with fields", { replyTo: "m-0", channel: "web" });
  const offChange: () => void = chat.onChange((messages: ChatMessage[]) => void messages.length);
  const reply: string = await chat.streamReply(id, "/api/replies/" + id, (c) => void c.text.length);
  await chat.streamReply(id, "/api/replies/" + id);
  // @ts-expect-error: extra fields are an object, not a string.
  chat.send("x", "not an object");
  // @ts-expect-error: a chunk's `data` is a string.
  await chat.streamReply(id, "/r", (c) => c.data.toFixed());
  offChange();

  const qr = so.quickReplies({ conversationId: "c-1", window: "5s" });
  const ticket = await qr.run("createTicket", async (key: string) => ({ ticket: key }));
  const isRepeat: boolean = qr.seen("event-1", "hello");
  console.log(reply, ticket, isRepeat, qr.key("createTicket"));
}

// The calls as the docs write them: trailing options left out, the form's encoding, every
// event type of the core's list.
export async function asDocumented(button: HTMLElement): Promise<void> {
  const so = new Sendonce();
  const qr = so.quickReplies({ conversationId: "c-1" });
  const unbind: () => void = qr.bind(button, "createTicket", async (key) => ({ ticket: key }));
  qr.bind(button, "approve", (key) => key, { status: "#status", onError: (e) => console.error(e) });
  const seenById: boolean = qr.seen("event-1");
  const seenAsync: boolean = await qr.seenAsync("event-2");
  so.form("#upload", { action: "upload", encoding: "multipart" });
  // @ts-expect-error: the encodings are json, urlencoded and multipart.
  so.form("#upload", { action: "upload", encoding: "xml" });
  const kinds: SendonceEventType[] = ["action.incomplete", "auth.refresh", "key.adopted", "cors.suspect"];
  console.log(unbind, seenById, seenAsync, kinds);
}

// @ts-expect-error: maxPayloadBytes is a number of bytes.
export const badLimit: SendonceOptions = { maxPayloadBytes: "1MB" };
// @ts-expect-error: an unknown error code is a type error.
export const badCode: SendonceErrorCode = "too_big";
// @ts-expect-error: an unknown status code is a type error.
export const wrong: StatusCode = "sent";
// @ts-expect-error: `action` is required in form options.
export const missing: FormOptions = { url: "/api/orders" };

// How sendonce reads a reply (the check's own reading of a server).
const read: ReplyClassification = classifyReply(409, [["Retry-After", "1"]], "<html></html>", "Idempotent-Replayed");
export const readKind: "in_progress" | string = read.kind;
export const readStatus: StatusCode = read.status.code;
// @ts-expect-error: the body is text, not parsed JSON.
classifyReply(200, [], { id: 1 });
// The README's own calls: optional options and init, replies generic over the body.
export async function readme(): Promise<void> {
  const so = new Sendonce({ namespace: "shop" });
  const action = so.action("createOrder", { item: "tea", qty: 2 });
  const reply = await action.send<{ id: string }>("/api/orders");
  const id: string = reply.body.id;
  const untyped: unknown = (await action.send("/api/orders")).body;
  const again: Reply<{ id: string }> = await action.retry<{ id: string }>();
  const qr = so.quickReplies({ conversationId: "c-1" });
  const ticket = await qr.run("createTicket", async (key) => ({ ticket: key, n: 1 }));
  const n: number = ticket.n;
  const chat = so.chat({ conversationId: "c-1", url: "/m" });
  const texts: string[] = chat.messages.map((m) => m.statusText);
  // @ts-expect-error: the body's type is what the caller said.
  const wrongBody: number = reply.body.id;
  console.log(id, untyped, again, n, texts, wrongBody);
}

// SendonceError is a class: instanceof narrows, and its code is a union.
export function errors(e: unknown): SendonceErrorCode | null {
  if (e instanceof SendonceError) {
    const name: "SendonceError" = e.name;
    switch (e.code) {
      case "invalid_option":
      case "invalid_key":
      case "invalid_window":
      case "invalid_payload":
      case "payload_too_large":
      case "weak_random":
      case "not_initialized":
      case "storage":
      case "disposed":
        return name ? e.code : null;
    }
  }
  return null;
}

// @ts-expect-error: a misspelled option is a type error too (and invalid_option at run time).
export const misspelled: SendonceOptions = { namspace: "shop" };
