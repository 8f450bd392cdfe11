//! `GET /api/trace/{key}`: the chain of one key, from the request to the worker.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::SharedState;

/// `{"key", "events": [{"seq", "at", "key", "event", "scope", "status"?, "job"?, "detail",
/// "text"?}]}`, oldest first; `events` is empty for a key the server has not seen (or has
/// forgotten: the trace keeps the last few thousand lines, and a reset clears it).
pub async fn chain(State(state): State<SharedState>, Path(key): Path<String>) -> Response {
    Json(json!({ "key": key, "events": state.trace.chain(&key) })).into_response()
}
