//! Reading server replies the way the idempotency draft says, and the way real servers answer
//! (SPEC section 8): every status a user can meet maps to one calm status.
#![cfg(not(target_arch = "wasm32"))]

use sendonce::core::reply::{
    classify_reply, job_state, reason, JobState, Reply, ReplyClass, MAX_REASON_CHARS,
};

const REPLAY: &str = "Idempotent-Replayed";

fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    Reply {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
    }
}

fn class(status: u16, headers: &[(&str, &str)], body: &str) -> ReplyClass {
    classify_reply(&reply(status, headers, body), REPLAY)
}

#[test]
fn every_status_has_its_class() {
    use ReplyClass::*;
    for s in [200, 201, 204, 299] {
        assert_eq!(class(s, &[], ""), Success { replayed: false }, "{s}");
    }
    assert_eq!(class(202, &[], ""), Accepted { poll_url: None });
    for s in [409, 425] {
        assert_eq!(class(s, &[], ""), InProgress, "{s}");
    }
    for s in [422, 417] {
        assert_eq!(class(s, &[], ""), Changed, "{s}");
    }
    for s in [408, 429, 500, 502, 503, 504] {
        assert_eq!(class(s, &[], ""), Retryable, "{s}");
    }
    for s in [501, 505, 507, 511, 599] {
        assert_eq!(class(s, &[], ""), ServerFailure, "{s}");
    }
    for s in [
        0,
        100,
        301,
        304,
        400,
        401,
        403,
        404,
        410,
        413,
        451,
        600,
        u16::MAX,
    ] {
        assert!(matches!(class(s, &[], ""), Rejected { .. }), "{s}");
    }
}

#[test]
fn replays_keep_their_status_and_the_header_is_read_in_any_case() {
    for (name, value) in [
        ("Idempotent-Replayed", "true"),
        ("idempotent-replayed", "TRUE"),
        ("IDEMPOTENT-REPLAYED", " True "),
        ("Idempotent-Replayed", "1"),
        ("Idempotent-Replayed", "?1"),
    ] {
        assert_eq!(
            class(201, &[(name, value)], "{}"),
            ReplyClass::Success { replayed: true },
            "{name}: {value}"
        );
    }
    for value in ["false", "0", "", "no"] {
        assert_eq!(
            class(201, &[(REPLAY, value)], "{}"),
            ReplyClass::Success { replayed: false }
        );
    }
    // A custom replay header (option replayHeader).
    let r = reply(200, &[("X-Cache-Replay", "yes")], "");
    assert_eq!(
        classify_reply(&r, "x-cache-replay"),
        ReplyClass::Success { replayed: true }
    );
}

#[test]
fn replayed_5xx_is_a_stored_failure_but_a_fresh_one_is_retried() {
    assert_eq!(
        class(500, &[(REPLAY, "true")], ""),
        ReplyClass::ReplayedFailure
    );
    assert_eq!(
        class(503, &[(REPLAY, "true")], ""),
        ReplyClass::ReplayedFailure
    );
    assert_eq!(class(500, &[], ""), ReplyClass::Retryable);
    // A replayed 4xx is just that 4xx.
    assert!(matches!(
        class(400, &[(REPLAY, "true")], ""),
        ReplyClass::Rejected { .. }
    ));
}

#[test]
fn html_409_is_in_progress() {
    assert_eq!(
        class(
            409,
            &[("Content-Type", "text/html")],
            "<html><h1>Conflict</h1></html>"
        ),
        ReplyClass::InProgress
    );
}

#[test]
fn accepted_finds_its_poll_url() {
    let url = |r: ReplyClass| match r {
        ReplyClass::Accepted { poll_url } => poll_url,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        url(class(202, &[("Location", "/jobs/1")], "")),
        Some("/jobs/1".into())
    );
    assert_eq!(
        url(class(
            202,
            &[("content-type", "application/json")],
            r#"{"statusUrl":"/jobs/2"}"#
        )),
        Some("/jobs/2".into())
    );
    // Location wins over the body.
    assert_eq!(
        url(class(202, &[("location", "/a")], r#"{"statusUrl":"/b"}"#)),
        Some("/a".into())
    );
    // A blank Location falls through to the body.
    assert_eq!(
        url(class(
            202,
            &[("Location", "  ")],
            r#"{"statusUrl":"/jobs/3"}"#
        )),
        Some("/jobs/3".into())
    );
    assert_eq!(url(class(202, &[("Location", "")], "")), None);
    assert_eq!(url(class(202, &[], r#"{"statusUrl":""}"#)), None);
    assert_eq!(url(class(202, &[], r#"{"statusUrl":5}"#)), None);
}

#[test]
fn reasons_come_from_problem_json_or_short_text() {
    let pj = [("Content-Type", "application/problem+json")];
    let why = |r: Reply| reason(&r);
    assert_eq!(
        why(reply(
            400,
            &pj,
            r#"{"title":"Bad","detail":"Email is invalid"}"#
        )),
        Some("Email is invalid".into())
    );
    assert_eq!(
        why(reply(400, &pj, r#"{"title":"Bad"}"#)),
        Some("Bad".into())
    );
    assert_eq!(
        why(reply(400, &[], r#"{"message":"Too big"}"#)),
        Some("Too big".into())
    );
    assert_eq!(
        why(reply(400, &[], r#"{"error":"nope"}"#)),
        Some("nope".into())
    );
    assert_eq!(
        why(reply(
            400,
            &[("Content-Type", "text/plain")],
            "  Quota exceeded \n"
        )),
        Some("Quota exceeded".into())
    );
    // Nothing a person should read.
    assert_eq!(why(reply(400, &pj, r#"{"detail":"   "}"#)), None);
    assert_eq!(why(reply(400, &pj, r#"{"detail":7}"#)), None);
    assert_eq!(
        why(reply(400, &[("Content-Type", "text/html")], "Oops")),
        None
    );
    assert_eq!(why(reply(400, &[], "<!doctype html><p>Oops")), None);
    assert_eq!(why(reply(400, &[], "")), None);
    assert_eq!(why(reply(400, &pj, "{broken")), None);
    assert_eq!(why(reply(400, &[], r#"{"detail": "unterminated"#)), None);
    assert_eq!(why(reply(400, &[], "[1,2")), None);
    // Bounded.
    let long = "x".repeat(MAX_REASON_CHARS * 3);
    let r = why(reply(400, &[("Content-Type", "text/plain")], &long)).unwrap();
    assert_eq!(r.chars().count(), MAX_REASON_CHARS + 1);
    // Rejected carries the reason.
    assert_eq!(
        class(403, &pj, r#"{"detail":"Not allowed"}"#),
        ReplyClass::Rejected {
            reason: Some("Not allowed".into())
        }
    );
}

#[test]
fn job_states_are_read_from_2xx_poll_replies() {
    let json = [("Content-Type", "application/json")];
    let state = |s: u16, body: &str| job_state(&reply(s, &json, body));
    assert_eq!(
        state(200, r#"{"state":"accepted"}"#),
        Some(JobState::Accepted)
    );
    assert_eq!(
        state(200, r#"{"state":"in_progress"}"#),
        Some(JobState::InProgress)
    );
    assert_eq!(state(200, r#"{"state":"DONE"}"#), Some(JobState::Done));
    assert_eq!(state(200, r#"{"status":"failed"}"#), Some(JobState::Error));
    assert_eq!(
        state(200, r#"{"state":"error","error":"x"}"#),
        Some(JobState::Error)
    );
    assert_eq!(state(200, r#"{"state":"weird"}"#), None);
    assert_eq!(state(200, "not json"), None);
    // The status endpoint itself failing says nothing about the job.
    assert_eq!(
        state(500, r#"{"status":"error","message":"db down"}"#),
        None
    );
    assert_eq!(state(404, r#"{"state":"error"}"#), None);
}

#[test]
fn reply_headers_are_bounded_before_they_are_copied() {
    use sendonce::core::reply::{
        truncation_note, HeaderBudget, MAX_BODY_BYTES, MAX_HEADERS, MAX_HEADER_BYTES,
    };
    // An endless list of headers with 1 MiB values: none is kept, and reading stops.
    let mut b = HeaderBudget::default();
    let mut read = 0;
    while !b.exhausted() {
        assert!(!b.admit(5, 1 << 20));
        read += 1;
    }
    assert_eq!(read, 4 * MAX_HEADERS);
    assert_eq!(b.kept, 0);
    // Ordinary headers: the first MAX_HEADERS are kept, within MAX_HEADER_BYTES.
    let mut b = HeaderBudget::default();
    let kept = (0..1_000).filter(|_| b.admit(12, 20)).count();
    assert_eq!(kept, MAX_HEADERS);
    assert!(b.bytes <= MAX_HEADER_BYTES);
    assert_eq!(b.dropped, 900);
    assert_eq!(
        truncation_note(false, b.dropped).as_deref(),
        Some("900 headers left out")
    );
    assert_eq!(
        truncation_note(true, 1).as_deref(),
        Some("body cut at 1048576 bytes; 1 header left out")
    );
    assert_eq!(MAX_BODY_BYTES, 1 << 20);
}
