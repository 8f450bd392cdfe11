//! Stored records: what a user gets back after a reload, and what a broken or foreign record
//! does (nothing: it is skipped, never a crash).
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sendonce::core::action::{plan_action, ActionPlan};
use sendonce::core::fingerprint::{sha256_hex, Fingerprint, FormValue};
use sendonce::core::form::{form_key, FormKeyChoice};
use sendonce::core::json::Value;
use sendonce::core::key::{validate_key, Key};
use sendonce::core::record::*;
use sendonce::core::status::StatusCode;
use sendonce::core::window::ActionKind;

const T0: u64 = 1_700_000_000_000;
const MIN: u64 = 60_000;
const DAY: u64 = 86_400_000;

fn key(s: &str) -> Key {
    validate_key(s).unwrap()
}

fn fp(s: &str) -> Fingerprint {
    sha256_hex(s.as_bytes())
}

/// A realistic finished order: v4 key, one-minute window, a small JSON reply.
fn finished_action() -> ActionRecord {
    ActionRecord {
        key: key("0f8e1c2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b"),
        action: "createOrder".into(),
        kind: ActionKind::Default,
        fingerprint: fp("order"),
        request: None,
        status: StatusCode::Done,
        attempts: 1,
        created_at: T0,
        finished_at: Some(T0 + 420),
        window_ms: MIN,
        reply: Some(StoredReply {
            status: 201,
            content_type: Some("application/json".into()),
            body: r#"{"id":"ord_1042"}"#.into(),
            replayed: false,
        }),
        idempotent: true,
    }
}

fn pending_action() -> ActionRecord {
    ActionRecord {
        key: key("k-pending"),
        action: "createOrder".into(),
        kind: ActionKind::Form,
        fingerprint: fp("order"),
        request: Some(StoredRequest {
            url: "/api/orders".into(),
            method: "POST".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(r#"{"item":"tea","note":"a \"quoted\" word\nand ünïcode"}"#.into()),
            ..Default::default()
        }),
        status: StatusCode::Offline,
        attempts: 5,
        created_at: T0,
        finished_at: None,
        window_ms: 10 * MIN,
        reply: None,
        idempotent: true,
    }
}

fn draft() -> DraftRecord {
    DraftRecord {
        form: "checkout".into(),
        action: "createOrder".into(),
        fields: vec![
            ("name".into(), FormValue::Text("Ana".into())),
            ("tags".into(), FormValue::Text("b".into())),
            ("tags".into(), FormValue::Text("a".into())),
            (
                "photo".into(),
                FormValue::File {
                    name: "cat.png".into(),
                    mime: "image/png".into(),
                    size: 1234,
                    last_modified: T0 - DAY,
                },
            ),
        ],
        key: Some(key("k-draft")),
        fingerprint: Some(fp("draft")),
        saved_at: T0,
    }
}

fn outbox(seq: u64, status: OutboxStatus) -> OutboxEntry {
    OutboxEntry {
        conversation_id: "c-42".into(),
        id: key(&format!("m-{seq}")),
        seq,
        text: "hello 👋".into(),
        extra: Value::object([("replyTo", Value::from("m-0"))]),
        status,
        code: (status == OutboxStatus::Error).then(|| "offline".to_string()),
        at: T0 + seq,
        url: "/api/conversations/c-42/messages".into(),
    }
}

fn quick() -> QuickReplyRecord {
    QuickReplyRecord {
        key: key("5a0c7a4e-1b2c-5d3e-8f40-123456789abc"),
        action_key: "createTicket|orderId=123".into(),
        conversation_id: "c-42".into(),
        result: Value::object([("ticket", Value::from(77u64))]),
        finished_at: T0,
        window_ms: 5_000,
    }
}

fn seen() -> SeenRecord {
    SeenRecord {
        id_or_hash: "wamid.HBgL".into(),
        at: T0,
        window_ms: 5_000,
    }
}

fn all_records() -> Vec<Record> {
    vec![
        Record::Action(finished_action()),
        Record::Action(pending_action()),
        Record::Draft(draft()),
        Record::Draft(DraftRecord {
            key: None,
            fingerprint: None,
            fields: vec![],
            ..draft()
        }),
        Record::Outbox(outbox(1, OutboxStatus::Sending)),
        Record::Outbox(outbox(2, OutboxStatus::Error)),
        Record::Outbox(OutboxEntry {
            extra: Value::Null,
            ..outbox(3, OutboxStatus::Delivered)
        }),
        Record::Quick(quick()),
        Record::Seen(seen()),
        // A 409 with an HTML body, a replayed reply, a clock that went back.
        Record::Action(ActionRecord {
            finished_at: Some(T0 - 5),
            status: StatusCode::AlreadyReceived,
            reply: Some(StoredReply {
                status: 201,
                content_type: Some("text/html; charset=utf-8".into()),
                body: "<h1>Conflict</h1>".into(),
                replayed: true,
            }),
            ..finished_action()
        }),
        // JSON bodies: one not in our spelling, one with another JSON type, one without type.
        Record::Action(ActionRecord {
            reply: Some(StoredReply {
                status: 200,
                content_type: Some("application/json".into()),
                body: "{ \"id\": 1.50 }".into(),
                replayed: false,
            }),
            ..finished_action()
        }),
        Record::Action(ActionRecord {
            reply: Some(StoredReply {
                status: 400,
                content_type: Some("application/problem+json".into()),
                body: r#"{"title":"Email is required"}"#.into(),
                replayed: false,
            }),
            ..finished_action()
        }),
        Record::Action(ActionRecord {
            reply: Some(StoredReply {
                status: 204,
                content_type: None,
                body: String::new(),
                replayed: false,
            }),
            ..finished_action()
        }),
    ]
}

#[test]
fn every_record_type_comes_back_as_it_was_written() {
    for r in all_records() {
        let text = r.encode();
        assert_eq!(
            Record::decode(&text, T0).unwrap(),
            Some(r.clone()),
            "{text}"
        );
        let storage_key = r.storage_key("shop");
        assert!(owns("shop", &storage_key));
        assert_eq!(
            Record::decode_stored("shop", &storage_key, &text, T0).unwrap(),
            Some(r)
        );
    }
}

#[test]
fn records_carry_the_schema_version_and_type() {
    for r in all_records() {
        let text = r.encode();
        let expected = format!("{{\"v\":1,\"t\":\"{}\",", r.type_name());
        assert!(text.starts_with(&expected), "{text}");
    }
}

#[test]
fn a_finished_action_with_a_small_reply_stays_well_under_300_bytes() {
    let text = Record::Action(finished_action()).encode();
    println!(
        "finished action + small reply: {} bytes: {text}",
        text.len()
    );
    assert!(text.len() <= 250, "{} bytes", text.len());
    // The same with a time-ordered v7 key and a form window: still bounded.
    let v7 = Record::Action(ActionRecord {
        key: key("01890a5d-ac96-774b-bcce-b302099a8057"),
        kind: ActionKind::Form,
        window_ms: 10 * MIN,
        ..finished_action()
    })
    .encode();
    println!("finished form action (v7 key): {} bytes", v7.len());
    assert!(v7.len() <= 265, "{} bytes", v7.len());
    let s = Record::Seen(seen()).encode();
    println!("seen record: {} bytes", s.len());
    assert!(s.len() <= 80);
}

#[test]
fn expired_records_read_as_nothing() {
    let done = Record::Action(finished_action());
    let text = done.encode();
    let end = T0 + 420 + MIN;
    assert!(Record::decode(&text, end - 1).unwrap().is_some());
    assert_eq!(Record::decode(&text, end).unwrap(), None);

    // An unfinished action is kept for its 24 h retention, then dropped.
    let pending = Record::Action(pending_action()).encode();
    assert!(Record::decode(&pending, T0 + DAY - 1).unwrap().is_some());
    assert_eq!(Record::decode(&pending, T0 + DAY).unwrap(), None);

    // Quick replies and seen messages live for their window.
    assert_eq!(
        Record::decode(&Record::Quick(quick()).encode(), T0 + 5_000).unwrap(),
        None
    );
    assert_eq!(
        Record::decode(&Record::Seen(seen()).encode(), T0 + 5_000).unwrap(),
        None
    );

    // A delivered message leaves the outbox after 24 h; an undelivered one never does.
    let delivered = Record::Outbox(outbox(3, OutboxStatus::Delivered)).encode();
    assert_eq!(Record::decode(&delivered, T0 + 3 + DAY).unwrap(), None);
    let sending = Record::Outbox(outbox(1, OutboxStatus::Sending)).encode();
    assert!(Record::decode(&sending, T0 + 365 * DAY).unwrap().is_some());

    // Drafts are the user's words: they do not expire.
    let d = Record::Draft(draft()).encode();
    assert!(Record::decode(&d, u64::MAX - 1).unwrap().is_some());
}

fn assert_corrupt(text: &str) {
    match Record::decode(text, T0) {
        Err(e) => assert_eq!(e.code(), "corrupt_record", "{text}: {e}"),
        Ok(r) => panic!("{text:?} decoded as {r:?}"),
    }
}

#[test]
fn broken_truncated_and_foreign_records_are_corrupt() {
    let good = Record::Action(finished_action()).encode();
    for cut in 0..good.len() {
        assert_corrupt(&good[..cut]);
    }
    for bad in [
        "",
        "null",
        "[]",
        "\"text\"",
        "{}",
        "hello",
        // Someone else's value under our prefix.
        r#"{"user":"ana","theme":"dark"}"#,
        // Another schema version, or no version.
        &good.replacen("\"v\":1", "\"v\":2", 1),
        &good.replacen("\"v\":1", "\"v\":\"1\"", 1),
        &good.replacen("\"v\":1,", "", 1),
        // Unknown type.
        &good.replacen("\"t\":\"action\"", "\"t\":\"job\"", 1),
        // Wrong member types.
        &good.replacen("\"n\":1", "\"n\":\"1\"", 1),
        &good.replacen("\"n\":1", "\"n\":-1", 1),
        &good.replacen("\"n\":1", "\"n\":1.5", 1),
        &good.replacen("\"n\":1", "\"n\":99999999999", 1),
        &good.replacen("\"s\":\"done\"", "\"s\":\"great\"", 1),
        &good.replacen("\"s\":201", "\"s\":70000", 1),
        &good.replacen("\"c\":1700000000000", "\"c\":null", 1),
        &good.replacen("\"w\":60000", "\"w\":86400001", 1),
        &good.replacen("\"k\":\"0f8e", "\"k\":\"0 f8e", 1),
        &good.replacen("\"f\":\"", "\"f\":\"X", 1),
        &good.replacen("\"r\":{\"s\":201", "\"r\":{\"s\":\"201\"", 1),
        &good.replacen("\"j\":{", "\"b\":\"x\",\"j\":{", 1),
        &good.replacen("\"j\":{", "\"x\":{", 1),
        &good.replacen("\"e\":420", "\"e\":420,\"E\":5", 1),
    ] {
        assert_corrupt(bad);
    }
    let d = Record::Draft(draft()).encode();
    assert_corrupt(&d.replacen("[\"name\",\"Ana\"]", "[\"name\",3]", 1));
    assert_corrupt(&d.replacen("\"z\":1234", "\"z\":\"big\"", 1));
    let o = Record::Outbox(outbox(1, OutboxStatus::Sending)).encode();
    assert_corrupt(&o.replacen("\"sending\"", "\"lost\"", 1));
}

#[test]
fn a_record_outside_its_namespace_or_key_is_foreign() {
    let r = Record::Action(finished_action());
    let text = r.encode();
    let storage_key = r.storage_key("shop");
    assert_eq!(
        storage_key,
        "shop:v1:a:0f8e1c2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b"
    );
    // Another namespace, another schema, a copy under another key: all refused.
    for (ns, k) in [
        ("blog", storage_key.as_str()),
        ("shop", "shop:v2:a:0f8e1c2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b"),
        ("shop", "shop:v1:a:another-key"),
        ("shop", "shop:v1:q:0f8e1c2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b"),
    ] {
        assert_eq!(
            Record::decode_stored(ns, k, &text, T0).unwrap_err().code(),
            "corrupt_record",
            "{ns} {k}"
        );
    }
}

#[test]
fn storage_keys_are_namespaced_escaped_and_sorted() {
    let k = key("k:1%");
    assert_eq!(action_key("shop", &k), "shop:v1:a:k%3A1%25");
    assert_eq!(
        index_key("shop", "createOrder", &fp("x")),
        format!("shop:v1:i:createOrder:{}", fp("x"))
    );
    assert_eq!(draft_key("shop", "checkout"), "shop:v1:d:checkout");
    assert_eq!(outbox_key("shop", "c-42", 7), "shop:v1:o:c-42:0000000007");
    assert_eq!(quick_key("shop", &k), "shop:v1:q:k%3A1%25");
    assert_eq!(seen_key("shop", "m-1"), "shop:v1:s:m-1");
    // Outbox keys sort in delivery order.
    assert!(outbox_key("shop", "c", 9) < outbox_key("shop", "c", 10));
    // A conversation whose id contains ':' does not look like another's outbox.
    assert!(!outbox_key("shop", "a:b", 1).starts_with(&outbox_prefix("shop", "a")));
    assert!(outbox_key("shop", "a", 1).starts_with(&outbox_prefix("shop", "a")));
    // Namespaces do not leak into each other.
    assert!(owns("shop", "shop:v1:d:x"));
    assert!(!owns("shop", "shop2:v1:d:x"));
    assert!(!owns("shop", "shop:v0:d:x"));
    assert!(!owns("a", &draft_key("a:v1", "x")));
}

#[test]
fn eviction_never_touches_the_users_words() {
    let now = T0 + 2 * MIN;
    let older_done = ActionRecord {
        key: key("old-done"),
        finished_at: Some(T0 + 30_000),
        window_ms: 10 * MIN,
        ..finished_action()
    };
    let newer_done = ActionRecord {
        key: key("new-done"),
        finished_at: Some(T0 + 90_000),
        window_ms: 10 * MIN,
        ..finished_action()
    };
    let expired_done = finished_action(); // expired at T0 + 420 + 1 min
    let records = vec![
        Record::Action(pending_action()),
        Record::Seen(SeenRecord {
            at: now - 1_000,
            ..seen()
        }),
        Record::Action(newer_done.clone()),
        Record::Draft(draft()),
        Record::Outbox(outbox(1, OutboxStatus::Sending)),
        Record::Outbox(outbox(2, OutboxStatus::Error)),
        Record::Outbox(OutboxEntry {
            at: now - 10,
            ..outbox(3, OutboxStatus::Delivered)
        }),
        Record::Quick(QuickReplyRecord {
            finished_at: now - 2_000,
            ..quick()
        }),
        Record::Action(older_done.clone()),
        Record::Action(expired_done.clone()),
    ];
    let entries: Vec<(String, Record)> = records
        .into_iter()
        .map(|r| (r.storage_key("shop"), r))
        .collect();
    let order = eviction_order(&entries, now);
    assert_eq!(
        order,
        vec![
            action_key("shop", &expired_done.key),
            action_key("shop", &older_done.key),
            action_key("shop", &newer_done.key),
            outbox_key("shop", "c-42", 3),
            quick_key("shop", &quick().key),
            seen_key("shop", &seen().id_or_hash),
        ]
    );
    for protected in [
        action_key("shop", &pending_action().key),
        draft_key("shop", "checkout"),
        outbox_key("shop", "c-42", 1),
        outbox_key("shop", "c-42", 2),
    ] {
        assert!(
            !order.contains(&protected),
            "{protected} must never be evicted"
        );
    }
    // Even long after, an unfinished action is not offered for eviction.
    let late = eviction_order(&entries, now + 365 * DAY);
    assert!(!late.contains(&action_key("shop", &pending_action().key)));
    // A draft untouched for a week is stale: offered last, after every finished record, so
    // that a pending order can still be written to a full storage.
    assert_eq!(late.last(), Some(&draft_key("shop", "checkout")));
    let stale = eviction_order(&entries, draft().saved_at + STALE_DRAFT_MS - 1);
    assert!(!stale.contains(&draft_key("shop", "checkout")));
}

#[test]
fn index_entries_go_when_their_action_is_gone_or_goes() {
    let done = finished_action();
    let kept = pending_action();
    let idx = |fp: &str| format!("shop:v1:i:createOrder:{fp}");
    let stored = vec![
        action_key("shop", &done.key),
        action_key("shop", &kept.key),
        idx("f-done"),
        idx("f-kept"),
        idx("f-gone"),
    ];
    let index = vec![
        (idx("f-done"), done.key.to_string()),
        (idx("f-kept"), kept.key.to_string()),
        (idx("f-gone"), "evicted-long-ago".to_string()),
    ];
    let order = evict_with_index("shop", vec![action_key("shop", &done.key)], &index, &stored);
    assert_eq!(
        order,
        vec![idx("f-gone"), action_key("shop", &done.key), idx("f-done")]
    );
    // The entry of an action that stays is never offered.
    assert!(!order.contains(&idx("f-kept")));
}

#[test]
fn plan_action_repeats_resumes_or_starts_anew() {
    let done = finished_action();
    let same = fp("order");
    let end = done.expires_at();
    // Same data inside the window: answered locally.
    assert_eq!(
        plan_action(Some(&done), &same, T0 + 1_000),
        ActionPlan::Repeat(done.clone())
    );
    // Other data, or the window passed: a new action.
    assert_eq!(
        plan_action(Some(&done), &fp("other"), T0 + 1_000),
        ActionPlan::New
    );
    assert_eq!(plan_action(Some(&done), &same, end), ActionPlan::New);
    // Already received counts as confirmed; a rejection does not.
    let replayed = ActionRecord {
        status: StatusCode::AlreadyReceived,
        ..done.clone()
    };
    assert!(matches!(
        plan_action(Some(&replayed), &same, T0 + 1_000),
        ActionPlan::Repeat(_)
    ));
    for status in [
        StatusCode::Rejected,
        StatusCode::Changed,
        StatusCode::Failed,
    ] {
        let r = ActionRecord {
            status,
            ..done.clone()
        };
        assert_eq!(
            plan_action(Some(&r), &same, T0 + 1_000),
            ActionPlan::New,
            "{status:?}"
        );
    }
    // Unfinished with the same data: keep its key for 24 h.
    let pending = pending_action();
    assert_eq!(
        plan_action(Some(&pending), &same, T0 + DAY - 1),
        ActionPlan::Resume(pending.key.clone())
    );
    assert_eq!(
        plan_action(Some(&pending), &same, T0 + DAY),
        ActionPlan::New
    );
    assert_eq!(
        plan_action(Some(&pending), &fp("edited"), T0 + 1),
        ActionPlan::New
    );
    assert_eq!(plan_action(None, &same, T0), ActionPlan::New);
}

#[test]
fn form_key_keeps_repeats_or_rotates() {
    let k = key("0f8e1c2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b");
    let same = fp("order");
    let done = finished_action();
    // No key yet: a new one.
    assert_eq!(form_key(None, None, &same, T0), FormKeyChoice::Rotate);
    // Never sent: keep it, whatever the data became.
    assert_eq!(
        form_key(Some(&k), None, &fp("edited"), T0),
        FormKeyChoice::Keep(k.clone())
    );
    // Sent, unfinished, same data: keep (a retry or a resume).
    let pending = ActionRecord {
        key: k.clone(),
        ..pending_action()
    };
    assert_eq!(
        form_key(Some(&k), Some(&pending), &same, T0 + 5),
        FormKeyChoice::Keep(k.clone())
    );
    // Sent and then the data changed: rotate.
    assert_eq!(
        form_key(Some(&k), Some(&pending), &fp("edited"), T0 + 5),
        FormKeyChoice::Rotate
    );
    assert_eq!(
        form_key(Some(&k), Some(&done), &fp("edited"), T0 + 5),
        FormKeyChoice::Rotate
    );
    // Finished, confirmed, unchanged, in the window: already received.
    assert_eq!(
        form_key(Some(&k), Some(&done), &same, T0 + 1_000),
        FormKeyChoice::Repeat(done.clone())
    );
    // The window passed: a new submission.
    assert_eq!(
        form_key(Some(&k), Some(&done), &same, done.expires_at()),
        FormKeyChoice::Rotate
    );
    // Rejected: the same data goes out with a new key.
    let rejected = ActionRecord {
        status: StatusCode::Rejected,
        ..done.clone()
    };
    assert_eq!(
        form_key(Some(&k), Some(&rejected), &same, T0 + 1_000),
        FormKeyChoice::Rotate
    );
    // An unfinished action past its retention is not resumed with the old key.
    assert_eq!(
        form_key(Some(&k), Some(&pending), &same, T0 + DAY),
        FormKeyChoice::Rotate
    );
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".*") {
        let _ = Record::decode(&text, T0);
        let _ = Record::decode_stored("shop", &text, &text, T0);
    }

    #[test]
    fn mutated_records_never_panic(idx in 0usize..13, pos in 0usize..400, byte in any::<u8>()) {
        let mut bytes = all_records()[idx].encode().into_bytes();
        let p = pos % bytes.len();
        bytes[p] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            let _ = Record::decode(&text, T0);
        }
    }

    #[test]
    fn any_seen_record_round_trips(h in ".*", at in 0u64..(1 << 52), w in 1_000u64..=86_400_000) {
        let r = Record::Seen(SeenRecord { id_or_hash: h, at, window_ms: w });
        prop_assert_eq!(Record::decode(&r.encode(), at).unwrap(), Some(r.clone()));
        let k = r.storage_key("n:s");
        prop_assert_eq!(Record::decode_stored("n:s", &k, &r.encode(), at).unwrap(), Some(r));
    }
}

/// A store's entries offered one at a time, in any order, give the same victims as sorting
/// them all and taking the shortest run from the start that frees enough (what a pass over
/// the in-memory map did before it stopped holding a table of every entry).
#[test]
fn victims_offered_one_by_one_are_the_shortest_run_of_the_sorted_order() {
    let mut seed = 0x2545_f491_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..200 {
        let count = 1 + next(60) as usize;
        let entries: Vec<(Place, usize)> = (0..count)
            .map(|i| {
                let key = format!("ns:v1:a:{:04}", next(10_000) * 100 + i as u64);
                let (group, time) = (next(4) as u8, next(5));
                let place = match next(3) {
                    0 => Place::record(group, time, key),
                    1 => Place::index_after(group, time, key.clone(), format!("ns:v1:i:{key}")),
                    _ => Place::first(format!("ns:v1:i:x{i}")),
                };
                (place, 1 + next(500) as usize)
            })
            .collect();
        let total: usize = entries.iter().map(|(_, s)| s).sum();
        let to_free = match round % 4 {
            0 => 0,
            1 => total + 1,
            _ => next(total as u64) as usize,
        };
        let mut sorted = entries.clone();
        sorted.sort();
        let mut expected = Vec::new();
        let mut over = to_free;
        for (place, size) in sorted {
            if over == 0 {
                break;
            }
            over = over.saturating_sub(size);
            expected.push(place.into_key());
        }
        let mut victims = Victims::new(to_free);
        for (place, size) in entries {
            victims.offer(place, size);
        }
        assert_eq!(
            victims.into_keys(),
            expected,
            "round {round}, to_free {to_free}"
        );
    }
}
