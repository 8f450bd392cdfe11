//! What a chat bubble says under its message, and whose words a `rejected` status shows.
#![cfg(not(target_arch = "wasm32"))]

use sendonce::core::status::{Locale, MessageState, Messages, StatusCode, ALL_CODES};

const LOCALES: [Locale; 4] = [Locale::En, Locale::PtBr, Locale::Es, Locale::Ru];

#[test]
fn every_message_state_has_a_calm_text_in_every_locale() {
    for locale in LOCALES {
        let m = Messages::new(locale);
        let mut states = vec![MessageState::Sending, MessageState::Delivered];
        states.extend(ALL_CODES.into_iter().map(MessageState::Error));
        for state in states {
            let text = m.message_text(state, Some("Field `x` is invalid"));
            assert!(!text.trim().is_empty(), "{locale:?} {state:?}");
            assert!(!text.contains('{'), "{locale:?} {state:?}: {text}");
            assert!(!text.contains("error ("), "{locale:?} {state:?}: {text}");
            assert!(!text.contains("Field"), "{locale:?} {state:?}: {text}");
        }
    }
}

#[test]
fn bubbles_read_in_the_users_language() {
    let en = Messages::new(Locale::En);
    assert_eq!(en.message_text(MessageState::Sending, None), "Sending...");
    assert_eq!(en.message_text(MessageState::Delivered, None), "Delivered");
    assert_eq!(
        en.message_text(MessageState::Error(StatusCode::Offline), None),
        "Connection lost. Retry?"
    );
    let pt = Messages::new(Locale::PtBr);
    assert_eq!(pt.message_text(MessageState::Delivered, None), "Entregue");
    assert_eq!(
        pt.message_text(MessageState::Error(StatusCode::Failed), None),
        "Algo deu errado. Tentar de novo?"
    );
    let ru = Messages::new(Locale::Ru);
    assert_eq!(ru.message_text(MessageState::Delivered, None), "Доставлено");
    assert_eq!(
        ru.message_text(MessageState::Error(StatusCode::Offline), None),
        "Связь потеряна. Повторить?"
    );
    // A code that means "not yet" never shows as an error's text.
    assert_eq!(
        en.message_text(MessageState::Error(StatusCode::Sending), None),
        "Something went wrong. Retry?"
    );
}

#[test]
fn the_servers_english_reason_is_shown_only_when_the_app_asks() {
    let reason = Some("Email is required");
    let mut ru = Messages::new(Locale::Ru);
    assert_eq!(
        ru.text(StatusCode::Rejected, reason),
        "Не удалось отправить: сервер отклонил запрос"
    );
    assert_eq!(
        ru.message_text(MessageState::Error(StatusCode::Rejected), reason),
        "Не удалось отправить: сервер отклонил запрос"
    );
    ru.set_show_server_reason(true);
    assert_eq!(
        ru.text(StatusCode::Rejected, reason),
        "Не удалось отправить: Email is required"
    );
    // An override with {reason} follows the same rule.
    let mut en = Messages::new(Locale::En);
    en.set("rejected", "Refused ({reason})").unwrap();
    assert_eq!(
        en.text(StatusCode::Rejected, reason),
        "Refused (the server refused the request)"
    );
}

#[test]
fn overrides_apply_to_bubbles_too() {
    let mut m = Messages::new(Locale::En);
    m.set("offline", "No network. Tap to retry").unwrap();
    assert_eq!(
        m.message_text(MessageState::Error(StatusCode::Offline), None),
        "No network. Tap to retry"
    );
}

#[test]
fn a_misspelled_status_in_messages_gets_a_suggestion() {
    let mut m = Messages::new(Locale::En);
    let err = m.set("alreadyReceived", "Got it").unwrap_err();
    assert_eq!(err.code(), "invalid_option");
    assert!(
        err.to_string().ends_with("did you mean already_received?"),
        "{err}"
    );
    let err = m.set("finished", "x").unwrap_err();
    assert!(err.to_string().contains("known: idle, sending"), "{err}");
}
