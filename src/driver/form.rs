//! The form driver: a bound web form (`so.form(...)`) whose submission happens once.
//!
//! - Submit is intercepted (`preventDefault` in the submit listener) and the button is guarded
//!   in the same event task (`aria-disabled`, `aria-busy`; not `disabled`, see `dom::set_busy`).
//! - Before the binding, the form is a plain HTML form that the browser would submit itself:
//!   a page keeps it shut in its HTML with `disabled` on its submit buttons, marked
//!   [`ENABLE_MARKER`]. The binding enables the marked controls of its form (and its guarded
//!   button) once it guards the form, and disables them again on `dispose()`; a control
//!   disabled without the marker is the page's and stays as it is.
//! - The draft (field values in DOM order, files as metadata) is saved on input, debounced
//!   300 ms, with the key born with it, and restored on load: two tabs that restored the same
//!   draft share its key. A draft whose action is still unfinished resumes it on load.
//! - The key comes from the core's `form_key` (kept while the data is unchanged, rotated with
//!   `key.rotated` when the data changed after it was sent, a local repeat inside the window).
//! - Across tabs, the send holds the Web Lock `sendonce:{ns}:{key}`; another tab that submits
//!   the same key shows `elsewhere`, then adopts the result (or sends itself if the first tab
//!   vanished).
//! - Private fields (passwords, card numbers and codes, one-time codes, `data-sendonce-private`,
//!   `exclude`, and any field that was a password at some moment of the page's life) are SENT
//!   but never stored, fingerprinted or put in an event: the stored request holds the visible
//!   fields only and says it lacks private values, so after a reload it waits for the user's
//!   next submission (same visible data, same key) instead of being resent without them.
//! - The binding lives as long as its form: the form's listeners own it (the page need not
//!   keep the returned object), and it holds the form, button and status element weakly, so
//!   a form removed from the page is collected with its binding. A submit is prevented before
//!   anything else runs, so a failure while handling it never falls through to the browser's
//!   native submission (a GET with every field in the URL).
//! - The body is a JSON object: one member per field name in DOM order, a string for one
//!   value, an array for several (see `core::form::form_body`).

use crate::platform::invoke;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::action::Shared;
use super::action::{ActionCell, ActionHandle};
use super::listeners::Listeners;
use crate::core::action::ActionMachine;
use crate::core::error::SendonceError;
use crate::core::events::EventKind;
use crate::core::fingerprint::{Fingerprint, FormValue};
use crate::core::form::{
    form_body, form_identity, form_urlencoded, is_private, missing_text, multipart_boundary,
    multipart_content_type, plan_submission, private_digest, waiting_for, EarlierLife, FieldInfo,
    Submission,
};
use crate::core::key::Key;
use crate::core::record::{self, DraftRecord, Record};
use crate::core::status::StatusCode;
use crate::core::window::{ActionKind, Window};
use crate::platform::convert::{headers_list, status_object};
use crate::platform::{self, dom, get, set};

/// A form's fields in DOM order (name and value; a name repeats once per value): all of them,
/// as sent, and the visible ones, as stored, fingerprinted and restored.
#[derive(Default)]
struct FormFields {
    all: Vec<(String, FormValue)>,
    visible: Vec<(String, FormValue)>,
    /// Names of number inputs: JSON numbers in the body.
    numbers: Vec<String>,
    /// The private fields (sent, never stored): only their keyed digest counts for the
    /// action's identity.
    private: Vec<(String, FormValue)>,
    /// The names of the private fields that hold a value (what a reload loses).
    private_names: Vec<String>,
    /// A private field holds a value (an empty one, a blank password, holds no secret: the
    /// request is then complete without it and resumes on its own after a reload).
    secret: bool,
}

use crate::core::form::Encoding;

/// The attribute that marks a control the page disabled in its HTML until a binding guards its
/// form: the binding removes `disabled` from it, and sets it again on `dispose()`.
pub(crate) const ENABLE_MARKER: &str = "data-sendonce-enable";

/// How long after the last input the draft is saved.
const DRAFT_DEBOUNCE_MS: u32 = 300;

thread_local! {
    /// The secret of this page life's private-value digests (`core::form::private_digest`):
    /// random, made once, kept only in this memory, never stored or sent. A reload makes
    /// another, so the digests of an earlier page life can no longer be checked.
    static PAGE_SECRET: std::cell::OnceCell<Option<[u8; 32]>> = const { std::cell::OnceCell::new() };
}

/// This page life's digest secret; `None` without a CSPRNG (then no key can be made either).
fn page_secret() -> Option<[u8; 32]> {
    PAGE_SECRET.with(|s| {
        *s.get_or_init(|| {
            let (a, b) = (platform::random_bytes()?, platform::random_bytes()?);
            let mut out = [0u8; 32];
            out[..16].copy_from_slice(&a);
            out[16..].copy_from_slice(&b);
            Some(out)
        })
    })
}

/// The form's options, normalised once (by the bindings).
pub(crate) struct FormOptions {
    pub action: String,
    pub url: String,
    pub method: String,
    pub headers: JsValue,
    pub window: Window,
    pub exclude: Vec<String>,
    pub keep_draft: bool,
    pub reenable_after_ms: u32,
    /// The button's label while a submission is under way (Turbo's `submits-with`).
    pub busy_label: Option<String>,
    /// How the body is written.
    pub encoding: Encoding,
    pub form_id: String,
}

/// A DOM listener (target, event name, callback), removed on `dispose()`. Weak: the listener
/// owns the binding, not the other way round.
type DomListener = (dom::WeakEl, String, dom::WeakEl);

/// One bound form: its options, elements (held weakly), draft key and current action.
pub(crate) struct FormDriver {
    shared: Rc<Shared>,
    opts: FormOptions,
    form: dom::WeakEl,
    button: Option<dom::WeakEl>,
    status_el: Option<dom::WeakEl>,
    /// Names of fields seen as `type=password` at any moment (a "show password" toggle turns
    /// them into text fields, and they stay private).
    ever_password: RefCell<Vec<String>>,
    key: RefCell<Option<Key>>,
    fingerprint: RefCell<Option<Fingerprint>>,
    current: RefCell<Option<Rc<ActionHandle>>>,
    /// Stops listening to the current action's statuses and replies.
    current_off: RefCell<Vec<Function>>,
    pending: Cell<bool>,
    /// The button's own label while `busyLabel` replaces it.
    saved_label: RefCell<Option<String>>,
    /// The status code the status element shows.
    shown: Cell<Option<StatusCode>>,
    /// The Retry button shown after the status element, while the status asks "Retry?".
    retry_button: RefCell<Option<dom::WeakEl>>,
    status_listeners: Listeners,
    reply_listeners: Listeners,
    dom_listeners: RefCell<Vec<DomListener>>,
    save_timer: RefCell<Option<Timeout>>,
    reenable_timer: RefCell<Option<Timeout>>,
    /// The draft restored at bind time, while its key's action comes from an earlier page life
    /// (cleared by the first submission that is planned here).
    earlier: RefCell<Option<EarlierLife>>,
    /// The status of a restored submission that waits for what is never stored (`incomplete`),
    /// shown until the next submission.
    waiting: RefCell<Option<JsValue>>,
    /// The `Content-Type` (with its boundary) of the current action's multipart body.
    multipart_type: RefCell<Option<String>>,
    /// Watches the fields' `type`, `autocomplete` and `data-sendonce-private`: a field that
    /// becomes private leaves the stored draft at once, not at the next input.
    observer: RefCell<Option<JsValue>>,
    /// The controls marked [`ENABLE_MARKER`] that this binding enabled.
    marked: RefCell<Vec<dom::WeakEl>>,
    disposed: Cell<bool>,
}

impl FormDriver {
    /// Binds `form` (checked to be a `<form>`) with its normalised options: the status element
    /// becomes a polite live region, the submit, input and change listeners are added (they
    /// own the binding), and the draft is restored (its unfinished action resumed).
    pub(crate) fn bind(
        shared: Rc<Shared>,
        form: &JsValue,
        opts: FormOptions,
        button: Option<JsValue>,
        status_el: Option<JsValue>,
    ) -> Result<Rc<FormDriver>, SendonceError> {
        if let Some(s) = &status_el {
            dom::set_attr(s, "role", "status");
            dom::set_attr(s, "aria-live", "polite");
        }
        let inner = Rc::new(FormDriver {
            shared,
            ever_password: RefCell::new(Vec::new()),
            opts,
            form: dom::WeakEl::new(form),
            button: button.as_ref().map(dom::WeakEl::new),
            status_el: status_el.as_ref().map(dom::WeakEl::new),
            key: RefCell::new(None),
            fingerprint: RefCell::new(None),
            current: RefCell::new(None),
            current_off: RefCell::new(Vec::new()),
            pending: Cell::new(false),
            saved_label: RefCell::new(None),
            shown: Cell::new(None),
            retry_button: RefCell::new(None),
            status_listeners: Listeners::default(),
            reply_listeners: Listeners::default(),
            dom_listeners: RefCell::new(Vec::new()),
            save_timer: RefCell::new(None),
            reenable_timer: RefCell::new(None),
            observer: RefCell::new(None),
            earlier: RefCell::new(None),
            waiting: RefCell::new(None),
            multipart_type: RefCell::new(None),
            marked: RefCell::new(Vec::new()),
            disposed: Cell::new(false),
        });
        inner.note_passwords(form);
        for name in ["submit", "input", "change"] {
            // The listener owns the binding (a strong reference): the binding lives as long as
            // the form element keeps its listeners, whether or not the page keeps the returned
            // object. The JS function frees the closure when the element is collected.
            let owner = inner.clone();
            let is_submit = name == "submit";
            let cb = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                if owner.disposed.get() {
                    return;
                }
                if is_submit {
                    // First, before anything that could fail: the browser must never perform
                    // the native submission (a GET with every field, passwords included, in the
                    // URL). Same task as the click: nothing can start a second send after this.
                    dom::prevent_default(&event);
                    owner.submit();
                } else {
                    // A "show password" toggle: a field typed into as a password stays private.
                    owner.note_passwords(&get(&event, "target"));
                    owner.schedule_save();
                    owner.edited();
                }
            })
            .into_js_value();
            dom::listen(form, name, cb.unchecked_ref());
            inner.dom_listeners.borrow_mut().push((
                dom::WeakEl::new(form),
                name.to_string(),
                dom::WeakEl::new(&cb),
            ));
        }
        inner.watch_privacy(form);
        inner.load()?;
        // Last: the form is guarded from here on (its submit listener is in place).
        inner.enable_marked(form);
        Ok(inner)
    }

    /// The key the next submission uses.
    pub(crate) fn key(&self) -> Option<String> {
        self.key.borrow().as_ref().map(|k| k.to_string())
    }

    /// The current status, `{ code, text, underWay, final }` (`idle` before the first submission).
    pub(crate) fn status(&self) -> JsValue {
        if let Some(waiting) = self.waiting.borrow().as_ref() {
            return waiting.clone();
        }
        match self.current.borrow().as_ref() {
            Some(a) => a.status(),
            None => status_object(&self.shared.messages, StatusCode::Idle, None),
        }
    }

    /// Calls `callback(status)` on every status change; returns the function that stops it.
    pub(crate) fn on_status_change(&self, callback: Function) -> Function {
        self.status_listeners.subscribe(callback)
    }

    /// Calls `callback(reply)` when a submission settles; returns the function that stops it.
    pub(crate) fn on_reply(&self, callback: Function) -> Function {
        self.reply_listeners.subscribe(callback)
    }

    /// Unbinds the form: listeners removed, timers stopped, the marked controls disabled
    /// again. The draft stays in storage.
    pub(crate) fn dispose(&self) {
        self.disposed.set(true);
        for (target, name, cb) in self.dom_listeners.borrow_mut().drain(..) {
            if let (Some(target), Some(cb)) = (target.get(), cb.get()) {
                dom::unlisten(&target, &name, cb.unchecked_ref());
            }
        }
        self.save_timer.borrow_mut().take();
        self.reenable_timer.borrow_mut().take();
        if let Some(observer) = self.observer.borrow_mut().take() {
            dom::disconnect(&observer);
        }
        // Unguarded again: the marked controls wait, disabled, for the next binding.
        for el in self.marked.borrow_mut().drain(..).filter_map(|w| w.get()) {
            if dom::has_attr(&el, ENABLE_MARKER) {
                dom::set_disabled(&el, true);
            }
        }
        for off in self.current_off.borrow_mut().drain(..) {
            let _ = invoke(&off, &JsValue::NULL, &[]);
        }
        self.status_listeners.clear();
        self.reply_listeners.clear();
    }
}

impl FormDriver {
    /// Restores the draft (or starts one with a new key), and resumes its unfinished action.
    fn load(self: &Rc<Self>) -> Result<(), SendonceError> {
        let storage_key = record::draft_key(&self.shared.ns, &self.opts.form_id);
        match self.shared.read(&storage_key) {
            Some(Record::Draft(d)) if d.action == self.opts.action => {
                self.restore_fields(&d.fields);
                *self.key.borrow_mut() = d.key.clone();
                *self.fingerprint.borrow_mut() = d.fingerprint.clone();
                *self.earlier.borrow_mut() = Some(EarlierLife::of(&d.fields));
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
            // A request that needed private values waits for the user's next submission (the
            // restored draft is shown; the same visible data keeps the key).
            // A confirmed action whose draft is still here was finished by someone else after
            // this page's last life (a service worker's sync, another tab): its outcome is
            // shown, answered locally, and the draft is cleared as after a success here.
            let confirmed = crate::core::action::adopt_elsewhere(Some(&rec));
            let complete = rec.request.as_ref().is_some_and(|r| !r.private_body);
            if confirmed || (!rec.status.is_final() && complete) {
                self.shared.emit(self.shared.event(
                    EventKind::ActionResume,
                    &rec.key,
                    &self.opts.action,
                ));
                let fields = self.fields();
                let cfg = self.shared.config(
                    rec.key.clone(),
                    &self.opts.action,
                    ActionKind::Form,
                    rec.fingerprint.clone(),
                    self.opts.window,
                );
                let action = self.action_for(
                    ActionCell::adopt(&self.shared, ActionMachine::restore(cfg, rec)),
                    &fields,
                );
                self.begin(action, false);
            } else if !rec.status.is_final() {
                // It waits for what a reload lost (its files, a password): the status says
                // what, by name, until the user adds it and submits again (same key).
                // (Not its headers: the form sends its own `headers` option with the next
                // submission; a person has nothing to add for them.)
                if let Some(r) = rec.request.as_ref() {
                    self.show_waiting(&r.waits_for(true));
                }
            }
        }
        Ok(())
    }

    /// The form's fields in DOM order: all of them (what is sent), and the visible ones (what
    /// may be stored, fingerprinted and restored: private fields left out).
    fn fields(&self) -> FormFields {
        let mut out = FormFields::default();
        let Some(form) = self.form.get() else {
            return out;
        };
        // The controls are read in one call into JS (`dom::read_controls`), once per
        // submission; the password names are noted first, so a same-named text field before
        // the password field is private too.
        let controls = dom::read_controls(&form, true);
        self.note_password_names(&controls);
        for control in &controls {
            let info = &control.info;
            let private = self.is_private(info);
            if matches!(info.kind.as_str(), "number" | "range") && !out.numbers.contains(&info.name)
            {
                out.numbers.push(info.name.clone());
            }
            for v in control.values() {
                if !private {
                    out.visible.push((info.name.clone(), v.clone()));
                } else {
                    if !matches!(&v, FormValue::Text(t) if t.is_empty()) {
                        out.secret = true;
                        if !out.private_names.contains(&info.name) {
                            out.private_names.push(info.name.clone());
                        }
                    }
                    out.private.push((info.name.clone(), v.clone()));
                }
                out.all.push((info.name.clone(), v));
            }
        }
        out
    }

    /// A field that becomes private after it was saved (a "hide password" toggle turns a text
    /// field into a password, a script adds `autocomplete="new-password"` or
    /// `data-sendonce-private`) must not wait in storage for the next input: the draft is
    /// written again at once, without it.
    fn watch_privacy(self: &Rc<Self>, form: &JsValue) {
        let weak = Rc::downgrade(self);
        let cb = Closure::<dyn FnMut(JsValue)>::new(move |_records: JsValue| {
            let Some(f) = weak.upgrade() else { return };
            if f.disposed.get() {
                return;
            }
            if let Some(form) = f.form.get() {
                f.note_passwords(&form);
            }
            f.save_draft();
        })
        .into_js_value();
        *self.observer.borrow_mut() = dom::observe_attributes(
            form,
            &["type", "autocomplete", "data-sendonce-private"],
            cb.unchecked_ref(),
        );
    }

    /// Enables the controls of `form` marked [`ENABLE_MARKER`] (`form.elements`: a button
    /// outside the form with `form="..."` too), and the guarded button when it carries the
    /// marker (it may be no control of the form's). Only marked ones: a control the page
    /// disabled for its own reasons stays disabled.
    fn enable_marked(&self, form: &JsValue) {
        let mut marked: Vec<JsValue> = dom::controls(form)
            .into_iter()
            .filter(|c| dom::has_attr(c, ENABLE_MARKER))
            .collect();
        if let Some(b) = self.button_el() {
            if dom::has_attr(&b, ENABLE_MARKER) && !marked.contains(&b) {
                marked.push(b);
            }
        }
        for el in &marked {
            dom::set_disabled(el, false);
        }
        *self.marked.borrow_mut() = marked.iter().map(dom::WeakEl::new).collect();
    }

    fn is_private(&self, info: &FieldInfo) -> bool {
        is_private(info, &self.opts.exclude) || self.ever_password.borrow().contains(&info.name)
    }

    /// Remembers the names of password fields in `el` (a form: all its controls; a control:
    /// itself), so that they stay private after a "show password" toggle made them text.
    fn note_passwords(&self, el: &JsValue) {
        let whole = get(el, "elements").is_object();
        self.note_password_names(&dom::read_controls(el, whole));
    }

    /// Remembers the names of the password fields among `controls`.
    fn note_password_names(&self, controls: &[dom::Control]) {
        let mut seen = self.ever_password.borrow_mut();
        for info in controls.iter().map(|c| &c.info) {
            if info.kind == "password" && !info.name.is_empty() && !seen.contains(&info.name) {
                seen.push(info.name.clone());
            }
        }
    }

    /// The action of `cell` with this submission's body: all fields sent, the visible ones
    /// stored when they differ (private values are never stored).
    fn action_for(&self, cell: Rc<ActionCell>, fields: &FormFields) -> Rc<ActionHandle> {
        let visible = || match self.opts.encoding {
            Encoding::Urlencoded => form_urlencoded(&fields.visible),
            _ => form_body(&fields.visible, &fields.numbers).to_json(),
        };
        *self.multipart_type.borrow_mut() = None;
        let (body, form_data) = match self.opts.encoding {
            Encoding::Json => (form_body(&fields.all, &fields.numbers).to_json(), None),
            Encoding::Urlencoded => (form_urlencoded(&fields.all), None),
            // The files go as they are, in a body written once with the action's own boundary
            // (same bytes on every attempt); the stored request (the visible fields as JSON)
            // waits for the user after a reload, as one with private values does.
            Encoding::Multipart => {
                let boundary = crate::core::key::validate_key(&cell.key())
                    .map(|k| multipart_boundary(&k))
                    .unwrap_or_else(|_| multipart_boundary(&Key::from_checked("sendonce")));
                let body = self
                    .form
                    .get()
                    .and_then(|f| dom::multipart_body(&f, &boundary));
                if body.is_some() {
                    *self.multipart_type.borrow_mut() = Some(multipart_content_type(&boundary));
                }
                (String::new(), body)
            }
        };
        let stored = (fields.secret || form_data.is_some()).then(visible);
        let needs = if stored.is_some() {
            waiting_for(&fields.visible, &fields.private_names)
        } else {
            Vec::new()
        };
        let action = ActionHandle::for_form(cell, body, stored, form_data, needs);
        action.coordinate_by_data();
        Rc::new(action)
    }

    fn restore_fields(&self, fields: &[(String, FormValue)]) {
        let mut cursors: Vec<(String, usize)> = Vec::new();
        let Some(form) = self.form.get() else { return };
        // The elements to write to, and what each one is (read in one call).
        let infos = dom::read_controls(&form, true);
        for (el, control) in dom::controls(&form).iter().zip(&infos) {
            let info = &control.info;
            if self.is_private(info) {
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
                dom::restore_control(el, info, &values, cursor);
            }
        }
    }

    fn save_draft(&self) {
        if self.disposed.get() {
            return;
        }
        self.save_draft_of(self.fields().visible);
    }

    /// Saves the draft of `visible`, the visible fields just read.
    fn save_draft_of(&self, visible: Vec<(String, FormValue)>) {
        if self.disposed.get() {
            return;
        }
        self.save_timer.borrow_mut().take();
        let draft = DraftRecord {
            form: self.opts.form_id.clone(),
            action: self.opts.action.clone(),
            fields: visible,
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
        self.set_busy(true);
        self.pending.set(true);
        // Cleared, then set again by the submission's status: a click while offline
        // re-announces "Connection lost. Retry?" instead of showing nothing new.
        if let Some(el) = self.status_el.as_ref().and_then(dom::WeakEl::get) {
            dom::set_text(&el, "");
        }
        match self.prepare() {
            Ok(Some(action)) => self.begin(action, true),
            Ok(None) => {
                // It waits for what the user must add again: the status says what.
                self.pending.set(false);
                self.set_busy(false);
                if let Some(status) = self.waiting.borrow().clone() {
                    self.show_status(&status);
                }
            }
            Err(e) => {
                self.pending.set(false);
                self.set_busy(false);
                // A person reads the calm text of the status table; the developer's detail
                // (code and message) goes to the status's `error` and to the `status` event.
                let status = status_object(&self.shared.messages, StatusCode::Failed, None);
                set(&status, "error", &crate::platform::convert::js_error(&e));
                if let Some(k) = self.key.borrow().as_ref() {
                    self.shared.emit(
                        self.shared
                            .event(EventKind::Status, k, &self.opts.action)
                            .with_code(StatusCode::Failed)
                            .with_detail(&format!("{}: {e}", e.code())),
                    );
                }
                self.show_status(&status);
            }
        }
    }

    /// Shows that the restored submission waits for `missing` (as in
    /// `StoredRequest::waiting_for`), in the status element and in `status`.
    fn show_waiting(self: &Rc<Self>, missing: &[String]) {
        self.show_waiting_quietly(missing);
        let status = self.waiting.borrow().clone();
        if let Some(status) = status {
            self.show_status(&status);
        }
    }

    /// The action of this submission, or `None` when it waits for what the user must add again
    /// (the waiting status is set).
    fn prepare(self: &Rc<Self>) -> Result<Option<Rc<ActionHandle>>, SendonceError> {
        let form_fields = self.fields();
        // `maxPayloadBytes` bounds the fields' text (files travel as they are, in multipart).
        crate::core::json::check_payload_size(
            form_body(&form_fields.all, &form_fields.numbers)
                .to_json()
                .len(),
            self.shared.max_payload_bytes,
        )?;
        let now = platform::now_ms();
        let draft_key = self.key.borrow().clone();
        let existing = draft_key.as_ref().and_then(|k| self.shared.read_action(k));
        // Private values count for the action's identity through a keyed digest whose secret
        // lives only in this page's memory.
        let digest = page_secret().and_then(|s| private_digest(&s, &form_fields.private));
        let identity = form_identity(
            &form_fields.visible,
            &form_fields.private_names,
            digest.as_deref(),
        );
        let fp = identity.fingerprint.clone();
        let index = record::index_key(&self.shared.ns, &self.opts.action, &fp);
        let indexed = self
            .shared
            .store
            .get(&index)
            .and_then(|k| crate::core::key::validate_key(&k).ok())
            .and_then(|k| self.shared.read_action(&k));
        let earlier = self.earlier.borrow().clone();
        // The draft keeps the fingerprint its key was sent with: set, that key was used.
        let draft_key_used = self.fingerprint.borrow().is_some();
        let plan = plan_submission(
            &identity,
            draft_key.as_ref(),
            draft_key_used,
            existing.as_ref(),
            indexed.as_ref(),
            earlier.as_ref(),
            now,
        );
        if let Submission::Wait { missing, .. } = &plan {
            self.show_waiting_quietly(missing);
            return Ok(None);
        }
        // From here on this key's identity is this page life's.
        *self.earlier.borrow_mut() = None;
        self.waiting.borrow_mut().take();
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
            Submission::Continue(rec) => {
                self.shared.emit(self.shared.event(
                    EventKind::ActionResume,
                    &rec.key,
                    &self.opts.action,
                ));
                ActionMachine::restore(cfg(rec.key.clone()), rec)
            }
            // Answered above.
            Submission::Wait { key, .. } => ActionMachine::new(cfg(key), now),
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
        // The draft keeps the visible fingerprint only (the private part is this page's).
        *self.fingerprint.borrow_mut() = Some(identity.visible);
        // The key is in the draft before the request leaves: a reload finds it. (The fields
        // read for this submission: nothing changed them since.)
        self.save_draft_of(form_fields.visible.clone());
        Ok(Some(self.action_for(
            ActionCell::adopt(&self.shared, machine),
            &form_fields,
        )))
    }

    /// Sets the waiting status (shown by the caller, `submit`).
    fn show_waiting_quietly(&self, missing: &[String]) {
        let status = status_object(&self.shared.messages, StatusCode::Incomplete, None);
        set(
            &status,
            "text",
            &JsValue::from_str(&self.shared.messages.incomplete_text(&missing_text(missing))),
        );
        let list: js_sys::Array = missing.iter().map(|m| JsValue::from_str(m)).collect();
        set(&status, "waitingFor", &list);
        *self.waiting.borrow_mut() = Some(status);
    }

    /// Shows the action's statuses and runs its send (guarding the button, unless `guarded`:
    /// the submit listener did it first thing).
    fn begin(self: &Rc<Self>, action: Rc<ActionHandle>, guarded: bool) {
        self.pending.set(true);
        if !guarded {
            self.set_busy(true);
        }
        let same = self.current.borrow().as_ref().map(|a| a.key()) == Some(action.key());
        if !same {
            for off in self.current_off.borrow_mut().drain(..) {
                let _ = invoke(&off, &JsValue::NULL, &[]);
            }
            let weak = Rc::downgrade(self);
            let cb = Closure::<dyn FnMut(JsValue)>::new(move |status: JsValue| {
                if let Some(f) = weak.upgrade() {
                    f.on_status(&status);
                }
            });
            let off = action.on_status(cb.into_js_value().unchecked_into());
            // A reply nobody awaits: the action resumed on its own (the `online` event after
            // the submission settled `offline`). A submission under way gets its reply from
            // its send (`settled`).
            let weak = Rc::downgrade(self);
            let on_reply = Closure::<dyn FnMut(JsValue)>::new(move |reply: JsValue| {
                if let Some(f) = weak.upgrade() {
                    if !f.pending.get() && !f.disposed.get() {
                        f.reply_listeners.call(&reply);
                    }
                }
            });
            let off_reply = action.on_settled(on_reply.into_js_value().unchecked_into());
            *self.current_off.borrow_mut() = vec![off, off_reply];
        }
        *self.current.borrow_mut() = Some(action.clone());
        let weak = Rc::downgrade(self);
        *self.reenable_timer.borrow_mut() =
            Some(Timeout::new(self.opts.reenable_after_ms, move || {
                if let Some(f) = weak.upgrade() {
                    // Still pending: a click now joins the action in flight.
                    f.set_busy(false);
                }
            }));
        let this = self.clone();
        crate::platform::spawn(async move {
            let reply = this.run(&action).await;
            this.settled(reply);
        });
    }

    async fn run(self: &Rc<Self>, action: &ActionHandle) -> Result<JsValue, JsValue> {
        let init = Object::new();
        set(&init, "method", &JsValue::from_str(&self.opts.method));
        let headers = Object::new();
        for (k, v) in headers_list(&self.opts.headers).unwrap_or_default() {
            set(&headers, &k, &JsValue::from_str(&v));
        }
        if self.opts.encoding == Encoding::Urlencoded {
            set(
                &headers,
                "Content-Type",
                &JsValue::from_str("application/x-www-form-urlencoded"),
            );
        }
        if let Some(ct) = self.multipart_type.borrow().as_ref() {
            set(&headers, "Content-Type", &JsValue::from_str(ct));
        }
        set(&init, "headers", &headers);
        // The action takes the cross-tab lock itself (one send per key across tabs).
        JsFuture::from(action.send(&self.opts.url, init.into())).await
    }

    fn settled(self: &Rc<Self>, reply: Result<JsValue, JsValue>) {
        self.pending.set(false);
        self.reenable_timer.borrow_mut().take();
        self.set_busy(false);
        if let (Some(b), Some(label)) = (self.button_el(), self.saved_label.borrow_mut().take()) {
            dom::set_label(&b, &label);
        }
        // The status again, also when it did not change (a click while offline): the
        // submission cleared it, and a live region announces the text set back.
        if let Some(a) = self.current.borrow().as_ref() {
            self.render_status(&a.status());
        }
        if let Ok(reply) = reply {
            self.reply_listeners.call(&reply);
        }
    }

    fn button_el(&self) -> Option<JsValue> {
        self.button.as_ref().and_then(dom::WeakEl::get)
    }

    fn set_busy(&self, busy: bool) {
        let Some(b) = self.button_el() else { return };
        dom::set_busy(&b, busy);
        if let (true, Some(label)) = (busy, &self.opts.busy_label) {
            if self.saved_label.borrow().is_none() {
                *self.saved_label.borrow_mut() = dom::label(&b);
                dom::set_label(&b, label);
            }
        }
    }

    /// The user edits the form after a confirmed submission: "Sent" no longer describes what
    /// is on screen, so the status goes back to idle.
    fn edited(self: &Rc<Self>) {
        if self.pending.get() {
            return;
        }
        let confirmed = self
            .current
            .borrow()
            .as_ref()
            .and_then(|a| get(&a.status(), "code").as_string())
            .and_then(|c| StatusCode::parse(&c))
            .is_some_and(StatusCode::is_confirmed);
        if confirmed && self.shown.get() != Some(StatusCode::Idle) {
            let idle = status_object(&self.shared.messages, StatusCode::Idle, None);
            self.show_status(&idle);
        }
    }

    /// Sends the current submission again with its key (the status element's Retry button,
    /// `form.retry()`).
    pub(crate) fn retry(self: &Rc<Self>) {
        let action = self.current.borrow().clone();
        if let Some(a) = action {
            if !self.pending.get() {
                self.begin(a, false);
            }
        }
    }

    fn on_status(self: &Rc<Self>, status: &JsValue) {
        // The action may have adopted another tab's key for the same data.
        if let Some(a) = self.current.borrow().as_ref() {
            let key = a.key();
            if self.key.borrow().as_ref().map(|k| k.as_str()) != Some(key.as_str()) {
                *self.key.borrow_mut() = crate::core::key::validate_key(&key).ok();
            }
        }
        let code = get(status, "code")
            .as_string()
            .and_then(|c| StatusCode::parse(&c));
        if code.is_some_and(StatusCode::is_confirmed) && !self.opts.keep_draft {
            self.clear_draft();
        }
        self.show_status(status);
    }

    fn show_status(self: &Rc<Self>, status: &JsValue) {
        self.render_status(status);
        self.status_listeners.call(status);
    }

    /// Writes the status into the status element (`textContent`, never HTML) and, for a status
    /// that asks "Retry?", puts a real Retry button right after it (outside the live region,
    /// whose text stays the status text alone) that sends again with the same key.
    fn render_status(self: &Rc<Self>, status: &JsValue) {
        let code = get(status, "code")
            .as_string()
            .and_then(|c| StatusCode::parse(&c));
        self.shown.set(code);
        let Some(el) = self.status_el.as_ref().and_then(dom::WeakEl::get) else {
            return;
        };
        dom::set_text(&el, &get(status, "text").as_string().unwrap_or_default());
        let mut had_focus = false;
        if let Some(old) = self.retry_button.borrow_mut().take().and_then(|b| b.get()) {
            had_focus = dom::document().is_some_and(|d| get(&d, "activeElement") == old);
            let _ = dom::call(&old, "remove", &[]);
        }
        let new_button = code
            .is_some_and(StatusCode::offers_retry)
            .then(|| self.add_retry_button(&el))
            .flatten();
        // The Retry button the user pressed is gone: keep the keyboard focus on the form (its
        // new Retry button, else its guarded button, else the status), never `<body>`.
        if had_focus {
            let target = new_button
                .or_else(|| self.button.as_ref().and_then(dom::WeakEl::get))
                .filter(|b| get(b, "isConnected").as_bool() == Some(true))
                .unwrap_or_else(|| {
                    dom::set_attr(&el, "tabindex", "-1");
                    el.clone()
                });
            let _ = dom::call(&target, "focus", &[]);
        }
    }

    /// Puts a Retry button right after the status element; returns it.
    fn add_retry_button(self: &Rc<Self>, el: &JsValue) -> Option<JsValue> {
        let button = dom::create("button")?;
        dom::set_attr(&button, "type", "button");
        dom::set_attr(&button, "class", "sendonce-retry");
        dom::set_text(&button, self.shared.messages.locale().retry_label());
        let weak = Rc::downgrade(self);
        let on_click = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Some(f) = weak.upgrade() {
                f.retry();
            }
        })
        .into_js_value();
        dom::listen(&button, "click", on_click.unchecked_ref());
        dom::call(el, "after", std::slice::from_ref(&button)).ok()?;
        *self.retry_button.borrow_mut() = Some(dom::WeakEl::new(&button));
        Some(button)
    }
}
