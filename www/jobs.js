// The background job demo: one key from the click to the worker. so.form() sends the job with
// its key (202 Accepted, then polls it to "done"); the server carries the key into its queue
// and its worker, and GET /api/trace/{key} shows every decision about it, masked.
import init, { Sendonce } from "/pkg/sendonce.js";
import { faultPanel, logEvent, watchServer } from "/panel.js";

await init();
const so = new Sendonce({ namespace: "jobs", onEvent: logEvent });
const form = so.form("#job", {
  action: "generateReport",
  url: "/api/jobs",
  button: "#send",
  status: "#status",
  window: "10m",
});
const $ = (s) => document.querySelector(s);
const showKey = () => ($("#key").textContent = form.key ?? "");
form.onStatus(showKey);
form.onReply((reply) => {
  window.lastReply = reply;
  showKey();
});
showKey();

// The chain of the current key, as the server logged it.
async function showChain() {
  const key = form.key;
  if (key) {
    try {
      const chain = await (await fetch(`/api/trace/${encodeURIComponent(key)}`)).json();
      const ol = $("#chain");
      ol.replaceChildren(
        ...chain.events.map((e) => {
          const li = document.createElement("li");
          const parts = [e.event, e.scope, e.status, e.job != null && `job ${e.job}`, e.detail, e.text && `“${e.text}”`];
          li.textContent = parts.filter((p) => p != null && p !== false).join(" · ");
          li.dataset.event = e.event;
          return li;
        }),
      );
      window.lastChain = chain;
    } catch {
      // The server may be restarting; keep polling.
    }
  }
  setTimeout(showChain, 400);
}
showChain();

faultPanel("/api/jobs");
watchServer();
window.sendonceForm = form;
window.sendonceReady = true;
