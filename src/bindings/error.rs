//! The JS class of sendonce's errors. It is defined in JS (`js/error.js`) so that the package
//! entry can export the very class the wasm throws: `err instanceof SendonceError` works.

use wasm_bindgen::prelude::*;

use crate::core::error::SendonceError;

#[wasm_bindgen(module = "/js/error.js")]
extern "C" {
    #[wasm_bindgen(js_name = SendonceError, extends = js_sys::Error)]
    type JsSendonceError;

    #[wasm_bindgen(constructor, js_class = "SendonceError")]
    fn new(code: &str, message: &str) -> JsSendonceError;
}

/// A core error as an instance of the package's `SendonceError` class (`name`, `code`,
/// `message`).
pub(crate) fn to_js(e: &SendonceError) -> JsValue {
    JsSendonceError::new(e.code(), &e.to_string()).into()
}
