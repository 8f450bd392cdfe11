//! Web adapters (wasm only): the clock, randomness, timers, storage and fetch. They work in a
//! page and in Node >= 20 (everything is looked up on `globalThis`, nothing needs a DOM).

pub mod channel;
pub mod convert;
pub mod dom;
pub mod locks;
pub mod storage;
pub mod stream;
pub mod transport;

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

// The web adapters that are awaited live in JS (each `await` in Rust costs the wasm a state
// machine and the glue of its promise): `js/platform.js`. None of their promises rejects.
#[wasm_bindgen(module = "/js/platform.js")]
extern "C" {
    #[wasm_bindgen(js_name = sleep)]
    fn js_sleep(ms: f64) -> Promise;
    #[wasm_bindgen(js_name = sleepUnless)]
    fn js_sleep_unless(ms: f64, signal: &web_sys::AbortSignal) -> Promise;
    /// `{ ok, value }`, `{ ok: false, error }` or `{ timedOut: true }`.
    #[wasm_bindgen(js_name = settle)]
    fn js_settle(value: &JsValue, ms: Option<f64>) -> Promise;
    /// The release function of the granted lock, or `null`.
    #[wasm_bindgen(js_name = lock)]
    fn js_lock(name: &str, if_available: bool) -> Promise;
    /// The matching names, as an array of strings.
    #[wasm_bindgen(js_name = lockNames)]
    fn js_lock_names(prefix: &str) -> Promise;
    /// Fills `bytes` from `crypto.getRandomValues`: false where there is none or it throws.
    #[wasm_bindgen(js_name = fillRandom)]
    fn js_fill_random(bytes: &mut [u8]) -> bool;
    #[wasm_bindgen(js_name = callSafely)]
    fn js_invoke(
        f: &js_sys::Function,
        this: &JsValue,
        n: u32,
        a: &JsValue,
        b: &JsValue,
        c: &JsValue,
    ) -> JsValue;
    #[wasm_bindgen(js_name = threw)]
    fn js_threw() -> bool;
}

/// Calls `f` with `this` and `args` (at most three: every caller here passes a fixed few):
/// `Err` with what it threw.
///
/// Use this, never `Function::call*` or `Reflect::apply`, for a function that may throw (a
/// caller's callback, an adapter's method, an injected `fetch`): wasm-bindgen's `catch` imports
/// that return a value leak a slot of its table of JS values, and keep the thrown value alive,
/// every time they throw (a storage adapter whose `set` threw leaked six per action).
pub fn invoke(f: &js_sys::Function, this: &JsValue, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    debug_assert!(args.len() <= 3, "invoke takes at most three arguments");
    let undefined = JsValue::UNDEFINED;
    let arg = |i: usize| args.get(i).copied().unwrap_or(&undefined);
    let v = js_invoke(f, this, args.len().min(3) as u32, arg(0), arg(1), arg(2));
    if js_threw() {
        Err(v)
    } else {
        Ok(v)
    }
}

/// A command for the JS shell (`drive` in `js/platform.js`): `[op, ...args]`.
pub fn command(op: &str, args: &[JsValue]) -> JsValue {
    let c = js_sys::Array::new();
    c.push(&JsValue::from_str(op));
    for a in args {
        c.push(a);
    }
    c.into()
}

/// Milliseconds since the Unix epoch, from `Date.now()`.
pub fn now_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}

/// `globalThis`.
pub fn global() -> js_sys::Object {
    js_sys::global()
}

/// A property of `obj`, `undefined` when missing or when the lookup throws.
///
/// `Reflect.get` throws on a value that is not an object (`undefined`, a string), and every
/// import call that throws leaks a slot of wasm-bindgen's table of JS values (4 bytes of
/// wasm memory each, for good: the generated code returns the error before it takes the
/// value it was handed). Looked up on `navigator` in Node, that was 4 slots per finished
/// action. So such a value is answered here without asking JS.
pub fn get(obj: &JsValue, name: &str) -> JsValue {
    if !is_object(obj) {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets a property, ignoring failures (frozen objects, values that are not objects: see
/// [`get`]).
pub fn set(obj: &JsValue, name: &str, value: &JsValue) {
    if is_object(obj) {
        let _ = Reflect::set(obj, &JsValue::from_str(name), value);
    }
}

/// True for the values `Reflect` takes without throwing: objects and functions.
fn is_object(v: &JsValue) -> bool {
    v.is_object() || v.is_function()
}

/// 16 bytes from the platform's CSPRNG (`crypto.getRandomValues`), never `Math.random`.
/// Returns `None` when no CSPRNG exists, and the caller refuses to make a key.
pub fn random_bytes() -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    js_fill_random(&mut out).then_some(out)
}

thread_local! {
    /// The previous draw of [`key_bytes`]: a source that repeats itself makes no key.
    static LAST_KEY_BYTES: std::cell::Cell<Option<[u8; 16]>> = const { std::cell::Cell::new(None) };
}

/// 16 bytes for a new key: from the CSPRNG, checked by the core ([`check_random`]) against
/// all zeros, one repeated byte and the previous draw. A missing or broken source is a
/// `weak_random` error: no key is made from it.
///
/// [`check_random`]: crate::core::key::check_random
pub fn key_bytes() -> Result<[u8; 16], crate::core::error::SendonceError> {
    let bytes = random_bytes().ok_or_else(|| {
        crate::core::error::SendonceError::WeakRandom(
            "no crypto.getRandomValues here: sendonce will not make keys from a weaker source"
                .into(),
        )
    })?;
    let previous = LAST_KEY_BYTES.with(|c| c.replace(Some(bytes)));
    crate::core::key::check_random(&bytes, previous.as_ref())?;
    Ok(bytes)
}

/// A random u32 for backoff jitter (from the CSPRNG too; jitter needs no secrecy, but one
/// source keeps it simple).
pub fn random_u32() -> u32 {
    random_bytes()
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0x9e37_79b9)
}

/// What awaiting a caller's value gave ([`settle_within`]).
pub enum Settled {
    /// The value, or what its Promise resolved with.
    Value(wasm_bindgen::JsValue),
    /// Its Promise rejected with this.
    Rejected(wasm_bindgen::JsValue),
    /// Its Promise did not settle within the bound.
    TimedOut,
}

/// A value a caller's function returned, awaited when it is a Promise or a thenable, for at
/// most `ms` (`None`: no bound). One place for every callback that may be async (storage
/// adapters, the `headers` hook, quick-reply handlers), so none of them can hang sendonce.
pub async fn settle_within(v: JsValue, ms: Option<u64>) -> Settled {
    if !(v.has_type::<js_sys::Promise>() || get(&v, "then").is_function()) {
        return Settled::Value(v);
    }
    settled(&wait(js_settle(&v, ms.map(|ms| ms as f64))).await)
}

/// What `settle` of `js/platform.js` resolved with (`{ ok, value }`, `{ ok: false, error }` or
/// `{ timedOut: true }`).
pub fn settled(r: &JsValue) -> Settled {
    if get(r, "timedOut").is_truthy() {
        Settled::TimedOut
    } else if get(r, "ok").is_truthy() {
        Settled::Value(get(r, "value"))
    } else {
        Settled::Rejected(get(r, "error"))
    }
}

/// Waits `ms` milliseconds (a `setTimeout`, so it works in pages, workers and Node).
pub async fn sleep(ms: u64) {
    wait(js_sleep(ms as f64)).await;
}

/// What one of `js/platform.js`'s promises resolved with (they never reject). One
/// non-generic function awaits them all, so the wasm holds one copy of the awaiting.
pub(crate) async fn wait(p: js_sys::Promise) -> JsValue {
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .unwrap_or(JsValue::UNDEFINED)
}

/// Waits `ms` milliseconds, or less: until `signal` aborts (the timer is cleared then).
pub async fn sleep_unless(ms: u64, signal: &web_sys::AbortSignal) {
    wait(js_sleep_unless(ms as f64, signal)).await;
}

/// `navigator.onLine`, or true where there is no navigator (Node).
pub fn is_online() -> bool {
    let nav = get(&global(), "navigator");
    get(&nav, "onLine").as_bool().unwrap_or(true)
}

/// Runs `fut` on the JS microtask queue (`wasm_bindgen_futures::spawn_local`), boxed: every
/// distinct future type given to `spawn_local` gets its own copy of the task glue, and one
/// boxed type keeps a single copy for the whole crate.
pub fn spawn(fut: impl std::future::Future<Output = ()> + 'static) {
    spawn_boxed(Box::pin(fut));
}

fn spawn_boxed(fut: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(fut);
}

/// A `Promise` that settles with `fut`'s result (`wasm_bindgen_futures::future_to_promise`),
/// boxed for the same reason as [`spawn`].
pub fn promise(
    fut: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
) -> js_sys::Promise {
    promise_boxed(Box::pin(fut))
}

fn promise_boxed(
    fut: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>>,
) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(fut)
}
