// The test app of tests/e2e/react.test.mjs: built with Vite + React 19 against the packed
// layout of the package (node_modules/sendonce -> pkg/), rendered under StrictMode (double
// effects), with buttons that unmount and remount the components mid-send.
import init, { Sendonce } from "sendonce";
import { useAction, useChat, useQuickReply, useSendonceForm } from "sendonce/react";
import { StrictMode, useRef, useState } from "react";
import { createRoot } from "react-dom/client";

const wasm = await init();
const so = new Sendonce({ namespace: "react-e2e", retry: { baseDelayMs: 100, maxDelayMs: 500 } });
window.handlerCalls = 0;
// What the page's code saw: callbacks called, errors thrown out of click handlers.
window.calls = { success: 0, error: 0, settled: 0, errors: [] };
window.thrown = [];
window.formCalls = [];
window.addEventListener("error", (e) => window.thrown.push(String(e.error?.message ?? e.message)));
window.wasmBytes = () => wasm.memory.buffer.byteLength;

function Pay() {
  const pay = useAction(so, "pay", { total: 12 }, {
    url: "/api/orders",
    onSuccess: () => (window.calls.success += 1),
    onError: (e) => window.calls.errors.push(e?.code ?? "status") && (window.calls.error += 1),
    onSettled: () => (window.calls.settled += 1),
  });
  return (
    <section>
      <button id="pay" {...pay.buttonProps()}>Pay</button>
      <button id="pay-reset" type="button" onClick={() => pay.reset()}>Reset</button>
      <p id="pay-status">{pay.status.code}</p>
      <p id="pay-pending">{String(pay.isPending)}</p>
    </section>
  );
}

// "Buy again": the same data once more on purpose (a new key); "Buy" again inside the window
// is answered locally. A cancel button aborts the send in flight (init.signal).
function Reorder() {
  const [controller, setController] = useState(() => new AbortController());
  const order = useAction(so, "reorder", { item: "tea", qty: 1 }, {
    url: "/api/orders",
    init: { signal: controller.signal },
    onError: (e) => window.calls.errors.push(e?.code ?? "status"),
  });
  return (
    <section>
      <button id="reorder-buy" {...order.buttonProps()}>Buy</button>
      <button id="reorder-again" type="button" onClick={() => order.again()}>Buy again</button>
      <button id="reorder-cancel" type="button" onClick={() => { controller.abort(); setController(new AbortController()); }}>Cancel</button>
      <p id="reorder-status">{order.status.code}</p>
      <p id="reorder-key">{order.key ?? ""}</p>
      <p id="reorder-pending">{String(order.isPending)}</p>
      <p id="reorder-error">{order.error?.code ?? ""}</p>
    </section>
  );
}

// Payloads sendonce refuses: NaN (invalid_payload) and a BigInt (which JSON cannot write).
function Refused() {
  const bad = useAction(so, "refused", undefined, {
    url: "/api/orders",
    onError: (e) => window.calls.errors.push(e?.code ?? "status"),
  });
  const send = (payload) => {
    window.refusal = bad.send(payload).then(
      () => "resolved",
      (e) => e?.code ?? String(e),
    );
  };
  return (
    <section>
      <button id="refuse-nan" type="button" onClick={() => send({ qty: NaN })}>NaN</button>
      <button id="refuse-bigint" type="button" onClick={() => send({ qty: 10n })}>BigInt</button>
      <p id="refused-status">{bad.status.code}</p>
      <p id="refused-error">{bad.error?.code ?? ""}</p>
    </section>
  );
}

// A quick reply whose action key sendonce refuses (empty): run() rejects, never throws.
function BadTicket() {
  const t = useQuickReply(
    so,
    { conversationId: "c-react", onError: (e) => window.calls.errors.push(e?.code ?? "?") },
    "",
    async () => 1,
  );
  return (
    <section>
      <button id="bad-ticket" {...t.buttonProps()}>Bad ticket</button>
      <p id="bad-ticket-status">{t.status}</p>
      <p id="bad-ticket-error">{t.error?.code ?? ""}</p>
    </section>
  );
}

// Many sends through one hook, each with new data (the previous action is replaced).
function Bulk() {
  const bulk = useAction(so, "bulk", undefined, { url: "/api/orders" });
  const latest = useRef(bulk);
  latest.current = bulk;
  window.bulkSend = (n) => latest.current.send({ n });
  return <p id="bulk-status">{bulk.status.code}</p>;
}

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
  const form = useSendonceForm(so, {
    action: "formOrder",
    url: "/api/orders",
    button: "#place",
    status: "#form-status-text",
    onSuccess: (reply) => window.formCalls.push(`success ${reply.outcome}`),
    onError: (status) => window.formCalls.push(`error ${status.code}`),
  });
  return (
    <form ref={form.ref}>
      <input name="item" defaultValue="cocoa" />
      {/* Shut until the binding guards the form (a server-rendered page before hydration). */}
      <button id="place" type="submit" disabled data-sendonce-enable>Place order</button>
      <p id="form-status-text"></p>
      <p id="form-status">{form.status.code}</p>
      <p id="form-pending">{String(form.isPending)}</p>
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
          <Pay />
          <Reorder />
          <Refused />
          <BadTicket />
          <Bulk />
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
