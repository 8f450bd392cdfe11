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
//! identities, so one process wins each inbound message (at most once: marked before it is
//! handled); `handleOnce()` marks it in progress under a lease and done after its handler (at
//! least once: a process that dies in between leaves it to the redelivery, same key).
//!
//! Windows over an adapter are the store's: a finished run writes a window mark with the
//! window as its time to live, and repeats are answered while the store still has it; seen
//! marks are written the same way. No process compares another's timestamps with its own
//! clock (`core::quick::Expiry`).

use crate::core::small_map::SmallMap;
use crate::platform::invoke;
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::action::Shared;
use super::exclusive::{self, Acquired};
use crate::core::error::SendonceError;
use crate::core::events::{Event, EventKind};
use crate::core::exclusive::{Fallback, Found};
use crate::core::key::{bot_key, Key};
use crate::core::quick::{self, Expiry, QuickPlan, QUICK_RETENTION_MS};
use crate::core::record::{self, QuickReplyRecord, Record, SeenRecord};
use crate::core::status::StatusCode;
use crate::core::window::Window;
use crate::platform::convert::{from_value, js_error, status_object, to_value};
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
            let _ = invoke(f, &JsValue::NULL, &[&status]);
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
            let _ = invoke(f, &JsValue::NULL, &[error]);
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
    /// Inbound messages being handled by `handleOnce()` in this process, by lease key: another
    /// delivery of one waits until it is done here, then finds it marked (or not, and runs it).
    static HANDLING: RefCell<SmallMap<Promise>> = RefCell::new(SmallMap::new());
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
                // Over an adapter the store expires the record after its retention; this
                // process's clock does not judge another process's timestamp.
                Ok(Some(Record::Quick(q)))
                    if q.conversation_id == self.conversation_id
                        && (self.shared.store.is_adapter()
                            || platform::now_ms()
                                < q.finished_at.saturating_add(QUICK_RETENTION_MS)) =>
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

    /// Who judges windows here: the store, when records go to an adapter shared with other
    /// processes (their clocks may disagree with this one), else this page's clock.
    fn expiry(&self) -> Expiry {
        if self.shared.store.is_adapter() {
            Expiry::Store
        } else {
            Expiry::Clock(platform::now_ms())
        }
    }

    /// Over an adapter: whether the store still holds the window mark of the run `latest`
    /// (written with the window as its time to live). False without an adapter (the clock
    /// judges there) or without a run.
    async fn marked(&self, latest: Option<&QuickReplyRecord>) -> Result<bool, SendonceError> {
        let Some(latest) = latest else {
            return Ok(false);
        };
        if !self.shared.store.is_adapter() {
            return Ok(false);
        }
        let sk = record::seen_key(&self.shared.ns, &quick::window_mark(&latest.key));
        match self.shared.store.get_async(&sk).await {
            Ok(v) => Ok(v.is_some()),
            Err(e) => Err(SendonceError::Storage(format!(
                "{e}; the quick reply's handler was not run"
            ))),
        }
    }

    /// What a tap does now, given the latest run's record.
    async fn plan(&self, latest: Option<&QuickReplyRecord>) -> Result<QuickPlan, SendonceError> {
        let marked = self.marked(latest).await?;
        Ok(quick::plan_quick(latest, marked, false, self.expiry()))
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

    /// Runs `handler` once for the quick reply `action_key` (see the module docs). `on_wait`
    /// is called (once) as soon as this call knows it will not call the handler now: it joins
    /// a run in flight in this process, or waits for one in another tab or process. (A bot
    /// framework acknowledges such a tap at once instead of after the other run.)
    pub(crate) fn run(
        self: &Rc<Self>,
        action_key: String,
        handler: Function,
        on_wait: Option<Function>,
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
            tell_waiting(on_wait.as_ref());
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
                tell_waiting(on_wait.as_ref());
                // The other tab's result may reach this tab's storage a little after the lock
                // (the run below reads it again either way).
                exclusive::settle(&this.shared, || async {
                    let latest = this.latest(&sk).await.ok().flatten();
                    match this.plan(latest.as_ref()).await {
                        Ok(QuickPlan::Repeat(_)) => Found::Adoptable,
                        _ => Found::Nothing,
                    }
                })
                .await;
            }
            let result = if this.shared.store.can_claim() {
                this.run_exclusive(&action_key, &sk, handler, on_wait.as_ref())
                    .await
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
        on_wait: Option<&Function>,
    ) -> Result<JsValue, JsValue> {
        let fail = |e: SendonceError| js_error(&e);
        let lease_key = record::lease_key(&self.shared.ns, storage_key);
        // The token is drawn first: without one, no claim (the error says why).
        self.shared.lease_token().map_err(fail)?;
        // What the machine's reads found: the latest run's record, and a read's error.
        let latest: RefCell<Option<QuickReplyRecord>> = RefCell::new(None);
        let problem: RefCell<Option<SendonceError>> = RefCell::new(None);
        let read = || async {
            let found = match self.latest(storage_key).await {
                Ok(l) => l,
                Err(e) => {
                    let text = e.to_string();
                    *problem.borrow_mut() = Some(e);
                    return Err(text);
                }
            };
            let plan = self.plan(found.as_ref()).await;
            *latest.borrow_mut() = found;
            match plan {
                Ok(p) => Ok(matches!(p, QuickPlan::Repeat(_))),
                Err(e) => {
                    let text = e.to_string();
                    *problem.borrow_mut() = Some(e);
                    Err(text)
                }
            }
        };
        let on_waiting = || {
            let key = bot_key(&self.shared.ns, &self.conversation_id, action_key);
            self.shared
                .emit(self.shared.event(EventKind::Elsewhere, &key, QUICK_ACTION));
            tell_waiting(on_wait);
        };
        let config = exclusive::config(&self.shared, Fallback::Fail, Fallback::Fail);
        let acquired = exclusive::acquire(
            &self.shared,
            &lease_key,
            config,
            read,
            on_waiting,
            false,
            exclusive::report_to(&self.shared),
        )
        .await;
        match acquired {
            Acquired::Adopt { .. } => {
                let latest = latest.borrow_mut().take();
                self.run_once(action_key, storage_key, latest, handler)
                    .await
            }
            Acquired::Run(held) => {
                let latest = latest.borrow_mut().take();
                let result = self
                    .run_once(action_key, storage_key, latest, handler)
                    .await;
                held.finish().await;
                result
            }
            Acquired::Failed(e) => Err(fail(problem.borrow_mut().take().unwrap_or_else(|| {
                SendonceError::Storage(format!("{e}; the quick reply's handler was not run"))
            }))),
            Acquired::Disposed => Err(fail(SendonceError::Disposed("this Sendonce".into()))),
        }
    }

    async fn run_once(
        &self,
        action_key: &str,
        storage_key: &str,
        latest: Option<QuickReplyRecord>,
        handler: Function,
    ) -> Result<JsValue, JsValue> {
        let plan = self.plan(latest.as_ref()).await.map_err(|e| js_error(&e))?;
        match plan {
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
                let returned = invoke(
                    &handler,
                    &JsValue::NULL,
                    &[&JsValue::from_str(key.as_str())],
                )?;
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
                let finished_at = platform::now_ms();
                if self.shared.store.is_adapter() {
                    // The window, kept by the store: a mark that lives exactly the window.
                    // Written before the record, so a process that reads between the two
                    // still derives this run's key from the previous record.
                    self.store_seen(quick::window_mark(&key), finished_at).await;
                }
                let rec = QuickReplyRecord {
                    key,
                    action_key: action_key.to_string(),
                    conversation_id: self.conversation_id.clone(),
                    result: stored,
                    finished_at,
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
    /// The identities of an inbound message: its id (scoped to the conversation), then a hash
    /// of its content. At least one, or an error.
    fn identities(
        &self,
        id: Option<String>,
        text: Option<String>,
    ) -> Result<Vec<String>, SendonceError> {
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
        Ok(names)
    }

    /// The seen record under `storage_key`. Over an adapter it is read from the store and not
    /// judged by this process's clock (the store expires it: [`Expiry::Store`]); a record that
    /// does not decode is ignored and reported.
    async fn read_seen(&self, storage_key: &str) -> Result<Option<SeenRecord>, SendonceError> {
        if !self.shared.store.is_adapter() {
            return Ok(match self.shared.read(storage_key) {
                Some(Record::Seen(s)) => Some(s),
                _ => None,
            });
        }
        let text = self
            .shared
            .store
            .get_async(storage_key)
            .await
            .map_err(SendonceError::Storage)?;
        Ok(
            match text.map(|t| Record::decode_stored(&self.shared.ns, storage_key, &t, 0)) {
                Some(Ok(Some(Record::Seen(s)))) => Some(s),
                Some(Err(e)) => {
                    self.shared
                        .emit(Event::new(EventKind::RecordCorrupt).with_detail(&e.to_string()));
                    None
                }
                _ => None,
            },
        )
    }

    /// True when any identity of a message is marked seen (inside its window).
    async fn any_seen(&self, names: &[String]) -> Result<bool, SendonceError> {
        let mut found = Vec::new();
        for n in names {
            found.push(
                self.read_seen(&record::seen_key(&self.shared.ns, n))
                    .await?,
            );
        }
        Ok(quick::is_seen(&found, self.expiry()))
    }

    /// Marks every identity of a message seen for the window (the store expires the marks).
    async fn mark_seen(&self, names: &[String]) {
        let now = platform::now_ms();
        for n in names {
            self.store_seen(n.clone(), now).await;
        }
    }

    /// Stores a seen mark (an inbound message's id or hash, or a run's window mark) that the
    /// store keeps for exactly the window.
    async fn store_seen(&self, id_or_hash: String, at: u64) {
        let mark = Record::Seen(SeenRecord {
            id_or_hash,
            at,
            window_ms: self.window.ms(),
        });
        self.store(
            &mark.storage_key(&self.shared.ns),
            &mark.encode(),
            self.window.ms(),
        )
        .await;
    }

    async fn seen(&self, id: Option<String>, text: Option<String>) -> Result<bool, SendonceError> {
        let names = self.identities(id, text)?;
        let now = platform::now_ms();
        if self.any_seen(&names).await? {
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

    /// The at-least-once form of `seenAsync()` (`qr.handleOnce(id, text, handler)`): a message
    /// is marked in progress under a lease (renewed while the handler runs), `handler(key)`
    /// runs, and only then is the message marked done for the window. A delivery while another
    /// process handles it waits for the outcome: done (a duplicate), or the lease released
    /// (the handler failed) or lapsed (its process died), and then it handles the message
    /// itself, with the same key. A handler that throws leaves nothing marked, so the channel's
    /// redelivery runs it again. Resolves with `{ duplicate, key, result }`.
    async fn handle_once(&self, names: Vec<String>, handler: Function) -> Result<JsValue, JsValue> {
        let fail = |e: SendonceError| js_error(&e);
        let first = names.first().cloned().unwrap_or_default();
        let key = quick::inbound_key(&self.shared.ns, &self.conversation_id, &first);
        let lease_key =
            record::lease_key(&self.shared.ns, &record::seen_key(&self.shared.ns, &first));
        let claims = self.shared.store.can_claim();
        if !claims {
            self.shared.warn_not_exclusive();
        }
        self.shared.lease_token().map_err(fail)?;
        // Another delivery of the message in this process: wait for it to end, then look.
        while let Some(other) = HANDLING.with(|m| m.borrow().get(&lease_key).cloned()) {
            let _ = platform::settle_within(other.into(), None).await;
        }
        let held = if claims {
            let read = || async { self.any_seen(&names).await.map_err(|e| e.to_string()) };
            let on_waiting = || {
                self.shared
                    .emit(self.shared.event(EventKind::Elsewhere, &key, QUICK_ACTION));
            };
            let config = exclusive::config(&self.shared, Fallback::Fail, Fallback::Fail);
            match exclusive::acquire(
                &self.shared,
                &lease_key,
                config,
                read,
                on_waiting,
                false,
                exclusive::report_to(&self.shared),
            )
            .await
            {
                Acquired::Adopt { .. } => return Ok(handled(true, &key, &JsValue::UNDEFINED)),
                Acquired::Run(held) => Some(held),
                Acquired::Failed(e) => {
                    return Err(fail(SendonceError::Storage(format!(
                        "{e}; the message's handler was not run"
                    ))))
                }
                Acquired::Disposed => {
                    return Err(fail(SendonceError::Disposed("this Sendonce".into())))
                }
            }
        } else {
            if self.any_seen(&names).await.map_err(fail)? {
                return Ok(handled(true, &key, &JsValue::UNDEFINED));
            }
            None
        };
        // Held while the handler runs: another delivery here waits for `done`.
        let mut done_fn: Option<Function> = None;
        let done = Promise::new(&mut |resolve, _| done_fn = Some(resolve));
        HANDLING.with(|m| m.borrow_mut().insert(lease_key.clone(), done));
        self.shared
            .emit(self.shared.event(EventKind::ActionNew, &key, QUICK_ACTION));
        let outcome = match invoke(
            &handler,
            &JsValue::NULL,
            &[&JsValue::from_str(key.as_str())],
        ) {
            Ok(returned) => match platform::settle_within(returned, None).await {
                platform::Settled::Value(v) => Ok(v),
                platform::Settled::Rejected(e) => Err(e),
                platform::Settled::TimedOut => Ok(JsValue::UNDEFINED),
            },
            Err(e) => Err(e),
        };
        if outcome.is_ok() {
            // Done: marked before the lease goes, so no other delivery runs it again.
            self.mark_seen(&names).await;
        }
        if let Some(held) = held {
            held.finish().await;
        }
        HANDLING.with(|m| m.borrow_mut().remove(&lease_key));
        if let Some(f) = done_fn {
            let _ = invoke(&f, &JsValue::NULL, &[]);
        }
        outcome.map(|v| handled(false, &key, &v))
    }

    /// `handleOnce()`'s Promise.
    pub(crate) fn handle_once_promise(
        self: &Rc<Self>,
        id: Option<String>,
        text: Option<String>,
        handler: Function,
    ) -> Promise {
        let names = match self.identities(id, text) {
            Ok(n) => n,
            Err(e) => return Promise::reject(&js_error(&e)),
        };
        if self.shared.disposed.get() {
            return Promise::reject(&js_error(&SendonceError::Disposed("this Sendonce".into())));
        }
        let inner = self.clone();
        crate::platform::promise(async move { inner.handle_once(names, handler).await })
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

/// Calls a run's `onWait` (errors it throws are its own and ignored).
fn tell_waiting(on_wait: Option<&Function>) {
    if let Some(f) = on_wait {
        let _ = invoke(f, &JsValue::NULL, &[]);
    }
}

/// `{ duplicate, key, result }`: what `handleOnce()` resolves with.
fn handled(duplicate: bool, key: &Key, result: &JsValue) -> JsValue {
    let o = js_sys::Object::new();
    let o: JsValue = o.into();
    crate::platform::set(&o, "duplicate", &JsValue::from_bool(duplicate));
    crate::platform::set(&o, "key", &JsValue::from_str(key.as_str()));
    crate::platform::set(&o, "result", result);
    o
}

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
                let _ = invoke(&pd, &ev, &[]);
            }
            let btn = get(&ev, "currentTarget");
            if !btn.is_object() || crate::platform::dom::is_busy(&btn) {
                return;
            }
            crate::platform::dom::set_busy(&btn, true);
            report.status(&inner.shared, StatusCode::Sending);
            let promise = match inner.run(ak.clone(), handler.clone(), None) {
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
                let _ = invoke(&then, &promise, &[&ok, &failed]);
            }
        })
        .into_js_value();
        let _ = invoke(add, button, &[&JsValue::from_str("click"), &on_click]);
        let btn = button.clone();
        Closure::once_into_js(move || {
            if let Ok(remove) = get(&btn, "removeEventListener").dyn_into::<Function>() {
                let _ = invoke(&remove, &btn, &[&JsValue::from_str("click"), &on_click]);
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
