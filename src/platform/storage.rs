//! Storage: `localStorage`, `sessionStorage`, memory, or a caller's adapter object whose methods
//! may return values or Promises. A storage that throws (disabled, SecurityError) or is full
//! makes room as the core says and then falls back to memory; it never crashes and never loses
//! an action.
//!
//! An adapter may also offer atomic claims (`claim(key, value, ttlMs)` creates the entry only
//! when it is absent and says whether this caller created it; `release(key, value)` deletes it
//! only while it still holds `value`; optionally `renew(key, value, ttlMs)`). With them, bot
//! processes sharing one store take leases (`core::exclusive`, carried out by
//! `driver::exclusive` through [`Store::claim`], [`Store::renew`] and [`Store::release`]): one
//! `run()` per quick reply, one send per action key, one `seenAsync()` winner. Every adapter call is bounded
//! ([`ADAPTER_TIMEOUT_MS`]): an adapter that never answers is an error, never a hang.

use crate::core::record::{self, EvictionRank, Place, Victims};
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use super::{get, global};

/// Where records live.
pub enum Backend {
    /// `localStorage` or `sessionStorage`.
    Web(web_sys::Storage),
    /// In memory: gone on reload.
    Memory,
    /// A caller's `StorageAdapter`; an in-memory mirror answers synchronous reads.
    Adapter(JsValue),
}

/// The store: a backend plus an in-memory map that holds everything when the backend is
/// memory, mirrors an adapter, and takes over when web storage fails.
pub struct Store {
    backend: RefCell<Backend>,
    memory: RefCell<Memory>,
    /// Told when an adapter refuses a write or a delete made in the background (the value
    /// stays in the in-memory mirror for this page).
    on_adapter_error: RefCell<Option<ErrorHook>>,
    /// Lists the storage keys to remove, in order, when the store is full (the core's
    /// eviction order; see [`Store::set_evictor`]).
    evictor: RefCell<Option<Evictor>>,
}

/// Lists the storage keys to remove, most expendable first, when `store` is full.
pub type Evictor = Rc<dyn Fn(&Store) -> Vec<String>>;

/// How long one storage adapter call may take before sendonce gives up on it (a store that went
/// away, a client queueing commands while it reconnects, a Promise that never settles).
pub const ADAPTER_TIMEOUT_MS: u64 = 5_000;

/// A callback for storage errors nobody awaits.
pub type ErrorHook = Rc<dyn Fn(&str)>;

/// What happened to a write, so the caller can report it.
pub enum WriteResult {
    /// Written where it should be.
    Stored,
    /// The backend refused it; it is kept in memory from now on. Carries the reason.
    FellBack(String),
}

// The adapter reads are used by quick replies and bot servers (async `run()`).
#[allow(dead_code)]
impl Store {
    /// A store over `backend`.
    pub fn new(backend: Backend) -> Self {
        Store {
            backend: RefCell::new(backend),
            memory: RefCell::new(Memory::new()),
            on_adapter_error: RefCell::new(None),
            evictor: RefCell::new(None),
        }
    }

    /// Sets the function that lists what to evict when the store is full (without one,
    /// nothing is evicted).
    pub fn set_evictor(&self, evictor: Evictor) {
        *self.evictor.borrow_mut() = Some(evictor);
    }

    fn victims(&self) -> Vec<String> {
        let evictor = self.evictor.borrow().clone();
        evictor.map(|f| f(self)).unwrap_or_default()
    }

    /// True for `localStorage` / `sessionStorage` (another tab may write them: what they hold
    /// is read from them, not from a kept copy).
    pub fn is_web(&self) -> bool {
        matches!(*self.backend.borrow(), Backend::Web(_))
    }

    /// What to remove from the in-memory map (the memory store, or an adapter's mirror) of
    /// namespace `ns` to bring it down to its refill mark ([`record::refill_mark`]), in the core's
    /// eviction order ([`EvictionRank::position`], ties broken by storage key; an index entry
    /// goes first when its action is not stored, else right after its action, never while its
    /// action stays, as [`record::evict_with_index`] orders them).
    ///
    /// Each entry's rank is worked out once per value written (by decoding it) and kept next
    /// to it. The pass reads one entry at a time and keeps only the best candidates found so
    /// far (the shortest run of the order that frees enough): it never holds a copy of the
    /// store, nor a table of every entry (the wasm memory never shrinks: a pass's peak stays).
    pub fn memory_victims(&self, ns: &str, now_ms: u64) -> Vec<String> {
        let mem = self.memory.borrow();
        if mem.to_free == 0 {
            return Vec::new();
        }
        let mut best = Victims::new(mem.to_free);
        // Keys of other namespaces are not ours to evict.
        let keys = mem.keys(&record::prefix(ns));
        for i in 0..keys.length() {
            let Some(key) = keys.get(i).as_string() else {
                continue;
            };
            let Some(meta) = mem.meta(&key) else {
                continue;
            };
            if record::is_index_key(ns, &key) {
                let target = mem
                    .get(&key)
                    .and_then(|v| crate::core::key::validate_key(&v).ok())
                    .map(|k| record::action_key(ns, &k));
                let rank = target.as_deref().and_then(|t| mem.rank(t, now_ms));
                match (target, rank) {
                    (Some(target), Some(rank)) => {
                        // Right after its action; stays while its action is protected.
                        if let Some((group, time)) = rank.position(now_ms) {
                            best.offer(Place::index_after(group, time, target, key), meta.size);
                        }
                    }
                    // Points nowhere: first.
                    _ => best.offer(Place::first(key), meta.size),
                }
            } else if let Some((group, time)) = mem
                .rank(&key, now_ms)
                .and_then(|rank| rank.position(now_ms))
            {
                best.offer(Place::record(group, time, key), meta.size);
            }
        }
        best.into_keys()
    }

    /// Sets the callback for adapter errors in background writes and deletes.
    pub fn on_adapter_error(&self, hook: ErrorHook) {
        *self.on_adapter_error.borrow_mut() = Some(hook);
    }

    /// Calls the adapter in the background, reporting a failure to the error hook.
    fn call_in_background(&self, adapter: JsValue, method: &'static str, args: Vec<JsValue>) {
        let hook = self.on_adapter_error.borrow().clone();
        crate::platform::spawn(async move {
            if let Err(e) = call_adapter(&adapter, method, &args).await {
                if let Some(hook) = hook {
                    hook(&e);
                }
            }
        });
    }

    /// Opens `localStorage` or `sessionStorage`, probing that it really works (Safari private
    /// mode and sandboxed frames throw on access or on write). `Err` carries the reason.
    pub fn open_web(which: &str) -> Result<web_sys::Storage, String> {
        let name = if which == "session" {
            "sessionStorage"
        } else {
            "localStorage"
        };
        let value = js_sys::Reflect::get(&global(), &JsValue::from_str(name))
            .map_err(|e| format!("{name} is not accessible: {}", describe(&e)))?;
        let storage: web_sys::Storage = value
            .dyn_into()
            .map_err(|_| format!("{name} is not available here"))?;
        let probe = "sendonce:probe";
        match storage.set_item(probe, "1") {
            Ok(()) => {
                let _ = storage.remove_item(probe);
            }
            // Full, not broken (another library filled it): writes make room for themselves
            // by evicting our own finished records, and report when they cannot.
            Err(e) if get(&e, "name").as_string().as_deref() == Some("QuotaExceededError") => {}
            Err(e) => return Err(format!("{name} refused a write: {}", describe(&e))),
        }
        Ok(storage)
    }

    /// True when a write survives a reload: web storage or an adapter, not memory (chosen, or
    /// fallen back to because storage refused a write).
    pub fn is_durable(&self) -> bool {
        !matches!(*self.backend.borrow(), Backend::Memory)
    }

    /// True when records go to a caller's adapter.
    pub fn is_adapter(&self) -> bool {
        matches!(*self.backend.borrow(), Backend::Adapter(_))
    }

    fn adapter(&self) -> Option<JsValue> {
        match &*self.backend.borrow() {
            Backend::Adapter(a) => Some(a.clone()),
            _ => None,
        }
    }

    /// True when the adapter has `claim()` and `release()`: runs and sends can be made
    /// exclusive across processes.
    pub fn can_claim(&self) -> bool {
        self.adapter()
            .is_some_and(|a| get(&a, "claim").is_function() && get(&a, "release").is_function())
    }

    /// Creates `key` = `value` with a time to live, only when it is absent: `Ok(true)` when this
    /// caller created it. `Err` when the adapter cannot claim, throws, rejects or does not
    /// answer in time (nothing was claimed as far as sendonce knows).
    pub async fn claim(&self, key: &str, value: &str, ttl_ms: u64) -> Result<bool, String> {
        let adapter = self
            .adapter()
            .ok_or_else(|| "this storage has no claim()".to_string())?;
        let args = [
            JsValue::from_str(key),
            JsValue::from_str(value),
            JsValue::from_f64(ttl_ms as f64),
        ];
        let v = call_adapter(&adapter, "claim", &args).await?;
        match v.as_bool() {
            Some(b) => Ok(b),
            // "OK" / 1 from a client passed through as is count as created.
            None => Ok(v.as_string().is_some_and(|s| s == "OK") || v.as_f64() == Some(1.0)),
        }
    }

    /// Extends `key` = `token` by `ttl_ms` if the store still holds that token: `Ok(true)` when
    /// it did. With the adapter's `renew(key, value, ttlMs)` when it has one, else by writing
    /// the token again after checking that it is still there (not atomic; `sendonce/redis` has
    /// `renew`).
    pub async fn renew(&self, key: &str, token: &str, ttl_ms: u64) -> Result<bool, String> {
        let adapter = self
            .adapter()
            .ok_or_else(|| "this storage has no adapter".to_string())?;
        let args = [
            JsValue::from_str(key),
            JsValue::from_str(token),
            JsValue::from_f64(ttl_ms as f64),
        ];
        if get(&adapter, "renew").is_function() {
            return call_adapter(&adapter, "renew", &args)
                .await
                .map(|v| v.as_bool().unwrap_or(true));
        }
        match call_adapter(&adapter, "get", &args[..1]).await? {
            v if v.as_string().as_deref() == Some(token) => {
                call_adapter(&adapter, "set", &args).await.map(|_| true)
            }
            _ => Ok(false),
        }
    }

    /// Deletes `key` if it still holds `token` (the adapter's compare-and-delete `release`).
    pub async fn release(&self, key: &str, token: &str) -> Result<(), String> {
        let adapter = self
            .adapter()
            .ok_or_else(|| "this storage has no adapter".to_string())?;
        let args = [JsValue::from_str(key), JsValue::from_str(token)];
        call_adapter(&adapter, "release", &args).await.map(|_| ())
    }

    /// Reads a value. Web storage is read directly (another tab may have written it).
    pub fn get(&self, key: &str) -> Option<String> {
        if let Backend::Web(s) = &*self.backend.borrow() {
            if let Ok(v) = s.get_item(key) {
                return v;
            }
        }
        self.memory.borrow().get(key)
    }

    /// Writes to this process's memory only (an adapter's mirror): what a later synchronous
    /// read here should find, without telling the adapter.
    pub fn remember(&self, key: &str, value: &str) {
        self.set_in_memory(key, value, None);
    }

    /// Drops `key` from this process's memory only (an adapter's mirror), without telling the
    /// adapter.
    pub fn forget(&self, key: &str) {
        self.memory.borrow_mut().remove(key);
    }

    /// Reads through the adapter (awaiting its Promise), refreshing the mirror. For other
    /// backends the same as [`Store::get`].
    pub async fn get_async(&self, key: &str) -> Result<Option<String>, String> {
        let adapter = match &*self.backend.borrow() {
            Backend::Adapter(a) => a.clone(),
            _ => return Ok(self.get(key)),
        };
        let v = call_adapter(&adapter, "get", &[JsValue::from_str(key)]).await?;
        let v = if v.is_null() || v.is_undefined() {
            None
        } else if let Some(s) = v.as_string() {
            Some(s)
        } else {
            // An adapter that parsed our JSON for us: write it back as text.
            js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string())
        };
        match &v {
            Some(s) => self.set_in_memory(key, s, None),
            None => self.memory.borrow_mut().remove(key),
        };
        Ok(v)
    }

    /// Writes through the adapter and waits for it (awaiting its Promise), so that another
    /// instance sharing the adapter reads the value right after. For other backends the same
    /// as [`Store::set`].
    pub async fn set_async(&self, key: &str, value: &str, ttl_ms: u64) -> Result<(), String> {
        self.set_record_async(key, value, ttl_ms, None).await
    }

    /// [`Store::set_async`] for a record whose eviction rank the writer knows (`None`: worked
    /// out from the text when a pass needs it).
    pub async fn set_record_async(
        &self,
        key: &str,
        value: &str,
        ttl_ms: u64,
        rank: Option<EvictionRank>,
    ) -> Result<(), String> {
        let adapter = match &*self.backend.borrow() {
            Backend::Adapter(a) => a.clone(),
            _ => JsValue::UNDEFINED,
        };
        if adapter.is_undefined() {
            self.set_record(key, value, ttl_ms, rank);
            return Ok(());
        }
        self.set_in_memory(key, value, rank);
        let args = [
            JsValue::from_str(key),
            JsValue::from_str(value),
            JsValue::from_f64(ttl_ms as f64),
        ];
        call_adapter(&adapter, "set", &args).await.map(|_| ())
    }

    /// Writes a value. The evictor ([`Store::set_evictor`]) is asked for storage keys to
    /// remove, in order, when the backend is full; if it is still full, the store falls back
    /// to memory.
    pub fn set(&self, key: &str, value: &str, ttl_ms: u64) -> WriteResult {
        self.set_record(key, value, ttl_ms, None)
    }

    /// [`Store::set`] for a record whose eviction rank the writer knows: kept with it, so that
    /// an eviction pass never decodes it (`None`: worked out from the text when needed).
    pub fn set_record(
        &self,
        key: &str,
        value: &str,
        ttl_ms: u64,
        rank: Option<EvictionRank>,
    ) -> WriteResult {
        let adapter = match &*self.backend.borrow() {
            Backend::Adapter(a) => Some(a.clone()),
            _ => None,
        };
        if let Some(a) = adapter {
            // The mirror is bounded like the memory store: without it, a bot process kept
            // every record it ever wrote (0.9 KB per finished action, for ever). What it drops
            // stays in the adapter, which a read goes back to.
            self.set_in_memory(key, value, rank);
            let args = vec![
                JsValue::from_str(key),
                JsValue::from_str(value),
                JsValue::from_f64(ttl_ms as f64),
            ];
            self.call_in_background(a, "set", args);
            return WriteResult::Stored;
        }
        let web = match &*self.backend.borrow() {
            Backend::Web(s) => Some(s.clone()),
            Backend::Memory | Backend::Adapter(_) => None,
        };
        let Some(storage) = web else {
            self.set_in_memory(key, value, rank);
            return WriteResult::Stored;
        };
        let first = match storage.set_item(key, value) {
            Ok(()) => return WriteResult::Stored,
            Err(e) => describe(&e),
        };
        // Full (QuotaExceededError) or refused: evict what the core allows, then try again.
        // Listing the victims already removes expired and corrupt records: try once before
        // removing any live one.
        let victims = self.victims();
        if storage.set_item(key, value).is_ok() {
            return WriteResult::Stored;
        }
        for victim in victims {
            let _ = storage.remove_item(&victim);
            if storage.set_item(key, value).is_ok() {
                return WriteResult::Stored;
            }
        }
        // Still refused: move everything of ours to memory and carry on there.
        self.fall_back_to_memory(&storage);
        self.memory.borrow_mut().insert(key, value, None);
        WriteResult::FellBack(first)
    }

    /// The quota of the in-memory map: localStorage's for the memory store, a smaller one for
    /// an adapter's mirror (the adapter holds everything).
    fn memory_quota(&self) -> usize {
        if self.is_adapter() {
            record::MIRROR_QUOTA
        } else {
            record::MEMORY_QUOTA
        }
    }

    /// A write to the in-memory map (the memory backend, or an adapter's mirror), under a
    /// quota ([`record::MEMORY_QUOTA`] like localStorage's, counted the way localStorage counts
    /// it; [`record::MIRROR_QUOTA`] for a mirror): a write that would go over it evicts first,
    /// in the evictor's order, exactly as a full localStorage does. Memory is emptied down to
    /// [`record::refill_mark`], not just enough for this write, so that a pass (which goes over
    /// every entry) comes once per eighth of the quota written, not on every write. What is
    /// never listed (unfinished actions, recent drafts, chat messages not delivered) is never
    /// removed: when only those are left, writes go over the quota instead of losing the
    /// user's words, and the next pass waits until another eighth of the quota has been
    /// written. Before, a store full of such records listed and decoded every record on every
    /// write (78-359 ms per `so.action()`).
    fn set_in_memory(&self, key: &str, value: &str, rank: Option<EvictionRank>) {
        let quota = self.memory_quota();
        let mark = record::refill_mark(quota);
        let need = record::stored_size(key, value);
        let over = |limit: usize| {
            let mem = self.memory.borrow();
            mem.used - mem.size(key) + need > limit
        };
        let due = {
            let mut mem = self.memory.borrow_mut();
            mem.written_since_pass = mem.written_since_pass.saturating_add(need);
            !mem.stuck || mem.written_since_pass >= quota - mark
        };
        if due && over(quota) {
            {
                let mut mem = self.memory.borrow_mut();
                mem.to_free = (mem.used - mem.size(key) + need).saturating_sub(mark);
            }
            for victim in self.victims() {
                if !over(mark) {
                    break;
                }
                self.memory.borrow_mut().remove(&victim);
            }
            let stuck = over(mark);
            let mut mem = self.memory.borrow_mut();
            mem.written_since_pass = 0;
            mem.stuck = stuck;
        }
        self.memory.borrow_mut().insert(key, value, rank);
    }

    fn fall_back_to_memory(&self, storage: &web_sys::Storage) {
        let len = storage.length().unwrap_or(0);
        let mut mem = self.memory.borrow_mut();
        for i in 0..len {
            if let Ok(Some(k)) = storage.key(i) {
                if k.starts_with("sendonce") || crate::core::text::contains(&k, ":v1:") {
                    if let Ok(Some(v)) = storage.get_item(&k) {
                        mem.insert(&k, &v, None);
                    }
                }
            }
        }
        drop(mem);
        *self.backend.borrow_mut() = Backend::Memory;
    }

    /// Removes a value.
    pub fn delete(&self, key: &str) {
        self.memory.borrow_mut().remove(key);
        match &*self.backend.borrow() {
            Backend::Web(s) => {
                let _ = s.remove_item(key);
            }
            Backend::Memory => {}
            Backend::Adapter(a) => {
                self.call_in_background(a.clone(), "delete", vec![JsValue::from_str(key)]);
            }
        }
    }

    /// Storage keys that start with `prefix`.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if let Backend::Web(s) = &*self.backend.borrow() {
            let len = s.length().unwrap_or(0);
            for i in 0..len {
                if let Ok(Some(k)) = s.key(i) {
                    if k.starts_with(prefix) {
                        out.push(k);
                    }
                }
            }
        }
        // Only keys found in web storage can be there twice: a memory store of thousands of
        // records is not searched once per key. The memory's keys come in key order.
        let from_web = out.len();
        let keys = self.memory.borrow().keys(prefix);
        let mut mine: Vec<String> = Vec::with_capacity(keys.length() as usize);
        for k in keys.iter() {
            if let Some(k) = k.as_string() {
                if !out[..from_web].contains(&k) {
                    mine.push(k);
                }
            }
        }
        crate::core::order::sort_by(&mut mine, |a, b| a.cmp(b));
        out.extend(mine);
        out
    }

    /// Loads an adapter's records under `prefix` into the mirror (when it has `keys`).
    pub async fn load_adapter(&self, prefix: &str) -> Result<(), String> {
        let adapter = match &*self.backend.borrow() {
            Backend::Adapter(a) => a.clone(),
            _ => return Ok(()),
        };
        if get(&adapter, "keys").dyn_ref::<Function>().is_none() {
            return Ok(());
        }
        let keys = call_adapter(&adapter, "keys", &[JsValue::from_str(prefix)]).await?;
        let Some(iter) = js_sys::try_iter(&keys).ok().flatten() else {
            return Err("keys() did not return a list".into());
        };
        for k in iter.flatten() {
            if let Some(k) = k.as_string() {
                self.get_async(&k).await?;
            }
        }
        Ok(())
    }
}

// The in-memory map's values live in JS (`js/platform.js`): kept in the wasm memory, which
// never shrinks, a full memory store held its high-water mark for good (21.6 MiB after 100,000
// actions, 13.6 MiB of it from the first eviction pass). Next to each value the map keeps a
// short text written here and handed back unread ([`Meta`]).
#[wasm_bindgen(module = "/js/platform.js")]
extern "C" {
    #[wasm_bindgen(js_name = memoryStore)]
    fn js_memory_store() -> JsValue;
    #[wasm_bindgen(js_name = memoryGet)]
    fn js_memory_get(store: &JsValue, key: &str) -> Option<String>;
    /// Returns the meta of the value replaced.
    #[wasm_bindgen(js_name = memorySet)]
    fn js_memory_set(store: &JsValue, key: &str, value: &str, meta: &str) -> Option<String>;
    /// Returns the meta of the value removed.
    #[wasm_bindgen(js_name = memoryRemove)]
    fn js_memory_remove(store: &JsValue, key: &str) -> Option<String>;
    #[wasm_bindgen(js_name = memoryMeta)]
    fn js_memory_meta(store: &JsValue, key: &str) -> Option<String>;
    #[wasm_bindgen(js_name = memorySetMeta)]
    fn js_memory_set_meta(store: &JsValue, key: &str, meta: &str);
    #[wasm_bindgen(js_name = memoryKeys)]
    fn js_memory_keys(store: &JsValue, prefix: &str) -> js_sys::Array;
}

/// The in-memory map (its values in JS), with the size of what it holds counted as
/// localStorage counts it.
struct Memory {
    /// The JS side's map.
    store: JsValue,
    /// The sum of [`record::stored_size`] over every entry.
    used: usize,
    /// What was written since the last eviction pass (in [`record::stored_size`] units).
    written_since_pass: usize,
    /// The last pass could not get under the refill mark (only protected entries were left).
    stuck: bool,
    /// What the pass under way must free to reach the refill mark, the write that asked for
    /// it included.
    to_free: usize,
}

/// What the map keeps next to a value: its [`record::stored_size`] and, once worked out, its
/// place in the eviction order (`None`: not worked out yet, or not a record). Stored as text:
/// the size, then the rank's four numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meta {
    size: usize,
    rank: Option<EvictionRank>,
}

impl Meta {
    fn text(&self) -> String {
        match self.rank {
            None => self.size.to_string(),
            Some(r) => format!(
                "{} {} {} {} {}",
                self.size, r.protected_until, r.expires_at, r.group, r.time
            ),
        }
    }

    fn parse(text: &str) -> Option<Meta> {
        let mut parts = text.split(' ');
        let size = parts.next()?.parse().ok()?;
        let mut number = || parts.next().and_then(|p| p.parse::<u64>().ok());
        let rank = match number() {
            None => None,
            Some(protected_until) => Some(EvictionRank {
                protected_until,
                expires_at: number()?,
                group: u8::try_from(number()?).ok()?,
                time: number()?,
            }),
        };
        Some(Meta { size, rank })
    }
}

impl Memory {
    fn new() -> Self {
        Memory {
            store: js_memory_store(),
            used: 0,
            written_since_pass: 0,
            stuck: false,
            to_free: 0,
        }
    }

    fn get(&self, key: &str) -> Option<String> {
        js_memory_get(&self.store, key)
    }

    fn meta(&self, key: &str) -> Option<Meta> {
        js_memory_meta(&self.store, key).and_then(|t| Meta::parse(&t))
    }

    /// The stored size of `key`'s entry, 0 when there is none.
    fn size(&self, key: &str) -> usize {
        self.meta(key).map_or(0, |m| m.size)
    }

    /// The eviction rank of the record under `key` (`None`: not stored), worked out from its
    /// text the first time it is asked for and kept with it.
    fn rank(&self, key: &str, now_ms: u64) -> Option<EvictionRank> {
        let meta = self.meta(key)?;
        if let Some(rank) = meta.rank {
            return Some(rank);
        }
        let rank = EvictionRank::of_text(&self.get(key)?, now_ms);
        let known = Meta {
            rank: Some(rank),
            ..meta
        };
        js_memory_set_meta(&self.store, key, &known.text());
        Some(rank)
    }

    fn insert(&mut self, key: &str, value: &str, rank: Option<EvictionRank>) {
        // The same text read back (an adapter's mirror refreshed): its rank still holds.
        let rank = rank.or_else(|| {
            (self.get(key).as_deref() == Some(value))
                .then(|| self.meta(key).and_then(|m| m.rank))
                .flatten()
        });
        let size = record::stored_size(key, value);
        let meta = Meta { size, rank };
        let old = js_memory_set(&self.store, key, value, &meta.text());
        self.used += size;
        self.used -= old.and_then(|t| Meta::parse(&t)).map_or(0, |m| m.size);
    }

    fn remove(&mut self, key: &str) {
        if let Some(old) = js_memory_remove(&self.store, key) {
            self.used -= Meta::parse(&old).map_or(0, |m| m.size);
        }
    }

    /// The keys that start with `prefix` (the array stays in JS).
    fn keys(&self, prefix: &str) -> js_sys::Array {
        js_memory_keys(&self.store, prefix)
    }
}

/// Calls `adapter[method](...args)` and awaits the result if it is a Promise, for at most
/// [`ADAPTER_TIMEOUT_MS`]: an adapter that never answers is an error, not a hang.
async fn call_adapter(
    adapter: &JsValue,
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, String> {
    let f: Function = get(adapter, method)
        .dyn_into()
        .map_err(|_| format!("the storage adapter has no {method}() method"))?;
    let args: Vec<&JsValue> = args.iter().collect();
    let v = super::invoke(&f, adapter, &args)
        .map_err(|e| format!("storage adapter {method}() threw: {}", describe(&e)))?;
    match super::settle_within(v, Some(ADAPTER_TIMEOUT_MS)).await {
        super::Settled::Value(r) => Ok(r),
        super::Settled::TimedOut => Err(format!(
            "storage adapter {method}() did not answer within {ADAPTER_TIMEOUT_MS} ms"
        )),
        super::Settled::Rejected(e) => Err(format!(
            "storage adapter {method}() rejected: {}",
            describe(&e)
        )),
    }
}

/// A short description of a thrown JS value (its `name: message`, or its string form).
pub fn describe(e: &JsValue) -> String {
    let name = get(e, "name").as_string();
    let msg = get(e, "message").as_string();
    match (name, msg) {
        (Some(n), Some(m)) => format!("{n}: {m}"),
        (None, Some(m)) => m,
        _ => e.as_string().unwrap_or_else(|| "unknown error".into()),
    }
}
