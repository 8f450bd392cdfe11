// The demo's service worker (the order form at /?worker): it sends the orders a closed tab
// left offline when the connection returns, with their keys (sendonce/sw, Background Sync).
import { registerSendonceSync } from "/pkg/sw.js";

registerSendonceSync(self, { namespace: "shop" });
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
