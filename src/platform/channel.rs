//! `BroadcastChannel`: tells the other tabs of this origin, at once, how an action ended. A tab
//! waiting for another tab's Web Lock adopts the result from the message, without waiting for
//! the record to reach its own storage (or when the tabs share no storage at all, as with
//! `sessionStorage` or memory and an explicit key).

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;

use super::{dom, get, global, set};

/// An open channel; closed when dropped.
pub struct Channel {
    channel: JsValue,
    // Kept alive for as long as the channel: the `onmessage` handler.
    _on_message: Closure<dyn FnMut(JsValue)>,
}

impl Channel {
    /// Opens the channel `name` and calls `on_message` with the text of every message another
    /// context posts on it. `None` where there is no `BroadcastChannel` or it cannot be made.
    pub fn open(name: &str, mut on_message: impl FnMut(String) + 'static) -> Option<Channel> {
        let ctor = get(&global(), "BroadcastChannel")
            .dyn_into::<Function>()
            .ok()?;
        let channel = Reflect::construct(&ctor, &Array::of1(&JsValue::from_str(name))).ok()?;
        let handler = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let Some(text) = get(&event, "data").as_string() {
                on_message(text);
            }
        });
        set(&channel, "onmessage", handler.as_ref().unchecked_ref());
        // Node: an open channel must not keep the process alive.
        let _ = dom::call(&channel, "unref", &[]);
        Some(Channel {
            channel,
            _on_message: handler,
        })
    }

    /// Posts `text` to the other contexts on this channel (not to this one).
    pub fn post(&self, text: &str) {
        let _ = dom::call(&self.channel, "postMessage", &[JsValue::from_str(text)]);
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        set(&self.channel, "onmessage", &JsValue::NULL);
        let _ = dom::call(&self.channel, "close", &[]);
    }
}
