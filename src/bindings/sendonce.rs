//! `new Sendonce(options)`: the options, converted here and normalised once by the core
//! (`core::config::SendonceConfig::normalize`), and the instance's methods. The shared state
//! they feed (store, event log, live actions, cross-tab channel) and the action driver are in
//! `driver::shared` and `driver::action`.

use std::rc::Rc;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use super::action::Action;
use super::convert::{
    arg, js, opt_bool, opt_function, opt_number, opt_string, options_object, payload_text,
    string_arg, OptionsArg,
};
use super::options::{reject_unknown, window_value};
use crate::core::config::{
    RetryInput, SendonceConfig, SendonceInput, StorageChoice, StorageInput, WindowsInput,
};
use crate::core::error::SendonceError;
use crate::core::key::validate_key;
use crate::core::options::{ACTION_OPTIONS, RETRY_OPTIONS, SENDONCE_OPTIONS, WINDOWS_OPTIONS};
use crate::core::text::quoted;
use crate::core::window::ActionKind;
use crate::driver::action::{self as driver, NewAction, Shared};
use crate::driver::shared::Settings;
use crate::platform::storage::{Backend, Store};
use crate::platform::{get, set};

/// The entry point: `new Sendonce(options)`.
#[wasm_bindgen]
pub struct Sendonce {
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl Sendonce {
    /// Creates an instance. Bad options throw a `SendonceError` with `code = "invalid_option"`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<OptionsArg>) -> Result<Sendonce, JsValue> {
        js(Self::build(&arg(options)))
    }

    fn build(options: &JsValue) -> Result<Sendonce, SendonceError> {
        let o = options_object(options, "options")?;
        reject_unknown(&o, "", SENDONCE_OPTIONS)?;
        // Only the JS values are read here; every default and rule is the core's
        // (`SendonceConfig::normalize`).
        let storage_opt = get(&o, "storage");
        let storage = if storage_opt.is_object() {
            StorageInput::Adapter {
                missing: ["get", "set", "delete"]
                    .into_iter()
                    .find(|m| !get(&storage_opt, m).is_function()),
            }
        } else if storage_opt.is_undefined() || storage_opt.is_null() {
            StorageInput::Absent
        } else {
            storage_opt
                .as_string()
                .map_or(StorageInput::Other, StorageInput::Name)
        };
        let mut messages = Vec::new();
        let m = get(&o, "messages");
        if !m.is_undefined() && !m.is_null() {
            if !m.is_object() {
                return Err(SendonceError::option(
                    "messages",
                    "must be an object of status code -> text",
                ));
            }
            for entry in super::convert::entries(&m, "messages")?.iter() {
                let k = js_sys::Reflect::get_u32(&entry, 0)
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default();
                let v = js_sys::Reflect::get_u32(&entry, 1)
                    .ok()
                    .and_then(|v| v.as_string())
                    .ok_or_else(|| {
                        SendonceError::option(
                            "messages",
                            format!("the text of {} must be a string", quoted(&k, '"')),
                        )
                    })?;
                messages.push((k, v));
            }
        }
        let retry = retry_input(&get(&o, "retry"))?;
        let w = options_object(&get(&o, "windows"), "windows")?;
        reject_unknown(&w, "windows.", WINDOWS_OPTIONS)?;
        let windows = WindowsInput {
            default: window_value(&get(&w, "default"))?,
            form: window_value(&get(&w, "form"))?,
            chat: window_value(&get(&w, "chat"))?,
            quick_reply: window_value(&get(&w, "quickReply"))?,
        };
        let fetch = get(&o, "fetch");
        if !fetch.is_undefined() && !fetch.is_null() && !fetch.is_function() {
            return Err(SendonceError::option(
                "fetch",
                "must be a function like globalThis.fetch",
            ));
        }
        let on_event = opt_function(&o, "onEvent")?;
        let headers_hook = opt_function(&o, "headers")?;
        let config = SendonceConfig::normalize(SendonceInput {
            namespace: opt_string(&o, "namespace")?,
            storage,
            locale: opt_string(&o, "locale")?,
            messages,
            show_server_reason: opt_bool(&o, "showServerReason")?,
            header_name: opt_string(&o, "headerName")?,
            replay_header: opt_string(&o, "replayHeader")?,
            key_format: opt_string(&o, "keyFormat")?,
            retry,
            windows,
            max_payload_bytes: opt_number(&o, "maxPayloadBytes")?,
            lease_ms: opt_number(&o, "leaseMs")?,
            auto_resume: opt_bool(&o, "autoResume")?,
        })?;
        let open = |choice: StorageChoice| match choice {
            StorageChoice::Adapter => Ok(Backend::Adapter(storage_opt.clone())),
            StorageChoice::Memory => Ok(Backend::Memory),
            web => Store::open_web(web.web_name().unwrap_or("local")).map(Backend::Web),
        };
        // Storage that cannot be opened is replaced by the core's fallback (memory), with a
        // `storage.fallback` event giving the reason.
        let mut fallback = None;
        let backend = open(config.storage).unwrap_or_else(|reason| {
            fallback = Some(reason);
            config
                .storage
                .fallback()
                .and_then(|f| open(f).ok())
                .unwrap_or(Backend::Memory)
        });

        let auto_resume = config.auto_resume;
        let shared = Shared::start(
            Settings {
                config,
                store: Store::new(backend),
                fetch,
                headers_hook,
                on_event,
            },
            fallback,
        );
        let so = Sendonce { shared };
        if auto_resume {
            // Sent, not only restored: the same as `resumePending()` with nobody awaiting it.
            driver::auto_resume(&so.shared);
        }
        Ok(so)
    }

    /// Starts (or finds) the action `name` for `payload`. A confirmed repeat inside the window
    /// answers locally; an unfinished one with the same data keeps its key; anything else gets
    /// a new key. `name` is 1..=100 characters (not bytes; the same rule as a form's
    /// `action`). `options`: `{ window, key }`.
    pub fn action(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] payload: JsValue,
        options: Option<super::options::ActionOptionsArg>,
    ) -> Result<Action, JsValue> {
        let options = super::convert::arg(options);
        // A bound on the copy, four times the limit in UTF-16 units: a name just past the
        // limit gets the core's words (`core::options::action_name`, in start_action).
        let name = js(string_arg(&name, "action", 4 * MAX_ACTION_NAME))?;
        js(self.start_action(&name, &payload, &options, ActionKind::Default))
    }

    /// Actions restored from storage that are not confirmed yet (after a reload), as
    /// `{ key, action, status, attempts, createdAt, persisted, incomplete, waitingFor }`: every
    /// action whose key is still in use, `failed` and `uncertain` ones included (those wait for
    /// the user: "We are not sure this was sent" is shown from here). `persisted` is false when
    /// storage refused the record (it will not survive a reload); `incomplete` is true when the
    /// request needs values that are never stored (a form's files and private fields, secret
    /// query parameters of its URL, or headers without a `headers` hook): it waits for them and
    /// is never sent without them; `waitingFor` names them (`"file:receipt.pdf"`,
    /// `"field:password"`, `"url"`, `"headers"`).
    #[wasm_bindgen(unchecked_return_type = "PendingAction[]")]
    pub fn pending(&self) -> Array {
        pending_list(&self.shared)
    }
}

fn pending_list(shared: &Rc<Shared>) -> Array {
    {
        let out = Array::new();
        for (rec, view) in driver::pending_records(shared) {
            let o = Object::new();
            set(&o, "key", &JsValue::from_str(rec.key.as_str()));
            set(&o, "action", &JsValue::from_str(&rec.action));
            set(&o, "status", &JsValue::from_str(view.status.as_str()));
            set(&o, "attempts", &JsValue::from_f64(rec.attempts as f64));
            set(&o, "createdAt", &JsValue::from_f64(rec.created_at as f64));
            set(
                &o,
                "persisted",
                &JsValue::from_bool(shared.store.is_durable()),
            );
            set(&o, "incomplete", &JsValue::from_bool(view.incomplete));
            let waits: Array = view
                .waiting_for
                .iter()
                .map(|w| JsValue::from_str(w))
                .collect();
            set(&o, "waitingFor", &waits);
            out.push(&o);
        }
        out
    }
}

#[wasm_bindgen]
impl Sendonce {
    /// Resends every pending action with its own key. Resolves with their replies. Over a
    /// storage adapter it reads the adapter's action records first (a restarted bot process
    /// resumes what it had in flight); with claims, an action another live process is sending
    /// is waited for, not sent twice. `uncertain`, `failed` and incomplete actions are not
    /// resent (the user decides: `action.retry()`, or the same submission again). The option
    /// `autoResume: true` does the same when the instance is created.
    #[wasm_bindgen(js_name = resumePending, unchecked_return_type = "Promise<Reply[]>")]
    pub fn resume_pending(&self) -> js_sys::Promise {
        driver::resume_pending(&self.shared)
    }

    /// `pending()` read from the storage adapter first (Node bot servers after a restart; a
    /// page over `idbStorage()`, which also reads the forms' drafts here: await it before
    /// `so.form()`): resolves with the same list.
    #[wasm_bindgen(js_name = pendingAsync, unchecked_return_type = "Promise<PendingAction[]>")]
    pub fn pending_async(&self) -> js_sys::Promise {
        driver::after_loading_actions(&self.shared, |shared| pending_list(shared).into())
    }

    /// Binds a web form: submit intercepted, draft kept, button guarded. See the forms docs.
    pub fn form(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HTMLFormElement | string")] form: JsValue,
        #[wasm_bindgen(unchecked_param_type = "FormOptions")] options: JsValue,
    ) -> Result<super::form::Form, JsValue> {
        js(super::form::create(&self.shared, &form, &options))
    }

    /// A chat outbox for one conversation: `send(text)` returns the message id at once.
    #[cfg(feature = "chat")]
    pub fn chat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatOptions")] options: JsValue,
    ) -> Result<super::chat::Chat, JsValue> {
        js(self
            .conversation_options(&options)
            .and_then(|(shared, o, id)| super::chat::create(shared, o, id)))
    }

    /// Bot quick replies for one conversation, with deterministic keys.
    #[cfg(feature = "quick-replies")]
    #[wasm_bindgen(js_name = quickReplies)]
    pub fn quick_replies(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QuickRepliesOptions")] options: JsValue,
    ) -> Result<super::quick::QuickReplies, JsValue> {
        js(self
            .conversation_options(&options)
            .and_then(|(shared, o, id)| super::quick::create(shared, o, id)))
    }

    /// Counters: `{ actions, sends, retries, clicksSuppressed, localRepeats, serverReplays,
    /// conflicts, rotations, failures }`.
    #[wasm_bindgen(unchecked_return_type = "SendonceStats")]
    pub fn stats(&self) -> JsValue {
        super::convert::from_value(&self.shared.stats().to_value())
    }

    /// Ends everything this instance does and refuses further use: no request leaves for its
    /// actions any more (retries waiting, offline actions and job polls stop), the `send()`s
    /// waiting on them reject with a `SendonceError` of code `disposed`, and its online/offline
    /// listeners and cross-tab channel are removed. Unconfirmed actions stay in storage, listed
    /// by the next page's `pending()` with their keys. An instance that is not disposed lives
    /// while it has work (an action under way or paused offline), whether or not the page
    /// keeps a reference to it.
    pub fn dispose(&self) {
        self.shared.dispose();
    }
}

impl Sendonce {
    /// The common start of `so.chat()` and `so.quickReplies()`: refuses a disposed instance,
    /// checks the options object and reads the required, validated `conversationId`.
    #[cfg(any(feature = "chat", feature = "quick-replies"))]
    pub(crate) fn conversation_options(
        &self,
        options: &JsValue,
    ) -> Result<(Rc<Shared>, JsValue, String), SendonceError> {
        if self.shared.disposed.get() {
            return Err(SendonceError::Disposed("this Sendonce".into()));
        }
        let o = options_object(options, "options")?;
        let conversation_id = opt_string(&o, "conversationId")?
            .ok_or_else(|| SendonceError::option("conversationId", "is required"))?;
        crate::core::quick::validate_conversation_id(&conversation_id)?;
        Ok((self.shared.clone(), o, conversation_id))
    }

    pub(crate) fn start_action(
        &self,
        name: &str,
        payload: &JsValue,
        options: &JsValue,
        kind: ActionKind,
    ) -> Result<Action, SendonceError> {
        if self.shared.disposed.get() {
            return Err(SendonceError::Disposed("this Sendonce".into()));
        }
        crate::core::options::action_name(Some(name.to_string()))?;
        // Without options (the usual call) nothing is read: every property read is a call
        // into JS with a string made from its name, on each create.
        let (window, explicit, exclude, volatile, idempotent, retry, again) =
            if options.is_undefined() || options.is_null() {
                (None, None, Vec::new(), None, true, None, false)
            } else {
                let o = options_object(options, "options")?;
                reject_unknown(&o, "", ACTION_OPTIONS)?;
                (
                    window_value(&get(&o, "window"))?,
                    opt_string(&o, "key")?
                        .map(|k| validate_key(&k))
                        .transpose()?,
                    string_list(&get(&o, "exclude"), "exclude")?,
                    // `volatile`: absent keeps the default names, `[]` counts every field.
                    {
                        let v = get(&o, "volatile");
                        if v.is_undefined() || v.is_null() {
                            None
                        } else {
                            Some(string_list(&v, "volatile")?)
                        }
                    },
                    // `idempotent: false`: the target honours no key; see
                    // `ActionConfig::idempotent`.
                    opt_bool(&o, "idempotent")?.unwrap_or(true),
                    // `retry`: over the instance's policy, for this action only.
                    {
                        let r = retry_input(&get(&o, "retry"))?;
                        if r.is_empty() {
                            None
                        } else {
                            Some(r.over(self.shared.retry)?)
                        }
                    },
                    opt_bool(&o, "again")?.unwrap_or(false),
                )
            };
        if again && explicit.is_some() {
            return Err(SendonceError::option(
                "again",
                "makes a new key; it cannot be used with `key`",
            ));
        }
        let body = payload_text(payload, "the payload", self.shared.max_payload_bytes)?;
        let handle = driver::start(
            &self.shared,
            NewAction {
                name,
                kind,
                window,
                key: explicit,
                exclude,
                volatile,
                idempotent,
                again,
                retry,
                body,
            },
        )?;
        Ok(Action::new(handle))
    }
}

/// A `retry` option (of `new Sendonce()` or `so.action()`) as written: an object of finite
/// numbers `>= 0` with known names; the core normalises it (`RetryInput::over`).
fn retry_input(v: &JsValue) -> Result<RetryInput, SendonceError> {
    let r = options_object(v, "retry")?;
    reject_unknown(&r, "retry.", RETRY_OPTIONS)?;
    let num = |name: &str| {
        opt_number(&r, name).map_err(|_| {
            SendonceError::option(&format!("retry.{name}"), "must be a finite number >= 0")
        })
    };
    Ok(RetryInput {
        attempts: num("attempts")?,
        base_delay_ms: num("baseDelayMs")?,
        max_delay_ms: num("maxDelayMs")?,
        timeout_ms: num("timeoutMs")?,
        deadline_ms: num("deadlineMs")?,
    })
}

/// Longest action name, in characters (`core::options::MAX_ACTION_NAME_CHARS`).
const MAX_ACTION_NAME: u32 = crate::core::options::MAX_ACTION_NAME_CHARS as u32;

/// An optional list of field names (`exclude`, `volatile`): an array of at most 1000 strings. Anything
/// else (an array-like `{ length: 1e9 }` included) is a clear error.
pub(crate) fn string_list(v: &JsValue, name: &str) -> Result<Vec<String>, SendonceError> {
    if v.is_undefined() || v.is_null() {
        return Ok(Vec::new());
    }
    let bad = || SendonceError::option(name, "must be an array of at most 1000 strings");
    if !super::convert::is_array(v) {
        return Err(bad());
    }
    let list: &Array = v.unchecked_ref();
    if list.length() > 1000 {
        return Err(bad());
    }
    list.iter()
        .map(|x| string_arg(&x, name, 1000).map_err(|_| bad()))
        .collect()
}
