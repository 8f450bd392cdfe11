// Typed usage of `sendonce/react`, compiled with tsc (strict) against pkg/.
import { Sendonce, type Reply, type Status } from "../../pkg/sendonce.js";
import { useAction, useChat, useQuickReply, useSendonceForm } from "../../pkg/react.js";

declare const so: Sendonce;

export function Buy() {
  const order = useAction<{ id: string }>(so, "createOrder", { item: "tea" }, { url: "/api/orders", window: "10m" });
  const status: Status = order.status;
  const key: string | null = order.key;
  const reply: Reply<{ id: string }> | null = order.reply;
  const sent: Promise<Reply<{ id: string }>> = order.send();
  void sent;
  const form = useSendonceForm(so, { action: "createOrder", url: "/api/orders" });
  const chat = useChat(so, { conversationId: "c-1", url: "/m" });
  const ticket = useQuickReply(so, { conversationId: "c-1" }, "createTicket", async (k) => ({ id: k }));
  const ticketId: string | undefined = ticket.result?.id;
  // @ts-expect-error: useAction needs a url.
  useAction(so, "x", {}, {});
  return (
    <form ref={form.ref}>
      <button type="button" onClick={() => order.send()}>{status.text}</button>
      <p>{key} {reply?.body.id} {ticketId} {form.status.text}</p>
      <ul>{chat.messages.map((m) => <li key={m.id}>{m.statusText}</li>)}</ul>
      <button type="button" onClick={() => chat.send("hi")}>{ticket.status}</button>
    </form>
  );
}
