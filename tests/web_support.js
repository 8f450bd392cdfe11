// JS helpers for tests/web.rs: a counting fake fetch and a look into localStorage.
export function fakeFetch(status, calls) {
  calls.n = 0;
  return async (url, init) => {
    calls.n += 1;
    calls.lastKey = init.headers["Idempotency-Key"];
    calls.lastBody = init.body;
    return new Response(JSON.stringify({ id: calls.n }), { status, headers: { "content-type": "application/json" } });
  };
}

export function storedKeys(prefix) {
  return Object.keys(localStorage).filter((k) => k.startsWith(prefix));
}

// Collects event types from onEvent into `list.types`.
export function eventCollector(list) {
  list.types = [];
  return (e) => list.types.push(e.type);
}

// Makes every localStorage write throw (like Safari private mode or a sandboxed frame);
// returns a function that undoes it.
export function breakStorageWrites() {
  const original = Storage.prototype.setItem;
  Storage.prototype.setItem = function () {
    throw new DOMException("writes are disabled", "SecurityError");
  };
  return () => {
    Storage.prototype.setItem = original;
  };
}

// Fills localStorage under a foreign prefix until it refuses (QuotaExceededError); returns
// a function that removes the filler.
export function fillStorage() {
  const chunk = "x".repeat(256 * 1024);
  let i = 0;
  for (let size = chunk.length; size >= 16; ) {
    try {
      localStorage.setItem(`filler:${i++}`, chunk.slice(0, size));
    } catch {
      size = Math.floor(size / 2);
    }
  }
  return () => {
    for (const k of Object.keys(localStorage)) if (k.startsWith("filler:")) localStorage.removeItem(k);
  };
}

export function putRaw(key, value) {
  localStorage.setItem(key, value);
}

export function removeRaw(key) {
  localStorage.removeItem(key);
}

export function getRaw(key) {
  return localStorage.getItem(key);
}

// A form in the document: item, qty, a password and a submit button.
export function makeForm(id) {
  const f = document.createElement("form");
  f.id = id;
  f.innerHTML = `<input name="item" value="tea"><input name="qty" value="2">
    <input name="pw" type="password" value="s3cret-pw"><input name="card" autocomplete="cc-number" value="4111111111111111">
    <input name="hidden" data-sendonce-private value="private-note">
    <button type="submit">Send</button><p class="status"></p>`;
  document.body.append(f);
  return f;
}

export function submit(form) {
  form.querySelector("button").click();
}
