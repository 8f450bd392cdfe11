//! Windows: how long after an action finished a repeat of the same fingerprint is answered
//! from the stored result ("already received") instead of becoming a new action.

use crate::core::error::SendonceError;

/// Shortest window accepted: 1 s. Shorter would not cover a double click on a slow network.
pub const MIN_WINDOW_MS: u64 = 1_000;
/// Longest window accepted: 24 h, the retention of keys on the server.
pub const MAX_WINDOW_MS: u64 = 86_400_000;

/// A window length in milliseconds, within [`MIN_WINDOW_MS`]..=[`MAX_WINDOW_MS`], or `0`:
/// no local repeats at all (every submission is a new action once the last one finished).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window(u64);

impl Window {
    /// The window in milliseconds.
    pub fn ms(self) -> u64 {
        self.0
    }

    /// A window from milliseconds, refused outside 1 s..=24 h unless it is `0` (no local
    /// repeats).
    pub fn from_ms(ms: f64) -> Result<Self, SendonceError> {
        let err = |reason: &str| SendonceError::InvalidWindow {
            input: crate::core::json::Value::Number(ms).to_json(),
            reason: reason.to_string(),
        };
        if !ms.is_finite() || ms.fract() != 0.0 {
            return Err(err("a window is a whole number of milliseconds"));
        }
        // `0` is no window at all: local repeats off (a login form, SPEC section 4).
        if ms != 0.0 && (ms < MIN_WINDOW_MS as f64 || ms > MAX_WINDOW_MS as f64) {
            return Err(err(
                "a window is 0 (no local repeats) or between 1s and 24h",
            ));
        }
        Ok(Window(ms as u64))
    }

    /// Reads `"500ms"`, `"10s"`, `"5m"`, `"2h"`, `"1d"` or plain digits (milliseconds), then
    /// checks the bounds.
    ///
    /// ```
    /// use sendonce::core::window::Window;
    /// assert_eq!(Window::parse("10s").unwrap().ms(), 10_000);
    /// assert_eq!(Window::parse("1500").unwrap().ms(), 1_500);
    /// assert_eq!(Window::parse("500ms").unwrap_err().code(), "invalid_window");
    /// assert!(Window::parse("2 days").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, SendonceError> {
        let err = |reason: &str| SendonceError::InvalidWindow {
            input: text.chars().take(40).collect(),
            reason: reason.to_string(),
        };
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = (
            t.get(..split).unwrap_or_default(),
            t.get(split..).unwrap_or_default(),
        );
        if digits.is_empty() || digits.len() > 12 {
            return Err(err(
                "expected a number of ms or a number with ms, s, m, h or d (\"10s\", \"5m\")",
            ));
        }
        let n: u64 = digits.parse().map_err(|_| err("not a number"))?;
        let factor = match unit {
            "" | "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(err("unknown unit; use ms, s, m, h or d")),
        };
        Window::from_ms(n.saturating_mul(factor) as f64)
    }
}

/// Where an action comes from; each kind has its own default window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActionKind {
    /// `so.action(...)`: 1 minute.
    #[default]
    Default,
    /// `so.form(...)`: 10 minutes.
    Form,
    /// Chat messages: 10 seconds.
    Chat,
    /// Bot quick replies: 5 seconds.
    QuickReply,
}

impl ActionKind {
    /// The stable name used in records and events.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Default => "default",
            ActionKind::Form => "form",
            ActionKind::Chat => "chat",
            ActionKind::QuickReply => "quickReply",
        }
    }

    /// Reads a name written by [`ActionKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "default" => ActionKind::Default,
            "form" => ActionKind::Form,
            "chat" => ActionKind::Chat,
            "quickReply" => ActionKind::QuickReply,
            _ => return None,
        })
    }
}

/// The window per action kind (option `windows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// For `so.action`.
    pub default: Window,
    /// For forms.
    pub form: Window,
    /// For chat messages.
    pub chat: Window,
    /// For quick replies.
    pub quick_reply: Window,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            default: Window(60_000),
            form: Window(600_000),
            chat: Window(10_000),
            quick_reply: Window(5_000),
        }
    }
}

impl Windows {
    /// The window for `kind`.
    pub fn for_kind(&self, kind: ActionKind) -> Window {
        match kind {
            ActionKind::Default => self.default,
            ActionKind::Form => self.form,
            ActionKind::Chat => self.chat,
            ActionKind::QuickReply => self.quick_reply,
        }
    }
}
