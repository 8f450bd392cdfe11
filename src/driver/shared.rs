//! What a `Sendonce` instance shares with its drivers: the options, normalised once, the
//! store (reads, writes, the eviction call), the event log, the cross-tab channel, the
//! online/offline listeners and the registry of live actions.

use crate::core::config::SendonceConfig;
use crate::core::small_map::SmallMap;
use crate::platform::invoke;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::core::action::{adopt_elsewhere, ActionConfig, Input};
use crate::core::cors::{advice, is_cross_origin, AttemptEnd, CorsWatch};
use crate::core::error::SendonceError;
use crate::core::events::{Event, EventKind, Stats};
use crate::core::key::{new_key, Key, KeyFormat};
use crate::core::record::{self, ActionRecord, Record};
use crate::core::retry::RetryPolicy;
use crate::core::status::Messages;
use crate::core::window::{ActionKind, Window, Windows};
use crate::platform::channel::Channel;
use crate::platform::locks;
use crate::platform::storage::{Store, WriteResult};
use crate::platform::{self, get};

/// An event listener on `globalThis` (name, callback), removed on `dispose()`.
type WindowListener = (String, Closure<dyn FnMut()>);

/// A `Sendonce` instance's options: the core's complete policies ([`SendonceConfig`],
/// normalised once) and the JS values the bindings read beside them (see [`Instance::start`]).
pub(crate) struct Settings {
    pub config: SendonceConfig,
    pub store: Store,
    pub fetch: JsValue,
    pub headers_hook: Option<Function>,
    pub on_event: Option<Function>,
}

/// A live action as the instance sees it: the action driver's cell implements it, so that
/// this file, below `driver::action`, does not name it (the driver imports this one only).
/// Statically dispatched: [`Instance`] is generic over it and has one instantiation.
pub(crate) trait LiveAction {
    /// The action's key.
    fn live_key(&self) -> String;
    /// The action's record as its machine holds it now.
    fn live_record(&self) -> ActionRecord;
    /// Feeds an input and makes sure the driver runs.
    fn live_feed(self: &Rc<Self>, input: Input);
    /// `dispose()`: the action ends here.
    fn live_end(&self);
}

/// Everything a `Sendonce` instance shares with its actions. `C` is the action driver's cell:
/// `driver::action::Shared` is this with `ActionCell`, the only instantiation.
pub(crate) struct Instance<C: LiveAction + 'static> {
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
    pub live: RefCell<SmallMap<Weak<C>>>,
    /// Actions that rest `offline` and wait for the `online` event: held here, strongly,
    /// because nothing else may (a page that keeps neither the action nor this instance). An
    /// instance lives while it has such work: the actions hold it, and it holds them until
    /// they leave `offline` or `dispose()` ends them.
    waiting_online: RefCell<SmallMap<Rc<C>>>,
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
    /// Aborted by `dispose()`: ends the waits of this instance's actions at once.
    ended: Option<web_sys::AbortController>,
}

impl<C: LiveAction + 'static> Instance<C> {
    /// Logs an event: counts it and hands it to `onEvent` (errors in the callback are swallowed:
    /// logging never breaks sending).
    pub fn emit(&self, event: Event) {
        self.stats.borrow_mut().record(&event);
        if let Some(f) = &self.on_event {
            let _ = invoke(
                f,
                &JsValue::NULL,
                &[&crate::platform::convert::from_value(&event.to_value())],
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
        let rank = Some(record.eviction_rank());
        if let WriteResult::FellBack(reason) =
            self.store.set_record(&key, &record.encode(), ttl, rank)
        {
            self.emit(Event::new(EventKind::StorageFallback).with_detail(&reason));
        }
    }

    /// Writes `value` under the storage key `key` (a record's text or an index entry), the
    /// way [`Instance::write`] does.
    pub fn put(&self, key: &str, value: &str, ttl: u64) {
        if let WriteResult::FellBack(reason) = self.store.set(key, value, ttl) {
            self.emit(Event::new(EventKind::StorageFallback).with_detail(&reason));
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
        let rank = Some(record.eviction_rank());
        if let Err(reason) = self
            .store
            .set_record_async(&key, &record.encode(), ttl, rank)
            .await
        {
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
            cell.live_feed(Input::ElsewhereFinished(rec));
        }
    }

    /// Reads and decodes a record; expired records are removed, corrupt or foreign ones (a
    /// record copied under another storage key included) are removed and reported with
    /// `record.corrupt`. Over a storage adapter shared with other processes an expired record
    /// is only dropped from this process's mirror: the store expires it on its own clock, and a
    /// process whose clock runs ahead must not delete what the others still read (SPEC 4).
    pub fn read(&self, storage_key: &str) -> Option<Record> {
        let text = self.store.get(storage_key)?;
        match Record::decode_stored(&self.ns, storage_key, &text, platform::now_ms()) {
            Ok(Some(r)) => Some(r),
            Ok(None) => {
                if self.store.is_adapter() {
                    self.store.forget(storage_key);
                } else {
                    self.store.delete(storage_key);
                }
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
            return Some(cell.live_record());
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
            again: false,
        }
    }

    /// A fresh key from the CSPRNG; a source that returns zeros or repeats itself is a
    /// `weak_random` error, and no key is made.
    pub fn new_key(&self) -> Result<Key, SendonceError> {
        let bytes = platform::key_bytes()?;
        Ok(new_key(self.key_format, bytes, platform::now_ms()))
    }

    /// The live action with `key` (the action driver's cell), if it is still alive.
    pub fn live_action(&self, key: &str) -> Option<Rc<C>> {
        self.live.borrow().get(key).and_then(Weak::upgrade)
    }

    /// Registers `cell` as the live action with `key`.
    pub fn register(&self, key: String, cell: Weak<C>) {
        // Entries of actions the page has freed would keep their cells' memory for good.
        self.live.borrow_mut().retain(|w| w.strong_count() > 0);
        self.live.borrow_mut().insert(key, cell);
    }

    /// Holds `cell` while it rests `offline` (`waits` true), lets it go otherwise (see
    /// `waiting_online`). A disposed instance holds nothing, nor one without online events
    /// (Node: nothing would ever resume it but `retry()` or `resumePending()`, which find it
    /// in storage).
    pub fn hold_while_offline(&self, cell: &Rc<C>, waits: bool) {
        let key = cell.live_key();
        let listening = !self.listeners.borrow().is_empty();
        let mut held = self.waiting_online.borrow_mut();
        if waits && listening && !self.disposed.get() {
            if held.get(&key).is_none() {
                held.insert(key, cell.clone());
            }
        } else if held.get(&key).is_some() {
            // Dropped after the borrow ends: the last holder of the cell may be this map.
            let gone = held.remove(&key);
            drop(held);
            drop(gone);
        }
    }

    /// The live actions of this instance.
    fn live_cells(&self) -> Vec<Rc<C>> {
        self.live
            .borrow()
            .values()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Feeds `input` to every live action (online / offline).
    fn broadcast(&self, input: Input) {
        for cell in self.live_cells() {
            cell.live_feed(input.clone());
        }
    }
}

impl<C: LiveAction + 'static> Instance<C> {
    /// The shared state of a new instance, running: the cross-tab channel open (where tabs
    /// can wait for each other's locks), adapter errors reported, and every live action told
    /// when the page goes online or offline. `fallback`: why the storage asked for was not
    /// available (reported with `storage.fallback`).
    pub fn start(settings: Settings, fallback: Option<String>) -> Rc<Self> {
        let Settings {
            config,
            store,
            fetch,
            headers_hook,
            on_event,
        } = settings;
        let SendonceConfig {
            namespace: ns,
            messages,
            header_name,
            replay_header,
            key_format,
            retry,
            windows,
            max_payload_bytes,
            lease_ms,
            ..
        } = config;
        let shared = Rc::new(Instance {
            ns,
            store,
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
            waiting_online: RefCell::new(SmallMap::new()),
            disposed: Cell::new(false),
            offline_event: Cell::new(false),
            listeners: RefCell::new(Vec::new()),
            channel: RefCell::new(None),
            cors: RefCell::new(CorsWatch::default()),
            lease_ms,
            warned_not_exclusive: Cell::new(false),
            ended: web_sys::AbortController::new().ok(),
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
        // A full store makes room in the core's eviction order.
        let ns = shared.ns.clone();
        shared
            .store
            .set_evictor(Rc::new(move |store: &Store| victims(&ns, store)));
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
                let _ = invoke(
                    &add,
                    &platform::global(),
                    &[&JsValue::from_str(name), cb.as_ref().unchecked_ref()],
                );
                shared.listeners.borrow_mut().push((name.to_string(), cb));
            }
        }
        shared
    }

    /// Waits `ms` milliseconds, or until `dispose()` (which clears the timer: a disposed
    /// instance keeps no Node process alive for a retry's wait).
    pub async fn sleep(&self, ms: u64) {
        match &self.ended {
            Some(c) => platform::sleep_unless(ms, &c.signal()).await,
            None => platform::sleep(ms).await,
        }
    }

    /// The signal that aborts when the instance is disposed (`None`: it cannot be, no
    /// `AbortController` here): the shell cuts a run's waits short with it.
    pub fn ended_signal(&self) -> Option<web_sys::AbortSignal> {
        self.ended.as_ref().map(|c| c.signal())
    }

    /// The counters of the events so far (borrowed: read them before the next event).
    pub fn stats(&self) -> std::cell::Ref<'_, Stats> {
        self.stats.borrow()
    }

    /// Refuses further use and ends everything this instance does: it stops listening to
    /// online/offline events, closes the cross-tab channel, and ends every live action (no
    /// request leaves for it any more; retries waiting, offline actions and polls stop, and the
    /// `send()`s waiting on them reject with `disposed`). What storage holds stays for the next
    /// page: an action that was not confirmed is listed in its `pending()`, same key.
    pub fn dispose(&self) {
        if self.disposed.replace(true) {
            return;
        }
        self.remove_listeners();
        self.channel.borrow_mut().take();
        if let Some(c) = &self.ended {
            c.abort();
        }
        let held: Vec<Rc<C>> = {
            let mut map = self.waiting_online.borrow_mut();
            let cells = map.values().cloned().collect();
            *map = SmallMap::new();
            cells
        };
        for cell in self.live_cells().into_iter().chain(held) {
            cell.live_end();
        }
    }

    fn remove_listeners(&self) {
        let listeners: Vec<WindowListener> = self.listeners.borrow_mut().drain(..).collect();
        if listeners.is_empty() {
            return;
        }
        let remove = get(&platform::global(), "removeEventListener");
        if let Ok(f) = remove.dyn_into::<Function>() {
            for (name, cb) in &listeners {
                let _ = invoke(
                    &f,
                    &platform::global(),
                    &[&JsValue::from_str(name), cb.as_ref().unchecked_ref()],
                );
            }
        }
    }
}

impl<C: LiveAction + 'static> Drop for Instance<C> {
    /// An instance the page let go of (its JS object collected) with no work left: its
    /// online/offline listeners go with it. Without this, their closures were freed while
    /// still registered, and the next `online` event threw "closure invoked recursively or
    /// after being dropped".
    fn drop(&mut self) {
        self.remove_listeners();
    }
}

/// The storage keys to remove, in order, when `store` is full: the core's eviction order, index
/// entries with their action. Web storage is read and decoded (another tab may have written
/// it; expired and corrupt records are removed on the way). The in-memory map (the memory
/// store, an adapter's mirror) keeps each entry's rank, worked out once per value written
/// ([`Store::memory_victims`]): a pass decodes no record twice, and removes nothing itself
/// (from a mirror, what is evicted stays in the adapter).
fn victims(ns: &str, store: &Store) -> Vec<String> {
    let now = platform::now_ms();
    if !store.is_web() {
        return store.memory_victims(ns, now);
    }
    let (index_keys, record_keys): (Vec<String>, Vec<String>) = store
        .keys(&record::prefix(ns))
        .into_iter()
        .partition(|k| record::is_index_key(ns, k));
    let mut entries: Vec<(String, Record)> = Vec::new();
    for k in record_keys {
        let Some(text) = store.get(&k) else { continue };
        match Record::decode_stored(ns, &k, &text, now) {
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
    record::evict_with_index(ns, order, &index, &kept)
}
