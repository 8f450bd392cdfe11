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
fn private_autocomplete_tokens_are_read_as_html_reads_a_token_list() {
    let none: Vec<String> = Vec::new();
    let private = |ac: &str| is_private(&field("f", "text", ac, false), &none);
    for ac in [
        "current-password",
        "new-password",
        "cc-exp",
        "cc-exp-month",
        "cc-exp-year",
        "one-time-code",
        "cc-number",
        "cc-csc",
        // A section, a shipping/billing part, a contact kind, `webauthn`, any letter case,
        // any ASCII whitespace.
        "section-x shipping cc-number",
        "billing new-password",
        "section-signup New-Password",
        "username current-password webauthn",
        "billing CC-EXP",
        "\tcc-exp-month\n",
        "section-pay\x0cbilling\rcc-exp-year",
    ] {
        assert!(private(ac), "{ac:?} is private");
    }
    for ac in [
        "",
        "on",
        "off",
        "username",
        "email",
        "cc-name",
        "cc-type",
        "billing street-address",
        "new-password-hint",
        "section-new-password email",
    ] {
        assert!(!private(ac), "{ac:?} is not private");
    }
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
        &form_identity(fields, &[], None),
        draft_key,
        false,
        record_of_that_key,
        indexed,
        None,
        now_ms,
    )
}

#[test]
fn a_draft_key_never_sent_is_kept() {
    let k = key("k-1");
    let id = form_identity(&text(&[("a", "1")]), &[], None);
    let plan = plan_submission(&id, Some(&k), false, None, None, None, 5_000);
    assert_eq!(plan, Submission::Send(k));
}

#[test]
fn a_draft_key_that_was_sent_and_whose_action_is_gone_is_never_reused() {
    // A promo code refused (or a login with `window: 0`), then the tab reloaded: the draft
    // still holds the key it was sent with, but the refused action's record expired with its
    // window. Corrected data, or the same data again, must not go out under that key (the
    // server would answer 422, "This request changed"): a new key, announced as a rotation.
    let k = key("k-1");
    for fields in [text(&[("code", "ok")]), text(&[("code", "bad")])] {
        let id = form_identity(&fields, &[], None);
        assert_eq!(
            plan_submission(&id, Some(&k), true, None, None, None, 5_000),
            Submission::NewKey { rotated: true }
        );
    }
    // Never sent: kept (the key born with the draft).
    let id = form_identity(&text(&[("code", "ok")]), &[], None);
    assert_eq!(
        plan_submission(&id, Some(&k), false, None, None, None, 5_000),
        Submission::Send(k)
    );
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

const SECRET: [u8; 32] = [42; 32];

/// The identity of a login with `user` visible and `password` private, as the driver makes it.
fn login(user: &str, password: &str, secret: &[u8]) -> FormIdentity {
    let visible = text(&[("user", user)]);
    let private = text(&[("password", password)]);
    let names: Vec<String> = if password.is_empty() {
        vec![]
    } else {
        vec!["password".into()]
    };
    form_identity(
        &visible,
        &names,
        private_digest(secret, &private).as_deref(),
    )
}

fn record_of(
    k: &Key,
    id: &FormIdentity,
    status: StatusCode,
    finished: Option<u64>,
) -> ActionRecord {
    ActionRecord {
        fingerprint: id.fingerprint.clone(),
        ..sent(k, &[], status, finished)
    }
}

#[test]
fn a_private_value_counts_for_identity_without_being_readable() {
    let a = login("ada", "wrong-pw", &SECRET);
    let b = login("ada", "right-pw", &SECRET);
    assert_eq!(a.visible, b.visible, "the visible data is the same");
    assert_ne!(
        a.fingerprint, b.fingerprint,
        "another password is another action"
    );
    assert_eq!(
        a,
        login("ada", "wrong-pw", &SECRET),
        "the same password, the same action"
    );
    // Another page life (another secret): the same password cannot be recognised.
    assert_ne!(
        a.fingerprint,
        login("ada", "wrong-pw", &[1; 32]).fingerprint
    );
    // A blank password holds no secret: the visible fingerprint alone.
    let blank = login("ada", "", &SECRET);
    assert_eq!(blank.fingerprint, blank.visible);
    // Nothing of the password in what is stored.
    for id in [&a, &b] {
        assert!(!id.fingerprint.as_str().contains("pw"));
    }
}

#[test]
fn a_wrong_password_then_the_right_one_is_a_new_key_never_the_refused_one() {
    let k = key("k-1");
    let wrong = login("ada", "wrong-pw", &SECRET);
    let refused = record_of(&k, &wrong, StatusCode::Rejected, Some(2_000));
    let right = login("ada", "right-pw", &SECRET);
    assert_eq!(
        plan_submission(
            &right,
            Some(&k),
            false,
            Some(&refused),
            Some(&refused),
            None,
            2_500
        ),
        Submission::NewKey { rotated: true }
    );
    // Unfinished (offline) with the wrong password, then the right one: a new key too.
    let waiting = record_of(&k, &wrong, StatusCode::Offline, None);
    assert_eq!(
        plan_submission(
            &right,
            Some(&k),
            false,
            Some(&waiting),
            Some(&waiting),
            None,
            2_500
        ),
        Submission::NewKey { rotated: true }
    );
    // The same password again while it is unfinished: the same key.
    assert_eq!(
        plan_submission(
            &wrong,
            Some(&k),
            false,
            Some(&waiting),
            Some(&waiting),
            None,
            2_500
        ),
        Submission::Send(k)
    );
}

fn waiting_request(needs: &[&str]) -> sendonce::core::record::StoredRequest {
    sendonce::core::record::StoredRequest {
        url: "/login".into(),
        method: "POST".into(),
        body: Some(r#"{"user":"ada"}"#.into()),
        private_body: true,
        waiting_for: needs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn after_a_reload_a_waiting_login_keeps_its_key_once_the_password_is_typed_again() {
    let k = key("k-1");
    let before = login("ada", "pw-1", &SECRET);
    let mut rec = record_of(&k, &before, StatusCode::Offline, None);
    rec.request = Some(waiting_request(&["field:password"]));
    let earlier = EarlierLife::of(&text(&[("user", "ada")]));
    // A new page life: another secret.
    let after = login("ada", "pw-1", &[9; 32]);
    let mut continued = rec.clone();
    continued.fingerprint = after.fingerprint.clone();
    assert_eq!(
        plan_submission(
            &after,
            Some(&k),
            false,
            Some(&rec),
            None,
            Some(&earlier),
            5_000
        ),
        Submission::Continue(continued)
    );
    // Without the password: it waits, nothing is sent, the key is kept.
    assert_eq!(
        plan_submission(
            &login("ada", "", &[9; 32]),
            Some(&k),
            false,
            Some(&rec),
            None,
            Some(&earlier),
            5_000
        ),
        Submission::Wait {
            key: k.clone(),
            missing: vec!["field:password".into()]
        }
    );
    // Other visible data: a new action (the old one stays pending, listed).
    assert_eq!(
        plan_submission(
            &login("bob", "pw-1", &[9; 32]),
            Some(&k),
            false,
            Some(&rec),
            None,
            Some(&earlier),
            5_000
        ),
        Submission::NewKey { rotated: true }
    );
}

#[test]
fn after_a_reload_a_finished_login_is_never_a_local_repeat() {
    let k = key("k-1");
    let before = login("ada", "pw-1", &SECRET);
    let done = record_of(&k, &before, StatusCode::Done, Some(2_000));
    let earlier = EarlierLife::of(&text(&[("user", "ada")]));
    let after = login("ada", "pw-1", &[9; 32]);
    assert_eq!(
        plan_submission(
            &after,
            Some(&k),
            false,
            Some(&done),
            None,
            Some(&earlier),
            3_000
        ),
        Submission::NewKey { rotated: true }
    );
}

fn file(name: &str) -> FormValue {
    FormValue::File {
        name: name.into(),
        mime: "application/pdf".into(),
        size: 10,
        last_modified: 1_767_323_045_000,
    }
}

#[test]
fn after_a_reload_a_file_form_waits_for_its_file_by_name_and_keeps_its_key() {
    let k = key("k-1");
    let mut with_file = text(&[("item", "tea")]);
    with_file.push(("receipt".into(), file("receipt.pdf")));
    let sent_id = form_identity(&with_file, &[], None);
    let mut rec = record_of(&k, &sent_id, StatusCode::Sending, None);
    rec.request = Some(waiting_request(
        &waiting_for(&with_file, &[])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    ));
    assert_eq!(waiting_for(&with_file, &[]), ["file:receipt.pdf"]);
    let earlier = EarlierLife::of(&with_file);
    // The browser cleared the file input: Pay sends nothing and says what it waits for.
    let cleared = form_identity(&text(&[("item", "tea")]), &[], None);
    assert_eq!(
        plan_submission(
            &cleared,
            Some(&k),
            false,
            Some(&rec),
            None,
            Some(&earlier),
            5_000
        ),
        Submission::Wait {
            key: k.clone(),
            missing: vec!["file:receipt.pdf".into()]
        }
    );
    assert_eq!(missing_text(&["file:receipt.pdf".into()]), "receipt.pdf");
    // The same file attached again: the same key.
    assert_eq!(
        plan_submission(
            &sent_id,
            Some(&k),
            false,
            Some(&rec),
            None,
            Some(&earlier),
            5_000
        ),
        Submission::Continue(rec.clone())
    );
    // In the page that sent it (no earlier life) nothing waits: the plan is the usual one.
    assert_eq!(
        plan_submission(&sent_id, Some(&k), false, Some(&rec), None, None, 5_000),
        Submission::Send(k.clone())
    );
}

#[test]
fn a_multipart_body_has_one_boundary_per_action_and_escapes_as_html_does() {
    let k = key("k-1");
    assert_eq!(multipart_boundary(&k), multipart_boundary(&key("k-1")));
    assert_ne!(multipart_boundary(&k), multipart_boundary(&key("k-2")));
    let b = multipart_boundary(&k);
    assert_eq!(
        multipart_text_part(&b, "a\"b\nc", "x\ry\r\nz"),
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"a%22b%0D%0Ac\"\r\n\r\nx\r\ny\r\nz\r\n"
        )
    );
    assert_eq!(
        multipart_file_head(&b, "receipt", "r.pdf", "application/pdf"),
        format!("--{b}\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"r.pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
    );
    assert_eq!(multipart_end(&b), format!("--{b}--\r\n"));
    assert_eq!(
        multipart_content_type(&b),
        format!("multipart/form-data; boundary={b}")
    );
}

// `FormConfig::normalize`: the form's defaults and rules are the core's; the binding reads
// the options and the form element and nothing more.

fn form_input() -> FormInput {
    FormInput {
        action: Some("signup".into()),
        url: Some("/api/signup".into()),
        ..Default::default()
    }
}

fn ten_minutes() -> sendonce::core::window::Window {
    sendonce::core::window::Window::parse("10m").unwrap()
}

fn form_ok(input: FormInput) -> FormConfig {
    FormConfig::normalize(input, ten_minutes()).unwrap()
}

fn form_err(input: FormInput) -> String {
    let e = FormConfig::normalize(input, ten_minutes()).unwrap_err();
    assert_eq!(e.code(), "invalid_option");
    e.to_string()
}

#[test]
fn a_form_without_options_gets_the_documented_defaults() {
    let c = form_ok(form_input());
    assert_eq!(c.method, "POST");
    assert_eq!(c.encoding, Encoding::Json);
    assert_eq!(c.reenable_after_ms, DEFAULT_REENABLE_AFTER_MS);
    assert_eq!(c.reenable_after_ms, 2_000);
    assert!(!c.keep_draft);
    assert_eq!(c.window, ten_minutes());
    assert_eq!(c.busy_label, None);
}

#[test]
fn the_encoding_follows_the_option_else_the_file_inputs() {
    let with = |encoding: Option<&str>, has_file_input| FormInput {
        encoding: encoding.map(String::from),
        has_file_input,
        ..form_input()
    };
    assert_eq!(form_ok(with(None, true)).encoding, Encoding::Multipart);
    assert_eq!(form_ok(with(Some("json"), true)).encoding, Encoding::Json);
    assert_eq!(
        form_ok(with(Some("urlencoded"), false)).encoding,
        Encoding::Urlencoded
    );
    assert_eq!(
        form_ok(with(Some("multipart"), false)).encoding,
        Encoding::Multipart
    );
    assert_eq!(
        form_err(with(Some("xml"), false)),
        "invalid option `encoding`: must be \"json\", \"urlencoded\" or \"multipart\""
    );
}

#[test]
fn the_draft_identity_is_the_id_else_the_name_else_the_action() {
    let ids = |id: Option<&str>, name: Option<&str>| FormInput {
        form_id: id.map(String::from),
        form_name: name.map(String::from),
        ..form_input()
    };
    assert_eq!(form_ok(ids(Some("f1"), Some("n1"))).draft_id, "f1");
    assert_eq!(form_ok(ids(Some(""), Some("n1"))).draft_id, "n1");
    assert_eq!(form_ok(ids(Some(""), Some(""))).draft_id, "signup");
    assert_eq!(form_ok(ids(None, None)).draft_id, "signup");
}

#[test]
fn url_method_and_reenable_are_decided_here() {
    let c = form_ok(FormInput {
        url: Some(String::new()),
        action_attribute: Some("/from-attribute".into()),
        method: Some("put".into()),
        reenable_after_ms: Some(1e12),
        keep_draft: Some(true),
        ..form_input()
    });
    assert_eq!(
        (c.url.as_str(), c.method.as_str()),
        ("/from-attribute", "PUT")
    );
    assert_eq!(c.reenable_after_ms, u32::MAX);
    assert!(c.keep_draft);
    assert_eq!(
        form_err(FormInput {
            url: None,
            action_attribute: Some(String::new()),
            ..form_input()
        }),
        "invalid option `url`: is required (or an action attribute on the form)"
    );
    assert_eq!(
        form_err(FormInput {
            method: Some("PO ST".into()),
            ..form_input()
        }),
        "invalid option `method`: must be an HTTP method like \"POST\""
    );
    assert!(form_err(FormInput {
        url: Some("https://ana:pw@example.com/x".into()),
        ..form_input()
    })
    .contains("`url`"));
}

#[test]
fn a_forms_action_name_has_the_same_limit_as_so_action() {
    let named = |n: String| FormInput {
        action: Some(n),
        ..form_input()
    };
    assert!(FormConfig::normalize(named("😀".repeat(100)), ten_minutes()).is_ok());
    for bad in ["a".repeat(101), String::new()] {
        assert_eq!(
            form_err(named(bad)),
            "invalid option `action`: the action name must be 1..=100 characters"
        );
    }
    assert!(form_err(FormInput {
        action: None,
        ..form_input()
    })
    .contains("`action`"));
}
