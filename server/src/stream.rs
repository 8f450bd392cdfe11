//! The bot's reply to a chat message, as server-sent events.
//!
//! `GET /api/conversations/{cid}/messages/{mid}/reply` streams a deterministic reply in
//! [`CHUNKS`] events (`id: n` + `data: ...`), [`CHUNK_INTERVAL`] apart, then `event: done`.
//! A reconnect with `Last-Event-ID: n` resumes after chunk `n`, which is what EventSource does
//! by itself. The `cut` fault ends the stream mid-reply without `done`. The stream only reads:
//! it never creates or changes the user's message.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use crate::api::idempotent::fault_header;
use crate::api::messages::message_text;
use crate::faults::{Fault, RequestKind};
use crate::log::Outcome;
use crate::problem::{internal, not_found};
use crate::state::SharedState;

/// How many pieces a reply is cut into (fewer if it has fewer words).
pub const CHUNKS: usize = 10;
/// Pause between two pieces, so a person (and a test) can see the reply arrive.
pub const CHUNK_INTERVAL: Duration = Duration::from_millis(50);
/// How long EventSource should wait before reconnecting (the SSE `retry:` field).
pub const RECONNECT_MS: u64 = 500;

/// The bot's full reply to `text`. Deterministic, so a resumed stream continues the same words.
pub fn reply_text(text: &str) -> String {
    format!(
        "You said: {text}. I got your message once, and this answer comes in small pieces. \
         If the line breaks, it picks up where it stopped."
    )
}

/// Splits `reply` into at most [`CHUNKS`] pieces of whole words that join back to `reply`.
pub fn reply_chunks(reply: &str) -> Vec<String> {
    let words: Vec<&str> = reply.split_inclusive(' ').collect();
    let pieces = CHUNKS.min(words.len());
    (0..pieces)
        .map(|i| words[i * words.len() / pieces..(i + 1) * words.len() / pieces].concat())
        .collect()
}

/// One SSE event. Every line of `data` gets its own `data:` field, because a bare newline
/// inside a field would end it.
pub fn sse_event(id: Option<usize>, event: Option<&str>, data: &str) -> String {
    let mut out = String::new();
    if let Some(event) = event {
        out.push_str(&format!("event: {event}\n"));
    }
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    let normalized = data.replace("\r\n", "\n").replace('\r', "\n");
    for line in normalized.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Where a stream cut by the `cut` fault stops: half way through what is left, but after at
/// least one new piece, so each reconnect makes progress.
pub fn cut_after(start: usize, total: usize) -> Option<usize> {
    let left = total.checked_sub(start).filter(|l| *l > 0)?;
    Some(start + (left / 2).max(1))
}

/// `GET /api/conversations/{cid}/messages/{mid}/reply`.
pub async fn reply(
    State(state): State<SharedState>,
    Path((cid, mid)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let header_fault = match fault_header(&headers) {
        Ok(f) => f,
        Err(response) => return response,
    };
    // Event ids are chunk numbers from 1; anything unreadable starts from the beginning.
    let start = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let text = match message_text(&state.db, cid.clone(), mid.clone()).await {
        Ok(Some(text)) => text,
        Ok(None) => return not_found(format!("no message {mid:?} in conversation {cid:?}")),
        Err(err) => return internal(err),
    };
    let chunks = reply_chunks(&reply_text(&text));
    let start = start.min(chunks.len());
    // A header fault is remembered by path, so the resumed stream is not cut again.
    let fault = state.faults.pick(
        RequestKind::ReplyStream,
        uri.path(),
        uri.path(),
        header_fault,
    );
    let stop = match fault {
        Some(Fault::Cut) => cut_after(start, chunks.len()),
        _ => None,
    };

    let body = Body::from_stream(events(chunks, start, stop));
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Ask reverse proxies not to buffer the stream.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.extensions_mut().insert(Outcome {
        fault: stop.and(fault).map(|f| f.to_string()),
        replayed: false,
    });
    response
}

/// What the event stream does next.
enum Step {
    /// Send the `retry:` hint.
    Hello,
    /// Send piece `n` (0-based).
    Chunk(usize),
    /// Send `event: done`.
    Done,
    /// Fail the body so the connection ends without `done` (the `cut` fault).
    Cut,
    /// Nothing more.
    End,
}

fn events(
    chunks: Vec<String>,
    start: usize,
    stop: Option<usize>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    stream::unfold(Step::Hello, move |step| {
        let chunks = chunks.clone();
        async move {
            let next_after = |n: usize| match stop {
                Some(stop) if n >= stop => Step::Cut,
                _ if n >= chunks.len() => Step::Done,
                _ => Step::Chunk(n),
            };
            match step {
                Step::Hello => {
                    let hello = format!("retry: {RECONNECT_MS}\n\n");
                    Some((Ok(Bytes::from(hello)), next_after(start)))
                }
                Step::Chunk(n) => {
                    if n > start {
                        tokio::time::sleep(CHUNK_INTERVAL).await;
                    }
                    let event = sse_event(Some(n + 1), None, &chunks[n]);
                    Some((Ok(Bytes::from(event)), next_after(n + 1)))
                }
                Step::Done => {
                    let event = sse_event(None, Some("done"), "{}");
                    Some((Ok(Bytes::from(event)), Step::End))
                }
                Step::Cut => {
                    // An error from the body makes hyper abort the connection, so the client
                    // sees a broken stream rather than a clean end.
                    tokio::time::sleep(CHUNK_INTERVAL).await;
                    let err = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "cut");
                    Some((Err(err), Step::End))
                }
                Step::End => None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_join_back_to_the_reply() {
        let reply = reply_text("hello there");
        let chunks = reply_chunks(&reply);
        assert_eq!(chunks.len(), CHUNKS);
        assert_eq!(chunks.concat(), reply);
        assert_eq!(reply_chunks("one two"), vec!["one ", "two"]);
    }

    #[test]
    fn data_lines_are_split() {
        assert_eq!(
            sse_event(Some(3), None, "a\nb"),
            "id: 3\ndata: a\ndata: b\n\n"
        );
        assert_eq!(
            sse_event(None, Some("done"), "{}"),
            "event: done\ndata: {}\n\n"
        );
    }

    #[test]
    fn cut_always_makes_progress() {
        assert_eq!(cut_after(0, 10), Some(5));
        assert_eq!(cut_after(9, 10), Some(10));
        assert_eq!(cut_after(10, 10), None);
    }
}
