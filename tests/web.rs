//! Browser tests (wasm-bindgen-test in headless Chromium): the JS surface over real
//! localStorage, with a fake fetch that counts requests.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Reflect};
use sendonce::bindings::Sendonce;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/web_support.js")]
extern "C" {
    /// A fetch that answers `status` and counts calls in `calls.n`.
    fn fakeFetch(status: u16, calls: &Object) -> Function;
    /// localStorage keys that start with `prefix`.
    fn storedKeys(prefix: &str) -> js_sys::Array;
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap()
}

/// Sends `payload` as action `name`; returns (reply, key).
async fn action_send(so: &Sendonce, name: &str, payload: &JsValue) -> (JsValue, String) {
    let action = so.action(name.into(), payload.clone(), None).unwrap();
    let reply = JsFuture::from(action.send_js("/api/orders".into(), None))
        .await
        .unwrap();
    (reply, action.key())
}

/// `new Sendonce(options)` as JS calls it.
fn sendonce(options: JsValue) -> Result<Sendonce, JsValue> {
    Sendonce::new(Some(options.unchecked_into()))
}

fn options(ns: &str, fetch: &Function) -> JsValue {
    let o = Object::new();
    Reflect::set(&o, &"namespace".into(), &ns.into()).unwrap();
    Reflect::set(&o, &"fetch".into(), fetch).unwrap();
    o.into()
}

#[wasm_bindgen_test]
async fn a_sent_action_is_persisted_under_the_namespace_with_its_key() {
    let calls = Object::new();
    let so = sendonce(options("web-t1", &fakeFetch(201, &calls))).unwrap();
    let payload = js_sys::JSON::parse(r#"{"item":"tea","qty":2}"#).unwrap();
    let (reply, key) = action_send(&so, "createOrder", &payload).await;
    assert_eq!(get(&reply, "outcome").as_string().unwrap(), "done");
    assert_eq!(get(&calls, "n").as_f64().unwrap(), 1.0);
    assert_eq!(
        get(&calls, "lastKey").as_string().unwrap(),
        key,
        "the header carries the action's key"
    );
    let stored: Vec<String> = storedKeys("web-t1:")
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    assert!(
        stored.iter().any(|k| k.contains(&key)),
        "the action record is stored: {stored:?}"
    );
}

#[wasm_bindgen_test]
async fn the_same_payload_again_is_answered_locally_without_a_request() {
    let calls = Object::new();
    let so = sendonce(options("web-t2", &fakeFetch(201, &calls))).unwrap();
    let payload = js_sys::JSON::parse(r#"{"item":"tea","qty":2}"#).unwrap();
    let (_, first_key) = action_send(&so, "createOrder", &payload).await;
    let (second, second_key) = action_send(&so, "createOrder", &payload).await;
    assert_eq!(
        get(&calls, "n").as_f64().unwrap(),
        1.0,
        "one request in all"
    );
    assert_eq!(first_key, second_key);
    assert_eq!(
        get(&second, "outcome").as_string().unwrap(),
        "already_received"
    );
}

#[wasm_bindgen_test]
fn bad_options_throw_a_sendonce_error_with_a_code() {
    let o = Object::new();
    Reflect::set(&o, &"keyFormat".into(), &"uuid-v9".into()).unwrap();
    let e = match sendonce(o.into()) {
        Ok(_) => panic!("an unknown key format must be refused"),
        Err(e) => e,
    };
    assert_eq!(get(&e, "name").as_string().unwrap(), "SendonceError");
    assert_eq!(get(&e, "code").as_string().unwrap(), "invalid_option");
}

#[wasm_bindgen(module = "/tests/web_support.js")]
extern "C" {
    fn eventCollector(list: &Object) -> Function;
    fn breakStorageWrites() -> Function;
    fn fillStorage() -> Function;
    fn putRaw(key: &str, value: &str);
    fn getRaw(key: &str) -> Option<String>;
    fn removeRaw(key: &str);
    fn makeForm(id: &str) -> JsValue;
    fn submit(form: &JsValue);
}

fn options_with_events(ns: &str, fetch: &Function, events: &Object) -> JsValue {
    let o = options(ns, fetch);
    Reflect::set(&o, &"onEvent".into(), &eventCollector(events)).unwrap();
    o
}

fn event_types(events: &Object) -> Vec<String> {
    js_sys::Array::from(&get(events, "types"))
        .iter()
        .filter_map(|t| t.as_string())
        .collect()
}

async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

fn form_options() -> JsValue {
    let o = Object::new();
    Reflect::set(&o, &"action".into(), &"createOrder".into()).unwrap();
    Reflect::set(&o, &"url".into(), &"/api/orders".into()).unwrap();
    o.into()
}

fn remove_element(el: &JsValue) {
    let remove: Function = get(el, "remove").into();
    remove.call0(el).unwrap();
}

#[wasm_bindgen_test]
async fn storage_that_throws_falls_back_to_memory_with_an_event_and_the_action_still_sends() {
    let restore = breakStorageWrites();
    let calls = Object::new();
    let events = Object::new();
    let so = sendonce(options_with_events(
        "web-t4",
        &fakeFetch(201, &calls),
        &events,
    ));
    restore.call0(&JsValue::NULL).unwrap();
    let so = so.unwrap();
    assert!(
        event_types(&events).contains(&"storage.fallback".to_string()),
        "{:?}",
        event_types(&events)
    );
    let payload = js_sys::JSON::parse(r#"{"item":"tea"}"#).unwrap();
    let (reply, _) = action_send(&so, "createOrder", &payload).await;
    assert_eq!(get(&reply, "outcome").as_string().unwrap(), "done");
    assert_eq!(get(&calls, "n").as_f64().unwrap(), 1.0);
    // In memory, the repeat is still answered locally.
    let (again, _) = action_send(&so, "createOrder", &payload).await;
    assert_eq!(
        get(&again, "outcome").as_string().unwrap(),
        "already_received"
    );
    assert_eq!(get(&calls, "n").as_f64().unwrap(), 1.0);
    assert!(
        storedKeys("web-t4:").length() == 0,
        "nothing reached localStorage"
    );
}

#[wasm_bindgen_test]
async fn corrupt_and_foreign_records_are_skipped_reported_and_removed() {
    putRaw("web-t5:v1:a:k-garbage", "{not json");
    putRaw("web-t5:v1:a:k-foreign", r#"{"v":99,"t":"action"}"#);
    putRaw("web-t5:v1:d:order", r#"{"v":1,"t":"draft","x":7}"#);
    let calls = Object::new();
    let events = Object::new();
    let so = sendonce(options_with_events(
        "web-t5",
        &fakeFetch(201, &calls),
        &events,
    ))
    .unwrap();
    assert_eq!(so.pending().length(), 0);
    let types = event_types(&events);
    assert!(
        types.iter().filter(|t| *t == "record.corrupt").count() >= 2,
        "{types:?}"
    );
    assert_eq!(getRaw("web-t5:v1:a:k-garbage"), None, "removed");
    // A form whose stored draft is corrupt starts a fresh one instead of crashing.
    let form = makeForm("order");
    let f = so.form(form.clone(), form_options()).unwrap();
    assert!(f.key().is_some());
    assert!(getRaw("web-t5:v1:d:order").is_some_and(|d| d.contains("\"t\":\"draft\"")));
    f.dispose();
    remove_element(&form);
    let payload = js_sys::JSON::parse(r#"{"item":"tea"}"#).unwrap();
    let (reply, _) = action_send(&so, "createOrder", &payload).await;
    assert_eq!(get(&reply, "outcome").as_string().unwrap(), "done");
}

#[wasm_bindgen_test]
async fn with_storage_full_index_entries_of_vanished_actions_make_room() {
    // Index entries (action + fingerprint -> key) left behind by actions that are long gone,
    // then storage filled to the brim by someone else.
    let orphans: Vec<String> = (0..16)
        .map(|i| format!("web-t8:v1:i:createOrder:{i:064}"))
        .collect();
    for k in &orphans {
        putRaw(k, &"k".repeat(200));
    }
    let unfill = fillStorage();
    let calls = Object::new();
    let events = Object::new();
    let so = sendonce(options_with_events(
        "web-t8",
        &fakeFetch(201, &calls),
        &events,
    ))
    .unwrap();
    let payload = js_sys::JSON::parse(r#"{"item":"tea","qty":8}"#).unwrap();
    let (reply, key) = action_send(&so, "createOrder", &payload).await;
    let stored_record = getRaw(&format!("web-t8:v1:a:{key}")).is_some();
    let orphans_left = orphans.iter().filter(|k| getRaw(k).is_some()).count();
    let types = event_types(&events);
    unfill.call0(&JsValue::NULL).unwrap();
    for k in &orphans {
        removeRaw(k);
    }
    assert_eq!(get(&reply, "outcome").as_string().as_deref(), Some("done"));
    assert!(stored_record, "the action record is in localStorage");
    assert!(
        !types.contains(&"storage.fallback".to_string()),
        "no fallback to memory: {types:?}"
    );
    assert!(
        orphans_left < orphans.len(),
        "the orphaned index entries were evicted"
    );
}

#[wasm_bindgen_test]
async fn with_local_storage_full_an_action_still_persists_or_falls_back_and_sends() {
    let unfill = fillStorage();
    let calls = Object::new();
    let events = Object::new();
    let so = sendonce(options_with_events(
        "web-t6",
        &fakeFetch(201, &calls),
        &events,
    ));
    let result = async {
        let so = so.unwrap();
        let payload = js_sys::JSON::parse(r#"{"item":"tea","qty":9}"#).unwrap();
        let (reply, key) = action_send(&so, "createOrder", &payload).await;
        let persisted = storedKeys("web-t6:")
            .iter()
            .filter_map(|k| k.as_string())
            .any(|k| k.contains(&key));
        let fell_back = event_types(&events).contains(&"storage.fallback".to_string());
        (get(&reply, "outcome").as_string(), persisted, fell_back)
    }
    .await;
    unfill.call0(&JsValue::NULL).unwrap();
    assert_eq!(result.0.as_deref(), Some("done"));
    assert!(
        result.1 || result.2,
        "persisted {}, fell back {}",
        result.1,
        result.2
    );
    assert_eq!(get(&calls, "n").as_f64().unwrap(), 1.0);
}

#[wasm_bindgen_test]
async fn a_form_sends_once_and_sends_but_never_stores_private_fields() {
    let calls = Object::new();
    let so = sendonce(options("web-t7", &fakeFetch(201, &calls))).unwrap();
    let form = makeForm("web-t7-form");
    let f = so.form(form.clone(), form_options()).unwrap();
    submit(&form);
    submit(&form);
    // Wait for the outcome, not a fixed time (a loaded machine is slow), then a little more
    // for a second request that should never come.
    for _ in 0..100 {
        if get(&f.status(), "code").as_string().as_deref() == Some("done") {
            break;
        }
        sleep_ms(50).await;
    }
    sleep_ms(100).await;
    assert_eq!(get(&calls, "n").as_f64().unwrap(), 1.0, "one request");
    // Private fields are sent (a login form must send its password), never stored.
    let body = get(&calls, "lastBody").as_string().unwrap();
    assert_eq!(
        body,
        r#"{"item":"tea","qty":"2","pw":"s3cret-pw","card":"4111111111111111","hidden":"private-note"}"#
    );
    assert_eq!(f.status().as_string(), None);
    assert_eq!(get(&f.status(), "code").as_string().unwrap(), "done");
    let all: String = storedKeys("web-t7:")
        .iter()
        .filter_map(|k| k.as_string())
        .filter_map(|k| getRaw(&k))
        .collect();
    for secret in ["s3cret-pw", "4111111111111111", "private-note"] {
        assert!(!all.contains(secret), "{secret} reached storage");
    }
    f.dispose();
    remove_element(&form);
}

#[wasm_bindgen_test]
fn a_form_option_error_is_a_sendonce_error() {
    let so = Sendonce::new(None).unwrap();
    let e = match so.form("#no-such-form".into(), JsValue::UNDEFINED) {
        Ok(_) => panic!("a missing form must be refused"),
        Err(e) => e,
    };
    assert_eq!(get(&e, "name").as_string().unwrap(), "SendonceError");
    assert_eq!(get(&e, "code").as_string().unwrap(), "invalid_option");
}
