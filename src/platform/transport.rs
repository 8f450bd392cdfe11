//! Transport: one HTTP attempt through `fetch` (the caller's, or `globalThis.fetch`), with a
//! per-attempt timeout that aborts the request (`AbortController`) and is raced with every
//! step, so it fires even when a fetch ignores its signal; reply headers and body are read
//! within the bounds of `core::reply`. The same URL, method, headers and body bytes
//! go out on every attempt: the request comes from the core, already complete.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::{get, global, set, storage::describe};
use crate::core::record::StoredRequest;
use crate::core::reply::{truncation_note, HeaderBudget, Reply, MAX_BODY_BYTES, TRUNCATED_HEADER};

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
    // The timeout is a promise that rejects when the timer fires, raced with every step of the
    // attempt (the fetch, each read of the body): an injected fetch that ignores its
    // AbortSignal and never settles, or a body that never ends, still times out. The timer
    // also aborts the request, for the fetches that do listen.
    let timed_out = Rc::new(Cell::new(false));
    let reject_slot: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
    let deadline = {
        let slot = reject_slot.clone();
        Promise::new(&mut move |_resolve, reject| {
            *slot.borrow_mut() = Some(reject);
        })
    };
    let abort = {
        let c = controller.clone();
        let flag = timed_out.clone();
        let slot = reject_slot.clone();
        Closure::once(move || {
            flag.set(true);
            if let Some(c) = c {
                c.abort();
            }
            if let Some(reject) = slot.borrow_mut().take() {
                let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("sendonce: timed out"));
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

    let result = attempt(&f, url, init, &deadline).await;
    let _ = clear_timeout.call1(&JsValue::NULL, &timer);
    drop(abort);
    match result {
        Ok(reply) => Ok(reply),
        Err(_) if timed_out.get() => Err(Failure::Timeout),
        Err(_) => Err(Failure::Network),
    }
}

/// `p`, or the deadline's rejection if that comes first.
async fn before(p: &JsValue, deadline: &Promise) -> Result<JsValue, JsValue> {
    let race = Promise::race(&Array::of2(&Promise::resolve(p), deadline));
    JsFuture::from(race).await
}

/// Swallows the rejection of a promise nobody waits for (a cancelled body reader), so that
/// Node does not report it as unhandled. The handler is the global `Boolean` function: any
/// function that ignores its argument does, and this one needs no closure of our own (each
/// closure type costs its own glue in the wasm).
fn ignore_rejection(p: &JsValue) {
    let then = get(p, "then").dyn_into::<Function>();
    if let (Ok(then), Ok(handler)) = (then, get(&global(), "Boolean").dyn_into::<Function>()) {
        let _ = then.call2(p, &handler, &handler);
    }
}

async fn attempt(
    f: &Function,
    url: &str,
    init: &Object,
    deadline: &Promise,
) -> Result<Reply, String> {
    let p = f
        .call2(&JsValue::NULL, &JsValue::from_str(url), init)
        .map_err(|e| describe(&e))?;
    let resp = before(&p, deadline).await.map_err(|e| describe(&e))?;
    let status = get(&resp, "status").as_f64().unwrap_or(0.0) as u16;
    let mut headers = Vec::new();
    let mut budget = HeaderBudget::default();
    let h = get(&resp, "headers");
    if let Ok(Some(iter)) = js_sys::try_iter(&h) {
        for pair in iter.flatten() {
            if budget.exhausted() {
                break;
            }
            let k = js_sys::Reflect::get_u32(&pair, 0).unwrap_or(JsValue::UNDEFINED);
            let v = js_sys::Reflect::get_u32(&pair, 1).unwrap_or(JsValue::UNDEFINED);
            if !k.is_string() || !v.is_string() {
                continue;
            }
            // Lengths first: a header is copied only once it is known to fit.
            let len = |s: &JsValue| s.unchecked_ref::<js_sys::JsString>().length() as usize;
            if budget.admit(len(&k), len(&v)) {
                if let (Some(k), Some(v)) = (k.as_string(), v.as_string()) {
                    headers.push((k, v));
                }
            }
        }
    }
    // Reading the body can fail too (the connection dropped mid-body): that is a network error.
    let (body, cut) = read_body(&resp, deadline).await?;
    if let Some(note) = truncation_note(cut, budget.dropped) {
        headers.push((TRUNCATED_HEADER.to_string(), note));
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Reads at most [`MAX_BODY_BYTES`] of the body, chunk by chunk from `resp.body` where there
/// is a stream (the rest is never read: the reader is cancelled), else through `text()`.
/// Returns the text and whether it was cut.
async fn read_body(resp: &JsValue, deadline: &Promise) -> Result<(String, bool), String> {
    let stream = get(resp, "body");
    let reader = get(&stream, "getReader")
        .dyn_into::<Function>()
        .ok()
        .and_then(|f| f.call0(&stream).ok())
        .filter(|r| get(r, "read").is_function());
    let Some(reader) = reader else {
        let text_fn: Function = get(resp, "text")
            .dyn_into()
            .map_err(|_| "reply has no body reader".to_string())?;
        let text = text_fn.call0(resp).map_err(|e| describe(&e))?;
        let text = before(&text, deadline).await.map_err(|e| describe(&e))?;
        let js: js_sys::JsString = text.dyn_into().unwrap_or_default();
        // UTF-8 takes at least a byte per UTF-16 unit: cut before copying a huge text.
        let mut cut = js.length() as usize > MAX_BODY_BYTES;
        let js = if cut {
            js.slice(0, MAX_BODY_BYTES as u32)
        } else {
            js
        };
        let mut body = js.as_string().unwrap_or_default();
        if body.len() > MAX_BODY_BYTES {
            cut = true;
            let mut at = MAX_BODY_BYTES;
            while !body.is_char_boundary(at) {
                at -= 1;
            }
            body.truncate(at);
        }
        return Ok((body, cut));
    };
    let read: Function = get(&reader, "read").unchecked_into();
    // Decoded piece by piece in JS, as `text()` would: UTF-8, a leading byte order mark
    // dropped, bad bytes replaced.
    let decoder = super::stream::new_text_decoder().ok_or("there is no TextDecoder here")?;
    let decode: Function = get(&decoder, "decode")
        .dyn_into()
        .map_err(|_| "there is no TextDecoder here".to_string())?;
    let streaming = Object::new();
    set(&streaming, "stream", &JsValue::TRUE);
    let mut text = String::new();
    let mut read_bytes = 0usize;
    let mut cut = false;
    loop {
        let next = read.call0(&reader).map_err(|e| describe(&e))?;
        let chunk = match before(&next, deadline).await {
            Ok(c) => c,
            Err(e) => {
                cancel(&reader);
                return Err(describe(&e));
            }
        };
        if get(&chunk, "done").as_bool().unwrap_or(true) {
            break;
        }
        let Ok(data) = get(&chunk, "value").dyn_into::<Uint8Array>() else {
            cancel(&reader);
            return Err("reply body chunk is not bytes".into());
        };
        let room = MAX_BODY_BYTES - read_bytes;
        let n = data.length() as usize;
        let data = if n > room {
            cut = true;
            data.subarray(0, room as u32)
        } else {
            data
        };
        read_bytes += n.min(room);
        if let Some(piece) = decode
            .call2(&decoder, &data, &streaming)
            .ok()
            .and_then(|t| t.as_string())
        {
            text.push_str(&piece);
        }
        if cut {
            // A character cut in half at the limit is dropped, not flushed as U+FFFD.
            cancel(&reader);
            return Ok((text, true));
        }
    }
    if let Some(rest) = decode.call0(&decoder).ok().and_then(|t| t.as_string()) {
        text.push_str(&rest);
    }
    Ok((text, cut))
}

/// Stops reading a body: the rest is never downloaded.
fn cancel(reader: &JsValue) {
    if let Ok(f) = get(reader, "cancel").dyn_into::<Function>() {
        if let Ok(p) = f.call0(reader) {
            ignore_rejection(&p);
        }
    }
}
