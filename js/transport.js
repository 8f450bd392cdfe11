// One HTTP attempt for the wasm module (src/platform/transport.rs): the fetch, the timeout and
// the bounded reads of the reply, written here because each `await` in Rust costs the wasm a
// state machine and the JS glue of its promise (measured in BENCHMARKS.md); this costs a few
// hundred bytes of JS. It decides nothing: the limits come from the core (`core::reply`), which
// also applies the header budget to what this returns.

/**
 * Sends one attempt and reads the reply, never rejecting.
 *
 * The timeout is a promise that rejects when the timer fires, raced with every step (the
 * fetch, each read of the body): a fetch that ignores its AbortSignal and never settles, or a
 * body that never ends, still times out. The timer also aborts the request, for the fetches
 * that listen.
 *
 * @param {unknown} fetchFn The caller's fetch, or anything else for `globalThis.fetch`.
 * @param {string} url
 * @param {object} init The fetch options; `signal` is added here.
 * @param {number} timeoutMs
 * @param {number} maxBody The most bytes of body read (UTF-16 units for a `text()` reply).
 * @param {number} maxHeaders The most header pairs read (the core's budget keeps fewer).
 * @returns {Promise<{status: unknown, headers: string[], body: string, cut: boolean} |
 *   {failure: "timeout" | "network"}>} `headers` is flat: name, value, name, value...
 */
export async function attempt(fetchFn, url, init, timeoutMs, maxBody, maxHeaders) {
  const f = typeof fetchFn === "function" ? fetchFn : globalThis.fetch;
  if (typeof f !== "function") return { failure: "network" };
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  if (controller) init.signal = controller.signal;
  let timedOut = false;
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      controller?.abort();
      reject(new Error("sendonce: timed out"));
    }, timeoutMs);
  });
  deadline.catch(() => {});
  const before = (p) => Promise.race([p, deadline]);
  try {
    const resp = await before(f(url, init));
    const headers = [];
    const h = resp.headers;
    if (h != null && typeof h[Symbol.iterator] === "function") {
      for (const pair of h) {
        if (headers.length >= 2 * maxHeaders) break;
        const k = pair?.[0];
        const v = pair?.[1];
        if (typeof k === "string" && typeof v === "string") headers.push(k, v);
      }
    }
    // Reading the body can fail too (the connection dropped mid-body): a network error.
    const { body, cut } = await readBody(resp, before, maxBody);
    return { status: resp.status, headers, body, cut };
  } catch {
    return { failure: timedOut ? "timeout" : "network" };
  } finally {
    clearTimeout(timer);
  }
}

// At most `maxBody` bytes of the body, chunk by chunk from `resp.body` where there is a stream
// (the rest is never downloaded: the reader is cancelled), else through `text()`.
async function readBody(resp, before, maxBody) {
  const stream = resp.body;
  const reader = typeof stream?.getReader === "function" ? stream.getReader() : null;
  if (typeof reader?.read !== "function") {
    const text = await before(resp.text());
    const body = typeof text === "string" ? text : "";
    // UTF-8 takes at least a byte per UTF-16 unit: cut before the wasm copies a huge text.
    return body.length > maxBody ? { body: body.slice(0, maxBody), cut: true } : { body, cut: false };
  }
  // Decoded piece by piece, as `text()` would: UTF-8, a leading byte order mark dropped, bad
  // bytes replaced.
  const decoder = new TextDecoder();
  let body = "";
  let read = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await before(reader.read());
    } catch (e) {
      cancel(reader);
      throw e;
    }
    if (chunk?.done !== false) break;
    let data = chunk.value;
    if (!(data instanceof Uint8Array)) {
      cancel(reader);
      throw new TypeError("reply body chunk is not bytes");
    }
    const room = maxBody - read;
    const cut = data.length > room;
    if (cut) data = data.subarray(0, room);
    read += data.length;
    body += decoder.decode(data, { stream: true });
    if (cut) {
      // A character cut in half at the limit is dropped, not flushed as U+FFFD.
      cancel(reader);
      return { body, cut: true };
    }
  }
  return { body: body + decoder.decode(), cut: false };
}

// Stops reading a body; a rejection of the cancel nobody waits for is swallowed (Node would
// report it as unhandled).
function cancel(reader) {
  try {
    reader.cancel?.()?.then?.(undefined, () => {});
  } catch {
    // A reader that cannot be cancelled is left to the garbage collector.
  }
}
