//! Orders and tickets: the same shape, one table each. Creating one is the side effect the
//! demos count.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::params;
use serde_json::{json, Value};

use super::body::{business_ref, keyed_json};
use super::idempotent::{self, json_response, Effect, IdempotentCall};
use crate::problem::internal;
use crate::state::SharedState;

/// One collection: where it lives and what its items are called in JSON.
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    /// The table (a constant, never user input, so it can go into SQL text).
    pub table: &'static str,
    /// The item's name in a created answer (`order`, `ticket`).
    pub item: &'static str,
    /// The list's name in a listing (`orders`, `tickets`).
    pub plural: &'static str,
    /// The endpoint path.
    pub path: &'static str,
}

/// `POST/GET /api/orders`.
pub const ORDERS: Collection = Collection {
    table: "orders",
    item: "order",
    plural: "orders",
    path: "/api/orders",
};

/// `POST/GET /api/tickets` (bot quick replies).
pub const TICKETS: Collection = Collection {
    table: "tickets",
    item: "ticket",
    plural: "tickets",
    path: "/api/tickets",
};

/// The effect of creating an item: one row, answered with 201 `{"id", <item>: <posted JSON>}`.
fn create_effect(collection: Collection, payload: Value) -> Effect {
    Arc::new(move |tx, ctx| {
        tx.execute(
            &format!(
                "INSERT INTO {} (key, body, created_at) VALUES (?1, ?2, ?3)",
                collection.table
            ),
            params![ctx.key, payload.to_string(), ctx.now_ms],
        )?;
        let id = tx.last_insert_rowid();
        Ok(json_response(
            201,
            &json!({ "id": id, collection.item: payload }),
        ))
    })
}

async fn create(
    state: SharedState,
    collection: Collection,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (key, payload) = match keyed_json(&headers, &body, false) {
        Ok(parts) => parts,
        Err(response) => return response,
    };
    let reference = business_ref(&payload);
    let call = IdempotentCall {
        headers: &headers,
        path: collection.path,
        key,
        body: &body,
        reference,
    };
    idempotent::run(&state, call, create_effect(collection, payload)).await
}

async fn list(state: SharedState, collection: Collection) -> Response {
    let rows = state
        .db
        .call(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT id, key, body, created_at FROM {} ORDER BY id",
                collection.table
            ))?;
            let rows = stmt
                .query_map([], |row| {
                    let body: String = row.get(2)?;
                    Ok(json!({
                        "id": row.get::<_, i64>(0)?,
                        "key": row.get::<_, String>(1)?,
                        collection.item: serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
                        "createdAt": row.get::<_, i64>(3)?,
                    }))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await;
    match rows {
        Ok(rows) => Json(json!({ "count": rows.len(), collection.plural: rows })).into_response(),
        Err(err) => internal(err),
    }
}

/// `POST /api/orders`.
pub async fn create_order(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(state, ORDERS, headers, body).await
}

/// `GET /api/orders`.
pub async fn list_orders(State(state): State<SharedState>) -> Response {
    list(state, ORDERS).await
}

/// `POST /api/tickets`.
pub async fn create_ticket(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(state, TICKETS, headers, body).await
}

/// `GET /api/tickets`.
pub async fn list_tickets(State(state): State<SharedState>) -> Response {
    list(state, TICKETS).await
}
