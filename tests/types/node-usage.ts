// A Node project's use of the package, compiled with lib ES2022 and no DOM (a bot server's
// tsconfig), skipLibCheck off: the package's types must not need the DOM's (elements,
// fetch's Response, WebAssembly) to compile. See tsconfig.node.json and tsconfig.bare.json.
import init, {
  Sendonce,
  SendonceError,
  classifyReply,
  type PendingAction,
  type Reply,
  type SendonceEvent,
  type StorageAdapter,
} from "../../pkg/sendonce.js";
import initForms, { Sendonce as FormsSendonce } from "../../pkg/forms.js";
import { redisStorage, type NodeRedisLike } from "../../pkg/redis.js";
import { sendonceGrammy, type SendonceContextFlavor } from "../../pkg/grammy.js";
import { sendonceBolt } from "../../pkg/bolt.js";
// @ts-expect-error: wasm-bindgen's table of raw wasm exports is not the package's API.
import type { InitOutput } from "../../pkg/sendonce.js";
// @ts-expect-error: nor are the web type stand-ins the package declares for itself.
import type { HeadersInit as PackageHeaders } from "../../pkg/sendonce.js";
export type Leaked = [InitOutput, PackageHeaders];

export async function bot(client: NodeRedisLike, store: Map<string, string>): Promise<void> {
  const wasm = await init();
  const bytes: number = wasm.memory.buffer.byteLength;
  const adapter: StorageAdapter = {
    get: (k) => store.get(k),
    set: (k, v) => void store.set(k, v),
    delete: (k) => void store.delete(k),
  };
  const so = new Sendonce({
    namespace: "bot",
    storage: Math.random() < 0.5 ? adapter : redisStorage(client),
    headers: () => ({ Authorization: "Bearer t" }),
    onEvent: (e: SendonceEvent) => void e.type,
    leaseMs: 10_000,
  });
  const reply: Reply<{ id: string }> = await so
    .action("sendMessage", { chat: 1, text: "hi" }, { idempotent: false })
    .send<{ id: string }>("https://api.example.com/send", { headers: [["X-Trace", "1"]] });
  const qr = so.quickReplies({ conversationId: "c-1" });
  const ticket = await qr.run("createTicket", async (key) => ({ key }));
  const seen: boolean = await qr.seenAsync("update-1");
  const pending: PendingAction[] = await so.pendingAsync();
  const read = classifyReply(200, [["content-type", "application/json"]], "{}");
  const flavor: SendonceContextFlavor = { sendonce: { key: ticket.key, repeat: false } };
  const middleware = [sendonceGrammy(so), sendonceBolt(so)];
  await initForms();
  const light = new FormsSendonce({ storage: "memory" }).action("order", { qty: 1 }).key;
  try {
    so.action("x", 1n);
  } catch (e) {
    if (e instanceof SendonceError) void e.code;
  }
  void [bytes, reply.body.id, seen, pending, read.kind, flavor, middleware, light];
}
