//! Misspelled option names are refused with a suggestion, never silently ignored.

use sendonce::core::options::{
    check_names, suggest, ACTION_OPTIONS, CHAT_OPTIONS, FORM_OPTIONS, QUICK_REPLIES_OPTIONS,
    RETRY_OPTIONS, SENDONCE_OPTIONS, WINDOWS_OPTIONS,
};

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_known_name_passes() {
    for list in [
        SENDONCE_OPTIONS,
        RETRY_OPTIONS,
        WINDOWS_OPTIONS,
        ACTION_OPTIONS,
        CHAT_OPTIONS,
        QUICK_REPLIES_OPTIONS,
        FORM_OPTIONS,
    ] {
        assert!(check_names("", &names(list), list).is_ok());
    }
}

#[test]
fn typos_users_make_get_the_name_they_meant() {
    let cases = [
        ("namspace", SENDONCE_OPTIONS, "namespace"),
        ("nameSpace", SENDONCE_OPTIONS, "namespace"),
        ("locle", SENDONCE_OPTIONS, "locale"),
        ("onevent", SENDONCE_OPTIONS, "onEvent"),
        ("autoresume", SENDONCE_OPTIONS, "autoResume"),
        ("retyr", SENDONCE_OPTIONS, "retry"),
        ("windwos", SENDONCE_OPTIONS, "windows"),
        ("atempts", RETRY_OPTIONS, "attempts"),
        ("timeout", RETRY_OPTIONS, "timeoutMs"),
        ("quickreply", WINDOWS_OPTIONS, "quickReply"),
        ("conversationID", CHAT_OPTIONS, "conversationId"),
        ("conversation_id", QUICK_REPLIES_OPTIONS, "conversationId"),
        ("keepDrafts", FORM_OPTIONS, "keepDraft"),
        ("reenableAfter", FORM_OPTIONS, "reenableAfterMs"),
        ("windw", ACTION_OPTIONS, "window"),
    ];
    for (given, known, want) in cases {
        assert_eq!(suggest(given, known), Some(want), "{given}");
    }
}

#[test]
fn far_names_get_the_list_instead_of_a_guess() {
    assert_eq!(suggest("colour", SENDONCE_OPTIONS), None);
    assert_eq!(suggest("x", ACTION_OPTIONS), None);
    let err = check_names("", &names(&["colour"]), CHAT_OPTIONS).unwrap_err();
    assert_eq!(err.code(), "invalid_option");
    assert_eq!(
        err.to_string(),
        "invalid option `colour`: is not an option here; known: conversationId, url"
    );
}

#[test]
fn the_message_names_the_nested_option() {
    let err = check_names("retry.", &names(&["atempts"]), RETRY_OPTIONS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid option `retry.atempts`: is not an option here; did you mean `retry.attempts`?"
    );
}

#[test]
fn odd_names_are_quoted_and_long_ones_do_not_blow_up() {
    let err = check_names("", &names(&["name space\n"]), SENDONCE_OPTIONS).unwrap_err();
    assert!(err.to_string().contains("\"name space\\n\""), "{err}");
    let long = "n".repeat(100_000);
    assert!(check_names("", &[long], SENDONCE_OPTIONS).is_err());
    assert!(check_names("", &names(&[""]), SENDONCE_OPTIONS).is_err());
}
