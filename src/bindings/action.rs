//! `so.action(...)`: the JS object of one action. Conversion only: the action's driver
//! (`driver::action`) runs its machine, its sends and its coordination with other tabs and
//! processes.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::convert::{js, js_error, required_callback, url_arg};
use crate::driver::action::ActionHandle;

/// One user action: one key for its whole life.
#[wasm_bindgen]
pub struct Action {
    handle: ActionHandle,
}

impl Action {
    pub(crate) fn new(handle: ActionHandle) -> Action {
        Action { handle }
    }
}

#[wasm_bindgen]
impl Action {
    /// The idempotency key. It never changes for this action.
    #[wasm_bindgen(getter)]
    pub fn key(&self) -> String {
        self.handle.key()
    }

    /// The payload's fingerprint (64 hex digits of SHA-256 over its canonical form).
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.handle.fingerprint()
    }

    /// The current status, `{ code, text, underWay, final }`.
    #[wasm_bindgen(getter, unchecked_return_type = "Status")]
    pub fn status(&self) -> JsValue {
        self.handle.status()
    }

    /// Calls `callback(status)` on every status change; returns a function that stops it.
    #[wasm_bindgen(js_name = onStatus, unchecked_return_type = "() => void")]
    pub fn on_status_js(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: Status) => void")] callback: JsValue,
    ) -> Result<Function, JsValue> {
        let f = js(required_callback(callback, "callback"))?;
        Ok(self.handle.on_status(f))
    }

    /// Sends the action to `url` with `init` (`method`, default `POST`; `headers`). The body is
    /// the payload as JSON, the same bytes on every attempt. A send while one is under way
    /// joins it. Resolves with `{ status, headers, body, replayed, outcome, confirmed, attempts, key }`.
    #[wasm_bindgen(js_name = send, unchecked_return_type = "Promise<Reply>")]
    pub fn send_js(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | URL")] url: JsValue,
        init: Option<super::options::SendInitArg>,
    ) -> Promise {
        match url_arg(&url) {
            Ok(url) => self.handle.send(&url, super::convert::arg(init)),
            Err(e) => Promise::reject(&js_error(&e)),
        }
    }

    /// Sends again with the same key and bytes (after `offline`, `failed`, ...).
    #[wasm_bindgen(unchecked_return_type = "Promise<Reply>")]
    pub fn retry(&self) -> Promise {
        self.handle.retry()
    }

    /// Forgets this action: removes its record, so the same data later is a new action.
    pub fn forget(&self) {
        self.handle.forget()
    }
}
