//! Thin DOM helpers over `Reflect` (no web-sys element types needed): finding elements, reading
//! and writing form controls, attributes, text and listeners. Every call tolerates odd values
//! (a missing method gives `None` or does nothing); nothing here panics.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::{get, global, set};
use crate::core::fingerprint::FormValue;
use crate::core::form::FieldInfo;
use crate::core::json::{self, Value};

/// Calls `obj.method(...args)`; `Err` when it is not a function or throws.
pub fn call(obj: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f = get(obj, method)
        .dyn_into::<Function>()
        .map_err(|_| JsValue::from_str(&format!("{method} is not a function")))?;
    super::invoke(&f, obj, &args.iter().collect::<Vec<_>>())
}

// The DOM methods the drivers call on every click, submit and status: each one call into JS
// (`obj.method(...)`, looked up on the object as `call` does), where `call` crossed the
// boundary five or more times (the lookup, the type check, the argument array, the apply).
// `catch`: a missing method or one that throws is an `Err`, never an exception through wasm.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// Any object whose methods are called by name.
    type Node;
    #[wasm_bindgen(method, catch, js_name = getAttribute)]
    fn get_attribute(this: &Node, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = setAttribute)]
    fn set_attribute(this: &Node, name: &str, value: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = hasAttribute)]
    fn has_attribute(this: &Node, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeAttribute)]
    fn remove_attribute(this: &Node, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = addEventListener)]
    fn add_event_listener(this: &Node, name: &str, f: &Function) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeEventListener)]
    fn remove_event_listener(this: &Node, name: &str, f: &Function) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = preventDefault)]
    fn prevent_default_(this: &Node) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn deref(this: &Node) -> Result<JsValue, JsValue>;
}

fn node(v: &JsValue) -> &Node {
    v.unchecked_ref()
}

/// `event.preventDefault()`, ignoring failures.
pub fn prevent_default(event: &JsValue) {
    let _ = node(event).prevent_default_();
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
    node(el)
        .get_attribute(name)
        .ok()
        .and_then(|v| v.as_string())
}

/// `el.setAttribute(name, value)`, ignoring failures.
pub fn set_attr(el: &JsValue, name: &str, value: &str) {
    let _ = node(el).set_attribute(name, value);
}

/// `el.removeAttribute(name)`, ignoring failures.
pub fn remove_attr(el: &JsValue, name: &str) {
    let _ = node(el).remove_attribute(name);
}

/// True when `el` carries the attribute `name` (with any value, or none).
pub fn has_attr(el: &JsValue, name: &str) -> bool {
    node(el).has_attribute(name).ok().and_then(|v| v.as_bool()) == Some(true)
}

/// Sets or removes the `disabled` attribute (a form control's own, which the browser honours
/// before any script has run: a disabled default button also stops Enter in a field from
/// submitting the form).
pub fn set_disabled(el: &JsValue, disabled: bool) {
    if disabled {
        set_attr(el, "disabled", "");
    } else {
        remove_attr(el, "disabled");
    }
}

/// Sets `textContent` (never `innerHTML`: status texts are never parsed as HTML).
pub fn set_text(el: &JsValue, text: &str) {
    set(el, "textContent", &JsValue::from_str(text));
}

/// `target.addEventListener(name, f)`.
pub fn listen(target: &JsValue, name: &str, f: &Function) {
    let _ = node(target).add_event_listener(name, f);
}

/// `target.removeEventListener(name, f)`.
pub fn unlisten(target: &JsValue, name: &str, f: &Function) {
    let _ = node(target).remove_event_listener(name, f);
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

/// Controls that never carry a value of their own.
fn is_valueless(kind: &str) -> bool {
    matches!(
        kind,
        "submit" | "button" | "reset" | "image" | "fieldset" | "output" | "object"
    )
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/platform.js")]
extern "C" {
    /// What is read of a form's controls (`whole`) or of one control, as JSON text; see
    /// `readControls` in `js/platform.js`. It never throws.
    #[wasm_bindgen(js_name = readControls)]
    fn js_read_controls(target: &JsValue, whole: bool) -> String;
}

/// One control as [`read_controls`] reads it: the facts, before any rule is applied.
#[derive(Debug, Default)]
pub struct Control {
    /// What decides whether it is private.
    pub info: FieldInfo,
    disabled: bool,
    checked: bool,
    value: String,
    /// Its options (a select): value, selected, disabled.
    options: Vec<(String, bool, bool)>,
    /// Its files (a file input), by metadata.
    files: Vec<FormValue>,
}

/// The controls of `form` in DOM order (`form.elements`; `whole` false: `target` itself), each
/// read once: one call into JS for the whole form, where reading property by property from
/// here crossed the boundary for every one (about half of a click's own time).
pub fn read_controls(target: &JsValue, whole: bool) -> Vec<Control> {
    let Ok(Value::Array(list)) = json::parse(&js_read_controls(target, whole)) else {
        return Vec::new();
    };
    list.into_iter().map(control).collect()
}

/// The items of a JSON array (nothing for anything else).
fn cells(v: Value) -> std::vec::IntoIter<Value> {
    match v {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
    .into_iter()
}

/// The next cell as a string ("" for anything else).
fn text(cells: &mut std::vec::IntoIter<Value>) -> String {
    match cells.next() {
        Some(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The next cell as a flag (false for anything but `true`).
fn flag(cells: &mut std::vec::IntoIter<Value>) -> bool {
    matches!(cells.next(), Some(Value::Bool(true)))
}

/// The next cell as a size or time (0 for anything but a number; negative numbers are 0).
fn whole_number(cells: &mut std::vec::IntoIter<Value>) -> u64 {
    match cells.next() {
        Some(Value::Number(n)) => n.max(0.0) as u64,
        _ => 0,
    }
}

/// One control's row of `readControls`.
fn control(row: Value) -> Control {
    let mut c = cells(row);
    let info = FieldInfo {
        name: text(&mut c),
        kind: text(&mut c).to_ascii_lowercase(),
        autocomplete: text(&mut c),
        marked_private: flag(&mut c),
    };
    let disabled = flag(&mut c);
    let checked = flag(&mut c);
    let value = text(&mut c);
    let options = cells(c.next().unwrap_or(Value::Null))
        .map(|o| {
            let mut o = cells(o);
            (text(&mut o), flag(&mut o), flag(&mut o))
        })
        .collect();
    let files = cells(c.next().unwrap_or(Value::Null))
        .map(|f| {
            let mut f = cells(f);
            FormValue::File {
                name: text(&mut f),
                mime: text(&mut f),
                size: whole_number(&mut f),
                last_modified: whole_number(&mut f),
            }
        })
        .collect();
    Control {
        info,
        disabled,
        checked,
        value,
        options,
        files,
    }
}

impl Control {
    /// The values it contributes, the way `FormData` reads them: nothing for disabled,
    /// nameless or unchecked controls and buttons; every selected option of a select that is
    /// not disabled; file metadata (never bytes) for a file input.
    pub fn values(&self) -> Vec<FormValue> {
        let info = &self.info;
        if info.name.is_empty() || is_valueless(&info.kind) || self.disabled {
            return Vec::new();
        }
        match info.kind.as_str() {
            "checkbox" | "radio" => {
                if self.checked {
                    vec![FormValue::Text(self.value.clone())]
                } else {
                    Vec::new()
                }
            }
            "select-one" | "select-multiple" => self
                .options
                .iter()
                .filter(|(_, selected, disabled)| *selected && !*disabled)
                .map(|(v, _, _)| FormValue::Text(v.clone()))
                .collect(),
            "file" => self.files.clone(),
            _ => vec![FormValue::Text(self.value.clone())],
        }
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
pub struct WeakEl {
    target: JsValue,
    /// `target` is a `WeakRef` (else the object itself).
    weak: bool,
}

impl WeakEl {
    /// A weak reference to `target`.
    pub fn new(target: &JsValue) -> WeakEl {
        let ctor = get(&global(), "WeakRef");
        let weak = ctor
            .dyn_ref::<Function>()
            .and_then(|c| Reflect::construct(c, &Array::of1(target)).ok());
        match weak {
            Some(w) => WeakEl {
                target: w,
                weak: true,
            },
            None => WeakEl {
                target: target.clone(),
                weak: false,
            },
        }
    }

    /// The object, while it is alive.
    pub fn get(&self) -> Option<JsValue> {
        let v = if self.weak {
            node(&self.target).deref().ok()?
        } else {
            self.target.clone()
        };
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
