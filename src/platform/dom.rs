//! Thin DOM helpers over `Reflect` (no web-sys element types needed): finding elements, reading
//! and writing form controls, attributes, text and listeners. Every call tolerates odd values
//! (a missing method gives `None` or does nothing); nothing here panics.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::{get, global, set};
use crate::core::fingerprint::FormValue;
use crate::core::form::FieldInfo;

/// Calls `obj.method(...args)`; `Err` when it is not a function or throws.
pub fn call(obj: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f = get(obj, method)
        .dyn_into::<Function>()
        .map_err(|_| JsValue::from_str(&format!("{method} is not a function")))?;
    Reflect::apply(&f, obj, &args.iter().collect::<Array>())
}

/// `document`, if there is one.
pub fn document() -> Option<JsValue> {
    let d = get(&global(), "document");
    d.is_object().then_some(d)
}

/// True when `v` is a DOM element (has `tagName` and `setAttribute`).
pub fn is_element(v: &JsValue) -> bool {
    v.is_object() && get(v, "tagName").is_string() && get(v, "setAttribute").is_function()
}

/// An element given as an element or a CSS selector (looked up in `document`). `None` when
/// the selector matches nothing, is invalid, or the value is neither.
pub fn element(v: &JsValue) -> Option<JsValue> {
    if is_element(v) {
        return Some(v.clone());
    }
    let sel = v.as_string()?;
    let found = call(&document()?, "querySelector", &[JsValue::from_str(&sel)]).ok()?;
    is_element(&found).then_some(found)
}

/// `el.getAttribute(name)`.
pub fn attr(el: &JsValue, name: &str) -> Option<String> {
    call(el, "getAttribute", &[JsValue::from_str(name)])
        .ok()
        .and_then(|v| v.as_string())
}

/// `el.setAttribute(name, value)`, ignoring failures.
pub fn set_attr(el: &JsValue, name: &str, value: &str) {
    let _ = call(
        el,
        "setAttribute",
        &[JsValue::from_str(name), JsValue::from_str(value)],
    );
}

/// `el.removeAttribute(name)`, ignoring failures.
pub fn remove_attr(el: &JsValue, name: &str) {
    let _ = call(el, "removeAttribute", &[JsValue::from_str(name)]);
}

/// Sets `textContent` (never `innerHTML`: status texts are never parsed as HTML).
pub fn set_text(el: &JsValue, text: &str) {
    set(el, "textContent", &JsValue::from_str(text));
}

/// `target.addEventListener(name, f)`.
pub fn listen(target: &JsValue, name: &str, f: &Function) {
    let _ = call(
        target,
        "addEventListener",
        &[JsValue::from_str(name), f.into()],
    );
}

/// `target.removeEventListener(name, f)`.
pub fn unlisten(target: &JsValue, name: &str, f: &Function) {
    let _ = call(
        target,
        "removeEventListener",
        &[JsValue::from_str(name), f.into()],
    );
}

/// The form's controls in DOM order (`form.elements`).
pub fn controls(form: &JsValue) -> Vec<JsValue> {
    let els = get(form, "elements");
    let n = get(&els, "length").as_f64().unwrap_or(0.0) as u32;
    (0..n)
        .filter_map(|i| Reflect::get_u32(&els, i).ok())
        .filter(|v| v.is_object())
        .collect()
}

/// What decides whether a control is private: name, type, autocomplete, the private mark.
pub fn field_info(el: &JsValue) -> FieldInfo {
    FieldInfo {
        name: get(el, "name").as_string().unwrap_or_default(),
        kind: get(el, "type")
            .as_string()
            .unwrap_or_default()
            .to_ascii_lowercase(),
        autocomplete: attr(el, "autocomplete").unwrap_or_default(),
        marked_private: call(
            el,
            "hasAttribute",
            &[JsValue::from_str("data-sendonce-private")],
        )
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false),
    }
}

/// Controls that never carry a value of their own.
fn is_valueless(kind: &str) -> bool {
    matches!(
        kind,
        "submit" | "button" | "reset" | "image" | "fieldset" | "output" | "object"
    )
}

/// The values a control contributes, the way `FormData` reads them: nothing for disabled,
/// nameless or unchecked controls and buttons; every selected option of a select; file
/// metadata (never bytes) for a file input.
pub fn control_values(el: &JsValue, info: &FieldInfo) -> Vec<FormValue> {
    if info.name.is_empty() || is_valueless(&info.kind) || get(el, "disabled").is_truthy() {
        return Vec::new();
    }
    let text = |v: &JsValue| FormValue::Text(get(v, "value").as_string().unwrap_or_default());
    match info.kind.as_str() {
        "checkbox" | "radio" => {
            if get(el, "checked").is_truthy() {
                vec![text(el)]
            } else {
                Vec::new()
            }
        }
        "select-one" | "select-multiple" => {
            let opts = get(el, "options");
            let n = get(&opts, "length").as_f64().unwrap_or(0.0) as u32;
            (0..n)
                .filter_map(|i| Reflect::get_u32(&opts, i).ok())
                .filter(|o| get(o, "selected").is_truthy() && !get(o, "disabled").is_truthy())
                .map(|o| text(&o))
                .collect()
        }
        "file" => {
            let files = get(el, "files");
            let n = get(&files, "length").as_f64().unwrap_or(0.0) as u32;
            (0..n)
                .filter_map(|i| Reflect::get_u32(&files, i).ok())
                .map(|f| FormValue::File {
                    name: get(&f, "name").as_string().unwrap_or_default(),
                    mime: get(&f, "type").as_string().unwrap_or_default(),
                    size: get(&f, "size").as_f64().unwrap_or(0.0).max(0.0) as u64,
                    last_modified: get(&f, "lastModified").as_f64().unwrap_or(0.0).max(0.0) as u64,
                })
                .collect()
        }
        _ => vec![text(el)],
    }
}

/// Puts saved values back into a control. `values` are the saved values of its name, and
/// `cursor` counts how many of them earlier controls of the same name already took (repeated
/// text inputs get one value each, in DOM order). Files cannot be restored by a page.
pub fn restore_control(el: &JsValue, info: &FieldInfo, values: &[&str], cursor: &mut usize) {
    if info.name.is_empty() || is_valueless(&info.kind) || info.kind == "file" {
        return;
    }
    match info.kind.as_str() {
        "checkbox" | "radio" => {
            let v = get(el, "value").as_string().unwrap_or_default();
            set(
                el,
                "checked",
                &JsValue::from_bool(values.contains(&v.as_str())),
            );
        }
        "select-one" | "select-multiple" => {
            let opts = get(el, "options");
            let n = get(&opts, "length").as_f64().unwrap_or(0.0) as u32;
            for o in (0..n).filter_map(|i| Reflect::get_u32(&opts, i).ok()) {
                let v = get(&o, "value").as_string().unwrap_or_default();
                set(
                    &o,
                    "selected",
                    &JsValue::from_bool(values.contains(&v.as_str())),
                );
            }
        }
        _ => {
            if let Some(v) = values.get(*cursor) {
                set(el, "value", &JsValue::from_str(v));
                *cursor += 1;
            }
        }
    }
}

/// Guards a button for a send: `aria-disabled="true"` and `aria-busy="true"`, not `disabled`:
/// a disabled button drops the keyboard focus to `<body>` (a screen reader loses its place
/// after Enter or Space), while an `aria-disabled` one keeps it. The guard itself is not the
/// attribute: the binding swallows every click and submit while its action is under way.
pub fn set_busy(button: &JsValue, busy: bool) {
    if busy {
        set_attr(button, "aria-disabled", "true");
        set_attr(button, "aria-busy", "true");
    } else {
        remove_attr(button, "aria-disabled");
        remove_attr(button, "aria-busy");
    }
}

/// A reference to a DOM node (or any JS object) that does not keep it alive: a binding that
/// lives as long as its element (owned by the element's listeners) must not hold the element
/// strongly from wasm memory, or the two keep each other alive for ever. Where `WeakRef` is
/// missing (engines before 2020) it holds the object strongly.
#[derive(Clone)]
pub struct WeakEl(JsValue);

impl WeakEl {
    /// A weak reference to `target`.
    pub fn new(target: &JsValue) -> WeakEl {
        let ctor = get(&global(), "WeakRef");
        let weak = ctor
            .dyn_ref::<Function>()
            .and_then(|c| Reflect::construct(c, &Array::of1(target)).ok());
        match weak {
            Some(w) => WeakEl(w),
            None => WeakEl(Array::of1(target).into()),
        }
    }

    /// The object, while it is alive.
    pub fn get(&self) -> Option<JsValue> {
        let v = if Array::is_array(&self.0) {
            Reflect::get_u32(&self.0, 0).ok()
        } else {
            call(&self.0, "deref", &[]).ok()
        }?;
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }
}

/// True while a button is guarded by [`set_busy`].
pub fn is_busy(button: &JsValue) -> bool {
    attr(button, "aria-disabled").as_deref() == Some("true")
}

/// Creates an element `tag` in `document`.
pub fn create(tag: &str) -> Option<JsValue> {
    call(&document()?, "createElement", &[JsValue::from_str(tag)]).ok()
}

/// A button's visible label: `textContent` of a `<button>`, `value` of an `<input>`.
pub fn label(button: &JsValue) -> Option<String> {
    let prop = label_prop(button);
    get(button, prop).as_string()
}

/// Sets a button's visible label (see [`label`]).
pub fn set_label(button: &JsValue, text: &str) {
    set(button, label_prop(button), &JsValue::from_str(text));
}

fn label_prop(button: &JsValue) -> &'static str {
    if get(button, "tagName").as_string().as_deref() == Some("INPUT") {
        "value"
    } else {
        "textContent"
    }
}

/// `new FormData(form)`: every field of the form as the browser submits it, files included.
pub fn form_data(form: &JsValue) -> Option<JsValue> {
    let ctor = get(&global(), "FormData").dyn_into::<Function>().ok()?;
    Reflect::construct(&ctor, &Array::of1(form)).ok()
}

/// Watches the attributes `names` of `target` and of every element inside it
/// (`MutationObserver`), calling `f` after each batch of changes. Returns the observer (for
/// [`disconnect`]), or `None` where there is no `MutationObserver`.
pub fn observe_attributes(target: &JsValue, names: &[&str], f: &Function) -> Option<JsValue> {
    let ctor = get(&global(), "MutationObserver")
        .dyn_into::<Function>()
        .ok()?;
    let observer = Reflect::construct(&ctor, &Array::of1(f)).ok()?;
    let options = js_sys::Object::new();
    set(&options, "attributes", &JsValue::TRUE);
    set(&options, "subtree", &JsValue::TRUE);
    let filter: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    set(&options, "attributeFilter", &filter);
    call(&observer, "observe", &[target.clone(), options.into()]).ok()?;
    Some(observer)
}

/// Stops a `MutationObserver` made by [`observe_attributes`].
pub fn disconnect(observer: &JsValue) {
    let _ = call(observer, "disconnect", &[]);
}

/// The form's fields as a `multipart/form-data` body with `boundary`, as a `Blob` whose bytes
/// never change: every entry of `new FormData(form)` in order (text parts and the files
/// themselves), written the way the core writes parts (`core::form::multipart_*`). Sent on
/// every attempt, it carries the same bytes each time, where a `FormData` handed to `fetch`
/// gets a new boundary per request. `None` where `FormData` or `Blob` is missing.
pub fn multipart_body(form: &JsValue, boundary: &str) -> Option<JsValue> {
    use crate::core::form::{
        multipart_end, multipart_file_head, multipart_text_part, MULTIPART_PART_END,
    };
    let fd = form_data(form)?;
    let entries = call(&fd, "entries", &[]).ok()?;
    let parts = Array::new();
    for item in js_sys::try_iter(&entries).ok()?? {
        let item = item.ok()?;
        let name = Reflect::get_u32(&item, 0)
            .ok()?
            .as_string()
            .unwrap_or_default();
        let value = Reflect::get_u32(&item, 1).ok()?;
        match value.as_string() {
            Some(text) => {
                parts.push(&JsValue::from_str(&multipart_text_part(
                    boundary, &name, &text,
                )));
            }
            None => {
                let file_name = get(&value, "name").as_string().unwrap_or_default();
                let mime = get(&value, "type").as_string().unwrap_or_default();
                parts.push(&JsValue::from_str(&multipart_file_head(
                    boundary, &name, &file_name, &mime,
                )));
                parts.push(&value);
                parts.push(&JsValue::from_str(MULTIPART_PART_END));
            }
        }
    }
    parts.push(&JsValue::from_str(&multipart_end(boundary)));
    let blob = get(&global(), "Blob").dyn_into::<Function>().ok()?;
    Reflect::construct(&blob, &Array::of1(&parts)).ok()
}
