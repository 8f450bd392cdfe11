//! The quick-reply driver (`so.quickReplies({ conversationId, window })`): bot quick replies
//! with deterministic keys.
//! `run()` calls the handler once per quick reply and window (a tap while it runs joins it, a
//! repeat inside the window gets the stored result), `bind()` guards a button, `seen()`
//! recognises inbound messages a channel delivered twice. Decisions are in `core::quick`.
//!
//! Across bot processes sharing a storage adapter with `claim()`/`release()`, a run holds a
//! lease on its quick reply (renewed while the handler runs, released when it ends): a tap on
//! another process waits for the stored result, and a process killed mid-handler lets another
//! run it after the lease lapses, with the same key. `seenAsync()` claims the message's
//! identities, so one process wins each inbound message.

use crate::core::small_map::SmallMap;
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::shared::Shared;
use crate::bindings::convert::{from_value, js_error, status_object, to_value};
use crate::core::error::SendonceError;
use crate::core::events::{Event, EventKind};
use crate::core::key::{bot_key, Key};
use crate::core::quick::{self, QuickPlan, QUICK_RETENTION_MS};
use crate::core::record::{self, QuickReplyRecord, Record, SeenRecord};
use crate::core::status::StatusCode;
use crate::core::window::Window;
use crate::platform::{self, get, locks};

/// The action name of quick replies in events: the action key itself can carry data
/// (`orderId=123`), and events never carry payload values.
const QUICK_ACTION: &str = "quickReply";

/// Where `qr.bind()` reports a tap's progress (its options `status`, `onStatus`, `onError`).
#[derive(Clone, Default)]
pub(crate) struct BindReport {
    pub status_el: Option<crate::platform::dom::WeakEl>,
    pub on_status: Option<Function>,
    pub on_error: Option<Function>,
}

impl BindReport {
    fn status(&self, shared: &Shared, code: StatusCode) {
        let status = status_object(&shared.messages, code, None);
        if let Some(el) = self.status_el.as_ref().and_then(|w| w.get()) {
            crate::platform::dom::set_text(
                &el,
                &get(&status, "text").as_string().unwrap_or_default(),
            );
        }
        if let Some(f) = &self.on_status {
            let _ = f.call1(&JsValue::NULL, &status);
        }
    }

    fn failed(&self, shared: &Shared, error: &JsValue) {
        self.status(shared, StatusCode::Failed);
        shared.emit(
            Event::new(EventKind::Status)
                .with_code(StatusCode::Failed)
                .with_detail(&format!(
                    "quick reply handler failed: {}",
                    crate::platform::storage::describe(error)
                )),
        );
        if let Some(f) = &self.on_error {
            let _ = f.call1(&JsValue::NULL, error);
        }
    }
}

/// Bot quick replies for one conversation.
pub(crate) struct QuickDriver {
    shared: Rc<Shared>,
    conversation_id: String,
    window: Window,
}

thread_local! {
    /// Runs in flight by storage key (which includes the namespace): a second tap joins the
    /// same Promise, also through another `quickReplies()` object or another `Sendonce` of the
    /// same namespace in this page or process (a bot server makes one per webhook).
    static IN_FLIGHT: RefCell<SmallMap<Promise>> = RefCell::new(SmallMap::new());
}

impl QuickDriver {
    /// The record of the latest run of a quick reply, read through an async adapter when
    /// there is one (so instances sharing it agree), even when its window has passed: the
    /// next run's key is derived from it. Corrupt records are removed and reported.
    /// A store that cannot be read is an error (the handler is not run on a guess).
    async fn latest(&self, storage_key: &str) -> Result<Option<QuickReplyRecord>, SendonceError> {
        let text = match self.shared.store.get_async(storage_key).await {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(None),
            Err(e) => {
                return Err(SendonceError::Storage(format!(
                    "{e}; the quick reply's handler was not run"
                )))
            }
        };
        Ok(
            match Record::decode_stored(&self.shared.ns, storage_key, &text, 0) {
                Ok(Some(Record::Quick(q)))
                    if q.conversation_id == self.conversation_id
                        && platform::now_ms()
                            < q.finished_at.saturating_add(QUICK_RETENTION_MS) =>
                {
                    Some(q)
                }
                Ok(_) => None,
                Err(e) => {
                    self.shared.store.delete(storage_key);
                    self.shared
                        .emit(Event::new(EventKind::RecordCorrupt).with_detail(&e.to_string()));
                    None
                }
            },
        )
    }

    async fn store(&self, storage_key: &str, text: &str, ttl_ms: u64) {
        if self.shared.store.is_adapter() {
            if let Err(reason) = self.shared.store.set_async(storage_key, text, ttl_ms).await {
                self.shared
                    .emit(Event::new(EventKind::StorageFallback).with_detail(&reason));
            }
        } else {
            self.shared.put(storage_key, text, ttl_ms);
        }
    }

    pub(crate) fn run(
        self: &Rc<Self>,
        action_key: String,
        handler: Function,
    ) -> Result<Promise, SendonceError> {
        if self.shared.disposed.get() {
            return Err(SendonceError::Disposed("this Sendonce".into()));
        }
        quick::validate_action_key(&action_key)?;
        let base = bot_key(&self.shared.ns, &self.conversation_id, &action_key);
        let storage_key = record::quick_key(&self.shared.ns, &base);
        if let Some(p) = IN_FLIGHT.with(|m| m.borrow().get(&storage_key).cloned()) {
            self.shared.emit(
                self.shared
                    .event(EventKind::ClickSuppressed, &base, QUICK_ACTION),
            );
            return Ok(p);
        }
        let this = self.clone();
        let sk = storage_key.clone();
        let promise = crate::platform::promise(async move {
            // Across tabs: the tab that holds the Web Lock runs the handler; another tab's tap
            // waits for it and then finds the stored result. (No Web Locks in Node: a bot
            // server's instances share the store, and this process joins in `IN_FLIGHT`.)
            let (_lock, waited) = if locks::available() {
                locks::acquire_or_wait(&format!("sendonce:{sk}"), || ()).await
            } else {
                (None, false)
            };
            if waited {
                // The other tab's result may reach this tab's storage a little after the lock.
                for _ in 0..locks::SETTLE_MS / 50 {
                    let latest = this.latest(&sk).await.ok().flatten();
                    let repeat = matches!(
                        quick::plan_quick(latest.as_ref(), false, platform::now_ms()),
                        QuickPlan::Repeat(_)
                    );
                    if repeat {
                        break;
                    }
                    platform::sleep(50).await;
                }
            }
            let result = if this.shared.store.can_claim() {
                this.run_exclusive(&action_key, &sk, handler).await
            } else {
                this.shared.warn_not_exclusive();
                match this.latest(&sk).await {
                    Ok(latest) => this.run_once(&action_key, &sk, latest, handler).await,
                    Err(e) => Err(js_error(&e)),
                }
            };
            IN_FLIGHT.with(|m| m.borrow_mut().remove(&sk));
            result
        });
        IN_FLIGHT.with(|m| m.borrow_mut().insert(storage_key, promise.clone()));
        Ok(promise)
    }

    /// One run across processes: the stored result if there is one, else the handler under
    /// a lease on this quick reply. While another process holds the lease this one waits for
    /// its result (or for the lease to lapse or be released without one, and then runs the
    /// handler itself, with the same key), for at most `retry.deadlineMs`.
    async fn run_exclusive(
        &self,
        action_key: &str,
        storage_key: &str,
        handler: Function,
    ) -> Result<JsValue, JsValue> {
        let fail = |e: SendonceError| js_error(&e);
        let lease_key = record::lease_key(&self.shared.ns, storage_key);
        let token = self.shared.lease_token().map_err(fail)?;
        let started = platform::now_ms();
        let mut waited = false;
        loop {
            let latest = self.latest(storage_key).await.map_err(fail)?;
            if let QuickPlan::Repeat(_) =
                quick::plan_quick(latest.as_ref(), false, platform::now_ms())
            {
                return self
                    .run_once(action_key, storage_key, latest, handler)
                    .await;
            }
            let lease = self
                .shared
                .store
                .lease(&lease_key, &token, self.shared.lease_ms)
                .await
                .map_err(|e| {
                    fail(SendonceError::Storage(format!(
                        "{e}; the quick reply's handler was not run"
                    )))
                })?;
            match lease {
                Some(lease) => {
                    // Another process may have stored its result between the read and the claim.
                    let latest = self.latest(storage_key).await.map_err(fail)?;
                    let result = self
                        .run_once(action_key, storage_key, latest, handler)
                        .await;
                    if let Err(e) = lease.release().await {
                        self.shared
                            .emit(Event::new(EventKind::StorageFallback).with_detail(&e));
                    }
                    return result;
                }
                None => {
                    if !waited {
                        waited = true;
                        let key = bot_key(&self.shared.ns, &self.conversation_id, action_key);
                        self.shared.emit(self.shared.event(
                            EventKind::Elsewhere,
                            &key,
                            QUICK_ACTION,
                        ));
                    }
                    if platform::now_ms().saturating_sub(started) > self.shared.retry.deadline_ms {
                        return Err(fail(SendonceError::Storage(format!(
                            "another process has been running this quick reply for more than {} ms; the handler was not run here",
                            self.shared.retry.deadline_ms
                        ))));
                    }
                    platform::sleep(100).await;
                }
            }
        }
    }

    async fn run_once(
        &self,
        action_key: &str,
        storage_key: &str,
        latest: Option<QuickReplyRecord>,
        handler: Function,
    ) -> Result<JsValue, JsValue> {
        let now = platform::now_ms();
        match quick::plan_quick(latest.as_ref(), false, now) {
            QuickPlan::Repeat(result) => {
                if let Some(l) = &latest {
                    self.shared.emit(self.shared.event(
                        EventKind::ActionRepeat,
                        &l.key,
                        QUICK_ACTION,
                    ));
                }
                Ok(from_value(&result))
            }
            QuickPlan::Join | QuickPlan::Run => {
                let key: Key = quick::run_key(
                    &self.shared.ns,
                    &self.conversation_id,
                    action_key,
                    latest.as_ref(),
                );
                let kind = if latest.is_some() {
                    EventKind::KeyRotated
                } else {
                    EventKind::ActionNew
                };
                self.shared
                    .emit(self.shared.event(kind, &key, QUICK_ACTION));
                let returned = handler.call1(&JsValue::NULL, &JsValue::from_str(key.as_str()))?;
                // No bound: a handler may take as long as its backend (its lease is renewed).
                let value = match platform::settle_within(returned, None).await {
                    platform::Settled::Value(v) => v,
                    platform::Settled::Rejected(e) => return Err(e),
                    platform::Settled::TimedOut => JsValue::UNDEFINED,
                };
                // A result that is not JSON (a function, a cycle) is stored as null: the
                // repeat still skips the handler.
                let stored = to_value(
                    &value,
                    "the handler's result",
                    self.shared.max_payload_bytes,
                )
                .unwrap_or(crate::core::json::Value::Null);
                let rec = QuickReplyRecord {
                    key,
                    action_key: action_key.to_string(),
                    conversation_id: self.conversation_id.clone(),
                    result: stored,
                    finished_at: platform::now_ms(),
                    window_ms: self.window.ms(),
                };
                self.store(
                    storage_key,
                    &Record::Quick(rec).encode(),
                    QUICK_RETENTION_MS,
                )
                .await;
                Ok(value)
            }
        }
    }

    /// Identities of an inbound message and whether any was seen inside the window; marks
    /// them seen when not.
    async fn seen(&self, id: Option<String>, text: Option<String>) -> Result<bool, SendonceError> {
        let mut names = Vec::new();
        if let Some(id) = id.filter(|s| !s.is_empty()) {
            names.push(quick::seen_by_id(&self.conversation_id, &id));
        }
        if let Some(h) = text.and_then(|t| quick::seen_by_content(&self.conversation_id, &t)) {
            names.push(h);
        }
        if names.is_empty() {
            return Err(SendonceError::option(
                "seen",
                "needs a message id or a non-empty text",
            ));
        }
        let now = platform::now_ms();
        let mut found = Vec::new();
        for n in &names {
            let sk = record::seen_key(&self.shared.ns, n);
            self.shared
                .store
                .get_async(&sk)
                .await
                .map_err(SendonceError::Storage)?;
            found.push(match self.shared.read(&sk) {
                Some(Record::Seen(s)) => Some(s),
                _ => None,
            });
        }
        if quick::is_seen(&found, now) {
            return Ok(true);
        }
        let claims = self.shared.store.can_claim();
        if !claims {
            self.shared.warn_not_exclusive();
        }
        let mut seen = false;
        for (i, n) in names.into_iter().enumerate() {
            let rec = Record::Seen(SeenRecord {
                id_or_hash: n,
                at: now,
                window_ms: self.window.ms(),
            });
            let sk = rec.storage_key(&self.shared.ns);
            if claims {
                // One winner per message across processes: the one that creates the record of
                // its first identity (the id, else the content). The content's record only marks
                // it for later redeliveries: deciding on both could leave no winner at all (one
                // process takes the id, another the content, and each thinks it a duplicate).
                let created = self
                    .shared
                    .store
                    .claim(&sk, &rec.encode(), self.window.ms())
                    .await
                    .map_err(SendonceError::Storage)?;
                if i == 0 {
                    seen = !created;
                }
            } else {
                self.store(&sk, &rec.encode(), self.window.ms()).await;
            }
        }
        Ok(seen)
    }

    pub(crate) fn seen_sync(
        &self,
        id: Option<String>,
        text: Option<String>,
    ) -> Result<bool, SendonceError> {
        // Memory, local and session storage answer synchronously, so the future completes in
        // its first poll; an adapter needs `seenAsync`.
        let fut = self.seen(id, text);
        let waker = noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r,
            std::task::Poll::Pending => Err(SendonceError::option(
                "seen",
                "this storage adapter is asynchronous; use seenAsync()",
            )),
        }
    }
}

use std::future::Future;

fn noop_waker() -> std::task::Waker {
    use std::task::{RawWaker, RawWakerVTable, Waker};
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: every function of the vtable ignores the data pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// What the bindings call, their arguments already converted.
impl QuickDriver {
    /// Quick replies for `conversation_id` (validated), whose results answer repeats for
    /// `window`.
    pub(crate) fn new(shared: Rc<Shared>, conversation_id: String, window: Window) -> Rc<Self> {
        Rc::new(QuickDriver {
            shared,
            conversation_id,
            window,
        })
    }

    /// The conversation id.
    pub(crate) fn conversation_id(&self) -> &str {
        &self.conversation_id
    }

    /// The first-run key of the quick reply `action_key` (validated).
    pub(crate) fn first_key(&self, action_key: &str) -> Key {
        bot_key(&self.shared.ns, &self.conversation_id, action_key)
    }

    /// Binds `button` (with its `addEventListener`, `add`) to the quick reply `action_key`:
    /// a click guards it in the same event task, runs `handler` through [`QuickDriver::run`]
    /// and releases it when the result is there, telling `report` how the tap goes. Returns
    /// the function that unbinds.
    pub(crate) fn bind(
        self: &Rc<Self>,
        button: &JsValue,
        add: &Function,
        action_key: String,
        handler: Function,
        report: BindReport,
    ) -> Function {
        let ak = action_key;
        // The listener owns the quick replies (the page need not keep them) and finds its
        // button through the event, so the binding lives exactly as long as the button.
        let inner = self.clone();
        let on_click = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            if let Ok(pd) = get(&ev, "preventDefault").dyn_into::<Function>() {
                let _ = pd.call0(&ev);
            }
            let btn = get(&ev, "currentTarget");
            if !btn.is_object() || crate::platform::dom::is_busy(&btn) {
                return;
            }
            crate::platform::dom::set_busy(&btn, true);
            report.status(&inner.shared, StatusCode::Sending);
            let promise = match inner.run(ak.clone(), handler.clone()) {
                Ok(p) => p,
                Err(e) => Promise::reject(&js_error(&e)),
            };
            // Both outcomes are handled here: a failing handler is reported through the
            // status element, `onStatus` and `onError`, never left as an unhandled rejection.
            let (b, r, s) = (btn.clone(), report.clone(), inner.shared.clone());
            let ok = Closure::once_into_js(move |_v: JsValue| {
                crate::platform::dom::set_busy(&b, false);
                r.status(&s, StatusCode::Done);
            });
            let (b, r, s) = (btn.clone(), report.clone(), inner.shared.clone());
            let failed = Closure::once_into_js(move |e: JsValue| {
                crate::platform::dom::set_busy(&b, false);
                r.failed(&s, &e);
            });
            if let Ok(then) = get(&promise, "then").dyn_into::<Function>() {
                let _ = then.call2(&promise, &ok, &failed);
            }
        })
        .into_js_value();
        let _ = add.call2(button, &JsValue::from_str("click"), &on_click);
        let btn = button.clone();
        Closure::once_into_js(move || {
            if let Ok(remove) = get(&btn, "removeEventListener").dyn_into::<Function>() {
                let _ = remove.call2(&btn, &JsValue::from_str("click"), &on_click);
            }
        })
        .unchecked_into()
    }

    /// `seen()` through the storage adapter: a Promise of true or false.
    pub(crate) fn seen_promise(
        self: &Rc<Self>,
        id: Option<String>,
        text: Option<String>,
    ) -> Promise {
        let inner = self.clone();
        crate::platform::promise(async move {
            inner
                .seen(id, text)
                .await
                .map(JsValue::from_bool)
                .map_err(|e| js_error(&e))
        })
    }
}
