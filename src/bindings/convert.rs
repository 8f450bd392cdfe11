//! The converters of the bindings: those of `platform::convert` (shared with the drivers),
//! and the parameter types only the `#[wasm_bindgen]` surface declares.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

pub(crate) use crate::platform::convert::*;

// Optional trailing parameters with precise TypeScript types: wasm-bindgen writes an
// `Option<T>` of an imported type as `name?: T | null`, where `unchecked_param_type` would
// make the parameter required. The values are checked at run time like any other input.
#[wasm_bindgen]
extern "C" {
    /// `SendonceOptions`, optional.
    #[wasm_bindgen(typescript_type = "SendonceOptions")]
    pub type OptionsArg;
    /// A JSON object of extra fields, optional.
    #[wasm_bindgen(typescript_type = "Record<string, unknown>")]
    pub type ExtraArg;
    /// A streamed-reply callback, optional.
    #[wasm_bindgen(typescript_type = "((chunk: ReplyChunk) => void)")]
    pub type OnChunkArg;
}

/// The value of an optional parameter, `undefined` when it was left out.
pub fn arg<T: Into<JsValue>>(v: Option<T>) -> JsValue {
    v.map_or(JsValue::UNDEFINED, Into::into)
}
