//! Placeholder: being written (see the issue). Throws a clear error until then.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::sendonce::Sendonce;
use crate::core::error::SendonceError;

/// Not available yet.
#[wasm_bindgen]
pub struct Chat {}

pub(crate) fn create(_so: &Sendonce, _options: &JsValue) -> Result<Chat, SendonceError> {
    Err(SendonceError::option(
        "chat",
        "not available in this build yet",
    ))
}
