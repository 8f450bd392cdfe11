//! Forms: private fields, the JSON body and the key of a submission.
#![cfg(not(target_arch = "wasm32"))]

use sendonce::core::action::adopt_elsewhere;
use sendonce::core::fingerprint::{fingerprint_form, FormValue};
use sendonce::core::form::*;
use sendonce::core::key::{validate_key, Key};
use sendonce::core::record::ActionRecord;
use sendonce::core::status::StatusCode;
use sendonce::core::window::ActionKind;

fn text(fields: &[(&str, &str)]) -> Vec<(String, FormValue)> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), FormValue::Text(v.to_string())))
        .collect()
}

fn key(s: &str) -> Key {
    validate_key(s).unwrap()
}

fn field(name: &str, kind: &str, autocomplete: &str, marked: bool) -> FieldInfo {
    FieldInfo {
        name: name.into(),
        kind: kind.into(),
        autocomplete: autocomplete.into(),
        marked_private: marked,
    }
}

fn sent(
    k: &Key,
    fields: &[(String, FormValue)],
    status: StatusCode,
    finished: Option<u64>,
) -> ActionRecord {
    ActionRecord {
        key: k.clone(),
        action: "createOrder".into(),
        kind: ActionKind::Form,
        fingerprint: fingerprint_form(fields, &[]),
        request: None,
        status,
        attempts: 1,
        created_at: 1_000,
        finished_at: finished,
        window_ms: 600_000,
        reply: None,
        idempotent: true,
    }
}

#[test]
fn passwords_card_numbers_codes_marked_and_excluded_fields_are_private() {
    let none: Vec<String> = Vec::new();
    assert!(is_private(&field("pw", "password", "", false), &none));
    assert!(is_private(&field("pw", "PASSWORD", "", false), &none));
    assert!(is_private(
        &field("card", "text", "cc-number", false),
        &none
    ));
    assert!(is_private(
        &field("cvc", "text", "section-pay CC-CSC", false),
        &none
    ));
    assert!(is_private(
        &field("otp", "text", "one-time-code", false),
        &none
    ));
    assert!(is_private(&field("x", "text", "", true), &none));
    assert!(is_private(
        &field("captcha", "text", "", false),
        &["captcha".to_string()]
    ));
    assert!(!is_private(&field("email", "email", "email", false), &none));
    assert!(!is_private(&field("name", "text", "cc-name", false), &none));
}

#[test]
fn the_body_has_strings_for_single_values_and_arrays_for_repeated_names_in_dom_order() {
    let mut fields = text(&[
        ("item", "tea"),
        ("extras", "gift"),
        ("qty", "2"),
        ("extras", "express"),
    ]);
    fields.push((
        "photo".into(),
        FormValue::File {
            name: "a.png".into(),
            mime: "image/png".into(),
            size: 3,
            last_modified: 9,
        },
    ));
    assert_eq!(
        form_body(&fields, &[]).to_json(),
        r#"{"item":"tea","extras":["gift","express"],"qty":"2","photo":{"file":"a.png","size":3,"type":"image/png","lastModified":9}}"#
    );
    assert_eq!(form_body(&[], &[]).to_json(), "{}");
}

/// `plan_submission` of these fields, fingerprinted as the form driver does.
fn plan(
    fields: &[(String, FormValue)],
    draft_key: Option<&Key>,
    record_of_that_key: Option<&ActionRecord>,
    indexed: Option<&ActionRecord>,
    now_ms: u64,
) -> Submission {
    plan_submission(
        &fingerprint_form(fields, &[]),
        draft_key,
        record_of_that_key,
        indexed,
        now_ms,
    )
}

#[test]
fn a_draft_key_never_sent_is_kept() {
    let k = key("k-1");
    let fp = fingerprint_form(&text(&[("a", "1")]), &[]);
    let plan = plan_submission(&fp, Some(&k), None, None, 5_000);
    assert_eq!(plan, Submission::Send(k));
}

#[test]
fn no_draft_key_gets_a_new_key_without_a_rotation() {
    let plan = plan(&text(&[("a", "1")]), None, None, None, 0);
    assert_eq!(plan, Submission::NewKey { rotated: false });
}

#[test]
fn unchanged_and_unfinished_keeps_the_key() {
    let k = key("k-1");
    let f = text(&[("a", "1")]);
    let rec = sent(&k, &f, StatusCode::Sending, None);
    assert_eq!(
        plan(&f, Some(&k), Some(&rec), None, 2_000),
        Submission::Send(k)
    );
}

#[test]
fn unchanged_and_confirmed_inside_the_window_is_a_local_repeat() {
    let k = key("k-1");
    let f = text(&[("a", "1")]);
    let rec = sent(&k, &f, StatusCode::Done, Some(2_000));
    assert_eq!(
        plan(&f, Some(&k), Some(&rec), None, 3_000),
        Submission::Repeat(rec.clone())
    );
    // After the window: a new action, and the old key is rotated away.
    assert_eq!(
        plan(&f, Some(&k), Some(&rec), None, 2_000 + 600_000),
        Submission::NewKey { rotated: true }
    );
}

#[test]
fn changed_data_after_the_key_was_sent_rotates_it() {
    let k = key("k-1");
    let rec = sent(&k, &text(&[("a", "1")]), StatusCode::Done, Some(2_000));
    assert_eq!(
        plan(&text(&[("a", "2")]), Some(&k), Some(&rec), None, 3_000),
        Submission::NewKey { rotated: true }
    );
}

#[test]
fn a_rejected_action_rotates_the_key() {
    let k = key("k-1");
    let f = text(&[("a", "1")]);
    let rec = sent(&k, &f, StatusCode::Rejected, Some(2_000));
    assert_eq!(
        plan(&f, Some(&k), Some(&rec), None, 3_000),
        Submission::NewKey { rotated: true }
    );
}

#[test]
fn another_tab_s_result_is_adopted_only_when_confirmed() {
    let k = key("k-1");
    let f = text(&[("a", "1")]);
    assert!(!adopt_elsewhere(None));
    assert!(!adopt_elsewhere(Some(&sent(
        &k,
        &f,
        StatusCode::Sending,
        None
    ))));
    assert!(!adopt_elsewhere(Some(&sent(
        &k,
        &f,
        StatusCode::Failed,
        Some(5)
    ))));
    assert!(adopt_elsewhere(Some(&sent(
        &k,
        &f,
        StatusCode::Done,
        Some(5)
    ))));
    assert!(adopt_elsewhere(Some(&sent(
        &k,
        &f,
        StatusCode::AlreadyReceived,
        Some(5)
    ))));
}

#[test]
fn a_new_draft_key_with_data_confirmed_inside_the_window_is_a_local_repeat() {
    // After a success the draft is cleared; a reload starts a draft with a new key.
    let old = key("k-old");
    let f = text(&[("a", "1")]);
    let done = sent(&old, &f, StatusCode::Done, Some(2_000));
    let fresh = key("k-new");
    assert_eq!(
        plan(&f, Some(&fresh), None, Some(&done), 3_000),
        Submission::Repeat(done.clone())
    );
    // Unfinished: continue it with its own key.
    let flying = sent(&old, &f, StatusCode::Sending, None);
    assert_eq!(
        plan(&f, Some(&fresh), None, Some(&flying), 3_000),
        Submission::Send(old.clone())
    );
    // Other data in the index: the fresh key is used.
    let other = sent(&old, &text(&[("a", "2")]), StatusCode::Done, Some(2_000));
    assert_eq!(
        plan(&f, Some(&fresh), None, Some(&other), 3_000),
        Submission::Send(fresh)
    );
}
