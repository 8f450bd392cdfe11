//! The sendonce reference server: what a backend must do for sendonce's `Idempotency-Key`
//! requests, and a way to fail on purpose so demos and tests can show retries working.
//!
//! `main.rs` reads the command line and calls [`run`]; tests may do the same in-process.

#![deny(missing_docs)]
// Request steps return `Result<_, Response>` so a handler can answer an error with `?`-like
// early returns; a Response is moved once per request, so its size does not matter here.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod clock;
pub mod config;
pub mod cors;
pub mod db;
pub mod faults;
pub mod idem;
pub mod limits;
pub mod log;
pub mod origin;
pub mod problem;
pub mod queue;
pub mod quirks;
pub mod rng;
pub mod server;
pub mod state;
pub mod static_files;
pub mod stream;
pub mod trace;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::db::Db;
use crate::faults::FaultBoard;
use crate::log::RequestLog;
use crate::state::AppState;

/// Opens the database, binds the address, calls `on_ready` with the bound address, and serves
/// until `shutdown` resolves.
pub async fn run(
    config: Config,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let conn = db::open(&config.db)
        .map_err(|e| format!("cannot open database {}: {e}", config.db.display()))?;
    let seed = config
        .seed
        .unwrap_or_else(|| clock::now_ms().unsigned_abs());
    if config.chaos_rate > 0.0 {
        eprintln!(
            "sendonce-server: chaos rate {} with seed {seed}",
            config.chaos_rate
        );
    }
    if !config.quirks.is_empty() {
        eprintln!("sendonce-server: quirks {}", config.quirks.names());
    }
    let retention_ms = i64::try_from(config.retention_ms).unwrap_or(i64::MAX);
    let (queue, tickets) = queue::JobQueue::new();
    let state = Arc::new(AppState {
        db: Db::new(conn),
        faults: Arc::new(FaultBoard::new(config.chaos_rate, seed)),
        log: Arc::new(RequestLog::new(config.quiet)),
        retention_ms,
        www: config.www.clone(),
        pkg: config.pkg.clone(),
        test_pages: config.test_pages.clone(),
        quirks: config.quirks.clone(),
        cors_origin: config.cors_origin.clone(),
        demo: config.demo,
        trace: Arc::new(trace::TraceLog::new(config.quiet)),
        queue,
    });
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    on_ready(addr);
    let purger = tokio::spawn(purge_expired(state.db.clone(), retention_ms));
    let worker = tokio::spawn(queue::run_worker(state.clone(), tickets));
    server::serve(listener, api::router(state), shutdown).await;
    purger.abort();
    worker.abort();
    Ok(())
}

/// Deletes expired records now and then, so the file does not grow forever; lookups also
/// check expiry, so this only bounds the size, never correctness.
async fn purge_expired(db: Db, retention_ms: i64) {
    let every = Duration::from_millis(u64::try_from(retention_ms / 2).unwrap_or(0))
        .clamp(Duration::from_millis(50), Duration::from_secs(60));
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        let purged = db
            .call(|conn| Ok(idem::purge_expired(conn, clock::now_ms())?))
            .await;
        if let Err(err) = purged {
            eprintln!("sendonce-server: purging expired keys failed: {err}");
        }
    }
}
