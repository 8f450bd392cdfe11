// Typed usage of the `sendonce/forms` entry (actions and forms, its own wasm), compiled with
// `tsc --noEmit` against pkg/: the same types as the full entry, without chat and quick replies.
import init, { Sendonce, SendonceError, type Form, type Reply } from "../../pkg/forms.js";

await init();
const so = new Sendonce({ namespace: "shop", maxPayloadBytes: 64 * 1024 });
export const form: Form = so.form("#order", { action: "createOrder", url: "/api/orders", button: "#send" });
export const reply: Promise<Reply<{ id: number }>> = so.action("createOrder", { qty: 2 }).send<{ id: number }>("/api/orders");
export const isError = (e: unknown): boolean => e instanceof SendonceError && e.code === "invalid_option";
// @ts-expect-error: no chat in the forms entry
so.chat({ conversationId: "c-1" });
// @ts-expect-error: no quick replies in the forms entry
so.quickReplies({ conversationId: "c-1" });
