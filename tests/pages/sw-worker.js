// The service worker of tests/pages/sw.html: sendonce/sw answers the `sync` events with the
// page's options. It takes over its pages at once (the tests open pages right after it is
// installed) and tells the open pages what its sendonce reported and how each run ended, for
// the tests to read.
import { handleSync } from "/pkg/sw.js";

const tell = async (message) => {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) client.postMessage(message);
};
const options = {
  namespace: "swtest",
  leaseMs: 1000,
  onEvent: (event) => void tell({ event }),
};
self.addEventListener("sync", (event) => {
  handleSync(event, options)?.then(
    (replies) => tell({ done: "ok", replies: replies.length }),
    (e) => tell({ done: String(e?.message ?? e) }),
  );
});
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
