// The order form demo: one order per user action, whatever the network does.
import init, { Sendonce } from "/pkg/sendonce.js";
import { faultPanel, logEvent, watchServer } from "/panel.js";

await init();
const so = new Sendonce({ namespace: "shop", onEvent: logEvent });
const form = document.querySelector("#order");
const button = document.querySelector("#send");
const status = document.querySelector("#status");
status.setAttribute("role", "status");
status.setAttribute("aria-live", "polite");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  data.delete("password");
  const action = so.action("createOrder", Object.fromEntries(data));
  action.onStatus((s) => (status.textContent = s.text));
  const reply = await action.send("/api/orders", { method: "POST" });
  status.textContent = action.status.text;
  window.lastReply = reply;
});

faultPanel("/api/orders");
watchServer("/api/orders", "#order-count");
window.sendonceReady = true;
