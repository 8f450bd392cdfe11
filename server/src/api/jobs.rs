//! Long-running jobs: `POST /api/jobs` accepts one (202 + `Location`), `GET /api/jobs/{id}`
//! reports its state, which moves with time: accepted, then in_progress, then done (or error
//! when the body said `"fail": true`).
//!
//! The state is computed from the creation time, so it survives a restart; the worker in
//! `queue.rs` runs each job on the same timetable and writes its steps to the key's trace.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};

use super::body::{business_ref, keyed_json};
use super::idempotent::{self, json_response, Effect, IdempotentCall};
use crate::clock::now_ms;
use crate::problem::{internal, not_found};
use crate::queue::JobTicket;
use crate::state::SharedState;
use crate::trace::payload_text;

/// A job is `accepted` for this long after creation.
pub const ACCEPTED_MS: i64 = 250;
/// A job finishes this long after creation.
pub const FINISHED_MS: i64 = 1000;

/// A job's state `age_ms` after creation.
pub fn job_state(age_ms: i64, fail: bool) -> &'static str {
    match age_ms {
        a if a < ACCEPTED_MS => "accepted",
        a if a < FINISHED_MS => "in_progress",
        _ if fail => "error",
        _ => "done",
    }
}

fn status_url(id: i64) -> String {
    format!("/api/jobs/{id}")
}

/// `POST /api/jobs`: 202 `{"id", "state": "accepted", "statusUrl"}` with `Location`.
pub async fn create(State(state): State<SharedState>, headers: HeaderMap, body: Bytes) -> Response {
    let (key, payload) = match keyed_json(&headers, &body, true) {
        Ok(parts) => parts,
        Err(response) => return response,
    };
    let reference = business_ref(&payload);
    let fail = payload
        .get("fail")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (queue, trace) = (state.queue.clone(), Arc::clone(&state.trace));
    let text = payload_text(&body);
    let effect: Effect = Arc::new(move |tx, ctx| {
        tx.execute(
            "INSERT INTO jobs (key, body, fail, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![ctx.key, payload.to_string(), fail, ctx.now_ms],
        )?;
        let id = tx.last_insert_rowid();
        // The key goes with the job into the queue once this commits (never if it rolls back).
        let (queue, trace) = (queue.clone(), Arc::clone(&trace));
        let ticket = JobTicket {
            id,
            key: ctx.key.to_string(),
            fail,
            created_at: ctx.now_ms,
            text: text.clone(),
        };
        ctx.after_commit.push(move || queue.push(&trace, ticket));
        let mut stored = json_response(
            202,
            &json!({ "id": id, "state": "accepted", "statusUrl": status_url(id) }),
        );
        stored.location = Some(status_url(id));
        Ok(stored)
    });
    let call = IdempotentCall {
        headers: &headers,
        path: "/api/jobs",
        key,
        body: &body,
        reference,
    };
    idempotent::run(&state, call, effect).await
}

/// `GET /api/jobs/{id}`: `{"id", "state"}`.
pub async fn status(State(state): State<SharedState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found(format!("no job {id:?}"));
    };
    let row = state
        .db
        .call(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT created_at, fail FROM jobs WHERE id = ?1",
                    params![id],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, bool>(1)?)),
                )
                .optional()?)
        })
        .await;
    match row {
        Ok(Some((created_at, fail))) => {
            let state = job_state(now_ms() - created_at, fail);
            let mut body = json!({ "id": id, "state": state, "statusUrl": status_url(id) });
            if state == "error" {
                body["error"] = json!("the job failed because its body asked it to");
            }
            Json(body).into_response()
        }
        Ok(None) => not_found(format!("no job {id}")),
        Err(err) => internal(err),
    }
}

#[cfg(test)]
mod tests {
    use super::job_state;

    #[test]
    fn states_follow_time() {
        assert_eq!(job_state(0, false), "accepted");
        assert_eq!(job_state(500, false), "in_progress");
        assert_eq!(job_state(1000, false), "done");
        assert_eq!(job_state(1000, true), "error");
    }
}
