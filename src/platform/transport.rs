//! Transport: one HTTP attempt through `fetch` (the caller's, or `globalThis.fetch`), with a
//! per-attempt timeout through `AbortController`. The same URL, method, headers and body bytes
//! go out on every attempt: the request comes from the core, already complete.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::{get, global, set, storage::describe};
use crate::core::record::StoredRequest;
use crate::core::reply::Reply;

/// Largest reply body read; the rest is cut (replies are statuses, not downloads).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Why an attempt got no HTTP answer.
#[derive(Debug)]
pub enum Failure {
    /// The per-attempt timeout fired and the request was aborted.
    Timeout,
    /// The network failed: no HTTP answer, or the body was cut.
    Network,
}

/// Sends one attempt and reads the reply. `form_data` (a `FormData` of a form with files) is
/// sent instead of the request's text body: the browser writes the `multipart/form-data`
/// boundary and its `Content-Type`.
pub async fn send(
    fetch: &JsValue,
    request: &StoredRequest,
    form_data: Option<&JsValue>,
    timeout_ms: u64,
) -> Result<Reply, Failure> {
    let init = Object::new();
    set(&init, "method", &JsValue::from_str(&request.method));
    let headers = Object::new();
    for (k, v) in &request.headers {
        if form_data.is_some() && k.eq_ignore_ascii_case("content-type") {
            continue;
        }
        set(&headers, k, &JsValue::from_str(v));
    }
    set(&init, "headers", &headers);
    match (form_data, &request.body) {
        (Some(fd), _) => set(&init, "body", fd),
        (None, Some(body)) => set(&init, "body", &JsValue::from_str(body)),
        (None, None) => {}
    }
    fetch_with_timeout(fetch, &request.url, &init, timeout_ms).await
}

/// A GET (job status polls).
pub async fn get_url(fetch: &JsValue, url: &str, timeout_ms: u64) -> Result<Reply, Failure> {
    let init = Object::new();
    set(&init, "method", &JsValue::from_str("GET"));
    fetch_with_timeout(fetch, url, &init, timeout_ms).await
}

async fn fetch_with_timeout(
    fetch: &JsValue,
    url: &str,
    init: &Object,
    timeout_ms: u64,
) -> Result<Reply, Failure> {
    let controller = web_sys::AbortController::new().ok();
    if let Some(c) = &controller {
        set(init, "signal", &c.signal());
    }
    let f: Function = if fetch.is_function() {
        fetch.clone().unchecked_into()
    } else {
        get(&global(), "fetch")
            .dyn_into()
            .map_err(|_| Failure::Network)?
    };
    // Arm the timeout: abort the request, and remember that it was us.
    let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
    let abort = {
        let c = controller.clone();
        let flag = timed_out.clone();
        Closure::once(move || {
            flag.set(true);
            if let Some(c) = c {
                c.abort();
            }
        })
    };
    let set_timeout: Function = get(&global(), "setTimeout").unchecked_into();
    let clear_timeout: Function = get(&global(), "clearTimeout").unchecked_into();
    let timer = set_timeout
        .call2(
            &JsValue::NULL,
            abort.as_ref().unchecked_ref(),
            &JsValue::from_f64(timeout_ms as f64),
        )
        .unwrap_or(JsValue::UNDEFINED);

    let result = attempt(&f, url, init).await;
    let _ = clear_timeout.call1(&JsValue::NULL, &timer);
    drop(abort);
    match result {
        Ok(reply) => Ok(reply),
        Err(_) if timed_out.get() => Err(Failure::Timeout),
        Err(_) => Err(Failure::Network),
    }
}

async fn attempt(f: &Function, url: &str, init: &Object) -> Result<Reply, String> {
    let p = f
        .call2(&JsValue::NULL, &JsValue::from_str(url), init)
        .map_err(|e| describe(&e))?;
    let resp = JsFuture::from(Promise::resolve(&p))
        .await
        .map_err(|e| describe(&e))?;
    let status = get(&resp, "status").as_f64().unwrap_or(0.0) as u16;
    let mut headers = Vec::new();
    let h = get(&resp, "headers");
    if let Ok(Some(iter)) = js_sys::try_iter(&h) {
        for pair in iter.flatten() {
            let k = js_sys::Reflect::get_u32(&pair, 0)
                .ok()
                .and_then(|v| v.as_string());
            let v = js_sys::Reflect::get_u32(&pair, 1)
                .ok()
                .and_then(|v| v.as_string());
            if let (Some(k), Some(v)) = (k, v) {
                headers.push((k, v));
            }
        }
    }
    // Reading the body can fail too (the connection dropped mid-body): that is a network error.
    let text_fn: Function = get(&resp, "text")
        .dyn_into()
        .map_err(|_| "reply has no body reader".to_string())?;
    let text = text_fn.call0(&resp).map_err(|e| describe(&e))?;
    let text = JsFuture::from(Promise::resolve(&text))
        .await
        .map_err(|e| describe(&e))?;
    let mut body = text.as_string().unwrap_or_default();
    if body.len() > MAX_BODY_BYTES {
        let mut cut = MAX_BODY_BYTES;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}
