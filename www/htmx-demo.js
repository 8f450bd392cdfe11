// The htmx demo: a plain htmx form (hx-post, hx-target) under hx-ext="sendonce". Double
// clicks, a dropped reply, a reload mid-send: one order, one key, and htmx swaps the reply.
import init, { Sendonce } from "/pkg/sendonce.js";
import { sendonceHtmx } from "/pkg/htmx.js";
import { faultPanel, logEvent, watchServer } from "/panel.js";

await init();
const so = new Sendonce({ namespace: "shop-htmx", onEvent: logEvent });
sendonceHtmx(window.htmx, so);

faultPanel("/api/orders");
watchServer("/api/orders", "#order-count");
window.sendonceReady = true;
