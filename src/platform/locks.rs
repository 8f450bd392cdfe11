//! Web Locks (`navigator.locks`): one tab at a time sends a key. Where there are no Web Locks
//! (Node, old browsers), [`available`] is false and callers send without a lock.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{get, global, set};

/// A held lock, released when dropped (RAII, like gloo's `Timeout`).
#[must_use = "the lock is released when this is dropped"]
pub struct LockGuard {
    release: Function,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::NULL);
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
    let locks = get(&get(&global(), "navigator"), "locks");
    let request = get(&locks, "request").dyn_into::<Function>().ok()?;
    // `release` resolves the promise the lock callback returns: the lock is held until then.
    let mut release: Option<Function> = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let release = release?;
    // `granted` resolves with true (lock held) or false (not available).
    let mut granted_resolve: Option<Function> = None;
    let granted = Promise::new(&mut |resolve, _| granted_resolve = Some(resolve));
    let granted_resolve = granted_resolve?;
    let granted_resolve_err = granted_resolve.clone();
    let cb = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let got = !lock.is_null() && !lock.is_undefined();
        let _ = granted_resolve.call1(&JsValue::NULL, &JsValue::from_bool(got));
        if got {
            held.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let opts = Object::new();
    if if_available {
        set(&opts, "ifAvailable", &JsValue::TRUE);
    }
    let pending = request
        .call3(&locks, &JsValue::from_str(name), &opts, &cb)
        .ok()?;
    // A rejected request (a bad name, a document without locks) is "no lock".
    let failed = granted_resolve_err;
    let on_err = Closure::once_into_js(move |_e: JsValue| {
        let _ = failed.call1(&JsValue::NULL, &JsValue::FALSE);
    });
    let _ = super::dom::call(&pending, "catch", &[on_err]);
    let got = JsFuture::from(granted)
        .await
        .ok()?
        .as_bool()
        .unwrap_or(false);
    got.then_some(LockGuard { release })
}

/// The names of the locks held or requested (by any tab of this origin) that start with
/// `prefix`, from `navigator.locks.query()`. Empty without Web Locks or when the query fails.
pub async fn held_names(prefix: &str) -> Vec<String> {
    let locks = get(&get(&global(), "navigator"), "locks");
    let Ok(query) = get(&locks, "query").dyn_into::<Function>() else {
        return Vec::new();
    };
    let Ok(p) = query.call0(&locks) else {
        return Vec::new();
    };
    let Ok(snapshot) = JsFuture::from(Promise::resolve(&p)).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for list in ["held", "pending"] {
        let arr = get(&snapshot, list);
        if !js_sys::Array::is_array(&arr) {
            continue;
        }
        for info in js_sys::Array::from(&arr).iter() {
            if let Some(name) = get(&info, "name").as_string() {
                if name.starts_with(prefix) && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}
