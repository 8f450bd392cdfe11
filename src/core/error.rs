//! The one error type of sendonce, with a stable machine-readable code per variant.

use thiserror::Error;

/// Everything that can go wrong in sendonce, each with a stable [`SendonceError::code`].
///
/// Bad input is reported before anything is sent or stored.
///
/// ```
/// use sendonce::core::key::validate_key;
/// let err = validate_key("").unwrap_err();
/// assert_eq!(err.code(), "invalid_key");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendonceError {
    /// An explicit idempotency key is empty, too long or has characters that are not visible ASCII.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A window (how long a finished action answers repeats) could not be read or is out of bounds.
    #[error("invalid window {}: {reason}", crate::core::text::quoted(.input, '"'))]
    InvalidWindow {
        /// What the caller wrote.
        input: String,
        /// Why it is refused.
        reason: String,
    },
    /// An option has a wrong type or value.
    #[error("invalid option `{name}`: {reason}")]
    InvalidOption {
        /// The option's name as the caller spells it.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// The payload cannot be fingerprinted or encoded (for example, nested too deeply).
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// Text that should be JSON is not.
    #[error("invalid JSON at byte {offset}: {reason}")]
    InvalidJson {
        /// Byte offset of the problem.
        offset: usize,
        /// What was expected there.
        reason: String,
    },
    /// A stored record does not decode (foreign, corrupt or from a newer schema).
    #[error("corrupt record: {0}")]
    CorruptRecord(String),
    /// The storage refused a read or a write.
    #[error("storage error: {0}")]
    Storage(String),
    /// The network failed and retrying did not help (a reply stream that kept breaking, no
    /// `fetch` to send with). Not the caller's input: trying again later may work.
    #[error("network error: {0}")]
    Network(String),
    /// The server answered with an HTTP error status where sendonce needed an answer (a reply
    /// stream answering 404 or 401). Not the caller's input: the server or the URL's target
    /// decides.
    #[error("{what}: the server answered HTTP {status}")]
    Http {
        /// What was asked (`"the reply stream"`).
        what: String,
        /// The HTTP status.
        status: u16,
    },
    /// A programming error in a callback the page gave sendonce: a `headers` hook that
    /// returned something that is not headers. Nothing was sent; fix the callback.
    #[error("programming error: {0}")]
    InvalidHook(String),
    /// The object was used after `dispose()` or `forget()`.
    #[error("{0} was disposed")]
    Disposed(String),
    /// The payload is bigger than the `maxPayloadBytes` option allows.
    #[error(
        "payload too large: {size} bytes or more, the limit is {limit} (option maxPayloadBytes)"
    )]
    PayloadTooLarge {
        /// The payload's size in bytes, or a lower bound of it when reading stopped early.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The random source returned all zeros or repeated its previous draw: no key is made
    /// from it (a broken `crypto.getRandomValues` polyfill would give every user one key).
    #[error("weak random source: {0}")]
    WeakRandom(String),
    /// The caller cancelled the send with its `AbortSignal` (`send(url, { signal })`): the
    /// attempts left were not made, the action keeps its key, and a later send (or `retry()`)
    /// resumes it with the same key and the same bytes. Not an input error, not a failure.
    #[error("aborted: {0}")]
    Aborted(String),
    /// sendonce was used before its WebAssembly module was initialised (`await init()`).
    #[error("not initialised: {0}")]
    NotInitialized(String),
}

impl SendonceError {
    /// A stable, machine-readable code for this error (`invalid_key`, `invalid_window`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            SendonceError::InvalidKey(_) => "invalid_key",
            SendonceError::InvalidWindow { .. } => "invalid_window",
            SendonceError::InvalidOption { .. } => "invalid_option",
            SendonceError::InvalidPayload(_) => "invalid_payload",
            SendonceError::InvalidJson { .. } => "invalid_json",
            SendonceError::CorruptRecord(_) => "corrupt_record",
            SendonceError::Storage(_) => "storage",
            SendonceError::Network(_) => "network",
            SendonceError::Http { .. } => "http_error",
            SendonceError::InvalidHook(_) => "invalid_hook",
            SendonceError::Disposed(_) => "disposed",
            SendonceError::PayloadTooLarge { .. } => "payload_too_large",
            SendonceError::WeakRandom(_) => "weak_random",
            SendonceError::NotInitialized(_) => "not_initialized",
            SendonceError::Aborted(_) => "aborted",
        }
    }

    /// Shorthand for [`SendonceError::InvalidOption`].
    pub fn option(name: &str, reason: impl Into<String>) -> Self {
        SendonceError::InvalidOption {
            name: name.to_string(),
            reason: reason.into(),
        }
    }
}
