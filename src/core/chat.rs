//! Chat decisions: the outbox order, a message's status after its send settles, how a server
//! echo merges by id, the exact body a message is sent with, and the reply stream's
//! server-sent-events parser and reconnect delays. Pure: the bindings own fetch and storage.

use crate::core::json::Value;
use crate::core::record::{OutboxEntry, OutboxStatus};
use crate::core::status::StatusCode;

/// The `seq` for a new message of a conversation: one past the highest in its outbox, so a new
/// message always sorts after every message written before it (also after a reload).
///
/// ```
/// use sendonce::core::chat::next_seq;
/// assert_eq!(next_seq(&[]), 1);
/// ```
pub fn next_seq(outbox: &[OutboxEntry]) -> u64 {
    outbox.iter().map(|e| e.seq).max().unwrap_or(0) + 1
}

/// Puts the outbox in delivery order (`seq`), the order messages are sent and shown in.
pub fn sort_outbox(outbox: &mut [OutboxEntry]) {
    crate::core::order::sort_by_key(outbox, |e| e.seq);
}

/// The message to send next: the lowest `seq` still `sending`. One message is in flight per
/// conversation; an `error` message does not block the ones after it (the user decides about
/// it with retry or discard), a delivered one is done.
pub fn next_to_send(outbox: &[OutboxEntry]) -> Option<&OutboxEntry> {
    outbox
        .iter()
        .filter(|e| e.status == OutboxStatus::Sending)
        .min_by_key(|e| e.seq)
}

/// Where a message stands once its send settled with `code`: confirmed (`done`,
/// `already_received`) or accepted (`accepted`: the server has it) is `delivered`; anything
/// else is `error` with the code, for the bubble to show and the user to retry.
///
/// ```
/// use sendonce::core::chat::status_after;
/// use sendonce::core::record::OutboxStatus;
/// use sendonce::core::status::StatusCode;
/// assert_eq!(status_after(StatusCode::AlreadyReceived), (OutboxStatus::Delivered, None));
/// assert_eq!(status_after(StatusCode::Offline), (OutboxStatus::Error, Some("offline".into())));
/// ```
pub fn status_after(code: StatusCode) -> (OutboxStatus, Option<String>) {
    if code.is_confirmed() || code == StatusCode::Accepted {
        (OutboxStatus::Delivered, None)
    } else {
        (OutboxStatus::Error, Some(code.as_str().to_string()))
    }
}

/// The body of a message: `{"id", "text", ...extra}`. Built from the stored entry alone, so
/// every attempt (also after a reload) sends the same bytes. Extra fields named `id` or
/// `text` are ignored: they would make the message say something else than its bubble.
pub fn message_body(entry: &OutboxEntry) -> Value {
    let mut members = vec![
        ("id".to_string(), Value::from(entry.id.as_str())),
        ("text".to_string(), Value::from(entry.text.as_str())),
    ];
    if let Value::Object(extra) = &entry.extra {
        for (k, v) in extra {
            if k != "id" && k != "text" {
                members.push((k.clone(), v.clone()));
            }
        }
    }
    Value::Object(members)
}

/// Extra fields must be a JSON object (or nothing): anything else could not be merged into
/// the message body.
pub fn valid_extra(extra: &Value) -> bool {
    matches!(extra, Value::Null | Value::Object(_))
}

/// What a server message passed to `receive()` is to this chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Echo {
    /// The echo of our own message at this outbox index: mark it delivered (one bubble).
    Own(usize),
    /// A message seen before (an inbound message already shown): nothing to do.
    Known,
    /// Somebody else's message, new: show it.
    Foreign,
}

/// Classifies a server message by id against the outbox and the inbound messages shown.
///
/// ```
/// use sendonce::core::chat::{merge_echo, Echo};
/// assert_eq!(merge_echo(&[], &["m-1".to_string()], "m-1"), Echo::Known);
/// assert_eq!(merge_echo(&[], &[], "m-2"), Echo::Foreign);
/// ```
pub fn merge_echo(outbox: &[OutboxEntry], inbound_ids: &[String], id: &str) -> Echo {
    if let Some(i) = outbox.iter().position(|e| e.id.as_str() == id) {
        Echo::Own(i)
    } else if inbound_ids.iter().any(|k| k == id) {
        Echo::Known
    } else {
        Echo::Foreign
    }
}

/// One message as the widget shows it (`onChange`): `{ id, text, status, code, at }`.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    /// Message id.
    pub id: String,
    /// Text.
    pub text: String,
    /// `sending`, `delivered` or `error`.
    pub status: OutboxStatus,
    /// The status code behind an error.
    pub code: Option<String>,
    /// When it was written (ms since the Unix epoch).
    pub at: u64,
}

/// The conversation as shown: our messages and inbound ones, by time; our own keep their
/// outbox order among themselves (a stable sort on `at`, outbox first).
pub fn view(outbox: &[OutboxEntry], inbound: &[MessageView]) -> Vec<MessageView> {
    let mut ours: Vec<&OutboxEntry> = outbox.iter().collect();
    crate::core::order::sort_by_key(&mut ours, |e| e.seq);
    let mut out: Vec<MessageView> = ours
        .into_iter()
        .map(|e| MessageView {
            id: e.id.as_str().to_string(),
            text: e.text.clone(),
            status: e.status,
            code: e.code.clone(),
            at: e.at,
        })
        .collect();
    out.extend(inbound.iter().cloned());
    crate::core::order::sort_by_key(&mut out, |m| m.at);
    out
}

/// Largest line, and largest event data, a reply stream may send (1 MiB); more is dropped.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, `"message"` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id after this event (the `id:` field, or the one before it).
    pub id: Option<String>,
}

/// A server-sent-events parser (the WHATWG "event stream interpretation"): fed text as it
/// arrives, in pieces of any size, it returns the complete events. Kept in the core so the
/// resume logic (the last id seen) is tested natively.
#[derive(Debug, Default, Clone)]
pub struct SseParser {
    buf: String,
    /// True while the rest of an over-long line is skipped (up to its end).
    skipping: bool,
    /// Bytes of `data` lines of the event being received.
    data_bytes: usize,
    /// The event being received outgrew [`MAX_EVENT_BYTES`]: it is dropped at its end.
    too_big: bool,
    data: Vec<String>,
    event: Option<String>,
    /// The `id:` of the event being received, taken over at its dispatch (WHATWG: the "last
    /// event ID buffer"), so that a half-received event does not move the resume point.
    id_buffer: Option<String>,
    last_id: Option<String>,
}

impl SseParser {
    /// A parser that resumes after `last_id` (it keeps reporting it until a new `id:`).
    pub fn new(last_id: Option<String>) -> Self {
        SseParser {
            last_id,
            ..Default::default()
        }
    }

    /// The last event id seen: what `Last-Event-ID` carries on a reconnect.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Feeds text; returns the events it completed. A line longer than [`MAX_EVENT_BYTES`]
    /// is skipped, and so is an event whose data grows past it (a stream whose lines or
    /// events never end must not fill the memory).
    pub fn push(&mut self, text: &str) -> Vec<SseEvent> {
        self.buf.push_str(text);
        let mut out = Vec::new();
        if self.skipping {
            match self.buf.find(['\n', '\r']) {
                Some(end) => {
                    self.buf.drain(..end);
                    self.skipping = false;
                }
                None => {
                    self.buf.clear();
                    return out;
                }
            }
        }
        while let Some(end) = self.buf.find(['\n', '\r']) {
            // A "\r\n" split across two pieces: wait for the next piece to tell.
            let rest = self.buf.get(end..).unwrap_or_default();
            let crlf = rest.starts_with("\r\n");
            if rest.starts_with('\r') && end + 1 == self.buf.len() {
                break;
            }
            let line: String = self.buf.get(..end).unwrap_or_default().to_string();
            self.buf.drain(..end + if crlf { 2 } else { 1 });
            if let Some(e) = self.line(&line) {
                out.push(e);
            }
        }
        if self.buf.len() > MAX_EVENT_BYTES {
            // A line that does not end: drop it (and its event) and skip to its end.
            self.reset_partial();
            self.skipping = true;
        }
        out
    }

    /// Drops a half-received event (the connection broke in its middle): its data must not
    /// be shown twice when the server sends it again after the reconnect.
    pub fn reset_partial(&mut self) {
        self.buf.clear();
        self.skipping = false;
        self.data.clear();
        self.data_bytes = 0;
        self.too_big = false;
        self.event = None;
        self.id_buffer = None;
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            if let Some(id) = self.id_buffer.take() {
                self.last_id = Some(id);
            }
            if std::mem::take(&mut self.too_big) {
                self.event = None;
                return None;
            }
            if self.data.is_empty() && self.event.is_none() {
                return None;
            }
            let e = SseEvent {
                event: self.event.take().unwrap_or_else(|| "message".into()),
                data: self.data.join("\n"),
                id: self.last_id.clone(),
            };
            self.data.clear();
            self.data_bytes = 0;
            return Some(e);
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" if !self.too_big => {
                self.data_bytes += value.len() + 1;
                if self.data_bytes > MAX_EVENT_BYTES {
                    // An event that never ends: dropped whole, never shown in part.
                    self.too_big = true;
                    self.data.clear();
                    self.data_bytes = 0;
                } else {
                    self.data.push(value.to_string());
                }
            }
            "event" => self.event = Some(value.to_string()),
            "id" if !value.contains('\0') => self.id_buffer = Some(value.to_string()),
            _ => {}
        }
        None
    }
}

/// How many times a reply stream reconnects after drops before it gives up.
pub const STREAM_RECONNECTS: u32 = 10;

/// The wait before reconnect number `attempt` (1-based): 200 ms doubling to at most 5 s.
/// `None` when the stream should give up.
///
/// ```
/// use sendonce::core::chat::reconnect_delay;
/// assert_eq!(reconnect_delay(1), Some(200));
/// assert_eq!(reconnect_delay(11), None);
/// ```
pub fn reconnect_delay(attempt: u32) -> Option<u64> {
    if attempt == 0 || attempt > STREAM_RECONNECTS {
        return None;
    }
    Some((200u64 << (attempt - 1).min(10)).min(5_000))
}
