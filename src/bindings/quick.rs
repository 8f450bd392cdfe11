//! `so.quickReplies({ conversationId, window })`: the JS object of bot quick replies.
//! Conversion only: the quick-reply driver (`driver::quick`) runs handlers once per tap and
//! window (across tabs and processes), guards bound buttons and recognises inbound messages
//! seen before.

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::convert::{js, js_error};
use super::options::window_value;
use crate::core::error::SendonceError;
use crate::core::quick;
use crate::driver::action::Shared;
use crate::driver::quick::{BindReport, QuickDriver};
use crate::platform::get;

#[wasm_bindgen(typescript_custom_section)]
const QUICK_TYPES: &'static str = r#"
/** Options of `so.quickReplies()`. */
export interface QuickRepliesOptions {
  /** The conversation (1..=255 characters, no newline). */
  conversationId: string;
  /** How long a result answers repeats; default `windows.quickReply` (5 s). */
  window?: WindowSpec;
}

/** A quick reply's handler: gets the idempotency key to pass to its backend. */
export type QuickReplyHandler<T = unknown> = (key: string) => T | Promise<T>;

/** `qr.run(actionKey, handler, options)`. */
export interface QuickRunOptions {
  /** Called once, at once, when this call will not run the handler now: it joins a run of
   * the same quick reply in flight (here, in another tab or in another process). A bot
   * framework acknowledges such a tap right away instead of after the other run. */
  onWait?: () => void;
}

/** What `qr.handleOnce(id, text, handler)` resolves with. */
export interface HandleOnceResult<T = unknown> {
  /** True when the message was already handled (here or in another process): the handler
   * was not called. */
  duplicate: boolean;
  /** The message's idempotency key: the same on every delivery, in every process. */
  key: string;
  /** What the handler returned (undefined for a duplicate). */
  result: T | undefined;
}

/** `qr.bind(button, actionKey, handler, options)`: where a tap's progress is told. */
export interface QuickBindOptions {
  /** Where to show the status text ("Sending...", "Sent", "Something went wrong. Retry?"). */
  status?: HTMLElement | string;
  /** Called on every status of a tap. */
  onStatus?: (status: Status) => void;
  /** Called with the handler's error when it throws or rejects (the tap ends "failed"). */
  onError?: (error: unknown) => void;
}
"#;

// Optional trailing parameters typed precisely (`options?: QuickRunOptions | null`): an
// `unchecked_param_type` would make them required in TypeScript.
#[wasm_bindgen]
extern "C" {
    /// `QuickRunOptions`, optional.
    #[wasm_bindgen(typescript_type = "QuickRunOptions")]
    pub type QuickRunOptionsArg;
    /// `QuickBindOptions`, optional.
    #[wasm_bindgen(typescript_type = "QuickBindOptions")]
    pub type QuickBindOptionsArg;
}

/// Bot quick replies for one conversation.
#[wasm_bindgen]
pub struct QuickReplies {
    inner: Rc<QuickDriver>,
}

/// `so.quickReplies()` with its options object and `conversationId` read (see
/// `Sendonce::conversation_options`).
pub(crate) fn create(
    shared: Rc<Shared>,
    o: JsValue,
    conversation_id: String,
) -> Result<QuickReplies, SendonceError> {
    super::options::reject_unknown(&o, "", crate::core::options::QUICK_REPLIES_OPTIONS)?;
    let window = window_value(&get(&o, "window"))?.unwrap_or(shared.windows.quick_reply);
    Ok(QuickReplies {
        inner: QuickDriver::new(shared, conversation_id, window),
    })
}

/// `qr.bind()`'s options (`status`, `onStatus`, `onError`): where a tap's progress is told.
fn bind_report(options: &JsValue) -> Result<BindReport, SendonceError> {
    let o = super::convert::options_object(options, "options")?;
    super::options::reject_unknown(&o, "", &["status", "onStatus", "onError"])?;
    let status_el = match get(&o, "status") {
        v if v.is_undefined() || v.is_null() => None,
        v => {
            let el = crate::platform::dom::element(&v)
                .ok_or_else(|| SendonceError::option("status", "matches no element"))?;
            crate::platform::dom::set_attr(&el, "role", "status");
            crate::platform::dom::set_attr(&el, "aria-live", "polite");
            Some(crate::platform::dom::WeakEl::new(&el))
        }
    };
    Ok(BindReport {
        status_el,
        on_status: super::convert::opt_function(&o, "onStatus")?,
        on_error: super::convert::opt_function(&o, "onError")?,
    })
}

/// An optional inbound message id or text (at most 1 Mi characters).
fn opt_text(v: &JsValue, what: &str) -> Result<Option<String>, SendonceError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    super::convert::string_arg(v, what, 1 << 20).map(Some)
}

/// An action key: a string, checked for its length before it is copied (and then by
/// `quick::validate_action_key`).
fn string_arg(v: &JsValue, what: &str) -> Result<String, SendonceError> {
    super::convert::string_arg(v, what, quick::MAX_ACTION_KEY as u32)
}

#[wasm_bindgen]
impl QuickReplies {
    /// The conversation id.
    #[wasm_bindgen(getter, js_name = conversationId)]
    pub fn conversation_id(&self) -> String {
        self.inner.conversation_id().to_string()
    }

    /// The first-run key of a quick reply: `bot_key(namespace, conversationId, actionKey)`,
    /// what a server computes for the same tap.
    pub fn key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string", js_name = actionKey)] action_key: JsValue,
    ) -> Result<String, JsValue> {
        let ak = js(string_arg(&action_key, "actionKey"))?;
        js(quick::validate_action_key(&ak))?;
        Ok(self.inner.first_key(&ak).as_str().to_string())
    }

    /// Runs `handler(key)` for the quick reply `actionKey`, once: a call while it runs gets the
    /// same Promise, a repeat inside the window resolves with the stored result without
    /// calling it. Resolves with the handler's result; rejects with what it threw (nothing is
    /// stored then, so the next tap runs it again).
    /// `options.onWait` is called at once when this call joins a run in flight instead of
    /// calling the handler.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn run(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string", js_name = actionKey)] action_key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "QuickReplyHandler")] handler: JsValue,
        options: Option<QuickRunOptionsArg>,
    ) -> Promise {
        let options = super::convert::arg(options);
        let r = string_arg(&action_key, "actionKey").and_then(|ak| {
            let f = handler
                .dyn_into::<Function>()
                .map_err(|_| SendonceError::option("handler", "must be a function"))?;
            let o = super::convert::options_object(&options, "options")?;
            super::options::reject_unknown(&o, "", &["onWait"])?;
            let on_wait = super::convert::opt_function(&o, "onWait")?;
            self.inner.run(ak, f, on_wait)
        });
        match r {
            Ok(p) => p,
            Err(e) => Promise::reject(&js_error(&e)),
        }
    }

    /// Binds a button to a quick reply: a click guards it in the same event task
    /// (`aria-disabled="true"`, `aria-busy="true"`; not `disabled`, so the focus stays on it,
    /// and clicks meanwhile are swallowed), runs `handler` through `run()`, and releases it
    /// when the result is there. `options` (`status`, `onStatus`, `onError`) say how a tap
    /// goes; a handler that fails is reported there, never left as an unhandled rejection.
    /// Returns a function that unbinds.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn bind(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HTMLElement")] button: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string", js_name = actionKey)] action_key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "QuickReplyHandler")] handler: JsValue,
        options: Option<QuickBindOptionsArg>,
    ) -> Result<Function, JsValue> {
        let options = super::convert::arg(options);
        let ak = js(string_arg(&action_key, "actionKey"))?;
        js(quick::validate_action_key(&ak))?;
        let handler: Function = handler
            .dyn_into()
            .map_err(|_| js_error(&SendonceError::option("handler", "must be a function")))?;
        let add: Function = get(&button, "addEventListener")
            .dyn_into()
            .map_err(|_| js_error(&SendonceError::option("button", "must be an element")))?;
        let report = js(bind_report(&options))?;
        Ok(self.inner.bind(&button, &add, ak, handler, report))
    }

    /// True if this inbound message (by `id`, or by its `text` hashed with the conversation)
    /// was already handled inside the window; false the first time, which also marks it
    /// handled. Synchronous, for memory, local and session storage; with an async adapter use
    /// `seenAsync`.
    pub fn seen(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] text: JsValue,
    ) -> Result<bool, JsValue> {
        let id = js(opt_text(&id, "id"))?;
        let text = js(opt_text(&text, "text"))?;
        js(self.inner.seen_sync(id, text))
    }

    /// Handles an inbound message at least once and, with a key-honouring backend, with one
    /// effect: the message (by `id`, or by its `text`) is marked in progress under a lease
    /// (renewed while `handler(key)` runs, across processes with an adapter that has
    /// `claim()`), and marked done for the window only after the handler succeeds. A
    /// redelivery while it is handled waits for the outcome; after a handler that failed, or a
    /// process that died mid-handler (its lease lapses after `leaseMs`), it runs the handler
    /// again with the same key. Resolves with `{ duplicate, key, result }`; rejects with what
    /// the handler threw (nothing marked: the next delivery handles it).
    #[wasm_bindgen(js_name = handleOnce, unchecked_return_type = "Promise<HandleOnceResult>")]
    pub fn handle_once(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] text: JsValue,
        #[wasm_bindgen(unchecked_param_type = "QuickReplyHandler")] handler: JsValue,
    ) -> Promise {
        let args = opt_text(&id, "id").and_then(|i| {
            let t = opt_text(&text, "text")?;
            let f = handler
                .dyn_into::<Function>()
                .map_err(|_| SendonceError::option("handler", "must be a function"))?;
            Ok((i, t, f))
        });
        match args {
            Ok((id, text, f)) => self.inner.handle_once_promise(id, text, f),
            Err(e) => Promise::reject(&js_error(&e)),
        }
    }

    /// `seen()` that reads a shared async storage adapter: resolves with true or false. With
    /// an adapter that has `claim()`, the first process to claim the message's id (or text)
    /// gets false and every other gets true. At most once: it marks the message before it is
    /// handled, so a process that dies in between loses it; `handleOnce()` does not.
    #[wasm_bindgen(js_name = seenAsync, unchecked_return_type = "Promise<boolean>")]
    pub fn seen_async(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] text: JsValue,
    ) -> Promise {
        let args = opt_text(&id, "id").and_then(|i| Ok((i, opt_text(&text, "text")?)));
        let (id, text) = match args {
            Ok(a) => a,
            Err(e) => return Promise::reject(&js_error(&e)),
        };
        self.inner.seen_promise(id, text)
    }
}
