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

// `SendonceConfig::normalize`: every default and range of `new Sendonce(options)` is the
// core's; the bindings only convert JS values into a `SendonceInput`.

mod normalize {
    use sendonce::core::config::*;
    use sendonce::core::key::KeyFormat;
    use sendonce::core::retry::RetryPolicy;
    use sendonce::core::status::{Locale, StatusCode};
    use sendonce::core::window::{Window, Windows};

    fn ok(input: SendonceInput) -> SendonceConfig {
        SendonceConfig::normalize(input).unwrap()
    }

    fn err(input: SendonceInput) -> String {
        let e = SendonceConfig::normalize(input).unwrap_err();
        assert_eq!(e.code(), "invalid_option");
        e.to_string()
    }

    #[test]
    fn no_options_give_the_documented_defaults() {
        let c = ok(SendonceInput::default());
        assert_eq!(c.namespace, "sendonce");
        assert_eq!(c.storage, StorageChoice::Local);
        assert_eq!(c.header_name, "Idempotency-Key");
        assert_eq!(c.replay_header, "Idempotent-Replayed");
        assert_eq!(c.key_format, KeyFormat::default());
        assert_eq!(c.retry, RetryPolicy::default());
        assert_eq!(c.windows, Windows::default());
        assert_eq!(c.max_payload_bytes, 1 << 20);
        assert_eq!(c.lease_ms, DEFAULT_LEASE_MS);
        assert_eq!(c.lease_ms, 15_000);
        assert!(!c.auto_resume);
        assert_eq!(c.messages.locale(), Locale::default());
    }

    #[test]
    fn web_storage_falls_back_to_memory_and_the_others_need_none() {
        let name = |n: &str| SendonceInput {
            storage: StorageInput::Name(n.into()),
            ..Default::default()
        };
        assert_eq!(ok(name("local")).storage, StorageChoice::Local);
        assert_eq!(ok(name("session")).storage, StorageChoice::Session);
        assert_eq!(ok(name("memory")).storage, StorageChoice::Memory);
        for web in [StorageChoice::Local, StorageChoice::Session] {
            assert_eq!(web.fallback(), Some(StorageChoice::Memory));
            assert!(web.web_name().is_some());
        }
        for always in [StorageChoice::Memory, StorageChoice::Adapter] {
            assert_eq!(always.fallback(), None);
            assert_eq!(always.web_name(), None);
        }
        let adapter = |missing| SendonceInput {
            storage: StorageInput::Adapter { missing },
            ..Default::default()
        };
        assert_eq!(ok(adapter(None)).storage, StorageChoice::Adapter);
        assert_eq!(
            err(adapter(Some("delete"))),
            "invalid option `storage`: an adapter needs a delete() method"
        );
        assert_eq!(
            err(name("disk")),
            "invalid option `storage`: must be \"local\", \"session\", \"memory\" or an adapter object, got \"disk\""
        );
        assert_eq!(
            err(SendonceInput {
                storage: StorageInput::Other,
                ..Default::default()
            }),
            "invalid option `storage`: must be \"local\", \"session\", \"memory\" or an adapter object"
        );
    }

    #[test]
    fn the_lease_is_one_second_to_ten_minutes() {
        let lease = |ms: f64| SendonceInput {
            lease_ms: Some(ms),
            ..Default::default()
        };
        assert_eq!(ok(lease(1_000.0)).lease_ms, 1_000);
        assert_eq!(ok(lease(600_000.0)).lease_ms, 600_000);
        assert_eq!(ok(lease(2_500.7)).lease_ms, 2_500);
        for bad in [0.0, 999.0, 600_001.0] {
            assert_eq!(
                err(lease(bad)),
                "invalid option `leaseMs`: must be a number of ms from 1000 to 600000"
            );
        }
        assert_eq!(LEASE_MS_RANGE, 1_000..=600_000);
    }

    #[test]
    fn header_names_default_and_are_checked() {
        let c = ok(SendonceInput {
            header_name: Some("X-Request-Id".into()),
            ..Default::default()
        });
        assert_eq!(
            (c.header_name.as_str(), c.replay_header.as_str()),
            ("X-Request-Id", "Idempotent-Replayed")
        );
        assert_eq!(
            err(SendonceInput {
                replay_header: Some("bad header".into()),
                ..Default::default()
            }),
            "invalid option `replayHeader`: must be a valid HTTP header name"
        );
    }

    #[test]
    fn retry_and_windows_keep_the_defaults_of_what_is_not_given() {
        let c = ok(SendonceInput {
            retry: RetryInput {
                attempts: Some(2.9),
                max_delay_ms: Some(9_000.0),
                ..Default::default()
            },
            windows: WindowsInput {
                form: Some(Window::from_ms(0.0).unwrap()),
                ..Default::default()
            },
            ..Default::default()
        });
        let d = RetryPolicy::default();
        assert_eq!(c.retry.attempts, 2);
        assert_eq!(c.retry.max_delay_ms, 9_000);
        assert_eq!(c.retry.base_delay_ms, d.base_delay_ms);
        assert_eq!(c.retry.timeout_ms, d.timeout_ms);
        assert_eq!(c.windows.form, Window::from_ms(0.0).unwrap());
        assert_eq!(c.windows.default, Windows::default().default);
        assert_eq!(c.windows.quick_reply, Windows::default().quick_reply);
    }

    #[test]
    fn namespace_messages_and_the_rest_are_the_cores_rules() {
        assert!(err(SendonceInput {
            namespace: Some(String::new()),
            ..Default::default()
        })
        .contains("`namespace`"));
        let c = ok(SendonceInput {
            namespace: Some("shop".into()),
            locale: Some("fr-FR".into()),
            messages: vec![("done".into(), "Merci !".into())],
            auto_resume: Some(true),
            max_payload_bytes: Some(2048.0),
            ..Default::default()
        });
        assert_eq!(c.namespace, "shop");
        assert_eq!(c.messages.text(StatusCode::Done, None), "Merci !");
        assert!(c.auto_resume);
        assert_eq!(c.max_payload_bytes, 2048);
        assert!(err(SendonceInput {
            messages: vec![("finished".into(), "x".into())],
            ..Default::default()
        })
        .contains("messages"));
        assert!(err(SendonceInput {
            key_format: Some("base64".into()),
            ..Default::default()
        })
        .contains("keyFormat"));
    }
}
