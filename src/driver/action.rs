//! The action driver: one action's core state machine (`core::action`) run against the
//! platform. It performs the machine's outputs (fetch, timers, storage, statuses, events) and
//! feeds back the results; it coordinates the first send with other tabs (Web Locks, the
//! data claim, the cross-tab channel) and with other processes sharing a storage adapter
//! (index claims, leases). Single flight: concurrent sends share one run and one result.
//! Starting an action (plan: repeat, resume or new key) and resuming the pending ones after a
//! reload are here too; the bindings only convert their arguments.

use crate::platform::invoke;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

use super::exclusive::Acquired;
use super::listeners::Listeners;
use super::shared::{Instance, LiveAction};
use crate::core::action::{
    adopt_elsewhere, pending_view, plan_action, plan_action_for, ActionMachine, ActionPlan, Input,
    Outcome, PendingView,
};
use crate::core::error::SendonceError;
use crate::core::events::{Event, EventKind};
use crate::core::exclusive::{Fallback, Found};
use crate::core::fingerprint::fingerprint_action;
use crate::core::key::Key;
use crate::core::record::{self, ActionRecord, Record, StoredRequest};
use crate::core::run::{Command, Done, Hooked, Run};
use crate::core::status::StatusCode;
use crate::core::window::{ActionKind, Window};
use crate::platform::convert::{
    headers_list, js_error, opt_string, options_object, reply_object, status_object,
};
use crate::platform::{self, get, locks, transport};

/// What a `Sendonce` instance shares with its drivers (`driver::shared`), with this
/// driver's cells as its live actions.
pub(crate) type Shared = Instance<ActionCell>;

/// A caller waiting on the run: its Promise's functions, its number, and the `abort`
/// listener on its signal (removed when the waiter goes).
struct Waiter {
    id: u32,
    resolve: Function,
    reject: Function,
    /// Held for its `Drop`: the listener goes with the waiter.
    _watch: Option<SignalWatch>,
}

/// An `abort` listener on a caller's `AbortSignal`, removed from the signal when dropped.
struct SignalWatch {
    signal: JsValue,
    listener: Closure<dyn FnMut()>,
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        let remove = get(&self.signal, "removeEventListener");
        if let Some(f) = remove.dyn_ref::<Function>() {
            let _ = invoke(
                f,
                &self.signal,
                &[
                    &JsValue::from_str("abort"),
                    self.listener.as_ref().unchecked_ref(),
                ],
            );
        }
    }
}

/// `send(url, { signal })`: the signal, checked. `None` without one; a value that is not an
/// `AbortSignal` (duck-typed: an `aborted` boolean and `addEventListener`, so that a signal
/// of another realm passes) is a clear `invalid_option` error.
pub(crate) fn signal_option(init: &JsValue) -> Result<Option<JsValue>, SendonceError> {
    if !init.is_object() {
        return Ok(None);
    }
    let signal = get(init, "signal");
    if signal.is_undefined() || signal.is_null() {
        return Ok(None);
    }
    let is_signal = signal.is_object()
        && get(&signal, "aborted").as_bool().is_some()
        && get(&signal, "addEventListener").is_function()
        && get(&signal, "removeEventListener").is_function();
    if !is_signal {
        return Err(SendonceError::option(
            "signal",
            "must be an AbortSignal (from new AbortController().signal)",
        ));
    }
    Ok(Some(signal))
}

fn aborted_error() -> SendonceError {
    SendonceError::Aborted(
        "the send was cancelled by its signal; nothing more is sent, the action keeps its key, \
         and a later send resumes it with the same key and bytes"
            .into(),
    )
}

/// One action's machine, its listeners and the callers waiting on it.
pub(crate) struct ActionCell {
    shared: Rc<Shared>,
    machine: RefCell<ActionMachine>,
    waiters: RefCell<Vec<Waiter>>,
    /// The number of the next waiter.
    next_waiter: Cell<u32>,
    /// Aborted when the run is cancelled (`send(url, { signal })`): ends the attempt in
    /// flight (its fetch) and the wait before a retry. A fresh one for the next run.
    cancel: RefCell<Option<web_sys::AbortController>>,
    /// Counts cancelled runs: a lock or lease granted to a cancelled run's send sends nothing.
    run_gen: Cell<u32>,
    listeners: Listeners,
    /// Called with the reply each time the action comes to rest with one, also when nobody
    /// awaits a send (an action that resumes on the `online` event after its send settled
    /// `offline`).
    settled_listeners: Listeners,
    running: Cell<bool>,
    /// A send is waiting for the cross-tab lock; later sends join it.
    locking: Cell<bool>,
    /// The cross-tab lock on this key, held from the first attempt until the action rests.
    lock: RefCell<Option<locks::LockGuard>>,
    /// Before its first attempt, this action is serialised with other tabs sending the same
    /// data (action name + fingerprint): false for an explicit key, chat messages and quick
    /// replies, whose keys are the caller's.
    by_data: Cell<bool>,
    /// The claim on this action's data, `sendonce:{ns}:c:{action}:{fingerprint}:{key}`: held
    /// while this tab sends it (and a moment after), so that another tab with the same data
    /// finds the key and adopts it instead of sending under its own.
    claim: RefCell<Option<locks::LockGuard>>,
    /// The `FormData` of a form with files, sent instead of the text body (memory only: files
    /// cannot be stored, so such a request waits for the user after a reload).
    form_data: RefCell<Option<JsValue>>,
    /// Over a storage adapter with claims: the lease on this key across processes, held from
    /// the first attempt until the action rests (see `send_across_processes`).
    lease: RefCell<Option<super::exclusive::Held<ActionCell>>>,
    last: RefCell<Option<Outcome>>,
    /// The run's steps: what is carried out next and what its result means (`core::run`).
    run: RefCell<Run>,
}

#[wasm_bindgen(module = "/js/platform.js")]
extern "C" {
    /// Carries out `run`'s commands until it rests.
    #[wasm_bindgen(js_name = drive)]
    fn js_drive(run: ActionRun);
}

/// One action's run as the JS shell (`drive` in `js/platform.js`) holds it: the shell calls
/// `step` with what the last command brought back and carries out the command it answers with
/// (`["fetch", ...]`, `["hook", ...]`, `["sleep", ...]`, `["wait", promise]`), until it
/// answers `undefined`; then it frees the run. Internal: not part of the API.
#[wasm_bindgen(skip_typescript)]
pub struct ActionRun(Rc<ActionCell>);

#[wasm_bindgen]
impl ActionRun {
    /// Feeds `done` (the result of the last command, `undefined` at first) and answers the
    /// next command.
    pub fn step(&self, done: JsValue) -> JsValue {
        self.0.step(&done)
    }
}

impl LiveAction for ActionCell {
    fn live_key(&self) -> String {
        self.key()
    }
    fn live_record(&self) -> ActionRecord {
        self.record()
    }
    fn live_feed(self: &Rc<Self>, input: Input) {
        // Back online from `offline` (which let go of the key's lock and lease): the request
        // goes out through the lock or the lease again, as a send does, never past them (a
        // service worker's sync, or another tab, resumes the same key at the same moment).
        let resting_offline = self.machine.borrow().status() == StatusCode::Offline;
        if matches!(input, Input::Online) && resting_offline {
            if self.locking.get() {
                // A send is taking the lock or the lease: it feeds `Send` once it holds it.
                self.feed(Input::OnlineHeld);
                return;
            }
            if self.needs_adapter_check() || self.needs_lock() {
                self.feed(Input::OnlineHeld);
                // The reply goes to the action's listeners and the sends already waiting on it.
                self.start_send(None);
                return;
            }
        }
        self.feed(input)
    }
    fn live_end(&self) {
        self.end_disposed()
    }
}

impl ActionCell {
    /// The live action of `shared` with `key`, if it is still alive.
    pub fn live(shared: &Shared, key: &str) -> Option<Rc<ActionCell>> {
        shared.live_action(key)
    }

    /// The live action with `machine`'s key, or a new cell for `machine`, registered.
    pub fn adopt(shared: &Rc<Shared>, machine: ActionMachine) -> Rc<ActionCell> {
        let key = machine.key().to_string();
        if let Some(cell) = ActionCell::live(shared, &key) {
            return cell;
        }
        let cell = ActionCell::new(shared.clone(), machine);
        shared.register(key, Rc::downgrade(&cell));
        cell
    }

    pub fn new(shared: Rc<Shared>, machine: ActionMachine) -> Rc<Self> {
        Rc::new(ActionCell {
            shared,
            machine: RefCell::new(machine),
            waiters: RefCell::new(Vec::new()),
            next_waiter: Cell::new(0),
            cancel: RefCell::new(web_sys::AbortController::new().ok()),
            run_gen: Cell::new(0),
            listeners: Listeners::default(),
            settled_listeners: Listeners::default(),
            running: Cell::new(false),
            locking: Cell::new(false),
            lock: RefCell::new(None),
            by_data: Cell::new(false),
            claim: RefCell::new(None),
            form_data: RefCell::new(None),
            lease: RefCell::new(None),
            last: RefCell::new(None),
            run: RefCell::new(Run::new()),
        })
    }

    /// The action's record as its machine holds it now.
    pub fn record(&self) -> crate::core::record::ActionRecord {
        self.machine.borrow().record().clone()
    }

    pub fn key(&self) -> String {
        self.machine.borrow().key().to_string()
    }

    pub fn status(&self) -> JsValue {
        let m = self.machine.borrow();
        status_object(&self.shared.messages, m.status(), m.reason())
    }

    /// Feeds an input and makes sure the driver runs.
    pub fn feed(self: &Rc<Self>, input: Input) {
        self.machine
            .borrow_mut()
            .handle(input, platform::now_ms(), platform::random_u32());
        self.drive();
    }

    /// Asks to send (joining a run in flight) and returns a Promise of the reply.
    pub fn send_promise(self: &Rc<Self>, request: Option<StoredRequest>) -> Promise {
        self.send_with_signal(request, None)
    }

    /// [`ActionCell::send_promise`] with the caller's `AbortSignal` (checked by
    /// [`signal_option`]). When it aborts, this caller's Promise rejects with `aborted`; the
    /// run is cancelled only when no other caller waits on it (single flight: a send joined
    /// by another caller without a signal, or with one not aborted, goes on for them). An
    /// already-aborted signal sends nothing.
    pub fn send_with_signal(
        self: &Rc<Self>,
        request: Option<StoredRequest>,
        signal: Option<JsValue>,
    ) -> Promise {
        if self.shared.disposed.get() {
            // `retry()`, a resumed action, a form's submit: nothing is sent for a disposed
            // instance.
            return Promise::reject(&js_error(&SendonceError::Disposed("this Sendonce".into())));
        }
        if signal
            .as_ref()
            .is_some_and(|s| get(s, "aborted").as_bool() == Some(true))
        {
            return Promise::reject(&js_error(&aborted_error()));
        }
        let this = self.clone();
        Promise::new(&mut |resolve, reject| {
            let id = this.next_waiter.get();
            this.next_waiter.set(id.wrapping_add(1));
            let watch = signal.as_ref().map(|signal| {
                let weak = Rc::downgrade(&this);
                let listener = Closure::<dyn FnMut()>::new(move || {
                    if let Some(cell) = weak.upgrade() {
                        cell.abort_waiter(id);
                    }
                });
                let add = get(signal, "addEventListener");
                if let Some(f) = add.dyn_ref::<Function>() {
                    let _ = invoke(
                        f,
                        signal,
                        &[
                            &JsValue::from_str("abort"),
                            listener.as_ref().unchecked_ref(),
                        ],
                    );
                }
                SignalWatch {
                    signal: signal.clone(),
                    listener,
                }
            });
            this.waiters.borrow_mut().push(Waiter {
                id,
                resolve,
                reject,
                _watch: watch,
            });
            this.start_send(request.clone());
        })
    }

    /// Starts a send (or joins the one under way): through the key's lease across processes
    /// or its Web Lock across tabs when one may be needed, else at once.
    fn start_send(self: &Rc<Self>, request: Option<StoredRequest>) {
        if self.machine.borrow().is_busy() {
            let ev = self.event(EventKind::ClickSuppressed);
            self.shared.emit(ev);
        }
        // `navigator.onLine`, or the last `offline` / `online` event (a page may dispatch
        // one itself, as the demo's "Offline" switch does).
        let online = platform::is_online() && !self.shared.offline_event.get();
        if !online {
            self.machine
                .borrow_mut()
                .handle(Input::Offline, platform::now_ms(), 0);
        }
        if self.locking.get() {
            // The first send is waiting for the cross-tab lock: this one joins it.
            return;
        }
        let generation = self.run_gen.get();
        if self.needs_adapter_check() {
            // Another process sharing the adapter may have this data or this key.
            self.locking.set(true);
            let cell = self.clone();
            crate::platform::spawn(
                async move { cell.send_across_processes(request, generation).await },
            );
        } else if self.needs_lock() {
            self.locking.set(true);
            let cell = self.clone();
            let req = request.clone();
            crate::platform::spawn(async move { cell.send_across_tabs(req, generation).await });
            // The lock is granted a little later: store the request now (in this task), so
            // that a reload in between still resumes this action with its key. Fed after
            // the spawn above, so the lock is requested before another tab can see the
            // record (spawned tasks start in order): the tab that wrote it is first in line.
            self.feed(Input::Intend(request));
        } else {
            self.feed(Input::Send(request));
        }
    }

    /// A caller's signal aborted: its Promise rejects with `aborted`. When no caller waits on
    /// the run any more, the run is cancelled: the core decides where the action rests
    /// (`Input::Abort`); here the fetch in flight and the wait before a retry are aborted, a
    /// lock or lease still being taken for it sends nothing, and the locks, claim and lease
    /// are let go (another tab or process may send the key now).
    fn abort_waiter(self: &Rc<Self>, id: u32) {
        let waiter = {
            let mut waiters = self.waiters.borrow_mut();
            let Some(at) = waiters.iter().position(|w| w.id == id) else {
                return;
            };
            waiters.remove(at)
        };
        let _ = invoke(
            &waiter.reject,
            &JsValue::NULL,
            &[&js_error(&aborted_error())],
        );
        drop(waiter);
        let under_way = self.locking.get() || self.machine.borrow().is_busy();
        if !self.waiters.borrow().is_empty() || !under_way {
            return;
        }
        self.run_gen.set(self.run_gen.get().wrapping_add(1));
        self.locking.set(false);
        if let Some(c) = self.cancel.replace(web_sys::AbortController::new().ok()) {
            c.abort();
        }
        self.lock.borrow_mut().take();
        self.claim.borrow_mut().take();
        self.lease.borrow_mut().take();
        self.feed(Input::Abort);
    }

    /// True when the run started as `generation` was not cancelled since.
    fn current(&self, generation: u32) -> bool {
        self.run_gen.get() == generation
    }

    /// A send whose lock (or lease) was granted: sends, unless its run was cancelled while it
    /// waited; then the lock, claim and lease it got are let go, nothing is sent.
    fn send_if_current(self: &Rc<Self>, generation: u32, request: Option<StoredRequest>) {
        if self.current(generation) {
            self.feed(Input::Send(request));
        } else {
            self.lock.borrow_mut().take();
            self.claim.borrow_mut().take();
            self.lease.borrow_mut().take();
        }
    }

    /// True when a send is about to start a request and another tab may be sending the same
    /// key: Web Locks exist, this tab holds no lock for it, and nothing is under way here.
    fn needs_lock(&self) -> bool {
        let m = self.machine.borrow();
        !m.is_busy()
            && !m.status().is_confirmed()
            && self.lock.borrow().is_none()
            && locks::available()
    }

    /// One send per key across tabs: takes the Web Lock `sendonce:{ns}:{key}` for the whole
    /// send. If another tab holds it, shows `elsewhere`, waits, then adopts that tab's
    /// confirmed result from storage, or sends itself with the same key (the other tab
    /// vanished mid-send, or its action ended unconfirmed).
    async fn send_across_tabs(self: Rc<Self>, request: Option<StoredRequest>, generation: u32) {
        // Same data in two tabs at the same moment: one key. Before the first attempt, the
        // tab takes the lock on the data, looks for another tab's claim on it (a held lock
        // whose name carries that tab's key), and adopts that key; else it claims the data
        // with its own key before letting go. Locks, unlike localStorage, are shared by the
        // tabs at once (a storage write reaches another tab a little later).
        if self.by_data.get() && self.machine.borrow().record().attempts == 0 {
            let (data_lock, prefix) = {
                let m = self.machine.borrow();
                let r = m.record();
                (
                    record::data_lock_name(&self.shared.ns, &r.action, &r.fingerprint),
                    record::claim_lock_prefix(&self.shared.ns, &r.action, &r.fingerprint),
                )
            };
            let data_guard = locks::acquire(&data_lock, false).await;
            let claimed = locks::held_names(&prefix)
                .await
                .into_iter()
                .find_map(|name| record::claimed_key(&prefix, &name));
            match claimed {
                Some(other) if other != *self.machine.borrow().key() => {
                    // This action's own key was never sent: its intent record goes, and from
                    // now on it is the other tab's action (with that tab's stored record when
                    // this tab's storage has it already).
                    let old = self.machine.borrow().key().clone();
                    let stored = self.shared.stored_action(&other);
                    self.adopt_key(other, stored, false);
                    if *self.machine.borrow().key() != old {
                        self.shared
                            .store
                            .delete(&record::action_key(&self.shared.ns, &old));
                        let ev = self.event(EventKind::KeyAdopted);
                        self.shared.emit(ev);
                    }
                }
                Some(_) => {}
                None => {
                    let mine = format!("{prefix}{}", self.key());
                    *self.claim.borrow_mut() = locks::acquire(&mine, false).await;
                }
            }
            drop(data_guard);
        }
        let name = format!("sendonce:{}:{}", self.shared.ns, self.key());
        let (guard, waited) =
            locks::acquire_or_wait(&name, || self.feed(Input::LockedElsewhere)).await;
        if !self.current(generation) {
            // Cancelled while it waited for the lock: nothing is sent (the guard and the data
            // claim are let go here).
            self.claim.borrow_mut().take();
            return;
        }
        self.locking.set(false);
        if waited && self.machine.borrow().status() != StatusCode::Elsewhere {
            // The other tab's message came first and this action adopted its result: nothing
            // to do with the lock (dropped here, released).
            return;
        }
        *self.lock.borrow_mut() = guard;
        if waited {
            // The other tab's record may reach this tab's storage a little after the lock
            // (`core::exclusive::Settle`).
            let key = self.machine.borrow().key().clone();
            let found: RefCell<Option<ActionRecord>> = RefCell::new(None);
            let adopt = super::exclusive::settle(&self.shared, || async {
                // From storage, not from this tab's live machine: the other tab's record.
                let rec = self.shared.stored_action(&key);
                let seen = if adopt_elsewhere(rec.as_ref()) {
                    Found::Adoptable
                } else if rec.as_ref().is_some_and(|r| r.is_finished()) {
                    Found::Finished
                } else {
                    Found::Nothing
                };
                *found.borrow_mut() = rec;
                seen
            })
            .await;
            if adopt {
                if let Some(rec) = found.borrow_mut().take() {
                    self.feed(Input::ElsewhereFinished(rec));
                }
                return;
            }
        }
        self.send_if_current(generation, request);
    }

    fn event(&self, kind: EventKind) -> Event {
        let m = self.machine.borrow();
        Event::new(kind)
            .with_key(m.key().as_str())
            .with_action(&m.record().action)
    }

    /// Has the machine's outputs carried out until it has nothing to do, one run per action:
    /// the JS shell (`drive` in `js/platform.js`) carries out each command
    /// [`ActionCell::step`] answers with.
    fn drive(self: &Rc<Self>) {
        if self.running.replace(true) {
            return;
        }
        js_drive(ActionRun(self.clone()));
    }

    /// The run is over: at rest, an action paused `offline` waits for the `online` event, and
    /// nothing else may hold it (nor the instance). Held until it leaves `offline`.
    fn rest(self: &Rc<Self>) -> JsValue {
        self.running.set(false);
        let offline = self.machine.borrow().status() == StatusCode::Offline;
        self.shared.hold_while_offline(self, offline);
        JsValue::UNDEFINED
    }

    /// `dispose()`: this action ends here. The `send()`s waiting on it reject with
    /// `disposed`; its driver stops before the next request, poll or wait; the locks, claims
    /// and lease it holds are let go. Its record stays in storage as it stands.
    pub fn end_disposed(&self) {
        let error = js_error(&SendonceError::Disposed("this Sendonce".into()));
        let waiters: Vec<Waiter> = self.waiters.borrow_mut().drain(..).collect();
        for w in waiters {
            let _ = invoke(&w.reject, &JsValue::NULL, &[&error]);
        }
        self.lock.borrow_mut().take();
        self.claim.borrow_mut().take();
        self.lease.borrow_mut().take();
    }

    /// What the last command brought back (`done`) goes to the run ([`Run::step`]); the
    /// commands it answers with that need no waiting are carried out here, until one needs
    /// the shell: that command is answered (`undefined`: the run is over, see [`ActionRun`]).
    fn step(self: &Rc<Self>, done: &JsValue) -> JsValue {
        let mut done = {
            let run = self.run.borrow();
            if run.awaits_hook() {
                Done::Hooked(hooked(done))
            } else if run.awaits_reply() {
                Done::Reply(transport::reply(done))
            } else {
                Done::Nothing
            }
        };
        loop {
            let command = {
                let mut m = self.machine.borrow_mut();
                self.run.borrow_mut().step(
                    &mut m,
                    done,
                    platform::now_ms(),
                    platform::random_u32,
                    self.shared.disposed.get(),
                )
            };
            done = Done::Nothing;
            match command {
                Command::Hook {
                    url,
                    method,
                    attempt,
                    timeout_ms,
                } => {
                    let hook = match &self.shared.headers_hook {
                        Some(f) => JsValue::from(f),
                        None => JsValue::UNDEFINED,
                    };
                    let info = js_sys::Object::new();
                    platform::set(&info, "url", &JsValue::from_str(&url));
                    platform::set(&info, "method", &JsValue::from_str(&method));
                    platform::set(&info, "key", &JsValue::from_str(&self.key()));
                    let action = self.machine.borrow().record().action.clone();
                    platform::set(&info, "action", &JsValue::from_str(&action));
                    platform::set(&info, "attempt", &JsValue::from_f64(attempt as f64));
                    return platform::command(
                        "hook",
                        &[hook, info.into(), (timeout_ms as f64).into()],
                    );
                }
                Command::Fetch {
                    request,
                    timeout_ms,
                    ..
                } => {
                    return transport::send(
                        &self.shared.fetch,
                        &request,
                        self.form_data.borrow().as_ref(),
                        timeout_ms,
                        self.cancel_signal().as_ref(),
                    )
                }
                Command::Poll { url, timeout_ms } => {
                    return transport::get_url(
                        &self.shared.fetch,
                        &url,
                        timeout_ms,
                        self.cancel_signal().as_ref(),
                    )
                }
                Command::Write(record) => {
                    // At once in this tab's storage; over an adapter, the shell awaits the
                    // write (the record is there before the request leaves, and the final one
                    // before the lease is released).
                    if !self.shared.store.is_adapter() {
                        self.shared.write(&Record::Action(record));
                        continue;
                    }
                    let shared = self.shared.clone();
                    let written = platform::promise(async move {
                        shared.write_async(&Record::Action(record)).await;
                        Ok(JsValue::UNDEFINED)
                    });
                    return platform::command("wait", &[written.into()]);
                }
                Command::Sleep(ms) => {
                    let ended = self.shared.ended_signal().map(JsValue::from);
                    let cancel = self.cancel_signal().map(JsValue::from);
                    return platform::command(
                        "sleep",
                        &[
                            (ms as f64).into(),
                            ended.unwrap_or(JsValue::UNDEFINED),
                            cancel.unwrap_or(JsValue::UNDEFINED),
                        ],
                    );
                }
                Command::Status { code, reason } => {
                    let status = status_object(&self.shared.messages, code, reason.as_deref());
                    self.shared
                        .emit(self.event(EventKind::Status).with_code(code));
                    self.listeners.call(&status);
                }
                Command::Event(e) => self.shared.emit(e),
                Command::Attempted { url, end } => self.shared.note_attempt(&url, end),
                Command::Settled(outcome) => self.settled(outcome),
                Command::Rest => return self.rest(),
            }
        }
    }

    /// The signal of the current run's cancel controller.
    fn cancel_signal(&self) -> Option<web_sys::AbortSignal> {
        self.cancel.borrow().as_ref().map(|c| c.signal())
    }

    /// The run came to rest with `outcome`: its callers are answered, the other tabs told,
    /// and the locks, claim and lease let go.
    fn settled(&self, outcome: Outcome) {
        let reply = reply_object(
            outcome.reply.as_ref(),
            outcome.code,
            outcome.replayed,
            outcome.attempts,
            &self.key(),
        );
        if matches!(outcome.error, Some(SendonceError::Aborted(_))) {
            // A cancelled run: its callers were answered, and its locks, claim and lease let
            // go, when it was cancelled (`abort_waiter`). A send that came since is a new
            // run: its caller and its lock are its own.
            *self.last.borrow_mut() = Some(outcome);
            return;
        }
        let waiters: Vec<Waiter> = self.waiters.borrow_mut().drain(..).collect();
        for w in waiters {
            // A programming error of the page rejects, saying so; anything the server or
            // the network did resolves with the reply.
            let _ = match &outcome.error {
                Some(e) => invoke(&w.reject, &JsValue::NULL, &[&js_error(e)]),
                None => invoke(&w.resolve, &JsValue::NULL, &[&reply]),
            };
        }
        if outcome.error.is_none() {
            self.settled_listeners.call(&reply);
        }
        // At rest (final, offline or accepted): tell the tabs waiting for this key when it
        // was confirmed (all they can adopt), then let them have it.
        if self.lock.borrow().is_some() && outcome.code.is_confirmed() {
            self.shared.tell_other_tabs(self.machine.borrow().record());
        }
        *self.last.borrow_mut() = Some(outcome);
        self.lock.borrow_mut().take();
        // The data claim outlives the send a moment: a tab that comes with the same data
        // before this tab's records reach its storage still finds the key. Not when the
        // action is done with (refused, changed, or its window over at once with
        // `window: 0`): the same data next is a new action, whose own key must not be traded
        // for this one.
        if let Some(claim) = self.claim.borrow_mut().take() {
            let done_with = {
                let m = self.machine.borrow();
                let r = m.record();
                r.is_finished()
                    && plan_action(Some(r), &r.fingerprint, platform::now_ms()) == ActionPlan::New
            };
            if done_with {
                drop(claim);
            } else {
                crate::platform::spawn(async move {
                    platform::sleep(locks::SETTLE_MS).await;
                    drop(claim);
                });
            }
        }
        // Released after the final record was written (awaited before this output).
        self.lease.borrow_mut().take();
    }
}

/// What the `headers` hook gave (`done`: what `settle` of `js/platform.js` resolved with),
/// read: its headers, or why it gave none (`core::run::Hooked` says what each does to the
/// attempt).
fn hooked(done: &JsValue) -> Hooked {
    match platform::settled(done) {
        platform::Settled::Value(v) => match headers_list(&v) {
            Ok(headers) => Hooked::Headers(headers),
            Err(e) => {
                let what = if v.is_object() {
                    "an object that is not headers".to_string()
                } else {
                    format!("a {}", v.js_typeof().as_string().unwrap_or_default())
                };
                let why = match e {
                    SendonceError::InvalidOption { reason, .. } => reason,
                    other => other.to_string(),
                };
                Hooked::Invalid(SendonceError::InvalidHook(format!(
                    "the `headers` hook returned {what} (headers {why}); nothing was sent"
                )))
            }
        },
        platform::Settled::Rejected(e) => Hooked::Failed(crate::platform::storage::describe(&e)),
        platform::Settled::TimedOut => Hooked::TimedOut,
    }
}

/// One user action as its callers hold it: the shared cell and the bytes this caller sends.
/// The JS `Action` (bindings) and the form driver both send through it.
pub(crate) struct ActionHandle {
    cell: Rc<ActionCell>,
    body: String,
    /// The body to store when `body` holds private values (a form's password): sent, never
    /// stored.
    visible_body: Option<String>,
    /// A form's multipart body (files), sent instead of `body`; never stored.
    form_data: Option<JsValue>,
    /// What the stored request will lack after a reload, by name (a form's files and private
    /// fields; see `StoredRequest::waiting_for`).
    waiting_for: Vec<String>,
}

impl ActionHandle {
    pub(crate) fn from_cell(cell: Rc<ActionCell>, body: String) -> ActionHandle {
        ActionHandle {
            cell,
            body,
            visible_body: None,
            form_data: None,
            waiting_for: Vec::new(),
        }
    }

    /// A form's action: `body` is sent; `visible_body` is stored instead when `body` holds
    /// private values; `form_data` (a multipart body with files) is sent instead of `body` and
    /// makes the stored request wait for the user after a reload; `waiting_for` names what it
    /// then waits for.
    pub(crate) fn for_form(
        cell: Rc<ActionCell>,
        body: String,
        visible_body: Option<String>,
        form_data: Option<JsValue>,
        waiting_for: Vec<String>,
    ) -> ActionHandle {
        ActionHandle {
            cell,
            body,
            visible_body,
            form_data,
            waiting_for,
        }
    }

    /// Serialise this action's first send with other tabs that send the same data.
    pub(crate) fn coordinate_by_data(&self) {
        self.cell.by_data.set(true);
    }

    /// Sends to a checked `url` with `init` (`method`, `headers`); a send while one is under
    /// way joins it. Rejects on a disposed instance or a bad `init`.
    pub(crate) fn send(&self, url: &str, init: JsValue) -> Promise {
        if self.cell.shared.disposed.get() {
            return Promise::reject(&js_error(&SendonceError::Disposed("this Sendonce".into())));
        }
        let signal = match signal_option(&init) {
            Ok(s) => s,
            Err(e) => return Promise::reject(&js_error(&e)),
        };
        match self.request(url, &init) {
            Ok(req) => self.cell.send_with_signal(Some(req), signal),
            Err(e) => Promise::reject(&js_error(&e)),
        }
    }

    /// Sends again with the same key and bytes.
    pub(crate) fn retry(&self) -> Promise {
        self.cell.send_promise(None)
    }

    /// Calls `callback(status)` on every status change; returns the function that stops it.
    pub(crate) fn on_status(&self, callback: Function) -> Function {
        self.cell.listeners.subscribe(callback)
    }

    /// Calls `callback(reply)` each time the action comes to rest with a reply, awaited or
    /// not; returns the function that stops it.
    pub(crate) fn on_settled(&self, callback: Function) -> Function {
        self.cell.settled_listeners.subscribe(callback)
    }

    /// The idempotency key.
    pub(crate) fn key(&self) -> String {
        self.cell.key()
    }

    /// The payload's fingerprint.
    pub(crate) fn fingerprint(&self) -> String {
        self.cell.machine.borrow().record().fingerprint.to_string()
    }

    /// The current status, `{ code, text, underWay, final }`.
    pub(crate) fn status(&self) -> JsValue {
        self.cell.status()
    }

    /// Removes the action's record and index entry, so the same data later is a new action.
    pub(crate) fn forget(&self) {
        let key = self.cell.machine.borrow().key().clone();
        let rec = self.cell.machine.borrow().record().clone();
        let ns = &self.cell.shared.ns;
        self.cell
            .shared
            .store
            .delete(&crate::core::record::action_key(ns, &key));
        self.cell
            .shared
            .store
            .delete(&crate::core::record::index_key(
                ns,
                &rec.action,
                &rec.fingerprint,
            ));
        self.cell.shared.live.borrow_mut().remove(key.as_str());
    }

    fn request(&self, url: &str, init: &JsValue) -> Result<StoredRequest, SendonceError> {
        if url.is_empty() {
            return Err(SendonceError::option("url", "must not be empty"));
        }
        // Every action request (a send, a form's submit) passes here: credentials in its URL
        // are refused before anything is stored (`core::url`).
        crate::core::url::check_url(url, "url")?;
        let init = options_object(init, "init")?;
        let method = crate::core::http::method(
            &opt_string(&init, "method")?.unwrap_or_else(|| "POST".into()),
        )?;
        let mut headers = headers_list(&get(&init, "headers"))?;
        if self.form_data.is_none() {
            crate::core::http::json_content_type(&mut headers);
        }
        *self.cell.form_data.borrow_mut() = self.form_data.clone();
        let has_body = method != "GET" && method != "HEAD";
        Ok(StoredRequest {
            url: url.to_string(),
            method,
            headers,
            body: has_body.then(|| self.body.clone()),
            visible_body: self.visible_body.clone().filter(|_| has_body),
            waiting_for: self.waiting_for.clone(),
            ..Default::default()
        })
    }
}

/// Across bot processes sharing a storage adapter (Node): what the adapter says before this
/// process sends.
impl ActionCell {
    /// True when a send is about to start a request over a storage adapter and nothing is under
    /// way here: the adapter is read (and claimed) first.
    fn needs_adapter_check(&self) -> bool {
        let m = self.machine.borrow();
        !m.is_busy()
            && !m.status().is_final()
            && self.lease.borrow().is_none()
            && self.shared.store.is_adapter()
    }

    /// Feeds `Adopt` and moves this cell to the adopted key in the registry of live actions.
    fn adopt_key(
        self: &Rc<Self>,
        key: crate::core::key::Key,
        record: Option<ActionRecord>,
        vouched: bool,
    ) {
        let old = self.key();
        self.feed(Input::Adopt {
            key,
            record,
            vouched,
        });
        let new = self.key();
        if new != old {
            let mut live = self.shared.live.borrow_mut();
            live.remove(&old);
            live.insert(new.clone(), Rc::downgrade(self));
            drop(live);
            let r = self.record();
            let index = record::index_key(&self.shared.ns, &r.action, &r.fingerprint);
            self.shared.store.remember(&index, &new);
        }
    }

    /// Reads the action stored under `key` in the adapter (`None` when absent, unreadable or
    /// corrupt). A record the adapter returns is alive: the store expires records on its own
    /// clock (each is written with its window as its time to live), and this process's clock
    /// never judges another process's timestamps (SPEC 4: processes whose clocks disagree by
    /// more than the window still agree on it).
    async fn read_shared(&self, key: &crate::core::key::Key) -> Option<ActionRecord> {
        let sk = record::action_key(&self.shared.ns, key);
        let text = self.shared.store.get_async(&sk).await.ok()??;
        match Record::decode_stored(&self.shared.ns, &sk, &text, 0) {
            Ok(Some(Record::Action(a))) => Some(a),
            // Corrupt or foreign: removed and reported as any other read does.
            _ => self.shared.stored_action(key),
        }
    }

    /// One send per action data and per key across processes:
    /// 1. a fresh action claims the index entry of its name + fingerprint (or, without
    ///    `claim()`, reads it): when another process already has that data, this action takes
    ///    its key, and its confirmed result answers locally;
    /// 2. it takes the lease on its key (with `claim()`), showing `elsewhere` and waiting while
    ///    another process sends it, then adopts that result or sends with the same key.
    ///
    /// A claim that fails (adapter down, too slow) is reported with `storage.fallback` and the
    /// action is sent with its key anyway: the server's key check still holds.
    async fn send_across_processes(
        self: Rc<Self>,
        request: Option<StoredRequest>,
        generation: u32,
    ) {
        let store = &self.shared.store;
        let claims = store.can_claim();
        if !claims {
            self.shared.warn_not_exclusive();
        }
        let (fresh, again) = {
            let m = self.machine.borrow();
            (
                m.record().attempts == 0 && m.status() == StatusCode::Idle,
                m.is_again(),
            )
        };
        if fresh && again {
            // The same data once more on purpose: its own key, named by the data's index
            // entry from now on (so that the next send of the same data repeats this one).
            let r = self.record();
            let index = record::index_key(&self.shared.ns, &r.action, &r.fingerprint);
            let _ = store.set_async(&index, &self.key(), r.window_ms).await;
        }
        let fresh = fresh && !again;
        if fresh {
            let (action, fingerprint, window_ms) = {
                let m = self.machine.borrow();
                let r = m.record();
                (r.action.clone(), r.fingerprint.clone(), r.window_ms)
            };
            let index = record::index_key(&self.shared.ns, &action, &fingerprint);
            let mine = self.key();
            let named = if claims {
                match store.claim(&index, &mine, window_ms).await {
                    Ok(true) => None,
                    Ok(false) => store.get_async(&index).await.ok().flatten(),
                    Err(e) => {
                        self.shared
                            .emit(self.event(EventKind::StorageFallback).with_detail(&e));
                        None
                    }
                }
            } else {
                store.get_async(&index).await.ok().flatten()
            };
            match named.and_then(|k| crate::core::key::validate_key(&k).ok()) {
                Some(other) if other.as_str() != mine => {
                    let rec = self.read_shared(&other).await;
                    // The store still holds the other process's record (and the index entry
                    // naming it): inside its window by the store's clock, whatever this
                    // process's clock says. Plan as of the record's own time.
                    let now = rec.as_ref().map_or(0, |r| r.created_at);
                    match (
                        &rec,
                        rec.as_ref()
                            .map(|r| plan_action(Some(r), &fingerprint, now)),
                    ) {
                        // The other process is about to write it, or is sending it.
                        (None, _) | (_, Some(ActionPlan::Resume(_))) => {
                            self.adopt_key(other, rec, true)
                        }
                        (_, Some(ActionPlan::Repeat(r))) => self.adopt_key(other, Some(r), true),
                        // Finished without a confirmation, or expired: this action's own key.
                        _ => {
                            let _ = store.set_async(&index, &mine, window_ms).await;
                        }
                    }
                }
                _ => {
                    if !claims {
                        let _ = store.set_async(&index, &mine, window_ms).await;
                    }
                }
            }
        }
        // Adopted at rest: a confirmed result answers locally, an uncertain one is not sent
        // again by a send (only `retry()` does). Neither needs the key's lease.
        if !self.current(generation) {
            // Cancelled while the adapter was read: nothing is sent.
            return;
        }
        if self.machine.borrow().status().is_final() {
            self.locking.set(false);
            self.feed(Input::Send(request));
            return;
        }
        let key = self.machine.borrow().key().clone();
        if !claims {
            // Without claims: a result another process already stored still answers here.
            if let Some(rec) = self.read_shared(&key).await {
                if adopt_elsewhere(Some(&rec)) {
                    self.adopt_confirmed(rec);
                }
            }
            if self.current(generation) {
                self.locking.set(false);
                self.feed(Input::Send(request));
            }
            return;
        }
        let lease_key =
            record::lease_key(&self.shared.ns, &record::action_key(&self.shared.ns, &key));
        // `core::exclusive`: read, claim (a random token, never a made-up one), wait while
        // another process holds the key; past the deadline or when the store fails, send with
        // the same key without a lease (the server's key check still holds).
        let found: RefCell<Option<ActionRecord>> = RefCell::new(None);
        let read = || async {
            let rec = self.read_shared(&key).await;
            let done = adopt_elsewhere(rec.as_ref());
            *found.borrow_mut() = rec;
            Ok(done)
        };
        let on_waiting = || self.feed(Input::LockedElsewhere);
        let weak = Rc::downgrade(&self);
        let report: super::exclusive::Report = Rc::new(move |reason: &str| {
            if let Some(cell) = weak.upgrade() {
                let ev = cell.event(EventKind::StorageFallback).with_detail(reason);
                cell.shared.emit(ev);
            }
        });
        let config = super::exclusive::config(&self.shared, Fallback::Proceed, Fallback::Proceed);
        let acquired = super::exclusive::acquire(
            &self.shared,
            &lease_key,
            config,
            read,
            on_waiting,
            true,
            report,
        )
        .await;
        if !self.current(generation) {
            // Cancelled while the lease was taken: nothing is sent; a lease it got is let go
            // (dropped here).
            return;
        }
        self.locking.set(false);
        match acquired {
            Acquired::Adopt { waited } => {
                let Some(rec) = found.borrow_mut().take() else {
                    return self.feed(Input::Send(request));
                };
                if waited {
                    self.feed(Input::ElsewhereFinished(rec));
                } else {
                    self.adopt_confirmed(rec);
                    self.feed(Input::Send(request));
                }
            }
            Acquired::Run(held) => {
                if held.guarded() {
                    *self.lease.borrow_mut() = Some(held);
                }
                self.feed(Input::Send(request));
            }
            Acquired::Failed(e) => {
                self.shared
                    .emit(self.event(EventKind::StorageFallback).with_detail(&e));
                self.feed(Input::Send(request));
            }
            Acquired::Disposed => {}
        }
    }

    /// A confirmed record of this key written by another process: this action rests with it,
    /// and the send that follows answers locally.
    fn adopt_confirmed(self: &Rc<Self>, rec: ActionRecord) {
        let fresh = self.machine.borrow().record().attempts == 0;
        if fresh {
            // Never sent here: it rests with the other process's result, and the send that
            // follows answers "already received" without a request.
            self.feed(Input::Adopt {
                key: rec.key.clone(),
                record: Some(rec),
                vouched: true,
            });
        } else {
            self.feed(Input::LockedElsewhere);
            self.feed(Input::ElsewhereFinished(rec));
        }
    }
}

/// A new `so.action(name, payload, options)`, its arguments converted and checked by the
/// bindings.
pub(crate) struct NewAction<'a> {
    pub name: &'a str,
    pub kind: ActionKind,
    /// The `window` option (`None`: the instance's window for `kind`).
    pub window: Option<Window>,
    /// An explicit `key` option.
    pub key: Option<Key>,
    /// Field names left out of the fingerprint, at any depth.
    pub exclude: Vec<String>,
    /// The `volatile` option: names left out of the payload's top level (`None`: the
    /// defaults, `core::fingerprint::VOLATILE_FIELDS`).
    pub volatile: Option<Vec<String>>,
    /// `idempotent: false`: the target honours no key; see `ActionConfig::idempotent`.
    pub idempotent: bool,
    /// `again: true`: the same data once more on purpose, a new action with a new key
    /// (`ActionConfig::again`).
    pub again: bool,
    /// The `retry` option, normalised over the instance's policy (`None`: the instance's).
    pub retry: Option<crate::core::retry::RetryPolicy>,
    /// The payload's JSON text (the body sent).
    pub body: String,
}

/// Starts (or finds) an action: a confirmed repeat inside the window answers locally, an
/// unfinished one with the same data keeps its key (and its live machine), anything else
/// gets a new key. The plan is the core's (`plan_action`).
pub(crate) fn start(shared: &Rc<Shared>, new: NewAction) -> Result<ActionHandle, SendonceError> {
    let NewAction {
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
    } = new;
    let window = window.unwrap_or_else(|| shared.windows.for_kind(kind));
    let fingerprint = fingerprint_action(&body, &exclude, volatile.as_deref())?;
    let config = |key: Key, fingerprint: crate::core::fingerprint::Fingerprint| {
        let mut cfg = shared.config(key, name, kind, fingerprint, window);
        cfg.idempotent = idempotent;
        cfg.again = again;
        if let Some(policy) = retry {
            cfg.retry = policy;
        }
        cfg
    };
    let now = platform::now_ms();
    let index = record::index_key(&shared.ns, name, &fingerprint);

    let plan = match &explicit {
        Some(k) => match shared.read_action(k) {
            Some(rec) if rec.fingerprint == fingerprint => {
                plan_action(Some(&rec), &fingerprint, now)
            }
            _ => ActionPlan::New,
        },
        None => {
            let existing = shared
                .store
                .get(&index)
                .and_then(|k| crate::core::key::validate_key(&k).ok())
                .and_then(|k| shared.read_action(&k));
            plan_action_for(again, existing.as_ref(), &fingerprint, now)
        }
    };
    let explicit_key = explicit.clone();
    let machine = match plan {
        ActionPlan::Repeat(rec) => {
            let cfg = config(rec.key.clone(), fingerprint.clone());
            ActionMachine::restore(cfg, rec)
        }
        ActionPlan::Resume(key) => match ActionCell::live(shared, key.as_str()) {
            Some(cell) => {
                if let Some(policy) = retry {
                    // The same data again, with its own retry option: the next run uses it
                    // (a run under way keeps the policy it started with).
                    cell.machine.borrow_mut().set_retry(policy);
                }
                let action = ActionHandle::from_cell(cell, body);
                if explicit_key.is_none() {
                    action.coordinate_by_data();
                }
                return Ok(action);
            }
            None => match shared.read_action(&key) {
                Some(rec) => {
                    let cfg = config(key.clone(), fingerprint.clone());
                    shared.emit(shared.event(EventKind::ActionResume, &key, name));
                    ActionMachine::restore(cfg, rec)
                }
                None => ActionMachine::new(config(key, fingerprint.clone()), now),
            },
        },
        ActionPlan::New => {
            let key = match explicit {
                Some(k) => k,
                None => shared.new_key()?,
            };
            shared.emit(shared.event(EventKind::ActionNew, &key, name));
            if shared.store.is_adapter() {
                // Over an adapter the index entry is read (or claimed) at the first send,
                // before anything is sent: a write here would overwrite another process's
                // entry for the same data.
                shared.store.remember(&index, key.as_str());
            } else {
                shared.put(&index, key.as_str(), window.ms());
            }
            ActionMachine::new(config(key, fingerprint.clone()), now)
        }
    };
    let cell = ActionCell::adopt(shared, machine);
    let action = ActionHandle::from_cell(cell, body);
    if explicit_key.is_none() && !again {
        // Two tabs with the same data at the same moment: one key (see ActionCell). Not for
        // `again`: the same data once more on purpose has a key of its own.
        action.coordinate_by_data();
    }
    Ok(action)
}

/// Reads every action record of the namespace from the storage adapter into this process,
/// and the forms' drafts (a page over a shared adapter, `idbStorage()` with a service worker,
/// awaits `pendingAsync()` before `so.form()`: the form then restores its draft and key, and
/// finds what the worker did with its action).
async fn load_actions(shared: &Rc<Shared>) -> Result<(), SendonceError> {
    if shared.disposed.get() {
        return Err(SendonceError::Disposed("this Sendonce".into()));
    }
    for prefix in [
        record::action_prefix(&shared.ns),
        record::draft_prefix(&shared.ns),
    ] {
        shared
            .store
            .load_adapter(&prefix)
            .await
            .map_err(SendonceError::Storage)?;
    }
    Ok(())
}

/// A Promise of `then(shared)` once the storage adapter's action records are read into this
/// process (rejected when they cannot be read or the instance is disposed).
pub(crate) fn after_loading_actions(
    shared: &Rc<Shared>,
    then: impl FnOnce(&Rc<Shared>) -> JsValue + 'static,
) -> Promise {
    let shared = shared.clone();
    platform::promise(async move {
        load_actions(&shared).await.map_err(|e| js_error(&e))?;
        Ok(then(&shared))
    })
}

/// The stored actions that are pending (the core's [`pending_view`]), oldest first,
/// each with how it stands.
pub(crate) fn pending_records(shared: &Rc<Shared>) -> Vec<(ActionRecord, PendingView)> {
    let prefix = record::action_prefix(&shared.ns);
    let hook = shared.headers_hook.is_some();
    let mut out: Vec<(ActionRecord, PendingView)> = shared
        .store
        .keys(&prefix)
        .iter()
        .filter_map(|k| match shared.read(k) {
            Some(Record::Action(a)) => pending_view(&a, hook).map(|v| (a, v)),
            _ => None,
        })
        .collect();
    crate::core::order::sort_by_key(&mut out, |(a, _)| a.created_at);
    out
}

/// Restores every pending action that may be resent on its own as a live one. Incomplete,
/// failed and uncertain ones stay listed in `pending()` and wait for the user. Nothing keeps
/// the cells but their own work: a send under way holds its cell, and one that pauses offline
/// is held by the instance until it leaves `offline` (`Shared::hold_while_offline`).
pub(crate) fn resume_all(shared: &Rc<Shared>) -> Vec<Rc<ActionCell>> {
    let mut cells = Vec::new();
    for (rec, view) in pending_records(shared) {
        if !view.resend {
            continue;
        }
        let fp = rec.fingerprint.clone();
        let cfg = shared.config(
            rec.key.clone(),
            &rec.action,
            rec.kind,
            fp,
            Window::from_ms(rec.window_ms as f64).unwrap_or(shared.windows.default),
        );
        cells.push(ActionCell::adopt(shared, ActionMachine::restore(cfg, rec)));
    }
    cells
}

/// `autoResume: true`: sends the pending actions again, with their keys, as `resumePending()`
/// does, without a caller to await it. Over a storage adapter the adapter's action records are
/// read first; when they cannot be read, `storage.fallback` says so (nothing is lost: they stay
/// in the adapter for `resumePending()`).
pub(crate) fn auto_resume(shared: &Rc<Shared>) {
    let shared = shared.clone();
    platform::spawn(async move {
        if let Err(e) = load_actions(&shared).await {
            if !matches!(e, SendonceError::Disposed(_)) {
                shared.emit(Event::new(EventKind::StorageFallback).with_detail(&format!(
                    "autoResume could not read the pending actions: {e}"
                )));
            }
            return;
        }
        // Awaited here, so that a rejection (`disposed`, when the page disposes the instance
        // while they are under way) is handled, never an unhandled rejection.
        let _ = wasm_bindgen_futures::JsFuture::from(send_all(&resume_all(&shared))).await;
    });
}

fn send_all(cells: &[Rc<ActionCell>]) -> Promise {
    let promises: Array = cells
        .iter()
        .map(|c| JsValue::from(c.send_promise(None)))
        .collect();
    Promise::all(&promises)
}

/// Resends every pending action with its own key; a Promise of their replies. Over a storage
/// adapter the adapter's action records are read first.
pub(crate) fn resume_pending(shared: &Rc<Shared>) -> Promise {
    if !shared.store.is_adapter() {
        return send_all(&resume_all(shared));
    }
    let shared = shared.clone();
    platform::promise(async move {
        load_actions(&shared).await.map_err(|e| js_error(&e))?;
        let cells = resume_all(&shared);
        wasm_bindgen_futures::JsFuture::from(send_all(&cells)).await
    })
}
