// The test app of tests/e2e/react.test.mjs: built with Vite + React 19 against the packed
// layout of the package (node_modules/sendonce -> pkg/), rendered under StrictMode (double
// effects), with buttons that unmount and remount the components mid-send.
import init, { Sendonce } from "sendonce";
import { useAction, useChat, useQuickReply, useSendonceForm } from "sendonce/react";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";

await init();
const so = new Sendonce({ namespace: "react-e2e", retry: { baseDelayMs: 100, maxDelayMs: 500 } });
window.handlerCalls = 0;

function Buy() {
  const order = useAction(so, "createOrder", { item: "tea", qty: 1 }, { url: "/api/orders" });
  return (
    <section>
      <button id="buy" onClick={() => order.send()}>Buy</button>
      <p id="status">{order.status.code}</p>
      <p id="status-text">{order.status.text}</p>
      <p id="key">{order.key ?? ""}</p>
      <p id="reply">{order.reply ? String(order.reply.body?.id) : ""}</p>
    </section>
  );
}

function Ticket() {
  const ticket = useQuickReply(so, { conversationId: "c-react" }, "createTicket", async (key) => {
    window.handlerCalls += 1;
    const r = await fetch("/api/tickets", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ reason: "damaged" }),
    });
    return r.json();
  });
  return (
    <section>
      <button id="ticket" onClick={() => ticket.run()}>Open a ticket</button>
      <p id="ticket-status">{ticket.status}</p>
      <p id="ticket-id">{ticket.result ? String(ticket.result.id) : ""}</p>
    </section>
  );
}

function Chat() {
  const { messages, send } = useChat(so, { conversationId: "c-react", url: "/api/conversations/c-react/messages" });
  return (
    <section>
      <button id="say" onClick={() => send("hello")}>Say hello</button>
      <ul id="messages">
        {messages.map((m) => (
          <li key={m.id} data-status={m.status}>
            {m.text} <small>{m.statusText}</small>
          </li>
        ))}
      </ul>
    </section>
  );
}

function OrderForm() {
  const form = useSendonceForm(so, { action: "formOrder", url: "/api/orders", button: "#place" });
  return (
    <form ref={form.ref}>
      <input name="item" defaultValue="cocoa" />
      <button id="place" type="submit">Place order</button>
      <p id="form-status">{form.status.code}</p>
      <p id="form-key">{form.key ?? ""}</p>
    </form>
  );
}

function App() {
  const [generation, setGeneration] = useState(0);
  const [shown, setShown] = useState(true);
  return (
    <>
      <button id="remount" onClick={() => setGeneration((g) => g + 1)}>Remount</button>
      <button id="toggle" onClick={() => setShown((s) => !s)}>Toggle</button>
      {shown && (
        <div key={generation}>
          <Buy />
          <Ticket />
          <Chat />
          <OrderForm />
        </div>
      )}
    </>
  );
}

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
window.sendonceReady = true;
