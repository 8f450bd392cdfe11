//! `new Sendonce(options)`: the options, normalised once, the store, the event log and the
//! registry of live actions.

use crate::core::small_map::SmallMap;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;

use super::action::{Action, ActionCell};
use super::convert::{
    arg, js, opt_bool, opt_function, opt_number, opt_string, options_object, string_arg, to_json,
    OptionsArg,
};
use super::options::reject_unknown;
use crate::core::action::{adopt_elsewhere, ActionConfig, ActionMachine, Input};
use crate::core::cors::{advice, is_cross_origin, AttemptEnd, CorsWatch};
use crate::core::error::SendonceError;
use crate::core::events::{Event, EventKind, Stats};
use crate::core::fingerprint::fingerprint_value;
use crate::core::key::{new_key, validate_key, Key, KeyFormat};
use crate::core::options::{ACTION_OPTIONS, RETRY_OPTIONS, SENDONCE_OPTIONS, WINDOWS_OPTIONS};
use crate::core::record::{self, ActionPlan, ActionRecord, Record};
use crate::core::retry::RetryPolicy;
use crate::core::status::{Locale, Messages, StatusCode};
use crate::core::text::quoted;
use crate::core::window::{ActionKind, Window, Windows};
use crate::platform::channel::Channel;
use crate::platform::locks;
use crate::platform::storage::{Backend, Store, WriteResult};
use crate::platform::{self, get, set};

/// How long a lease across processes lasts unless renewed: 15 s. A live holder renews it every
/// third of that; a process killed mid-handler lets another take over after at most this long.
pub const DEFAULT_LEASE_MS: u64 = 15_000;

/// An event listener on `globalThis` (name, callback), removed on `dispose()`.
type WindowListener = (String, Closure<dyn FnMut()>);

/// Everything a `Sendonce` instance shares with its actions.
pub(crate) struct Shared {
    pub ns: String,
    pub store: Store,
    pub messages: Messages,
    pub header_name: String,
    pub replay_header: String,
    pub key_format: KeyFormat,
    pub retry: RetryPolicy,
    pub windows: Windows,
    pub fetch: JsValue,
    /// The `headers` option: called before every attempt; its headers are sent, never stored.
    pub headers_hook: Option<Function>,
    /// `maxPayloadBytes`: the largest payload (as JSON) an action or message may have.
    pub max_payload_bytes: usize,
    on_event: Option<Function>,
    stats: RefCell<Stats>,
    pub live: RefCell<SmallMap<Weak<ActionCell>>>,
    pub disposed: Cell<bool>,
    /// The page saw `offline` more recently than `online` (a real one, or one a page
    /// dispatched): a new submission then pauses as `offline` at once.
    pub offline_event: Cell<bool>,
    listeners: RefCell<Vec<WindowListener>>,
    /// `sendonce:{ns}` on `BroadcastChannel`: how actions ended, to and from other tabs.
    channel: RefCell<Option<Channel>>,
    /// Fast network failures on cross-origin URLs: the "missing CORS header" pattern.
    cors: RefCell<CorsWatch>,
    /// How long a lease on a run or a send lasts across processes without being renewed
    /// (option `leaseMs`): a process that dies holding one lets another take over after it.
    pub lease_ms: u64,
    /// The "runs across processes are not exclusive" event was given (once per instance).
    warned_not_exclusive: Cell<bool>,
}

impl Shared {
    /// Logs an event: counts it and hands it to `onEvent` (errors in the callback are swallowed:
    /// logging never breaks sending).
    pub fn emit(&self, event: Event) {
        self.stats.borrow_mut().record(&event);
        if let Some(f) = &self.on_event {
            let _ = f.call1(
                &JsValue::NULL,
                &super::convert::from_value(&event.to_value()),
            );
        }
    }

    /// Notes how an attempt to `url` ended; emits `cors.suspect` once when requests to
    /// another origin keep failing at once (see `core::cors`). Pages only: Node has no
    /// `location` and no CORS.
    pub fn note_attempt(&self, url: &str, end: AttemptEnd) {
        let page = get(&get(&platform::global(), "location"), "origin");
        let Some(page) = page.as_string() else { return };
        let cross = is_cross_origin(&page, url);
        if self
            .cors
            .borrow_mut()
            .attempt(cross, platform::is_online(), end)
        {
            let origin = crate::core::cors::origin_of(url).unwrap_or_default();
            let detail = advice(&origin, &self.header_name, &self.replay_header);
            self.emit(Event::new(EventKind::CorsSuspect).with_detail(&detail));
        }
    }

    /// An event of `kind` about the action with `key`.
    pub fn event(&self, kind: EventKind, key: &Key, action: &str) -> Event {
        Event::new(kind).with_key(key.as_str()).with_action(action)
    }

    /// Writes a record under its storage key; full storage evicts what the core allows, and a
    /// refusing storage falls back to memory with a `storage.fallback` event.
    pub fn write(&self, record: &Record) {
        let key = record.storage_key(&self.ns);
        let ttl = record.expires_at().saturating_sub(platform::now_ms());
        self.put(&key, &record.encode(), ttl);
    }

    /// Writes `value` under the storage key `key` (a record's text or an index entry), the
    /// way [`Shared::write`] does.
    pub fn put(&self, key: &str, value: &str, ttl: u64) {
        let result = self
            .store
            .set(key, value, ttl, &|store| self.victims(store));
        if let WriteResult::FellBack(reason) = result {
            self.emit(Event::new(EventKind::StorageFallback).with_detail(&reason));
        }
    }

    /// The storage keys to remove, in order, when `store` is full (the core's eviction order,
    /// index entries with their action). One function, called through a `&dyn` from the write
    /// path, so that its body is not copied into every write.
    #[inline(never)]
    fn victims(&self, store: &platform::storage::Store) -> Vec<String> {
        {
            let now = platform::now_ms();
            let (index_keys, record_keys): (Vec<String>, Vec<String>) = store
                .keys(&record::prefix(&self.ns))
                .into_iter()
                .partition(|k| record::is_index_key(&self.ns, k));
            let mut entries: Vec<(String, Record)> = Vec::new();
            for k in record_keys {
                let Some(text) = store.get(&k) else { continue };
                match Record::decode_stored(&self.ns, &k, &text, now) {
                    Ok(Some(r)) => entries.push((k, r)),
                    // Expired or corrupt: removed at once.
                    _ => store.delete(&k),
                }
            }
            let index: Vec<(String, String)> = index_keys
                .into_iter()
                .filter_map(|k| store.get(&k).map(|v| (k, v)))
                .collect();
            // What stays in storage: index entries naming anything else point nowhere.
            let kept: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
            let order = record::eviction_order(&entries, now);
            record::evict_with_index(&self.ns, order, &index, &kept)
        }
    }

    /// Writes a record and, over an adapter, waits until the adapter has it: another process
    /// must find the key (and a restarted one the request) before the request leaves, and the
    /// final result before a lease is released. A refused write is reported with
    /// `storage.fallback` (the record stays in memory for this process).
    pub async fn write_async(&self, record: &Record) {
        if !self.store.is_adapter() {
            self.write(record);
            return;
        }
        let key = record.storage_key(&self.ns);
        let ttl = record.expires_at().saturating_sub(platform::now_ms());
        if let Err(reason) = self.store.set_async(&key, &record.encode(), ttl).await {
            self.emit(Event::new(EventKind::StorageFallback).with_detail(&reason));
        }
    }

    /// Over an adapter without `claim()`/`release()`: says once, with `storage.fallback`,
    /// that quick-reply runs, `seenAsync()` and sends are not exclusive across processes
    /// (each process still runs a key once; two processes may both run it).
    pub fn warn_not_exclusive(&self) {
        if self.store.is_adapter()
            && !self.store.can_claim()
            && !self.warned_not_exclusive.replace(true)
        {
            self.emit(Event::new(EventKind::StorageFallback).with_detail(
                "the storage adapter has no claim() and release(): runs and sends are not exclusive across processes",
            ));
        }
    }

    /// A random token that names one holder of a lease.
    pub fn lease_token(&self) -> Result<String, SendonceError> {
        Ok(self.new_key()?.as_str().to_string())
    }

    /// Tells the other tabs how the action of `record` ended, before this tab lets go of its
    /// lock: a tab waiting for that lock adopts the result at once.
    pub fn tell_other_tabs(&self, record: &ActionRecord) {
        if let Some(channel) = &*self.channel.borrow() {
            channel.post(&Record::Action(record.clone()).encode());
        }
    }

    /// A message from another tab: a live action of this tab that waits for that tab adopts
    /// its confirmed result. Anything else (not a record, not an action, unconfirmed, no such
    /// action here) is ignored.
    fn on_other_tab(&self, text: &str) {
        let Ok(Some(Record::Action(rec))) = Record::decode(text, platform::now_ms()) else {
            return;
        };
        if !adopt_elsewhere(Some(&rec)) {
            return;
        }
        let cell = self
            .live
            .borrow()
            .get(rec.key.as_str())
            .and_then(Weak::upgrade);
        if let Some(cell) = cell {
            cell.feed(Input::ElsewhereFinished(rec));
        }
    }

    /// Reads and decodes a record; expired records are removed, corrupt or foreign ones (a
    /// record copied under another storage key included) are removed and reported with
    /// `record.corrupt`.
    pub fn read(&self, storage_key: &str) -> Option<Record> {
        let text = self.store.get(storage_key)?;
        match Record::decode_stored(&self.ns, storage_key, &text, platform::now_ms()) {
            Ok(Some(r)) => Some(r),
            Ok(None) => {
                self.store.delete(storage_key);
                None
            }
            Err(e) => {
                self.store.delete(storage_key);
                self.emit(Event::new(EventKind::RecordCorrupt).with_detail(&e.to_string()));
                None
            }
        }
    }

    /// The stored action with `key`, if any.
    /// A live action's record comes from its machine, not from storage: the machine writes its
    /// record only when its driver runs, after the click's task, so a burst of clicks in one
    /// task would otherwise each find nothing and start a new action.
    pub fn read_action(&self, key: &Key) -> Option<ActionRecord> {
        if let Some(cell) = self.live.borrow().get(key.as_str()).and_then(Weak::upgrade) {
            return Some(cell.record());
        }
        self.stored_action(key)
    }

    /// The action with `key` as storage holds it (written by this tab, another tab or another
    /// process), whatever a live machine of this page holds.
    pub fn stored_action(&self, key: &Key) -> Option<ActionRecord> {
        match self.read(&record::action_key(&self.ns, key))? {
            Record::Action(a) => Some(a),
            _ => None,
        }
    }

    /// The action config for a new or restored action.
    pub fn config(
        &self,
        key: Key,
        action: &str,
        kind: ActionKind,
        fingerprint: crate::core::fingerprint::Fingerprint,
        window: Window,
    ) -> ActionConfig {
        ActionConfig {
            key,
            action: action.to_string(),
            kind,
            fingerprint,
            window,
            retry: self.retry,
            header_name: self.header_name.clone(),
            replay_header: self.replay_header.clone(),
            headers_hook: self.headers_hook.is_some(),
            idempotent: true,
        }
    }

    /// A fresh key from the CSPRNG; a source that returns zeros or repeats itself is a
    /// `weak_random` error, and no key is made.
    pub fn new_key(&self) -> Result<Key, SendonceError> {
        let bytes = platform::key_bytes()?;
        Ok(new_key(self.key_format, bytes, platform::now_ms()))
    }

    /// The live action with `key`, or a new cell for `machine`, registered.
    pub fn adopt(self: &Rc<Self>, machine: ActionMachine) -> Rc<ActionCell> {
        let key = machine.key().to_string();
        if let Some(cell) = self.live.borrow().get(&key).and_then(Weak::upgrade) {
            return cell;
        }
        let cell = ActionCell::new(self.clone(), machine);
        // Entries of actions the page has freed would keep their cells' memory for good.
        self.live.borrow_mut().retain(|w| w.strong_count() > 0);
        self.live.borrow_mut().insert(key, Rc::downgrade(&cell));
        cell
    }

    /// Feeds `input` to every live action (online / offline).
    fn broadcast(&self, input: Input) {
        let cells: Vec<Rc<ActionCell>> = self
            .live
            .borrow()
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for cell in cells {
            cell.feed(input.clone());
        }
    }
}

/// The entry point: `new Sendonce(options)`.
#[wasm_bindgen]
pub struct Sendonce {
    shared: Rc<Shared>,
    // Keeps actions resumed without a caller holding them alive until they settle.
    resumed: Rc<RefCell<Vec<Rc<ActionCell>>>>,
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
        let ns = opt_string(&o, "namespace")?.unwrap_or_else(|| "sendonce".into());
        crate::core::key::validate_namespace(&ns)?;
        let mut fallback = None;
        let storage_opt = get(&o, "storage");
        let backend = if storage_opt.is_object() {
            for m in ["get", "set", "delete"] {
                if !get(&storage_opt, m).is_function() {
                    return Err(SendonceError::option(
                        "storage",
                        format!("an adapter needs a {m}() method"),
                    ));
                }
            }
            Backend::Adapter(storage_opt)
        } else {
            let which = if storage_opt.is_undefined() || storage_opt.is_null() {
                "local".to_string()
            } else {
                storage_opt.as_string().ok_or_else(|| {
                    SendonceError::option(
                        "storage",
                        "must be \"local\", \"session\", \"memory\" or an adapter object",
                    )
                })?
            };
            match which.as_str() {
                "memory" => Backend::Memory,
                "local" | "session" => match Store::open_web(&which) {
                    Ok(s) => Backend::Web(s),
                    Err(reason) => {
                        fallback = Some(reason);
                        Backend::Memory
                    }
                },
                other => {
                    return Err(SendonceError::option(
                        "storage",
                        format!(
                        "must be \"local\", \"session\", \"memory\" or an adapter object, got {}",
                        quoted(other, '"')
                    ),
                    ))
                }
            }
        };
        let mut messages = Messages::new(Locale::parse(
            &opt_string(&o, "locale")?.unwrap_or_default(),
        ));
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
                messages.set(&k, &v)?;
            }
        }
        messages.set_show_server_reason(opt_bool(&o, "showServerReason")?.unwrap_or(false));
        let header_name = header_option(&o, "headerName", "Idempotency-Key")?;
        let replay_header = header_option(&o, "replayHeader", "Idempotent-Replayed")?;
        let key_format = match opt_string(&o, "keyFormat")? {
            Some(s) => KeyFormat::parse(&s)?,
            None => KeyFormat::default(),
        };
        let r = options_object(&get(&o, "retry"), "retry")?;
        reject_unknown(&r, "retry.", RETRY_OPTIONS)?;
        let d = RetryPolicy::default();
        let num = |name: &str, default: u64| -> Result<u64, SendonceError> {
            Ok(opt_number(&r, name)
                .map_err(|_| {
                    SendonceError::option(&format!("retry.{name}"), "must be a finite number >= 0")
                })?
                .map(|n| n as u64)
                .unwrap_or(default))
        };
        let retry = RetryPolicy {
            attempts: num("attempts", d.attempts as u64)?.min(u32::MAX as u64) as u32,
            base_delay_ms: num("baseDelayMs", d.base_delay_ms)?,
            max_delay_ms: num("maxDelayMs", d.max_delay_ms)?,
            timeout_ms: num("timeoutMs", d.timeout_ms)?,
            deadline_ms: num("deadlineMs", d.deadline_ms)?,
        }
        .validate()?;
        let w = options_object(&get(&o, "windows"), "windows")?;
        reject_unknown(&w, "windows.", WINDOWS_OPTIONS)?;
        let mut windows = Windows::default();
        for (name, slot) in [
            ("default", &mut windows.default),
            ("form", &mut windows.form),
            ("chat", &mut windows.chat),
            ("quickReply", &mut windows.quick_reply),
        ] {
            if let Some(win) = window_value(&get(&w, name))? {
                *slot = win;
            }
        }
        let fetch = get(&o, "fetch");
        if !fetch.is_undefined() && !fetch.is_null() && !fetch.is_function() {
            return Err(SendonceError::option(
                "fetch",
                "must be a function like globalThis.fetch",
            ));
        }
        let max_payload_bytes =
            crate::core::json::payload_limit(opt_number(&o, "maxPayloadBytes")?)?;
        let on_event = opt_function(&o, "onEvent")?;
        let headers_hook = opt_function(&o, "headers")?;
        let lease_ms = match opt_number(&o, "leaseMs")? {
            None => DEFAULT_LEASE_MS,
            Some(n) if (1_000.0..=600_000.0).contains(&n) => n as u64,
            Some(_) => {
                return Err(SendonceError::option(
                    "leaseMs",
                    "must be a number of ms from 1000 to 600000",
                ))
            }
        };
        let auto_resume = opt_bool(&o, "autoResume")?.unwrap_or(false);

        let shared = Rc::new(Shared {
            ns,
            store: Store::new(backend),
            messages,
            header_name,
            replay_header,
            key_format,
            retry,
            windows,
            fetch,
            headers_hook,
            max_payload_bytes,
            on_event,
            stats: RefCell::new(Stats::default()),
            live: RefCell::new(SmallMap::new()),
            disposed: Cell::new(false),
            offline_event: Cell::new(false),
            listeners: RefCell::new(Vec::new()),
            channel: RefCell::new(None),
            cors: RefCell::new(CorsWatch::default()),
            lease_ms,
            warned_not_exclusive: Cell::new(false),
        });
        if locks::available() {
            // Only where tabs can wait for each other's locks.
            let weak = Rc::downgrade(&shared);
            let channel = Channel::open(&format!("sendonce:{}", shared.ns), move |text| {
                if let Some(s) = weak.upgrade() {
                    s.on_other_tab(&text);
                }
            });
            *shared.channel.borrow_mut() = channel;
        }
        if let Some(reason) = fallback {
            shared.emit(Event::new(EventKind::StorageFallback).with_detail(&reason));
        }
        // An adapter that refuses a background write: the record stays in memory for this
        // page, and the page is told.
        let weak = Rc::downgrade(&shared);
        shared.store.on_adapter_error(Rc::new(move |reason| {
            if let Some(s) = weak.upgrade() {
                s.emit(Event::new(EventKind::StorageFallback).with_detail(reason));
            }
        }));
        // Online / offline: pause and resume every live action (pages only; Node has no events).
        let window = get(&platform::global(), "addEventListener");
        if window.is_function() {
            for (name, input) in [("online", Input::Online), ("offline", Input::Offline)] {
                let weak = Rc::downgrade(&shared);
                let offline = name == "offline";
                let cb = Closure::<dyn FnMut()>::new(move || {
                    if let Some(s) = weak.upgrade() {
                        s.offline_event.set(offline);
                        s.broadcast(input.clone());
                    }
                });
                let add: Function = window.clone().unchecked_into();
                let _ = add.call2(
                    &platform::global(),
                    &JsValue::from_str(name),
                    cb.as_ref().unchecked_ref(),
                );
                shared.listeners.borrow_mut().push((name.to_string(), cb));
            }
        }
        let so = Sendonce {
            shared,
            resumed: Rc::new(RefCell::new(Vec::new())),
        };
        if auto_resume {
            so.resume_all();
        }
        Ok(so)
    }

    /// Starts (or finds) the action `name` for `payload`. A confirmed repeat inside the window
    /// answers locally; an unfinished one with the same data keeps its key; anything else gets
    /// a new key. `options`: `{ window, key }`.
    pub fn action(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] payload: JsValue,
        options: Option<super::options::ActionOptionsArg>,
    ) -> Result<Action, JsValue> {
        let options = super::convert::arg(options);
        // Twice the limit in UTF-16 units: every name of 100 characters fits; the real check
        // is start_action's.
        let name = js(string_arg(&name, "action", 2 * MAX_ACTION_NAME))?;
        js(self.start_action(&name, &payload, &options, ActionKind::Default))
    }

    /// Actions restored from storage that are not confirmed yet (after a reload), as
    /// `{ key, action, status, attempts, createdAt, persisted, incomplete }`. `persisted` is
    /// false when storage refused the record (it will not survive a reload); `incomplete` is
    /// true when the request needs values that are never stored (a form's private fields, or
    /// headers without a `headers` hook): it waits for them and is never sent without them.
    #[wasm_bindgen(unchecked_return_type = "PendingAction[]")]
    pub fn pending(&self) -> Array {
        pending_list(&self.shared)
    }
}

/// Reads every action record of the namespace from the storage adapter into this process.
async fn load_actions(shared: &Rc<Shared>) -> Result<(), JsValue> {
    if shared.disposed.get() {
        return Err(super::convert::js_error(&SendonceError::Disposed(
            "this Sendonce".into(),
        )));
    }
    shared
        .store
        .load_adapter(&record::action_prefix(&shared.ns))
        .await
        .map_err(|e| super::convert::js_error(&SendonceError::Storage(e)))
}

fn pending_records(shared: &Rc<Shared>) -> Vec<ActionRecord> {
    let prefix = record::action_prefix(&shared.ns);
    let mut out: Vec<ActionRecord> = shared
        .store
        .keys(&prefix)
        .iter()
        .filter_map(|k| match shared.read(k) {
            Some(Record::Action(a)) if !a.status.is_final() && a.request.is_some() => Some(a),
            _ => None,
        })
        .collect();
    crate::core::order::sort_by_key(&mut out, |a| a.created_at);
    out
}

/// Restores every pending action as a live one (kept alive in `resumed` until it settles).
fn resume_all(shared: &Rc<Shared>, resumed: &RefCell<Vec<Rc<ActionCell>>>) -> Vec<Rc<ActionCell>> {
    let mut cells = Vec::new();
    let hook = shared.headers_hook.is_some();
    for rec in pending_records(shared) {
        // Never sent without the values that are never stored: it waits for the user.
        if !rec.request.as_ref().is_some_and(|r| r.is_complete(hook)) {
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
        let machine = ActionMachine::restore(cfg, rec);
        if machine.status() == StatusCode::Uncertain {
            // Not idempotent and cut off mid-attempt: a person decides (`retry()`).
            continue;
        }
        let cell = shared.adopt(machine);
        resumed.borrow_mut().push(cell.clone());
        cells.push(cell);
    }
    cells
}

fn send_all(cells: &[Rc<ActionCell>]) -> js_sys::Promise {
    let promises: Array = cells
        .iter()
        .map(|c| JsValue::from(c.send_promise(None)))
        .collect();
    js_sys::Promise::all(&promises)
}

fn pending_list(shared: &Rc<Shared>) -> Array {
    {
        let out = Array::new();
        for rec in pending_records(shared) {
            let o = Object::new();
            set(&o, "key", &JsValue::from_str(rec.key.as_str()));
            set(&o, "action", &JsValue::from_str(&rec.action));
            // A non-idempotent action cut off mid-attempt is restored as `uncertain`.
            let status = crate::core::action::restored_status(&rec);
            set(&o, "status", &JsValue::from_str(status.as_str()));
            set(&o, "attempts", &JsValue::from_f64(rec.attempts as f64));
            set(&o, "createdAt", &JsValue::from_f64(rec.created_at as f64));
            set(
                &o,
                "persisted",
                &JsValue::from_bool(shared.store.is_durable()),
            );
            let complete = rec
                .request
                .as_ref()
                .is_some_and(|r| r.is_complete(shared.headers_hook.is_some()));
            set(&o, "incomplete", &JsValue::from_bool(!complete));
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
    /// is waited for, not sent twice.
    #[wasm_bindgen(js_name = resumePending, unchecked_return_type = "Promise<Reply[]>")]
    pub fn resume_pending(&self) -> js_sys::Promise {
        if !self.shared.store.is_adapter() {
            let cells = resume_all(&self.shared, &self.resumed);
            return send_all(&cells);
        }
        let shared = self.shared.clone();
        let resumed = self.resumed.clone();
        platform::promise(async move {
            load_actions(&shared).await?;
            let cells = resume_all(&shared, &resumed);
            wasm_bindgen_futures::JsFuture::from(send_all(&cells)).await
        })
    }

    /// `pending()` read from the storage adapter first (Node bot servers after a restart):
    /// resolves with the same list.
    #[wasm_bindgen(js_name = pendingAsync, unchecked_return_type = "Promise<PendingAction[]>")]
    pub fn pending_async(&self) -> js_sys::Promise {
        let shared = self.shared.clone();
        platform::promise(async move {
            load_actions(&shared).await?;
            Ok(pending_list(&shared).into())
        })
    }

    /// Binds a web form: submit intercepted, draft kept, button guarded. See the forms docs.
    pub fn form(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HTMLFormElement | string")] form: JsValue,
        #[wasm_bindgen(unchecked_param_type = "FormOptions")] options: JsValue,
    ) -> Result<super::form::Form, JsValue> {
        js(super::form::create(self, &form, &options))
    }

    /// A chat outbox for one conversation: `send(text)` returns the message id at once.
    #[cfg(feature = "chat")]
    pub fn chat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatOptions")] options: JsValue,
    ) -> Result<super::chat::Chat, JsValue> {
        js(super::chat::create(self, &options))
    }

    /// Bot quick replies for one conversation, with deterministic keys.
    #[cfg(feature = "quick-replies")]
    #[wasm_bindgen(js_name = quickReplies)]
    pub fn quick_replies(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QuickRepliesOptions")] options: JsValue,
    ) -> Result<super::quick::QuickReplies, JsValue> {
        js(super::quick::create(self, &options))
    }

    /// Counters: `{ actions, sends, retries, clicksSuppressed, localRepeats, serverReplays,
    /// conflicts, rotations, failures }`.
    #[wasm_bindgen(unchecked_return_type = "SendonceStats")]
    pub fn stats(&self) -> JsValue {
        super::convert::from_value(&self.shared.stats.borrow().to_value())
    }

    /// Stops listening to online/offline events and refuses further use. Pending actions stay
    /// in storage for the next page.
    pub fn dispose(&self) {
        self.shared.disposed.set(true);
        let remove = get(&platform::global(), "removeEventListener");
        if let Ok(f) = remove.dyn_into::<Function>() {
            for (name, cb) in self.shared.listeners.borrow_mut().drain(..) {
                let _ = f.call2(
                    &platform::global(),
                    &JsValue::from_str(&name),
                    cb.as_ref().unchecked_ref(),
                );
            }
        }
        self.resumed.borrow_mut().clear();
        self.shared.channel.borrow_mut().take();
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

    /// What the form, chat and quick-reply bindings share with this instance.
    #[allow(dead_code)] // used by the form, chat and quick-reply bindings as they land
    pub(crate) fn shared(&self) -> &Rc<Shared> {
        &self.shared
    }

    fn resume_all(&self) -> Vec<Rc<ActionCell>> {
        resume_all(&self.shared, &self.resumed)
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
        if name.is_empty() || name.chars().count() > MAX_ACTION_NAME as usize {
            return Err(SendonceError::option(
                "action",
                "the action name must be 1..=100 characters",
            ));
        }
        let o = options_object(options, "options")?;
        reject_unknown(&o, "", ACTION_OPTIONS)?;
        let window = match window_value(&get(&o, "window"))? {
            Some(w) => w,
            None => self.shared.windows.for_kind(kind),
        };
        let explicit = opt_string(&o, "key")?
            .map(|k| validate_key(&k))
            .transpose()?;
        let exclude = string_list(&get(&o, "exclude"), "exclude")?;
        // `idempotent: false`: the target honours no key; see `ActionConfig::idempotent`.
        let idempotent = opt_bool(&o, "idempotent")?.unwrap_or(true);
        let (value, body) = to_json(payload, "the payload", self.shared.max_payload_bytes)?;
        let fingerprint = fingerprint_value(&value, &exclude);
        let config = |key: Key, fingerprint: crate::core::fingerprint::Fingerprint| {
            let mut cfg = self.shared.config(key, name, kind, fingerprint, window);
            cfg.idempotent = idempotent;
            cfg
        };
        let now = platform::now_ms();

        let plan = match &explicit {
            Some(k) => match self.shared.read_action(k) {
                Some(rec) if rec.fingerprint == fingerprint => {
                    record::plan_action(Some(&rec), &fingerprint, now)
                }
                _ => ActionPlan::New,
            },
            None => {
                let index = record::index_key(&self.shared.ns, name, &fingerprint);
                let existing = self
                    .shared
                    .store
                    .get(&index)
                    .and_then(|k| validate_key(&k).ok())
                    .and_then(|k| self.shared.read_action(&k));
                record::plan_action(existing.as_ref(), &fingerprint, now)
            }
        };
        let explicit_key = explicit.clone();
        let machine = match plan {
            ActionPlan::Repeat(rec) => {
                let cfg = config(rec.key.clone(), fingerprint.clone());
                ActionMachine::restore(cfg, rec)
            }
            ActionPlan::Resume(key) => match self
                .shared
                .live
                .borrow()
                .get(key.as_str())
                .and_then(Weak::upgrade)
            {
                Some(cell) => {
                    let action = Action::from_cell(cell, body);
                    if explicit_key.is_none() {
                        action.coordinate_by_data();
                    }
                    return Ok(action);
                }
                None => match self.shared.read_action(&key) {
                    Some(rec) => {
                        let cfg = config(key.clone(), fingerprint.clone());
                        self.shared
                            .emit(self.shared.event(EventKind::ActionResume, &key, name));
                        ActionMachine::restore(cfg, rec)
                    }
                    None => ActionMachine::new(config(key, fingerprint.clone()), now),
                },
            },
            ActionPlan::New => {
                let key = match explicit {
                    Some(k) => k,
                    None => self.shared.new_key()?,
                };
                self.shared
                    .emit(self.shared.event(EventKind::ActionNew, &key, name));
                let index = record::index_key(&self.shared.ns, name, &fingerprint);
                if self.shared.store.is_adapter() {
                    // Over an adapter the index entry is read (or claimed) at the first send,
                    // before anything is sent: a write here would overwrite another process's
                    // entry for the same data.
                    self.shared.store.remember(&index, key.as_str());
                } else {
                    self.shared.put(&index, key.as_str(), window.ms());
                }
                ActionMachine::new(config(key, fingerprint.clone()), now)
            }
        };
        let cell = self.shared.adopt(machine);
        let action = Action::from_cell(cell, body);
        if explicit_key.is_none() {
            // Two tabs with the same data at the same moment: one key (see ActionCell).
            action.coordinate_by_data();
        }
        Ok(action)
    }
}

/// Longest action name, in characters.
const MAX_ACTION_NAME: u32 = 100;

/// An optional list of field names (`exclude`): an array of at most 1000 strings. Anything
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

fn header_option(o: &JsValue, name: &str, default: &str) -> Result<String, SendonceError> {
    let v = opt_string(o, name)?.unwrap_or_else(|| default.to_string());
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(SendonceError::option(
            name,
            "must be a valid HTTP header name",
        ));
    }
    Ok(v)
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
