// The demo's fault panel and live logs: arms faults on the reference server and shows the
// requests it saw and the SDK's events. Shared by the form, chat and bot pages.
const $ = (s) => document.querySelector(s);

export function faultPanel(path) {
  // What the server still holds for this page's path: the line says it while a fault is
  // armed and goes away once a request used it.
  let watching = false;
  async function showArmed() {
    let armed = [];
    try {
      const r = await (await fetch("/api/faults")).json();
      armed = (r.armed ?? []).filter((a) => path.startsWith(a.path) || a.path.startsWith(path)).map((a) => a.fault);
    } catch {
      // The server may be restarting: try again below.
    }
    $("#armed").textContent = armed.length ? `Armed: ${armed.join(", ")} on the next request to ${path}` : "";
    if (armed.length) {
      setTimeout(showArmed, 500);
    } else {
      watching = false;
    }
  }
  function watch() {
    if (watching) return;
    watching = true;
    showArmed();
  }
  for (const b of document.querySelectorAll("[data-fault]")) {
    b.addEventListener("click", async () => {
      await fetch("/api/faults", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ path, faults: [b.dataset.fault] }),
      });
      $("#armed").textContent = `Armed: ${b.dataset.fault} on the next request to ${path}`;
      watch();
    });
  }
  $("#clear-faults")?.addEventListener("click", async () => {
    await fetch("/api/faults", { method: "DELETE" });
    $("#armed").textContent = "";
  });
  // Faults armed before a reload are shown too.
  watch();
}

export function logEvent(e) {
  const li = document.createElement("li");
  const parts = [e.type, e.code, e.attempt && `attempt ${e.attempt}`, e.status, e.ms != null && `${e.ms} ms`, e.key?.slice(0, 8)];
  li.textContent = parts.filter(Boolean).join(" · ");
  const ol = $("#events");
  ol?.prepend(li);
}

let since = 0;
export function watchServer(countUrl, countEl) {
  async function tick() {
    try {
      const log = await (await fetch(`/api/log?since=${since}`)).json();
      for (const r of log.requests) {
        since = Math.max(since, r.seq);
        // The pages' own polling (GET counts, lists) would drown the requests that matter.
        if (r.method === "GET" && !r.path.includes("/reply")) continue;
        const li = document.createElement("li");
        li.textContent = `${r.method} ${r.path} → ${r.status}${r.replayed ? " (replay)" : ""}${r.fault ? ` [fault: ${r.fault}]` : ""} key ${(r.key || "-").slice(0, 8)}`;
        $("#requests")?.prepend(li);
      }
      if (countUrl) {
        const c = await (await fetch(countUrl)).json();
        $(countEl).textContent = c.count ?? c.messages?.length ?? 0;
      }
    } catch {
      // The demo keeps polling; the server may be restarting.
    }
    setTimeout(tick, 700);
  }
  tick();
}
