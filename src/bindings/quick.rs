//! Placeholder: being written (see the issue). Throws a clear error until then.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::sendonce::Sendonce;
use crate::core::error::SendonceError;

/// Not available yet.
#[wasm_bindgen]
pub struct QuickReplies {}

pub(crate) fn create(_so: &Sendonce, _options: &JsValue) -> Result<QuickReplies, SendonceError> {
    Err(SendonceError::option(
        "quick",
        "not available in this build yet",
    ))
}
