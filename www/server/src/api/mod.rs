//! The HTTP routes. Each endpoint lives in its own file; this one only wires them.

pub mod admin;
pub mod body;
pub mod collections;
pub mod idempotent;
pub mod jobs;
pub mod messages;
pub mod trace;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

use crate::log::log_requests;
use crate::state::SharedState;
use crate::{static_files, stream};

/// The whole application: API routes, the request log around them, static files behind.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route(
            "/api/orders",
            get(collections::list_orders).post(collections::create_order),
        )
        .route(
            "/api/tickets",
            get(collections::list_tickets).post(collections::create_ticket),
        )
        .route(
            "/api/conversations/{cid}/messages",
            get(messages::list).post(messages::create),
        )
        .route(
            "/api/conversations/{cid}/messages/{mid}/reply",
            get(stream::reply),
        )
        .route("/api/jobs", post(jobs::create))
        .route("/api/jobs/{id}", get(jobs::status))
        .route("/api/trace/{key}", get(trace::chain))
        .route("/api/effects", get(admin::effects))
        .route("/api/log", get(admin::log))
        .route(
            "/api/faults",
            get(admin::list_faults)
                .post(admin::arm_faults)
                .delete(admin::clear_faults),
        )
        .route(
            "/api/faults/profile",
            get(admin::list_faults).post(admin::set_profile),
        )
        .route("/api/reset", post(admin::reset))
        .fallback(static_files::serve)
        .layer(from_fn_with_state(state.clone(), crate::cors::cors))
        .layer(from_fn_with_state(state.log.clone(), log_requests))
        .with_state(state)
}
