//! `so.form(formElement | selector, options)`: a web form whose submission happens once.
//!
//! - Submit is intercepted (`preventDefault` in the submit listener) and the button is disabled
//!   in the same event task (`disabled`, `aria-disabled`, `aria-busy`).
//! - The draft (field values in DOM order, files as metadata) is saved on input, debounced
//!   300 ms, with the key born with it, and restored on load: two tabs that restored the same
//!   draft share its key. A draft whose action is still unfinished resumes it on load.
//! - The key comes from the core's `form_key` (kept while the data is unchanged, rotated with
//!   `key.rotated` when the data changed after it was sent, a local repeat inside the window).
//! - Across tabs, the send holds the Web Lock `sendonce:{ns}:{key}`; another tab that submits
//!   the same key shows `elsewhere`, then adopts the result (or sends itself if the first tab
//!   vanished).
//! - Private fields (passwords, card numbers and codes, one-time codes,
//!   `data-sendonce-private`, `exclude`) are never stored, fingerprinted or put in the body:
//!   the body is stored to be resent after a reload. Send credentials in `headers`
//!   (`Authorization` is never stored).
//! - The body is a JSON object: one member per field name in DOM order, a string for one
//!   value, an array for several (see `core::form::form_body`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::action::Action;
use super::convert::{headers_list, opt_bool, opt_number, opt_string, options_object};
use super::listeners::Listeners;
use super::sendonce::{window_value, Sendonce, Shared};
use crate::core::action::{ActionMachine, Input};
use crate::core::error::SendonceError;
use crate::core::events::EventKind;
use crate::core::fingerprint::{fingerprint_form, Fingerprint, FormValue};
use crate::core::form::{form_body, is_private, plan_submission, Submission};
use crate::core::key::Key;
use crate::core::record::{self, DraftRecord, Record};
use crate::core::status::StatusCode;
use crate::core::window::{ActionKind, Window};
use crate::platform::{self, dom, get, set};

#[wasm_bindgen(typescript_custom_section)]
const FORM_TYPES: &'static str = r#"
/** `so.form(formElement | selector, options)`. */
export interface FormOptions {
  /** The action's name, e.g. "createOrder". */
  action: string;
  /** Where to send; defaults to the form's `action` attribute. */
  url?: string;
  /** HTTP method, default "POST". */
  method?: string;
  /** The button to guard; defaults to the form's first submit button. */
  button?: HTMLElement | string;
  /** Where to show the status text (textContent, role="status", aria-live="polite"). */
  status?: HTMLElement | string;
  /** Re-enable the button after this many ms if still pending (a click then joins). Default 2000. */
  reenableAfterMs?: number;
  /** The repeat window, default the `windows.form` option ("10m"). */
  window?: WindowSpec;
  /** Field names never stored, fingerprinted or sent (besides passwords, cc-number, cc-csc, one-time-code, data-sendonce-private). */
  exclude?: string[];
  /** Keep the draft after a confirmed success. Default false. */
  keepDraft?: boolean;
  /** Extra request headers; credentials (Authorization, Cookie...) are never stored. */
  headers?: HeadersInit;
}
"#;

/// How long after the last input the draft is saved.
const DRAFT_DEBOUNCE_MS: u32 = 300;

/// The form's options, normalised once.
struct FormOptions {
    action: String,
    url: String,
    method: String,
    headers: JsValue,
    window: Window,
    exclude: Vec<String>,
    keep_draft: bool,
    reenable_after_ms: u32,
    form_id: String,
}

/// A DOM listener (target, event name, callback), removed on `dispose()`.
type DomListener = (JsValue, String, Closure<dyn FnMut(JsValue)>);

struct FormInner {
    shared: Rc<Shared>,
    opts: FormOptions,
    form: JsValue,
    button: Option<JsValue>,
    status_el: Option<JsValue>,
    key: RefCell<Option<Key>>,
    fingerprint: RefCell<Option<Fingerprint>>,
    current: RefCell<Option<Rc<Action>>>,
    /// Stops listening to the current action's statuses.
    current_off: RefCell<Option<Function>>,
    pending: Cell<bool>,
    /// The page saw `offline` more recently than `online` (a real one, or one a page
    /// dispatched): a submission then pauses as `offline` at once.
    offline_event: Cell<bool>,
    status_listeners: Listeners,
    reply_listeners: Listeners,
    dom_listeners: RefCell<Vec<DomListener>>,
    save_timer: RefCell<Option<Timeout>>,
    reenable_timer: RefCell<Option<Timeout>>,
    disposed: Cell<bool>,
}

/// A bound form. Keep it as long as the form is on the page; `dispose()` unbinds it.
#[wasm_bindgen]
pub struct Form {
    inner: Rc<FormInner>,
}

pub(crate) fn create(
    so: &Sendonce,
    el: &JsValue,
    options: &JsValue,
) -> Result<Form, SendonceError> {
    let shared = so.shared().clone();
    if shared.disposed.get() {
        return Err(SendonceError::Disposed("this Sendonce".into()));
    }
    let form = dom::element(el)
        .filter(|f| get(f, "tagName").as_string().as_deref() == Some("FORM"))
        .ok_or_else(|| {
            SendonceError::option("form", "must be a <form> element or a selector of one")
        })?;
    let o = options_object(options, "options")?;
    let action = opt_string(&o, "action")?
        .filter(|a| !a.is_empty() && a.len() <= 100)
        .ok_or_else(|| {
            SendonceError::option("action", "the action name (1..=100 characters) is required")
        })?;
    let url = opt_string(&o, "url")?
        .filter(|u| !u.is_empty())
        .or_else(|| dom::attr(&form, "action").filter(|a| !a.is_empty()))
        .ok_or_else(|| {
            SendonceError::option("url", "is required (or an action attribute on the form)")
        })?;
    let method = opt_string(&o, "method")?
        .unwrap_or_else(|| "POST".into())
        .to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(SendonceError::option(
            "method",
            "must be an HTTP method like \"POST\"",
        ));
    }
    let headers = get(&o, "headers");
    headers_list(&headers)?;
    let window = window_value(&get(&o, "window"))?.unwrap_or(shared.windows.form);
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
    let keep_draft = opt_bool(&o, "keepDraft")?.unwrap_or(false);
    let reenable_after_ms = opt_number(&o, "reenableAfterMs")?
        .unwrap_or(2000.0)
        .min(u32::MAX as f64) as u32;
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
    if let Some(s) = &status_el {
        dom::set_attr(s, "role", "status");
        dom::set_attr(s, "aria-live", "polite");
    }
    let form_id = [get(&form, "id").as_string(), dom::attr(&form, "name")]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| action.clone());
    let inner = Rc::new(FormInner {
        shared,
        opts: FormOptions {
            action,
            url,
            method,
            headers,
            window,
            exclude,
            keep_draft,
            reenable_after_ms,
            form_id,
        },
        form,
        button,
        status_el,
        key: RefCell::new(None),
        fingerprint: RefCell::new(None),
        current: RefCell::new(None),
        current_off: RefCell::new(None),
        pending: Cell::new(false),
        offline_event: Cell::new(false),
        status_listeners: Listeners::default(),
        reply_listeners: Listeners::default(),
        dom_listeners: RefCell::new(Vec::new()),
        save_timer: RefCell::new(None),
        reenable_timer: RefCell::new(None),
        disposed: Cell::new(false),
    });
    for name in ["submit", "input", "change"] {
        let weak = Rc::downgrade(&inner);
        let is_submit = name == "submit";
        let cb = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let Some(f) = weak.upgrade() {
                if is_submit {
                    // Same task as the click: nothing can start a second send after this.
                    let _ = dom::call(&event, "preventDefault", &[]);
                    f.submit();
                } else {
                    f.schedule_save();
                }
            }
        });
        dom::listen(&inner.form, name, cb.as_ref().unchecked_ref());
        inner
            .dom_listeners
            .borrow_mut()
            .push((inner.form.clone(), name.to_string(), cb));
    }
    let global: JsValue = platform::global().into();
    if get(&global, "addEventListener").is_function() {
        for (name, offline) in [("offline", true), ("online", false)] {
            let weak = Rc::downgrade(&inner);
            let cb = Closure::<dyn FnMut(JsValue)>::new(move |_| {
                if let Some(f) = weak.upgrade() {
                    f.offline_event.set(offline);
                }
            });
            dom::listen(&global, name, cb.as_ref().unchecked_ref());
            inner
                .dom_listeners
                .borrow_mut()
                .push((global.clone(), name.to_string(), cb));
        }
    }
    inner.load()?;
    Ok(Form { inner })
}

impl FormInner {
    /// Restores the draft (or starts one with a new key), and resumes its unfinished action.
    fn load(self: &Rc<Self>) -> Result<(), SendonceError> {
        let storage_key = record::draft_key(&self.shared.ns, &self.opts.form_id);
        match self.shared.read(&storage_key) {
            Some(Record::Draft(d)) if d.action == self.opts.action => {
                self.restore_fields(&d.fields);
                *self.key.borrow_mut() = d.key.clone();
                *self.fingerprint.borrow_mut() = d.fingerprint.clone();
            }
            _ => {}
        }
        if self.key.borrow().is_none() {
            // The key is born with the draft, before any send.
            *self.key.borrow_mut() = Some(self.shared.new_key()?);
            self.save_draft();
        }
        let key = self.key.borrow().clone();
        if let Some(rec) = key.and_then(|k| self.shared.read_action(&k)) {
            if !rec.status.is_final() && rec.request.is_some() {
                self.shared.emit(self.shared.event(
                    EventKind::ActionResume,
                    &rec.key,
                    &self.opts.action,
                ));
                let fields = self.fields();
                let body = form_body(&fields).to_json();
                let cfg = self.shared.config(
                    rec.key.clone(),
                    &self.opts.action,
                    ActionKind::Form,
                    rec.fingerprint.clone(),
                    self.opts.window,
                );
                let action = Rc::new(Action::from_cell(
                    self.shared.adopt(ActionMachine::restore(cfg, rec)),
                    body,
                ));
                self.begin(action);
            }
        }
        Ok(())
    }

    /// The form's fields in DOM order, private ones left out.
    fn fields(&self) -> Vec<(String, FormValue)> {
        let mut out = Vec::new();
        for el in dom::controls(&self.form) {
            let info = dom::field_info(&el);
            if is_private(&info, &self.opts.exclude) {
                continue;
            }
            for v in dom::control_values(&el, &info) {
                out.push((info.name.clone(), v));
            }
        }
        out
    }

    fn restore_fields(&self, fields: &[(String, FormValue)]) {
        let mut cursors: Vec<(String, usize)> = Vec::new();
        for el in dom::controls(&self.form) {
            let info = dom::field_info(&el);
            if is_private(&info, &self.opts.exclude) {
                continue;
            }
            let values: Vec<&str> = fields
                .iter()
                .filter(|(n, _)| *n == info.name)
                .filter_map(|(_, v)| match v {
                    FormValue::Text(t) => Some(t.as_str()),
                    FormValue::File { .. } => None,
                })
                .collect();
            // No saved value: text keeps its default (a field added since), but a box or
            // option the user had cleared is cleared again.
            let choice = matches!(info.kind.as_str(), "checkbox" | "radio" | "select-multiple");
            if values.is_empty() && !choice {
                continue;
            }
            let pos = match cursors.iter().position(|(n, _)| *n == info.name) {
                Some(p) => p,
                None => {
                    cursors.push((info.name.clone(), 0));
                    cursors.len() - 1
                }
            };
            if let Some((_, cursor)) = cursors.get_mut(pos) {
                dom::restore_control(&el, &info, &values, cursor);
            }
        }
    }

    fn save_draft(&self) {
        if self.disposed.get() {
            return;
        }
        self.save_timer.borrow_mut().take();
        let draft = DraftRecord {
            form: self.opts.form_id.clone(),
            action: self.opts.action.clone(),
            fields: self.fields(),
            key: self.key.borrow().clone(),
            fingerprint: self.fingerprint.borrow().clone(),
            saved_at: platform::now_ms(),
        };
        self.shared.write(&Record::Draft(draft));
    }

    fn schedule_save(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        *self.save_timer.borrow_mut() = Some(Timeout::new(DRAFT_DEBOUNCE_MS, move || {
            if let Some(f) = weak.upgrade() {
                f.save_draft();
            }
        }));
    }

    fn clear_draft(&self) {
        self.save_timer.borrow_mut().take();
        self.shared
            .store
            .delete(&record::draft_key(&self.shared.ns, &self.opts.form_id));
    }

    /// The submit listener: plans the key, saves the draft with it, starts the send.
    fn submit(self: &Rc<Self>) {
        if self.disposed.get() {
            return;
        }
        if self.pending.get() {
            // A click while pending joins the action in flight: same key, no second send.
            if let Some(k) = self.key.borrow().as_ref() {
                self.shared.emit(self.shared.event(
                    EventKind::ClickSuppressed,
                    k,
                    &self.opts.action,
                ));
            }
            return;
        }
        if let Some(b) = &self.button {
            dom::set_busy(b, true);
        }
        self.pending.set(true);
        match self.prepare() {
            Ok(action) => self.begin(action),
            Err(e) => {
                self.pending.set(false);
                if let Some(b) = &self.button {
                    dom::set_busy(b, false);
                }
                let status = Object::new();
                set(
                    &status,
                    "code",
                    &JsValue::from_str(StatusCode::Failed.as_str()),
                );
                set(&status, "text", &JsValue::from_str(&e.to_string()));
                self.show_status(&status.into());
            }
        }
    }

    /// The action of this submission.
    fn prepare(&self) -> Result<Rc<Action>, SendonceError> {
        let fields = self.fields();
        let body = form_body(&fields).to_json();
        let now = platform::now_ms();
        let draft_key = self.key.borrow().clone();
        let existing = draft_key.as_ref().and_then(|k| self.shared.read_action(k));
        let index = record::index_key(
            &self.shared.ns,
            &self.opts.action,
            &fingerprint_form(&fields, &[]),
        );
        let indexed = self
            .shared
            .store
            .get(&index)
            .and_then(|k| crate::core::key::validate_key(&k).ok())
            .and_then(|k| self.shared.read_action(&k));
        let (plan, fp) = plan_submission(
            &fields,
            draft_key.as_ref(),
            existing.as_ref(),
            indexed.as_ref(),
            now,
        );
        let cfg = |key: Key| {
            self.shared.config(
                key,
                &self.opts.action,
                ActionKind::Form,
                fp.clone(),
                self.opts.window,
            )
        };
        let machine = match plan {
            Submission::Repeat(rec) => ActionMachine::restore(cfg(rec.key.clone()), rec),
            Submission::Send(key) => {
                let rec = match existing.filter(|r| r.key == key && r.fingerprint == fp) {
                    Some(r) => Some(r),
                    None => indexed.filter(|r| r.key == key && r.fingerprint == fp),
                };
                match rec {
                    Some(rec) => ActionMachine::restore(cfg(key), rec),
                    None => ActionMachine::new(cfg(key), now),
                }
            }
            Submission::NewKey { rotated } => {
                let key = self.shared.new_key()?;
                if rotated {
                    self.shared.emit(self.shared.event(
                        EventKind::KeyRotated,
                        &key,
                        &self.opts.action,
                    ));
                }
                self.shared.emit(
                    self.shared
                        .event(EventKind::ActionNew, &key, &self.opts.action),
                );
                ActionMachine::new(cfg(key), now)
            }
        };
        // The index (action + fingerprint -> key) answers a repeat after the draft was cleared.
        self.shared
            .put(&index, machine.key().as_str(), self.opts.window.ms());
        *self.key.borrow_mut() = Some(machine.key().clone());
        *self.fingerprint.borrow_mut() = Some(fp);
        // The key is in the draft before the request leaves: a reload finds it.
        self.save_draft();
        Ok(Rc::new(Action::from_cell(self.shared.adopt(machine), body)))
    }

    /// Shows the action's statuses and runs its send.
    fn begin(self: &Rc<Self>, action: Rc<Action>) {
        self.pending.set(true);
        if let Some(b) = &self.button {
            dom::set_busy(b, true);
        }
        let same = self.current.borrow().as_ref().map(|a| a.key()) == Some(action.key());
        if !same {
            if let Some(off) = self.current_off.borrow_mut().take() {
                let _ = off.call0(&JsValue::NULL);
            }
            let weak = Rc::downgrade(self);
            let cb = Closure::<dyn FnMut(JsValue)>::new(move |status: JsValue| {
                if let Some(f) = weak.upgrade() {
                    f.on_status(&status);
                }
            });
            let off = action.on_status(cb.into_js_value().unchecked_into());
            *self.current_off.borrow_mut() = Some(off);
        }
        *self.current.borrow_mut() = Some(action.clone());
        let weak = Rc::downgrade(self);
        *self.reenable_timer.borrow_mut() =
            Some(Timeout::new(self.opts.reenable_after_ms, move || {
                if let Some(f) = weak.upgrade() {
                    if let Some(b) = &f.button {
                        // Still pending: a click now joins the action in flight.
                        dom::set_busy(b, false);
                    }
                }
            }));
        let this = self.clone();
        crate::platform::spawn(async move {
            let reply = this.run(&action).await;
            this.settled(reply);
        });
    }

    async fn run(self: &Rc<Self>, action: &Action) -> Result<JsValue, JsValue> {
        let cell = action.cell().clone();
        if self.offline_event.get() {
            // Sendonce tells live actions about online/offline; a new one learns it here.
            cell.feed(Input::Offline);
        }
        let init = Object::new();
        set(&init, "method", &JsValue::from_str(&self.opts.method));
        if !self.opts.headers.is_undefined() {
            set(&init, "headers", &self.opts.headers);
        }
        // The action takes the cross-tab lock itself (one send per key across tabs).
        JsFuture::from(action.send(&self.opts.url, init.into())).await
    }

    fn settled(&self, reply: Result<JsValue, JsValue>) {
        self.pending.set(false);
        self.reenable_timer.borrow_mut().take();
        if let Some(b) = &self.button {
            dom::set_busy(b, false);
        }
        if let Ok(reply) = reply {
            self.reply_listeners.call(&reply);
        }
    }

    fn on_status(&self, status: &JsValue) {
        let code = get(status, "code")
            .as_string()
            .and_then(|c| StatusCode::parse(&c));
        if code.is_some_and(StatusCode::is_confirmed) && !self.opts.keep_draft {
            self.clear_draft();
        }
        self.show_status(status);
    }

    fn show_status(&self, status: &JsValue) {
        if let Some(el) = &self.status_el {
            dom::set_text(el, &get(status, "text").as_string().unwrap_or_default());
        }
        self.status_listeners.call(status);
    }
}

#[wasm_bindgen]
impl Form {
    /// The key the next submission uses (born with the draft; rotated when the data changed
    /// after it was sent).
    #[wasm_bindgen(getter)]
    pub fn key(&self) -> Option<String> {
        self.inner.key.borrow().as_ref().map(|k| k.to_string())
    }

    /// The current status, `{ code, text }` (`idle` before the first submission).
    #[wasm_bindgen(getter, unchecked_return_type = "Status")]
    pub fn status(&self) -> JsValue {
        match self.inner.current.borrow().as_ref() {
            Some(a) => a.status(),
            None => {
                super::convert::status_object(&self.inner.shared.messages, StatusCode::Idle, None)
            }
        }
    }

    /// Calls `callback(status)` on every status change; returns a function that stops it.
    #[wasm_bindgen(js_name = onStatus, unchecked_return_type = "() => void")]
    pub fn on_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: Status) => void")] callback: JsValue,
    ) -> Result<Function, JsValue> {
        let f = super::convert::js(super::convert::required_callback(callback, "callback"))?;
        Ok(self.inner.status_listeners.subscribe(f))
    }

    /// Calls `callback(reply)` when a submission settles; returns a function that stops it.
    #[wasm_bindgen(js_name = onReply, unchecked_return_type = "() => void")]
    pub fn on_reply(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(reply: Reply) => void")] callback: JsValue,
    ) -> Result<Function, JsValue> {
        let f = super::convert::js(super::convert::required_callback(callback, "callback"))?;
        Ok(self.inner.reply_listeners.subscribe(f))
    }

    /// Sends the last submission again with its key (after `offline` or `failed`).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn retry(&self) -> js_sys::Promise {
        // Resolves once the resend has started; its outcome arrives through onStatus/onReply.
        let action = self.inner.current.borrow().clone();
        match action {
            Some(a) if !self.inner.pending.get() => {
                self.inner.begin(a);
                js_sys::Promise::resolve(&JsValue::UNDEFINED)
            }
            _ => js_sys::Promise::resolve(&JsValue::UNDEFINED),
        }
    }

    /// Unbinds the form: listeners removed, timers stopped. The draft stays in storage.
    pub fn dispose(&self) {
        let inner = &self.inner;
        inner.disposed.set(true);
        for (target, name, cb) in inner.dom_listeners.borrow_mut().drain(..) {
            dom::unlisten(&target, &name, cb.as_ref().unchecked_ref());
        }
        inner.save_timer.borrow_mut().take();
        inner.reenable_timer.borrow_mut().take();
        if let Some(off) = inner.current_off.borrow_mut().take() {
            let _ = off.call0(&JsValue::NULL);
        }
        inner.status_listeners.clear();
        inner.reply_listeners.clear();
    }
}
