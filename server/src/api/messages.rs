//! Chat messages: `POST /api/conversations/{cid}/messages` appends one with the next
//! sequence number of its conversation; the client uses the message id as the key, so a
//! resend of the same message is a replay, never a second bubble.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};

use super::body::{business_ref, keyed_json};
use super::idempotent::{self, json_response, Effect, IdempotentCall};
use crate::db::{Db, DbError};
use crate::problem::{bad_body, internal};
use crate::state::SharedState;

/// Longest conversation or message id accepted, the same bound as a key.
const MAX_ID_LEN: usize = 255;

fn check_id(what: &str, id: &str) -> Result<(), Response> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(bad_body(format!("{what} must be 1..={MAX_ID_LEN} bytes")));
    }
    Ok(())
}

/// `POST /api/conversations/{cid}/messages` with `{"id": "...", "text": "..."}`.
///
/// `id` defaults to the key. Answers 201 `{"id", "seq", "text", "conversationId"}`.
pub async fn create(
    State(state): State<SharedState>,
    Path(cid): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (key, payload) = match keyed_json(&headers, &body, false) {
        Ok(parts) => parts,
        Err(response) => return response,
    };
    let reference = business_ref(&payload);
    let Some(text) = payload
        .get("text")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return bad_body("a message needs a string \"text\"");
    };
    let message_id = match payload.get("id") {
        None | Some(Value::Null) => key.clone(),
        Some(Value::String(id)) => id.clone(),
        Some(_) => return bad_body("\"id\" must be a string"),
    };
    if let Err(response) =
        check_id("the conversation id", &cid).and(check_id("\"id\"", &message_id))
    {
        return response;
    }
    let effect: Effect = Arc::new(move |tx, ctx| {
        let seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?1",
            params![cid],
            |row| row.get(0),
        )?;
        tx.execute(
            "INSERT INTO messages (conversation_id, message_id, seq, text, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![cid, message_id, seq, text, payload.to_string(), ctx.now_ms],
        )?;
        Ok(json_response(
            201,
            &json!({ "id": message_id, "seq": seq, "text": text, "conversationId": cid }),
        ))
    });
    let call = IdempotentCall {
        headers: &headers,
        path: uri.path(),
        key,
        body: &body,
        reference,
    };
    idempotent::run(&state, call, effect).await
}

/// `GET /api/conversations/{cid}/messages` -> `{"conversationId", "messages": [...]}` by seq.
pub async fn list(State(state): State<SharedState>, Path(cid): Path<String>) -> Response {
    let conversation = cid.clone();
    let rows = state
        .db
        .call(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT message_id, seq, text, created_at FROM messages
                 WHERE conversation_id = ?1 ORDER BY seq",
            )?;
            let rows = stmt
                .query_map(params![conversation], |row| {
                    Ok(json!({
                        "id": row.get::<_, String>(0)?,
                        "seq": row.get::<_, i64>(1)?,
                        "text": row.get::<_, String>(2)?,
                        "createdAt": row.get::<_, i64>(3)?,
                    }))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await;
    match rows {
        Ok(rows) => Json(json!({ "conversationId": cid, "messages": rows })).into_response(),
        Err(err) => internal(err),
    }
}

/// The text of message `mid` in conversation `cid`, if it exists.
pub async fn message_text(db: &Db, cid: String, mid: String) -> Result<Option<String>, DbError> {
    db.call(move |conn| {
        Ok(conn
            .query_row(
                "SELECT text FROM messages WHERE conversation_id = ?1 AND message_id = ?2
                 ORDER BY seq LIMIT 1",
                params![cid, mid],
                |row| row.get(0),
            )
            .optional()?)
    })
    .await
}
