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
    let action = so
        .action(name, payload.clone(), JsValue::UNDEFINED)
        .unwrap();
    let reply = JsFuture::from(action.send("/api/orders", JsValue::UNDEFINED))
        .await
        .unwrap();
    (reply, action.key())
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
    let so = Sendonce::new(options("web-t1", &fakeFetch(201, &calls))).unwrap();
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
    let so = Sendonce::new(options("web-t2", &fakeFetch(201, &calls))).unwrap();
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
    let e = match Sendonce::new(o.into()) {
        Ok(_) => panic!("an unknown key format must be refused"),
        Err(e) => e,
    };
    assert_eq!(get(&e, "name").as_string().unwrap(), "SendonceError");
    assert_eq!(get(&e, "code").as_string().unwrap(), "invalid_option");
}
