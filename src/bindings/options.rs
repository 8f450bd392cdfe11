//! Unknown option names: a misspelled option is refused (`invalid_option`, with a suggestion
//! from `core::options`), never silently ignored.

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::error::SendonceError;
use crate::core::options::check_names;
use crate::core::window::Window;

/// Refuses an options object (already checked to be an object, or absent) that has an own
/// property not in `known`. `prefix` names the nesting in the message (`"retry."`).
pub(crate) fn reject_unknown(
    options: &JsValue,
    prefix: &str,
    known: &[&str],
) -> Result<(), SendonceError> {
    if !options.is_object() {
        return Ok(());
    }
    let names: Vec<String> = Object::keys(options.unchecked_ref::<Object>())
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    check_names(prefix, &names, known)
}

// Optional trailing parameters with precise TypeScript types (see `convert::OptionsArg`):
// an `Option` of these is written `name?: T | null`, so the README's `so.action(name,
// payload)` and `action.send(url)` type-check.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `ActionOptions`, optional.
    #[wasm_bindgen(typescript_type = "ActionOptions")]
    pub type ActionOptionsArg;
    /// `SendInit`, optional.
    #[wasm_bindgen(typescript_type = "SendInit")]
    pub type SendInitArg;
}

/// A window given as a number of ms or a string like `"10m"`.
pub(crate) fn window_value(v: &JsValue) -> Result<Option<Window>, SendonceError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if let Some(n) = v.as_f64() {
        return Window::from_ms(n).map(Some);
    }
    match v.as_string() {
        Some(s) => Window::parse(&s).map(Some),
        None => Err(SendonceError::InvalidWindow {
            input: "(not a string or number)".into(),
            reason: "a window is a number of ms or a string like \"10s\"".into(),
        }),
    }
}
