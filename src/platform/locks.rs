//! Web Locks (`navigator.locks`): one tab at a time sends a key. Where there are no Web Locks
//! (Node, old browsers), [`available`] is false and callers send without a lock.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::{get, global, js_lock, js_lock_names, wait};

/// A held lock, released when dropped (RAII, like gloo's `Timeout`).
#[must_use = "the lock is released when this is dropped"]
pub struct LockGuard {
    release: Function,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = super::invoke(&self.release, &JsValue::NULL, &[]);
    }
}

/// How long a tab that waited for another tab's lock keeps looking for that tab's result in
/// storage before acting itself: localStorage changes reach other tabs through the browser
/// process, not in step with the lock's release (seen in Chromium under load).
pub const SETTLE_MS: u64 = 1000;

/// Takes the lock `name`: at once when it is free, else calls `on_wait` and waits for it.
/// Returns the guard (`None` without Web Locks) and whether another holder was waited for.
pub async fn acquire_or_wait(name: &str, on_wait: impl FnOnce()) -> (Option<LockGuard>, bool) {
    match acquire(name, true).await {
        Some(g) => (Some(g), false),
        None => {
            on_wait();
            (acquire(name, false).await, true)
        }
    }
}

/// True when `navigator.locks.request` exists.
pub fn available() -> bool {
    get(&get(&get(&global(), "navigator"), "locks"), "request").is_function()
}

/// Requests the lock `name`. With `if_available`, resolves at once with `None` when another
/// tab (or this one) holds it; without, waits for it. `None` too when locks are missing or the
/// request fails.
pub async fn acquire(name: &str, if_available: bool) -> Option<LockGuard> {
    let release = wait(js_lock(name, if_available)).await;
    let release = release.dyn_into::<Function>().ok()?;
    Some(LockGuard { release })
}

/// The names of the locks held or requested (by any tab of this origin) that start with
/// `prefix`, from `navigator.locks.query()`. Empty without Web Locks or when the query fails.
pub async fn held_names(prefix: &str) -> Vec<String> {
    let names = wait(js_lock_names(prefix)).await;
    if !js_sys::Array::is_array(&names) {
        return Vec::new();
    }
    js_sys::Array::from(&names)
        .iter()
        .filter_map(|n| n.as_string())
        .collect()
}
