// The order form demo: one order per user action, whatever the clicks, the tabs and the
// network do. so.form() intercepts the submit, guards the button, keeps the draft (never the
// password) and resumes an order that was under way when the page reloaded.
import init, { Sendonce } from "/pkg/sendonce.js";
import { idbStorage, syncOnOffline } from "/pkg/sw.js";
import { faultPanel, logEvent, watchServer } from "/panel.js";

await init();
// "Close this tab and come back" (/?worker): the records live in IndexedDB, shared with the
// service worker (/sw.js), which sends an order left offline when the connection returns.
const withWorker = new URLSearchParams(location.search).has("worker") && "serviceWorker" in navigator;
if (withWorker) {
  // Not awaited: a worker that fails to load must not keep the form unguarded (the browser
  // would submit it itself); the page then resumes its orders on the next load, as without one.
  navigator.serviceWorker.register("/sw.js", { type: "module" }).then(
    () => {
      document.querySelector("#worker-off").hidden = true;
      document.querySelector("#worker-on").hidden = false;
    },
    (error) => console.error("the service worker did not load:", error),
  );
}
const so = withWorker
  ? new Sendonce({ namespace: "shop", storage: idbStorage(), onEvent: syncOnOffline(logEvent) })
  : new Sendonce({ namespace: "shop", onEvent: logEvent });
// The drafts and orders the worker shares, read before the form binds.
if (withWorker) await so.pendingAsync();
const form = so.form("#order", {
  action: "createOrder",
  url: "/api/orders",
  button: "#send",
  status: "#status",
  window: "10m",
});
form.onReply((reply) => {
  window.lastReply = reply;
  const key = document.querySelector("#key");
  key.textContent = form.key ?? "";
});
document.querySelector("#key").textContent = form.key ?? "";
form.onStatus(() => (document.querySelector("#key").textContent = form.key ?? ""));

// "Go offline": tells the SDK the browser went offline (the same path as a real `offline`
// event); the next order waits as "Connection lost. Retry?" until "Back online".
const toggle = document.querySelector("#offline");
toggle.addEventListener("change", () => {
  window.dispatchEvent(new Event(toggle.checked ? "offline" : "online"));
});

faultPanel("/api/orders");
watchServer("/api/orders", "#order-count");
window.sendonceForm = form;
window.sendonceReady = true;
