//! The callback lists behind `onStatus`, `onReply` and `onChange`: subscribing returns the
//! function that unsubscribes, and a callback that throws never stops sendonce.

use crate::platform::invoke;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[derive(Default)]
struct List {
    callbacks: RefCell<Vec<(u32, Function)>>,
    last_id: Cell<u32>,
}

/// A list of JS callbacks.
#[derive(Default)]
pub(crate) struct Listeners(Rc<List>);

impl Listeners {
    /// Adds `callback`; returns a JS function that removes it again.
    pub fn subscribe(&self, callback: Function) -> Function {
        let id = self.0.last_id.get().wrapping_add(1);
        self.0.last_id.set(id);
        self.0.callbacks.borrow_mut().push((id, callback));
        let list = Rc::downgrade(&self.0);
        Closure::once_into_js(move || {
            if let Some(list) = list.upgrade() {
                list.callbacks.borrow_mut().retain(|(i, _)| *i != id);
            }
        })
        .unchecked_into()
    }

    /// Removes every callback (`dispose()`).
    pub fn clear(&self) {
        self.0.callbacks.borrow_mut().clear();
    }

    /// Calls every callback with `value`. The list is copied first, so a callback may
    /// subscribe or unsubscribe while it runs; what a callback throws is ignored.
    pub fn call(&self, value: &JsValue) {
        let callbacks: Vec<Function> = self
            .0
            .callbacks
            .borrow()
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        for f in callbacks {
            let _ = invoke(&f, &JsValue::NULL, &[value]);
        }
    }
}
