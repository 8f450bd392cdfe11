//! Placeholder: being written (see the issue). Throws a clear error until then.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::sendonce::Sendonce;
use crate::core::error::SendonceError;

/// Not available yet.
#[wasm_bindgen]
pub struct Form {}

pub(crate) fn create(
    _so: &Sendonce,
    _el: &JsValue,
    _options: &JsValue,
) -> Result<Form, SendonceError> {
    Err(SendonceError::option(
        "form",
        "not available in this build yet",
    ))
}
