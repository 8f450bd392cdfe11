//! `so.form(formElement | selector, options)`: a web form whose submission happens once. The
//! options are converted here and normalised by the core (`core::form::FormConfig`); the
//! form driver (`driver::form`) binds the form (submit and input listeners, drafts, the
//! button guard, statuses, the Retry button).

use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::convert::{
    headers_list, js, opt_bool, opt_number, opt_string, options_object, required_callback,
};
use super::options::window_value;
use crate::core::error::SendonceError;
use crate::core::form::{FormConfig, FormInput};
use crate::driver::action::Shared;
use crate::driver::form::{FormDriver, FormOptions};
use crate::platform::{dom, get};

#[wasm_bindgen(typescript_custom_section)]
const FORM_TYPES: &'static str = r#"
/** `so.form(formElement | selector, options)`. */
export interface FormOptions {
  /** The action's name, e.g. "createOrder": 1..=100 characters, as for `so.action`. */
  action: string;
  /** Where to send; defaults to the form's `action` attribute. */
  url?: string;
  /** HTTP method, default "POST". */
  method?: string;
  /** The button to guard; defaults to the form's first submit button. Marked `data-sendonce-enable` (as any control of the form may be), its `disabled` attribute is removed once the form is guarded, and set again by `dispose()`: the page's HTML keeps it shut until then. */
  button?: HTMLElement | string;
  /** Where to show the status text (textContent, role="status", aria-live="polite"); "offline" and "failed" get a Retry button in it. Always a calm text of the status table: a submission refused before sending (payload_too_large...) shows "failed", its error goes to the status's `error` and the `status` event. */
  status?: HTMLElement | string;
  /** Re-enable the button after this many ms if still pending (a click then joins). Default 2000. */
  reenableAfterMs?: number;
  /** The repeat window, default the `windows.form` option ("10m"); `0` turns local repeats off (a login form). */
  window?: WindowSpec;
  /** Field names that are sent but never stored, fingerprinted or put in an event (besides passwords, cc-number, cc-csc, cc-exp, cc-exp-month, cc-exp-year, one-time-code, current-password, new-password, data-sendonce-private). */
  exclude?: string[];
  /** The button's label while a submission is under way (e.g. "Placing order..."); the button's own label comes back when it settles. */
  busyLabel?: string;
  /** Keep the draft after a confirmed success. Default false. */
  keepDraft?: boolean;
  /** Extra request headers; credentials (Authorization, Cookie...) are never stored. */
  headers?: HeadersInit;
  /** How the body is written: "json" (one member per field), "urlencoded" (what a plain HTML
   * form posts) or "multipart" (`multipart/form-data`, with files). Default "json", or
   * "multipart" for a form with a file input. */
  encoding?: "json" | "urlencoded" | "multipart";
}
"#;

/// A bound form. It lives as long as the form element (the page need not keep this object);
/// `dispose()` unbinds it.
#[wasm_bindgen]
pub struct Form {
    inner: Rc<FormDriver>,
}

pub(crate) fn create(
    shared: &Rc<Shared>,
    el: &JsValue,
    options: &JsValue,
) -> Result<Form, SendonceError> {
    let shared = shared.clone();
    if shared.disposed.get() {
        return Err(SendonceError::Disposed("this Sendonce".into()));
    }
    let form = dom::element(el)
        .filter(|f| get(f, "tagName").as_string().as_deref() == Some("FORM"))
        .ok_or_else(|| {
            SendonceError::option("form", "must be a <form> element or a selector of one")
        })?;
    let o = options_object(options, "options")?;
    super::options::reject_unknown(&o, "", crate::core::options::FORM_OPTIONS)?;
    // Only the JS values are read here; the defaults and rules are `core::form`'s.
    let headers = get(&o, "headers");
    headers_list(&headers)?;
    let exclude: Vec<String> = match get(&o, "exclude") {
        v if v.is_undefined() || v.is_null() => Vec::new(),
        v if js_sys::Array::is_array(&v) => js_sys::Array::from(&v)
            .iter()
            .map(|x| {
                x.as_string().ok_or_else(|| {
                    SendonceError::option("exclude", "must be an array of field names")
                })
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(SendonceError::option(
                "exclude",
                "must be an array of field names",
            ))
        }
    };
    let encoding = opt_string(&o, "encoding")?;
    let c = FormConfig::normalize(
        FormInput {
            action: opt_string(&o, "action")?,
            url: opt_string(&o, "url")?,
            action_attribute: dom::attr(&form, "action"),
            method: opt_string(&o, "method")?,
            window: window_value(&get(&o, "window"))?,
            exclude,
            keep_draft: opt_bool(&o, "keepDraft")?,
            busy_label: opt_string(&o, "busyLabel")?,
            // Read only when it decides something (a walk over the form's controls).
            has_file_input: encoding.is_none()
                && dom::read_controls(&form, true)
                    .iter()
                    .any(|c| c.info.kind == "file"),
            encoding,
            reenable_after_ms: opt_number(&o, "reenableAfterMs")?,
            form_id: get(&form, "id").as_string(),
            form_name: dom::attr(&form, "name"),
        },
        shared.windows.form,
    )?;
    let button = match get(&o, "button") {
        v if v.is_undefined() || v.is_null() => dom::call(
            &form,
            "querySelector",
            &[JsValue::from_str(
                "button[type=submit], input[type=submit], button:not([type])",
            )],
        )
        .ok()
        .filter(dom::is_element),
        v => Some(
            dom::element(&v)
                .ok_or_else(|| SendonceError::option("button", "matches no element"))?,
        ),
    };
    let status_el = match get(&o, "status") {
        v if v.is_undefined() || v.is_null() => None,
        v => Some(
            dom::element(&v)
                .ok_or_else(|| SendonceError::option("status", "matches no element"))?,
        ),
    };
    let opts = FormOptions {
        action: c.action,
        url: c.url,
        method: c.method,
        headers,
        window: c.window,
        exclude: c.exclude,
        keep_draft: c.keep_draft,
        reenable_after_ms: c.reenable_after_ms,
        busy_label: c.busy_label,
        encoding: c.encoding,
        form_id: c.draft_id,
    };
    let inner = FormDriver::bind(shared, &form, opts, button, status_el)?;
    Ok(Form { inner })
}

#[wasm_bindgen]
impl Form {
    /// The key the next submission uses (born with the draft; rotated when the data changed
    /// after it was sent).
    #[wasm_bindgen(getter)]
    pub fn key(&self) -> Option<String> {
        self.inner.key()
    }

    /// The current status, `{ code, text, underWay, final }` (`idle` before the first submission).
    #[wasm_bindgen(getter, unchecked_return_type = "Status")]
    pub fn status(&self) -> JsValue {
        self.inner.status()
    }

    /// Calls `callback(status)` on every status change; returns a function that stops it.
    #[wasm_bindgen(js_name = onStatus, unchecked_return_type = "() => void")]
    pub fn on_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: Status) => void")] callback: JsValue,
    ) -> Result<Function, JsValue> {
        let f = js(required_callback(callback, "callback"))?;
        Ok(self.inner.on_status_change(f))
    }

    /// Calls `callback(reply)` when a submission settles; returns a function that stops it.
    #[wasm_bindgen(js_name = onReply, unchecked_return_type = "() => void")]
    pub fn on_reply(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(reply: Reply) => void")] callback: JsValue,
    ) -> Result<Function, JsValue> {
        let f = js(required_callback(callback, "callback"))?;
        Ok(self.inner.on_reply(f))
    }

    /// Sends the last submission again with its key (after `offline` or `failed`).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn retry(&self) -> js_sys::Promise {
        // Resolves once the resend has started; its outcome arrives through onStatus/onReply.
        self.inner.retry();
        js_sys::Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Unbinds the form: listeners removed, timers stopped, the controls marked
    /// `data-sendonce-enable` disabled again. The draft stays in storage.
    pub fn dispose(&self) {
        self.inner.dispose();
    }
}
