//! The HTTP routes. Each endpoint lives in its own file; this one only wires them.

pub mod admin;
pub mod body;
pub mod collections;
pub mod idempotent;
pub mod jobs;
pub mod messages;
pub mod trace;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;

use crate::limits::bounded_body;
use crate::log::log_requests;
use crate::origin::{demo_reads, same_origin_admin};
use crate::state::SharedState;
use crate::{static_files, stream};

/// The whole application: API routes, the request log around them, static files behind.
///
/// Every request body is read first, under a deadline and a size limit ([`bounded_body`]);
/// the admin routes refuse state-changing requests from other sites ([`same_origin_admin`]);
/// the reads that list every key answer only with `--demo`, and only this server's own pages
/// and scripts ([`demo_reads`]).
pub fn router(state: SharedState) -> Router<()> {
    let admin_routes = Router::new()
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
        .route_layer(from_fn(same_origin_admin));
    // The lists share their paths with the POSTs that create; the guard lets those through.
    let demo_routes = Router::new()
        .route(
            "/api/orders",
            get(collections::list_orders).post(collections::create_order),
        )
        .route(
            "/api/tickets",
            get(collections::list_tickets).post(collections::create_ticket),
        )
        .route("/api/trace/{key}", get(trace::chain))
        .route("/api/effects", get(admin::effects))
        .route("/api/log", get(admin::log))
        .route("/api/log/counts", get(admin::log_counts))
        .route_layer(from_fn_with_state(state.clone(), demo_reads));
    Router::new()
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
        .merge(demo_routes)
        .merge(admin_routes)
        .fallback(static_files::serve)
        .layer(from_fn(bounded_body))
        .layer(from_fn_with_state(state.clone(), crate::cors::cors))
        .layer(from_fn_with_state(state.log.clone(), log_requests))
        .with_state(state)
}
