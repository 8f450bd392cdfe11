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
