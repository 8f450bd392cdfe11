//! Endpoints for demos and tests: effect counts, the request log, faults, reset.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::json_body;
use crate::clock::now_ms;
use crate::faults::Fault;
use crate::problem::{bad_body, internal};
use crate::state::SharedState;

/// One business reference: scope, reference, effects, the keys they came under.
type PerRef = (String, String, i64, Option<String>);

/// `GET /api/effects`: how many times each key's side effect ran, and each business
/// reference's.
///
/// One entry per idempotency record (`since` is its creation time): a key that runs again
/// after its retention expired is a new action, not a duplicate. `duplicates` sums `count - 1`
/// and must stay 0.
///
/// `byRef` counts effects per business reference (a payload's `ref` or `...Ref` field, see
/// [`super::body::business_ref`]), whatever key they came under: `refs` references with an
/// effect, `effects` effects that named one, `duplicates` the sum of `count - 1` over them,
/// `doubled` each reference with more than one effect (with its keys), `all` every reference
/// with its count, and `withoutRef` the
/// effects whose payload named none. One order sent under two keys is two effects for one
/// reference: a duplicate here, though every key ran once.
pub async fn effects(State(state): State<SharedState>) -> Response {
    let rows = state
        .db
        .call(|conn| {
            let mut stmt =
                conn.prepare("SELECT scope, key, since, count FROM effects ORDER BY since, rowid")?;
            let rows = stmt
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, i64>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let (refs, ref_effects): (i64, i64) = conn.query_row(
                "SELECT COUNT(DISTINCT scope || ' ' || ref), COUNT(*) FROM business_effects",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let mut stmt = conn.prepare(
                "SELECT scope, ref, COUNT(*), group_concat(key, ' ') FROM business_effects
                 GROUP BY scope, ref ORDER BY MIN(rowid)",
            )?;
            let per_ref = stmt
                .query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })?
                .collect::<rusqlite::Result<Vec<PerRef>>>()?;
            Ok((rows, refs, ref_effects, per_ref))
        })
        .await;
    let (rows, refs, ref_effects, per_ref) = match rows {
        Ok(found) => found,
        Err(err) => return internal(err),
    };
    let total: i64 = rows.iter().map(|r| r.3).sum();
    let duplicates: i64 = rows.iter().map(|r| (r.3 - 1).max(0)).sum();
    let effects: Vec<Value> = rows
        .into_iter()
        .map(|(scope, key, since, count)| {
            json!({ "scope": scope, "key": key, "since": since, "count": count })
        })
        .collect();
    let ref_duplicates: i64 = per_ref.iter().map(|d| (d.2 - 1).max(0)).sum();
    let all: Vec<Value> = per_ref
        .iter()
        .map(|(scope, reference, count, _)| {
            json!({ "scope": scope, "ref": reference, "count": count })
        })
        .collect();
    let doubled: Vec<Value> = per_ref
        .into_iter()
        .filter(|d| d.2 > 1)
        .map(|(scope, reference, count, keys)| {
            let keys: Vec<&str> = keys.as_deref().unwrap_or("").split(' ').collect();
            json!({ "scope": scope, "ref": reference, "count": count, "keys": keys })
        })
        .collect();
    Json(json!({
        "effects": effects,
        "total": total,
        "duplicates": duplicates,
        "byRef": {
            "refs": refs,
            "effects": ref_effects,
            "duplicates": ref_duplicates,
            "doubled": doubled,
            "all": all,
            "withoutRef": (total - ref_effects).max(0),
        },
    }))
    .into_response()
}

/// Query of `GET /api/log`.
#[derive(Debug, Deserialize)]
pub struct LogQuery {
    /// Only entries with a larger sequence number.
    pub since: Option<u64>,
}

/// `GET /api/log?since=N`: `{"requests": [...], "missed": M}`, the kept entries after `since`
/// and how many after it fell off the ring unread.
pub async fn log(State(state): State<SharedState>, Query(q): Query<LogQuery>) -> Response {
    Json(state.log.page(q.since.unwrap_or(0))).into_response()
}

/// `GET /api/log/counts`: totals over every request since the last reset (see
/// [`crate::log::Counts`]), whatever the ring still holds.
pub async fn log_counts(State(state): State<SharedState>) -> Response {
    Json(state.log.counts()).into_response()
}

fn faults_view(state: &SharedState) -> Value {
    let armed: Vec<Value> = state
        .faults
        .armed()
        .into_iter()
        .map(|a| json!({ "path": a.path, "fault": a.fault.to_string() }))
        .collect();
    let profile = state
        .faults
        .profile()
        .map(|p| json!({ "rate": p.rate, "seed": p.seed }));
    json!({ "armed": armed, "profile": profile })
}

/// `GET /api/faults`: the queue and the random profile.
pub async fn list_faults(State(state): State<SharedState>) -> Response {
    Json(faults_view(&state)).into_response()
}

/// `POST /api/faults` with `{"path": "/api/orders", "faults": ["drop", "500"]}`.
pub async fn arm_faults(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let payload = match json_body(&headers, &body, false) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let path = match payload.get("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(_) => return bad_body("\"path\" must be a string"),
    };
    let Some(names) = payload.get("faults").and_then(Value::as_array) else {
        return bad_body("\"faults\" must be an array of fault names");
    };
    let mut faults = Vec::with_capacity(names.len());
    for name in names {
        let Some(name) = name.as_str() else {
            return bad_body("\"faults\" must be an array of fault names");
        };
        match Fault::parse(name) {
            Ok(f) => faults.push(f),
            Err(why) => return bad_body(why),
        }
    }
    state.faults.arm(path, &faults);
    Json(faults_view(&state)).into_response()
}

/// `DELETE /api/faults`: empties the queue and the header memory.
pub async fn clear_faults(State(state): State<SharedState>) -> Response {
    state.faults.clear();
    Json(faults_view(&state)).into_response()
}

/// `POST /api/faults/profile` with `{"rate": 0.3, "seed": 7}`; rate 0 turns it off.
pub async fn set_profile(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let payload = match json_body(&headers, &body, false) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(rate) = payload
        .get("rate")
        .and_then(Value::as_f64)
        .filter(|r| (0.0..=1.0).contains(r))
    else {
        return bad_body("\"rate\" must be a number between 0 and 1");
    };
    let seed = match payload.get("seed") {
        None | Some(Value::Null) => now_ms().unsigned_abs(),
        Some(v) => match v.as_u64() {
            Some(seed) => seed,
            None => return bad_body("\"seed\" must be a whole number"),
        },
    };
    state.faults.set_profile(rate, seed);
    Json(faults_view(&state)).into_response()
}

/// `POST /api/reset`: forgets all data, records, effects, the log and armed faults.
///
/// The random profile stays: it was chosen on the command line or on purpose.
pub async fn reset(State(state): State<SharedState>) -> Response {
    let log = Arc::clone(&state.log);
    let cleared = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            tx.execute_batch(
                "DELETE FROM orders; DELETE FROM tickets; DELETE FROM messages;
                 DELETE FROM jobs; DELETE FROM idempotency; DELETE FROM effects;
                 DELETE FROM business_effects;
                 DELETE FROM sqlite_sequence;",
            )?;
            tx.commit()?;
            // On the database's thread: a request that began before this and has not yet run
            // its effect sees the new epoch and runs nothing (see `idempotent::execute`).
            log.clear();
            Ok(())
        })
        .await;
    if let Err(err) = cleared {
        return internal(err);
    }
    state.trace.clear();
    state.faults.clear();
    Json(json!({ "reset": true })).into_response()
}
