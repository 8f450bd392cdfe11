//! Bounds on what one request may cost: how long its body may take to arrive and how large it
//! may be.
//!
//! Every body is read here, in full, before any handler runs, under one deadline. A client
//! that announces a body and then sends it a byte at a time (or never) is answered 408 and
//! cut off after [`BODY_TIMEOUT`], instead of holding a connection and a task for as long as
//! it likes. Headers have their own deadline in `server.rs` ([`HEADER_TIMEOUT`]).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;

use crate::problem::problem;

/// How long a request body may take to arrive, from the end of its headers.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the request line and headers may take to arrive.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest body read (2 MiB: twice the SDK's default `maxPayloadBytes`).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// It did not arrive within the deadline.
    TimedOut,
    /// It is larger than the limit.
    TooLarge,
    /// The connection broke or the framing was wrong.
    Broken,
}

/// Reads a whole body within `deadline`, refusing more than `max` bytes.
pub async fn read_body(body: Body, deadline: Duration, max: usize) -> Result<Bytes, BodyError> {
    let collect = async move {
        let mut stream = body.into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| BodyError::Broken)?;
            if buf.len() + chunk.len() > max {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(deadline, collect)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

/// Middleware: reads the body under [`BODY_TIMEOUT`] and [`MAX_BODY_BYTES`], then hands the
/// request on with the bytes in hand; answers 408, 413 or 400 (problem+json) otherwise.
pub async fn bounded_body(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return refused(BodyError::TooLarge);
    }
    let (parts, body) = req.into_parts();
    match read_body(body, BODY_TIMEOUT, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(why) => refused(why),
    }
}

fn refused(why: BodyError) -> Response {
    let mut response = match why {
        BodyError::TimedOut => problem(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "Request body too slow",
            format!(
                "the request body did not arrive within {} s; nothing was run",
                BODY_TIMEOUT.as_secs()
            ),
        ),
        BodyError::TooLarge => problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "Request body too large",
            format!("the request body is over {MAX_BODY_BYTES} bytes; nothing was run"),
        ),
        BodyError::Broken => problem(
            StatusCode::BAD_REQUEST,
            "body-broken",
            "Request body incomplete",
            "the request body ended early or was malformed; nothing was run",
        ),
    };
    // What is left of the body is never read: the connection goes after this answer.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_is_read_whole_or_refused_with_a_reason() {
        let ok = read_body(Body::from("abc"), BODY_TIMEOUT, 10).await;
        assert_eq!(ok.unwrap(), Bytes::from_static(b"abc"));
        let big = read_body(Body::from("abcdef"), BODY_TIMEOUT, 5).await;
        assert_eq!(big.unwrap_err(), BodyError::TooLarge);
        let never = futures_util::stream::pending::<Result<Bytes, std::io::Error>>();
        let slow = read_body(
            Body::from_stream(never),
            Duration::from_millis(20),
            MAX_BODY_BYTES,
        )
        .await;
        assert_eq!(slow.unwrap_err(), BodyError::TimedOut);
    }
}
