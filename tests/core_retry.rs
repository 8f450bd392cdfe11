//! Retry decisions and `Retry-After`: when sendonce asks again, and when it stops.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sendonce::core::retry::*;

const P: RetryPolicy = RetryPolicy {
    attempts: 5,
    base_delay_ms: 300,
    max_delay_ms: 10_000,
    timeout_ms: 10_000,
    deadline_ms: 60_000,
};

#[test]
fn default_policy_is_the_documented_one() {
    assert_eq!(RetryPolicy::default(), P);
    assert_eq!(P.validate(), Ok(P));
}

#[test]
fn validation_names_the_option() {
    let bad = |p: RetryPolicy| p.validate().unwrap_err().to_string();
    assert!(bad(RetryPolicy { attempts: 0, ..P }).contains("retry.attempts"));
    assert!(bad(RetryPolicy { attempts: 101, ..P }).contains("retry.attempts"));
    assert!(bad(RetryPolicy {
        max_delay_ms: 1,
        ..P
    })
    .contains("retry.maxDelayMs"));
    assert!(bad(RetryPolicy {
        timeout_ms: 50,
        ..P
    })
    .contains("retry.timeoutMs"));
    assert!(bad(RetryPolicy {
        deadline_ms: 9_999,
        ..P
    })
    .contains("retry.deadlineMs"));
    assert!(bad(RetryPolicy {
        deadline_ms: 86_400_001,
        ..P
    })
    .contains("retry.deadlineMs"));
}

#[test]
fn stops_at_attempts_and_at_the_deadline() {
    for a in 1..5 {
        assert!(matches!(
            decide(&P, a, 0, None, 0, true),
            Decision::Retry(_)
        ));
    }
    assert_eq!(
        decide(&P, 5, 0, None, 0, true),
        Decision::Stop(StopReason::Attempts)
    );
    assert_eq!(
        decide(&P, 99, 0, None, 0, true),
        Decision::Stop(StopReason::Attempts)
    );
    // A server-asked wait that overruns the deadline is cut to it (see below); our own
    // backoff that overruns it stops.
    assert_eq!(
        decide(&P, 1, 59_000, Some(2_000), 0, true),
        Decision::Retry(999)
    );
    assert_eq!(
        decide(&P, 1, 59_999, Some(2_000), 0, true),
        Decision::Stop(StopReason::Deadline)
    );
    assert_eq!(
        decide(&P, 4, 59_900, None, u32::MAX, true),
        Decision::Stop(StopReason::Deadline)
    );
    assert_eq!(
        decide(&P, 1, 60_000, None, 0, true),
        Decision::Stop(StopReason::Deadline)
    );
    // Uncounted waits ignore attempts, not the deadline.
    assert!(matches!(
        decide(&P, 99, 0, None, 0, false),
        Decision::Retry(_)
    ));
    assert_eq!(
        decide(&P, 1, 60_000, None, 0, false),
        Decision::Stop(StopReason::Deadline)
    );
}

#[test]
fn retry_after_is_honoured_up_to_60_seconds() {
    let long = RetryPolicy {
        deadline_ms: 600_000,
        ..P
    };
    assert_eq!(
        decide(&long, 1, 0, Some(2_000), 0, true),
        Decision::Retry(2_000)
    );
    assert_eq!(
        decide(&long, 1, 0, Some(86_400_000), 0, true),
        Decision::Retry(MAX_RETRY_AFTER_MS)
    );
    assert_eq!(
        decide(&long, 1, 0, Some(0), u32::MAX, true),
        Decision::Retry(0)
    );
}

#[test]
fn retry_after_of_a_minute_or_more_waits_while_the_deadline_allows() {
    // SPEC 5: a `Retry-After` above 60 s waits (capped at 60 s), never an immediate `failed`.
    // With the default 60 s deadline the wait ends just before the deadline, for one last try.
    for ra in [60_000, 120_000, 86_400_000] {
        assert_eq!(
            decide(&P, 1, 0, Some(ra), 0, true),
            Decision::Retry(59_999),
            "{ra}"
        );
        assert_eq!(
            decide(&P, 1, 20, Some(ra), 0, true),
            Decision::Retry(59_979)
        );
    }
    // A longer deadline: the full 60 s cap.
    let long = RetryPolicy {
        deadline_ms: 600_000,
        ..P
    };
    assert_eq!(
        decide(&long, 1, 0, Some(120_000), 0, true),
        Decision::Retry(MAX_RETRY_AFTER_MS)
    );
    // Attempts still count.
    assert_eq!(
        decide(&P, 5, 0, Some(120_000), 0, true),
        Decision::Stop(StopReason::Attempts)
    );
}

#[test]
fn in_progress_waits_have_a_floor() {
    // About one request a second at most, whatever the server's `Retry-After: 0` or a tiny
    // base delay (SPEC 5: a server answering 409 for ever).
    assert_eq!(MIN_UNCOUNTED_WAIT_MS, 1_000);
    assert_eq!(decide(&P, 1, 0, Some(0), 0, false), Decision::Retry(1_000));
    let tiny = RetryPolicy {
        base_delay_ms: 1,
        ..P
    };
    for n in 1..20 {
        assert_eq!(
            decide(&tiny, n, 0, Some(0), 0, false),
            Decision::Retry(1_000)
        );
        assert_eq!(decide(&tiny, n, 0, None, 0, false), Decision::Retry(1_000));
    }
    let zero = RetryPolicy {
        base_delay_ms: 0,
        ..P
    };
    assert_eq!(
        decide(&zero, 1, 0, None, 0, false),
        Decision::Retry(MIN_UNCOUNTED_WAIT_MS)
    );
    assert_eq!(
        decide(&P, 1, 0, Some(5_000), 0, false),
        Decision::Retry(5_000)
    );
}

#[test]
fn backoff_is_full_jitter_between_zero_and_the_ceiling() {
    assert_eq!(P.backoff_ms(2, 0), 0);
    assert_eq!(P.backoff_ms(2, u32::MAX), 300);
    assert_eq!(P.backoff_ms(3, u32::MAX), 600);
    assert_eq!(P.backoff_ms(4, u32::MAX), 1_200);
    assert_eq!(P.backoff_ms(10, u32::MAX), 10_000);
    assert_eq!(P.backoff_ms(u32::MAX, u32::MAX), 10_000);
    assert_eq!(P.backoff_ms(0, u32::MAX), 300);
    let mid = P.backoff_ms(2, u32::MAX / 2);
    assert!((140..=160).contains(&mid), "{mid}");
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    assert_eq!(parse_retry_after("0", 0), Some(0));
    assert_eq!(parse_retry_after(" 120 ", 0), Some(120_000));
    assert_eq!(parse_retry_after("9999999999", 0), Some(9_999_999_999_000));
    let now = 1_445_412_470_000; // Wed, 21 Oct 2015 07:27:50 GMT
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
        Some(10_000)
    );
    // A date in the past means now.
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
        Some(0)
    );
    for bad in [
        "",
        "soon",
        "-1",
        "+5",
        "1.5",
        "12345678901",
        "0x10",
        "5 s",
        "Wed, 21 Oct 2015 07:28:00 UTC",
        "Wednesday, 21-Oct-15 07:28:00 GMT",
        "Wed Oct 21 07:28:00 2015",
        "Xyz, 21 Oct 2015 07:28:00 GMT",
        "Wed, 31 Feb 2015 07:28:00 GMT",
        "Wed, 21 Oct +2015 07:28:00 GMT",
        "Wed, 21 Oct 2015 7:28:00 GMT",
        "Wed, 21 Oct 2015 24:00:00 GMT",
        "Wed, 21 Oct 1969 07:28:00 GMT",
    ] {
        assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
    }
}

#[test]
fn http_dates_match_known_instants() {
    assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    assert_eq!(
        parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777_000)
    );
    assert_eq!(
        parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
        Some(951_825_600_000)
    );
    assert_eq!(parse_http_date("Thu, 29 Feb 2001 12:00:00 GMT"), None);
    assert_eq!(
        parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
        Some(253_402_300_799_000)
    );
}

proptest! {
    #[test]
    fn decisions_stay_in_bounds(
        attempt in 0u32..200,
        elapsed in 0u64..200_000,
        retry_after in prop::option::of(any::<u64>()),
        random in any::<u32>(),
        counts in any::<bool>(),
    ) {
        match decide(&P, attempt, elapsed, retry_after, random, counts) {
            Decision::Retry(ms) => {
                prop_assert!(elapsed + ms < P.deadline_ms);
                prop_assert!(!counts || attempt < P.attempts);
                match retry_after {
                    Some(ra) => prop_assert!(ms <= ra.clamp(P.base_delay_ms, MAX_RETRY_AFTER_MS) || !counts),
                    None => prop_assert!(ms <= P.max_delay_ms),
                }
                // The one exception to the floor: a server-asked wait cut to the deadline
                // (the last attempt goes out just before it).
                let last_try = retry_after.is_some() && elapsed + ms + 1 == P.deadline_ms;
                if !counts {
                    prop_assert!(ms >= P.base_delay_ms || last_try);
                }
            }
            Decision::Stop(_) => {}
        }
    }

    #[test]
    fn seconds_round_trip(secs in 0u64..10_000_000_000) {
        prop_assert_eq!(parse_retry_after(&secs.to_string(), 0), Some(secs * 1_000));
    }
}

proptest! {
    #[test]
    fn backoff_stays_under_its_ceiling_and_grows_with_the_random_number(
        base in 0u64..1_000_000,
        extra in 0u64..u64::MAX / 4,
        n in any::<u32>(),
        r1 in any::<u32>(),
        r2 in any::<u32>(),
    ) {
        let p = RetryPolicy { base_delay_ms: base, max_delay_ms: base + extra, ..P };
        let exp = n.saturating_sub(2).min(30);
        let ceiling = base.saturating_mul(1 << exp).min(base + extra);
        let (lo, hi) = (r1.min(r2), r1.max(r2));
        prop_assert!(p.backoff_ms(n, hi) <= ceiling);
        prop_assert!(p.backoff_ms(n, lo) <= p.backoff_ms(n, hi));
        // Full jitter: the top random number reaches (almost) the ceiling.
        prop_assert!(p.backoff_ms(n, u32::MAX) + 1 + (ceiling >> 31) >= ceiling);
    }
}
