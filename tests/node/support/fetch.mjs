// A fetch for Node tests that records every request ({ url, key, body }) and answers 201 with
// `{ "id": n }` (n: the request's number), after `delayMs` when given.
export function countingFetch(delayMs = 0) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, key: init.headers["Idempotency-Key"], body: init.body });
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return new Response(JSON.stringify({ id: calls.length }), { status: 201, headers: { "content-type": "application/json" } });
  };
  return { calls, fetch };
}
