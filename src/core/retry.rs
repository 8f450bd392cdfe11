//! Retry decisions: one function decides whether to retry and when; another parses
//! `Retry-After`. Waiting is the platform's job.

use crate::core::error::SendonceError;

/// Longest `Retry-After` sendonce honours: a server asking for more is capped here, so a
/// person is not left waiting for minutes without news.
pub const MAX_RETRY_AFTER_MS: u64 = 60_000;

/// Shortest wait before asking again about a request the server says is still in progress
/// (409, 425), whatever the policy's base delay and the server's `Retry-After`: a server that
/// answers 409 for ever (or with `Retry-After: 0`) gets about one request a second at most
/// (SPEC section 5), not one every few ms.
pub const MIN_UNCOUNTED_WAIT_MS: u64 = 1_000;

/// The shortest timeout an attempt started near the deadline gets (or `timeoutMs`, if that is
/// shorter): an attempt cut to a few ms would only abort.
pub const MIN_ATTEMPT_MS: u64 = 1_000;

/// How an action retries (option `retry`), normalised once with defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 5).
    pub attempts: u32,
    /// First backoff ceiling in ms (default 300).
    pub base_delay_ms: u64,
    /// Largest backoff ceiling in ms (default 10 000).
    pub max_delay_ms: u64,
    /// Per-attempt timeout in ms (default 10 000).
    pub timeout_ms: u64,
    /// Give up this long after the first attempt started (default 60 000).
    pub deadline_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay_ms: 300,
            max_delay_ms: 10_000,
            timeout_ms: 10_000,
            deadline_ms: 60_000,
        }
    }
}

impl RetryPolicy {
    /// The timeout of an attempt that starts `elapsed_ms` after the run began: `timeoutMs`, cut
    /// to what is left of `deadlineMs` (but at least [`MIN_ATTEMPT_MS`]), so that the last
    /// attempt does not run on long past the deadline.
    ///
    /// ```
    /// use sendonce::core::retry::RetryPolicy;
    /// let p = RetryPolicy { timeout_ms: 10_000, deadline_ms: 60_000, ..RetryPolicy::default() };
    /// assert_eq!(p.attempt_timeout_ms(0), 10_000);
    /// assert_eq!(p.attempt_timeout_ms(57_000), 3_000);
    /// assert_eq!(p.attempt_timeout_ms(59_900), 1_000);
    /// ```
    pub fn attempt_timeout_ms(&self, elapsed_ms: u64) -> u64 {
        let left = self.deadline_ms.saturating_sub(elapsed_ms);
        self.timeout_ms.min(left.max(MIN_ATTEMPT_MS))
    }

    /// Checks that the numbers make sense together; errors name the option.
    pub fn validate(self) -> Result<Self, SendonceError> {
        let bad = |name: &str, reason: &str| Err(SendonceError::option(name, reason));
        if self.attempts == 0 || self.attempts > 100 {
            return bad("retry.attempts", "must be between 1 and 100");
        }
        if self.max_delay_ms < self.base_delay_ms {
            return bad("retry.maxDelayMs", "must be at least retry.baseDelayMs");
        }
        if self.timeout_ms < 100 || self.timeout_ms > 600_000 {
            return bad("retry.timeoutMs", "must be between 100 and 600000");
        }
        if self.deadline_ms < self.timeout_ms {
            return bad("retry.deadlineMs", "must be at least retry.timeoutMs");
        }
        if self.deadline_ms > 86_400_000 {
            return bad("retry.deadlineMs", "must be at most 24 h (86400000)");
        }
        Ok(self)
    }

    /// The full-jitter backoff before attempt `next_attempt` (2 for the first retry): a
    /// uniformly random wait in `0..=min(max, base * 2^(n-2))`, from the given random number.
    ///
    /// ```
    /// use sendonce::core::retry::RetryPolicy;
    /// let p = RetryPolicy::default();
    /// assert!(p.backoff_ms(2, u32::MAX) <= 300);
    /// assert!(p.backoff_ms(30, u32::MAX) <= 10_000);
    /// ```
    pub fn backoff_ms(&self, next_attempt: u32, random: u32) -> u64 {
        let exp = next_attempt.saturating_sub(2).min(30);
        let ceiling = self
            .base_delay_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_delay_ms);
        // random / 2^32 scaled onto 0..=ceiling without floating point. In u128: with a
        // ceiling past 2^32 ms a saturating u64 product would lose the jitter.
        (((u128::from(ceiling) + 1) * u128::from(random)) >> 32) as u64
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this many ms, with the same key and bytes.
    Retry(u64),
    /// Stop: the attempts or the deadline are used up.
    Stop(StopReason),
}

/// Why retrying stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `attempts` attempts were made.
    Attempts,
    /// The next attempt would start after `deadlineMs`.
    Deadline,
}

/// Decides about a retry after attempt `attempt` (1-based) failed in a retryable way.
/// `elapsed_ms` is the time since the first attempt started; `retry_after_ms` is the server's
/// `Retry-After`, already parsed, honoured up to [`MAX_RETRY_AFTER_MS`] in place of the
/// backoff, and cut to what is left of the deadline (the last attempt then goes out just
/// before it); `counts` is false for "still in progress" answers, which wait without using up
/// attempts (only the deadline limits them) and wait at least the base delay (and
/// [`MIN_UNCOUNTED_WAIT_MS`]).
///
/// ```
/// use sendonce::core::retry::{decide, Decision, RetryPolicy, StopReason};
/// let p = RetryPolicy::default();
/// assert!(matches!(decide(&p, 1, 0, None, 0, true), Decision::Retry(_)));
/// assert_eq!(decide(&p, 5, 0, None, 0, true), Decision::Stop(StopReason::Attempts));
/// assert_eq!(decide(&p, 1, 0, Some(2_000), 0, true), Decision::Retry(2_000));
/// // `Retry-After: 120` with the default 60 s deadline: wait until just before it.
/// assert_eq!(decide(&p, 1, 0, Some(120_000), 0, true), Decision::Retry(59_999));
/// ```
pub fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    elapsed_ms: u64,
    retry_after_ms: Option<u64>,
    random: u32,
    counts: bool,
) -> Decision {
    if counts && attempt >= policy.attempts {
        return Decision::Stop(StopReason::Attempts);
    }
    let mut wait = match retry_after_ms {
        Some(ra) => ra.min(MAX_RETRY_AFTER_MS),
        None => policy.backoff_ms(attempt.saturating_add(1), random),
    };
    if !counts {
        // Waits that use no attempts are bounded only by the deadline: a zero wait (full
        // jitter can draw 0, servers send `Retry-After: 0`) would ask again at once, over and
        // over. They wait at least the base delay, and never less than MIN_UNCOUNTED_WAIT_MS.
        wait = wait.max(policy.base_delay_ms.max(MIN_UNCOUNTED_WAIT_MS));
    }
    let left = policy.deadline_ms.saturating_sub(elapsed_ms);
    if wait >= left {
        // The server asked for a wait longer than the deadline leaves (with the default 60 s
        // deadline, any `Retry-After` of 60 s or more): wait as long as the deadline allows
        // and make the last attempt just before it, rather than giving up at once without
        // the server having said no. A backoff of our own that overruns the deadline stops.
        return match retry_after_ms {
            Some(ra) if ra.min(MAX_RETRY_AFTER_MS) >= left && left > 1 => Decision::Retry(left - 1),
            _ => Decision::Stop(StopReason::Deadline),
        };
    }
    Decision::Retry(wait)
}

/// Parses a `Retry-After` value: delay seconds (`"120"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`), returning milliseconds from `now_ms`. A date in the
/// past gives 0; anything unreadable gives `None` (and the backoff applies).
///
/// ```
/// use sendonce::core::retry::parse_retry_after;
/// assert_eq!(parse_retry_after("3", 0), Some(3_000));
/// let now = 1_445_412_470_000; // 07:27:50 on that day
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(10_000));
/// assert_eq!(parse_retry_after("soon", 0), None);
/// ```
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let v = value.trim();
    if !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<u64>().ok().map(|s| s.saturating_mul(1_000));
    }
    let at = parse_http_date(v)?;
    Some(at.saturating_sub(now_ms))
}

/// Parses an IMF-fixdate (`"Sun, 06 Nov 1994 08:49:37 GMT"`), the form servers send, into
/// Unix milliseconds. The obsolete RFC 850 and asctime forms are refused, and so is anything
/// that is not a real date (a bad day name, `+` signs, 31 February): a wrong date would make
/// the action wait for nothing, and the backoff is the better guess. The day name is not
/// checked against the date, and a one-digit day is taken, as some servers write it.
///
/// ```
/// use sendonce::core::retry::parse_http_date;
/// assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
/// assert_eq!(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"), None);
/// ```
pub fn parse_http_date(s: &str) -> Option<u64> {
    let mut parts = s.split(' ');
    let day_name = parts.next()?.strip_suffix(',')?;
    if !["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&day_name) {
        return None;
    }
    let day = digits(parts.next()?, 1..=2)?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year = digits(parts.next()?, 4..=4)?;
    let mut hms = parts.next()?.split(':');
    let h = digits(hms.next()?, 2..=2)?;
    let m = digits(hms.next()?, 2..=2)?;
    let sec = digits(hms.next()?, 2..=2)?;
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    if year < 1970 || day == 0 || day > days_in_month(year, month) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((((days * 24 + h) * 60 + m) * 60 + sec) * 1_000)
}

/// A number written with only ASCII digits (no sign, no spaces), of a length in `len`.
fn digits(s: &str, len: std::ops::RangeInclusive<usize>) -> Option<u64> {
    if !len.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year >= 1970).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}
