// Typed usage of `sendonce/react`, compiled with tsc (strict) against pkg/.
import { Sendonce, type Reply, type SendonceError, type Status } from "../../pkg/sendonce.js";
import { useAction, useChat, useQuickReply, useSendonceForm } from "../../pkg/react.js";

declare const so: Sendonce;

export function Buy() {
  const order = useAction<{ id: string }>(so, "createOrder", { item: "tea" }, { url: "/api/orders", window: "10m" });
  const status: Status = order.status;
  const key: string | null = order.key;
  const reply: Reply<{ id: string }> | null = order.reply;
  const sent: Promise<Reply<{ id: string }>> = order.send();
  void sent;
  // "Buy again": a new key for the same data; a cancel signal and per-action retries.
  const again: Promise<Reply<{ id: string }>> = order.again();
  void again;
  useAction(so, "pay", { total: 1 }, { url: "/p", init: { signal: new AbortController().signal }, retry: { attempts: 2 } });
  // @ts-expect-error: `again` is the hook's again(), not an option of every send.
  useAction(so, "pay", { total: 1 }, { url: "/p", again: true });
  const form = useSendonceForm(so, { action: "createOrder", url: "/api/orders" });
  const chat = useChat(so, { conversationId: "c-1", url: "/m" });
  const ticket = useQuickReply(so, { conversationId: "c-1" }, "createTicket", async (k) => ({ id: k }));
  const ticketId: string | undefined = ticket.result?.id;
  // @ts-expect-error: useAction needs a url.
  useAction(so, "x", {}, {});
  // TanStack-Query-like callbacks, isPending, reset() and a guarded button.
  const pay = useAction<{ id: string }>(so, "pay", { total: 10 }, {
    url: "/api/pay",
    onSuccess: (r) => void r.body.id,
    onError: (e, r) => void [e, r?.outcome],
    onSettled: (r, e) => void [r?.key, e],
  });
  const pending: boolean = pay.isPending;
  const refused: SendonceError | null = pay.error;
  pay.reset();
  const props = pay.buttonProps();
  const disabled: boolean = props["aria-disabled"];
  const submitProps = pay.buttonProps({ submit: true, onClick: (e) => e.preventDefault() });
  // @ts-expect-error: onSuccess gets the reply, typed by the hook.
  useAction<{ id: string }>(so, "x", {}, { url: "/x", onSuccess: (r: Reply<number>) => r });
  const ticketProps = ticket.buttonProps();
  const ticketPending: boolean = ticket.isPending;
  useQuickReply(so, { conversationId: "c-1", onSuccess: (t: { id: string }) => void t.id }, "x", async () => ({ id: "1" }));
  const formPending: boolean = form.isPending;
  useSendonceForm(so, { action: "a", url: "/a", encoding: "urlencoded", onError: (s) => void s });
  return (
    <form ref={form.ref}>
      <button type="button" onClick={() => order.send()}>{status.text}</button>
      <p>{key} {reply?.body.id} {ticketId} {form.status.text}</p>
      <ul>{chat.messages.map((m) => <li key={m.id}>{m.statusText}</li>)}</ul>
      <button type="button" onClick={() => chat.send("hi")}>{ticket.status}</button>
      <button {...props}>{String(pending)} {String(refused)} {String(disabled)}</button>
      <button {...submitProps}>Pay</button>
      <button {...ticketProps}>{String(ticketPending)} {String(formPending)}</button>
    </form>
  );
}
