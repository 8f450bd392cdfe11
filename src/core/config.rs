//! `new Sendonce(options)` normalised once: the loose options a user writes
//! ([`SendonceInput`], every member optional, converted from JS by the bindings and nothing
//! more) become complete policies ([`SendonceConfig`]) here, so that every default and every
//! range is decided in one place and tested natively: the namespace default, which storage and
//! what happens when it cannot be opened, the key and replay header names, the key format, the
//! status texts, the retry policy, the repeat windows, the payload cap and the lease.
//!
//! ```
//! use sendonce::core::config::{SendonceConfig, SendonceInput, StorageChoice};
//! let c = SendonceConfig::normalize(SendonceInput::default()).unwrap();
//! assert_eq!(c.namespace, "sendonce");
//! assert_eq!(c.storage, StorageChoice::Local);
//! assert_eq!(c.storage.fallback(), Some(StorageChoice::Memory));
//! assert_eq!(c.header_name, "Idempotency-Key");
//! assert_eq!(c.lease_ms, 15_000);
//! ```

use crate::core::error::SendonceError;
use crate::core::http::{is_header_name, DEFAULT_KEY_HEADER, DEFAULT_REPLAY_HEADER};
use crate::core::json::payload_limit;
use crate::core::key::{validate_namespace, KeyFormat};
use crate::core::retry::RetryPolicy;
use crate::core::status::{Locale, Messages};
use crate::core::text::quoted;
use crate::core::window::{Window, Windows};

/// The namespace of keys and stored records unless the `namespace` option says otherwise.
pub const DEFAULT_NAMESPACE: &str = "sendonce";

/// How long a lease across processes lasts unless renewed: 15 s. A live holder renews it every
/// third of that; a process killed mid-handler lets another take over after at most this long.
pub const DEFAULT_LEASE_MS: u64 = 15_000;

/// The range the `leaseMs` option accepts, in ms: from 1 s to 10 min.
pub const LEASE_MS_RANGE: std::ops::RangeInclusive<u64> = 1_000..=600_000;

/// The `storage` option as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StorageInput {
    /// Not given (or `null`).
    #[default]
    Absent,
    /// A name: `"local"`, `"session"`, `"memory"` (anything else is refused).
    Name(String),
    /// An adapter object; `missing` names the first of `get`, `set`, `delete` that is not a
    /// function on it.
    Adapter {
        /// The first required method the object lacks.
        missing: Option<&'static str>,
    },
    /// Something else (a number, a boolean...).
    Other,
}

/// Where records are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageChoice {
    /// `localStorage` (the default): shared by the tabs of an origin, kept across restarts.
    Local,
    /// `sessionStorage`: this tab only.
    Session,
    /// Memory: this instance only, gone with the page.
    Memory,
    /// The user's adapter (`get`, `set`, `delete`; a bot's Redis...).
    Adapter,
}

impl StorageChoice {
    /// What to use instead when this storage cannot be opened (a browser that refuses
    /// `localStorage`, Node without Web Storage): records are kept in memory, and a
    /// `storage.fallback` event says so. Memory and an adapter have no fallback: they are
    /// always there.
    pub fn fallback(self) -> Option<StorageChoice> {
        match self {
            StorageChoice::Local | StorageChoice::Session => Some(StorageChoice::Memory),
            StorageChoice::Memory | StorageChoice::Adapter => None,
        }
    }

    /// The Web Storage name (`"local"`, `"session"`), for the two that are Web Storage.
    pub fn web_name(self) -> Option<&'static str> {
        match self {
            StorageChoice::Local => Some("local"),
            StorageChoice::Session => Some("session"),
            StorageChoice::Memory | StorageChoice::Adapter => None,
        }
    }
}

/// The `retry` option as written: numbers already checked finite and `>= 0` by the bindings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RetryInput {
    /// `retry.attempts`.
    pub attempts: Option<f64>,
    /// `retry.baseDelayMs`.
    pub base_delay_ms: Option<f64>,
    /// `retry.maxDelayMs`.
    pub max_delay_ms: Option<f64>,
    /// `retry.timeoutMs`.
    pub timeout_ms: Option<f64>,
    /// `retry.deadlineMs`.
    pub deadline_ms: Option<f64>,
}

/// The `windows` option as written (each window already read from its number or text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowsInput {
    /// `windows.default`.
    pub default: Option<Window>,
    /// `windows.form`.
    pub form: Option<Window>,
    /// `windows.chat`.
    pub chat: Option<Window>,
    /// `windows.quickReply`.
    pub quick_reply: Option<Window>,
}

/// The options of `new Sendonce(options)` that carry values (not functions), as written: what
/// was not given is `None`. The bindings fill it from the JS object, checking only the JS types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SendonceInput {
    /// `namespace`.
    pub namespace: Option<String>,
    /// `storage`.
    pub storage: StorageInput,
    /// `locale`.
    pub locale: Option<String>,
    /// `messages`: (status code, text) pairs.
    pub messages: Vec<(String, String)>,
    /// `showServerReason`.
    pub show_server_reason: Option<bool>,
    /// `headerName`.
    pub header_name: Option<String>,
    /// `replayHeader`.
    pub replay_header: Option<String>,
    /// `keyFormat`.
    pub key_format: Option<String>,
    /// `retry`.
    pub retry: RetryInput,
    /// `windows`.
    pub windows: WindowsInput,
    /// `maxPayloadBytes` (checked finite and `>= 0`).
    pub max_payload_bytes: Option<f64>,
    /// `leaseMs` (checked finite and `>= 0`).
    pub lease_ms: Option<f64>,
    /// `autoResume`.
    pub auto_resume: Option<bool>,
}

/// Complete policies for one instance: every default applied, every value checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SendonceConfig {
    /// The namespace of keys and records (default [`DEFAULT_NAMESPACE`]).
    pub namespace: String,
    /// Where records are kept (default `localStorage`; see [`StorageChoice::fallback`]).
    pub storage: StorageChoice,
    /// The status texts: the locale's, the `messages` overrides, `showServerReason`.
    pub messages: Messages,
    /// The key header (default `Idempotency-Key`).
    pub header_name: String,
    /// The header that marks a replayed reply (default `Idempotent-Replayed`).
    pub replay_header: String,
    /// How new keys are written.
    pub key_format: KeyFormat,
    /// Retries, timeouts and the deadline.
    pub retry: RetryPolicy,
    /// The repeat windows per kind of action.
    pub windows: Windows,
    /// The payload cap in bytes (default 1 MiB).
    pub max_payload_bytes: usize,
    /// The lease across processes (default [`DEFAULT_LEASE_MS`], within [`LEASE_MS_RANGE`]).
    pub lease_ms: u64,
    /// Send the pending actions when the instance is created (default false).
    pub auto_resume: bool,
}

impl SendonceConfig {
    /// Turns the loose options into complete policies, or the `invalid_option` error of the
    /// first bad one (in the order of the options table).
    ///
    /// ```
    /// use sendonce::core::config::{SendonceConfig, SendonceInput};
    /// let bad = SendonceInput { lease_ms: Some(999.0), ..Default::default() };
    /// assert_eq!(SendonceConfig::normalize(bad).unwrap_err().code(), "invalid_option");
    /// ```
    pub fn normalize(input: SendonceInput) -> Result<SendonceConfig, SendonceError> {
        let namespace = input
            .namespace
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
        validate_namespace(&namespace)?;
        let storage = storage_choice(input.storage)?;
        let mut messages = Messages::new(Locale::parse(input.locale.as_deref().unwrap_or("")));
        for (code, text) in &input.messages {
            messages.set(code, text)?;
        }
        messages.set_show_server_reason(input.show_server_reason.unwrap_or(false));
        let header_name = header(input.header_name, "headerName", DEFAULT_KEY_HEADER)?;
        let replay_header = header(input.replay_header, "replayHeader", DEFAULT_REPLAY_HEADER)?;
        let key_format = match input.key_format {
            Some(s) => KeyFormat::parse(&s)?,
            None => KeyFormat::default(),
        };
        let retry = retry_policy(input.retry)?;
        let w = input.windows;
        let d = Windows::default();
        let windows = Windows {
            default: w.default.unwrap_or(d.default),
            form: w.form.unwrap_or(d.form),
            chat: w.chat.unwrap_or(d.chat),
            quick_reply: w.quick_reply.unwrap_or(d.quick_reply),
        };
        let max_payload_bytes = payload_limit(input.max_payload_bytes)?;
        let lease_ms = match input.lease_ms {
            None => DEFAULT_LEASE_MS,
            Some(n) if n >= *LEASE_MS_RANGE.start() as f64 && n <= *LEASE_MS_RANGE.end() as f64 => {
                n as u64
            }
            Some(_) => {
                return Err(SendonceError::option(
                    "leaseMs",
                    "must be a number of ms from 1000 to 600000",
                ))
            }
        };
        Ok(SendonceConfig {
            namespace,
            storage,
            messages,
            header_name,
            replay_header,
            key_format,
            retry,
            windows,
            max_payload_bytes,
            lease_ms,
            auto_resume: input.auto_resume.unwrap_or(false),
        })
    }
}

fn storage_choice(input: StorageInput) -> Result<StorageChoice, SendonceError> {
    const KINDS: &str = "must be \"local\", \"session\", \"memory\" or an adapter object";
    match input {
        StorageInput::Absent => Ok(StorageChoice::Local),
        StorageInput::Adapter { missing: None } => Ok(StorageChoice::Adapter),
        StorageInput::Adapter { missing: Some(m) } => Err(SendonceError::option(
            "storage",
            format!("an adapter needs a {m}() method"),
        )),
        StorageInput::Other => Err(SendonceError::option("storage", KINDS)),
        StorageInput::Name(name) => match name.as_str() {
            "local" => Ok(StorageChoice::Local),
            "session" => Ok(StorageChoice::Session),
            "memory" => Ok(StorageChoice::Memory),
            other => Err(SendonceError::option(
                "storage",
                format!("{KINDS}, got {}", quoted(other, '"')),
            )),
        },
    }
}

fn header(given: Option<String>, name: &str, default: &str) -> Result<String, SendonceError> {
    let v = given.unwrap_or_else(|| default.to_string());
    if !is_header_name(&v) {
        return Err(SendonceError::option(
            name,
            "must be a valid HTTP header name",
        ));
    }
    Ok(v)
}

fn retry_policy(r: RetryInput) -> Result<RetryPolicy, SendonceError> {
    r.over(RetryPolicy::default())
}

impl RetryInput {
    /// True when no member was given.
    pub fn is_empty(&self) -> bool {
        *self == RetryInput::default()
    }

    /// The policy these options make over `base`: each member given replaces `base`'s, the
    /// others are kept; the result is checked as a whole by the one rule of the instance's
    /// `retry` option ([`RetryPolicy::validate`]). `new Sendonce({ retry })` applies it over
    /// the defaults; `so.action(name, payload, { retry })` over the instance's policy, for
    /// that action only (not stored with its record: after a reload, `resumePending()` sends
    /// it under the instance's policy, and `so.action()` with the option again under that).
    ///
    /// ```
    /// use sendonce::core::config::RetryInput;
    /// use sendonce::core::retry::RetryPolicy;
    /// let instance = RetryPolicy { attempts: 8, ..RetryPolicy::default() };
    /// let action = RetryInput { deadline_ms: Some(120_000.0), ..Default::default() };
    /// let p = action.over(instance).unwrap();
    /// assert_eq!((p.attempts, p.deadline_ms), (8, 120_000));
    /// let bad = RetryInput { attempts: Some(0.0), ..Default::default() };
    /// assert_eq!(bad.over(instance).unwrap_err().code(), "invalid_option");
    /// ```
    pub fn over(self, base: RetryPolicy) -> Result<RetryPolicy, SendonceError> {
        // Whole ms; a number past u64 saturates (then `validate` judges it).
        let ms = |n: Option<f64>, default: u64| n.map_or(default, |n| n as u64);
        RetryPolicy {
            attempts: ms(self.attempts, u64::from(base.attempts)).min(u64::from(u32::MAX)) as u32,
            base_delay_ms: ms(self.base_delay_ms, base.base_delay_ms),
            max_delay_ms: ms(self.max_delay_ms, base.max_delay_ms),
            timeout_ms: ms(self.timeout_ms, base.timeout_ms),
            deadline_ms: ms(self.deadline_ms, base.deadline_ms),
        }
        .validate()
    }
}
