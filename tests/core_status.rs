//! Status texts: what a person reads, in their language.
#![cfg(not(target_arch = "wasm32"))]

use sendonce::core::status::{Locale, Messages, StatusCode, ALL_CODES};

const LOCALES: [Locale; 4] = [Locale::En, Locale::PtBr, Locale::Es, Locale::Ru];

#[test]
fn every_locale_has_a_text_for_every_code_but_idle() {
    for locale in LOCALES {
        let m = Messages::new(locale);
        for code in ALL_CODES {
            let text = m.text(code, None);
            if code == StatusCode::Idle {
                assert_eq!(text, "", "{locale:?}");
            } else {
                assert!(!text.trim().is_empty(), "{locale:?} {code:?}");
                assert!(!text.contains('{'), "{locale:?} {code:?}: {text}");
            }
        }
    }
}

#[test]
fn english_texts_are_the_specs() {
    let m = Messages::new(Locale::En);
    assert_eq!(m.text(StatusCode::Sending, None), "Sending...");
    assert_eq!(
        m.text(StatusCode::AlreadyReceived, None),
        "We already received this request"
    );
    assert_eq!(m.text(StatusCode::Offline, None), "Connection lost. Retry?");
    assert_eq!(m.text(StatusCode::Done, None), "Sent");
}

#[test]
fn the_reason_is_filled_in_every_locale() {
    for locale in LOCALES {
        let mut m = Messages::new(locale);
        // The server's words are shown when the app asks (`showServerReason`).
        m.set_show_server_reason(true);
        let text = m.text(StatusCode::Rejected, Some("Email is required"));
        assert!(text.ends_with("Email is required"), "{locale:?}: {text}");
        // No reason, or a blank one: a neutral phrase, never a bare "{reason}".
        for reason in [None, Some(""), Some("   ")] {
            let text = m.text(StatusCode::Rejected, reason);
            assert!(
                !text.contains("{reason}") && text.len() > 20,
                "{locale:?}: {text}"
            );
        }
    }
}

#[test]
fn overrides_replace_one_text() {
    let mut m = Messages::new(Locale::parse("pt-BR"));
    m.set("done", "Pedido feito").unwrap();
    m.set("done", "Pedido registrado").unwrap();
    m.set("rejected", "Não deu: {reason}").unwrap();
    m.set_show_server_reason(true);
    assert_eq!(m.text(StatusCode::Done, None), "Pedido registrado");
    assert_eq!(
        m.text(StatusCode::Rejected, Some("CPF inválido")),
        "Não deu: CPF inválido"
    );
    assert_eq!(m.text(StatusCode::Sending, None), "Enviando...");
    let err = m.set("finished", "x").unwrap_err();
    assert_eq!(err.code(), "invalid_option");
    assert!(err.to_string().contains("already_received"), "{err}");
}

#[test]
fn unknown_locales_fall_back_to_english() {
    for (tag, locale) in [
        ("en", Locale::En),
        ("pt-BR", Locale::PtBr),
        ("pt", Locale::PtBr),
        ("es-MX", Locale::Es),
        ("ru_RU", Locale::Ru),
        ("RU", Locale::Ru),
        ("fr", Locale::En),
        ("", Locale::En),
        ("zz-ZZ-x", Locale::En),
        ("日本語", Locale::En),
    ] {
        assert_eq!(Locale::parse(tag), locale, "{tag:?}");
    }
}

#[test]
fn codes_are_stable() {
    let names: Vec<&str> = ALL_CODES.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "idle",
            "sending",
            "retrying",
            "accepted",
            "elsewhere",
            "done",
            "already_received",
            "offline",
            "changed",
            "rejected",
            "failed",
            "uncertain",
            "incomplete"
        ]
    );
    for c in ALL_CODES {
        assert_eq!(StatusCode::parse(c.as_str()), Some(c));
    }
    assert!(StatusCode::Done.is_confirmed() && StatusCode::AlreadyReceived.is_confirmed());
    assert!(!StatusCode::Accepted.is_final() && !StatusCode::Offline.is_final());
    assert!(StatusCode::Failed.is_final() && !StatusCode::Failed.is_confirmed());
    assert!(StatusCode::Uncertain.is_final() && !StatusCode::Uncertain.is_confirmed());
}

/// Each code is in exactly one of four classes: under way, resting for good, paused until
/// the network returns (`offline`), waiting for the user (`idle`, `incomplete`). The status
/// objects carry the first two (`underWay`, `final`), so that the React hooks and the htmx
/// extension keep no list of codes of their own.
#[test]
fn every_code_is_under_way_final_or_waiting() {
    let under_way: Vec<&str> = ALL_CODES
        .iter()
        .filter(|c| c.is_under_way())
        .map(|c| c.as_str())
        .collect();
    assert_eq!(under_way, ["sending", "retrying", "accepted", "elsewhere"]);
    let waiting: Vec<&str> = ALL_CODES
        .iter()
        .filter(|c| !c.is_under_way() && !c.is_final())
        .map(|c| c.as_str())
        .collect();
    assert_eq!(waiting, ["idle", "offline", "incomplete"]);
    for c in ALL_CODES {
        assert!(!(c.is_under_way() && c.is_final()), "{c:?}");
        assert!(!c.is_confirmed() || c.is_final(), "{c:?}");
    }
}

#[test]
fn uncertain_has_its_text_in_the_four_locales() {
    let text = |tag: &str| Messages::new(Locale::parse(tag)).text(StatusCode::Uncertain, None);
    assert_eq!(
        text("en"),
        "We are not sure this was sent. Check before sending again."
    );
    let all = [text("en"), text("pt-BR"), text("es"), text("ru")];
    for (i, a) in all.iter().enumerate() {
        assert!(!a.is_empty());
        for b in &all[i + 1..] {
            assert_ne!(a, b, "each locale has its own text");
        }
    }
}
