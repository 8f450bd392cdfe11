//! The accept loop: hyper connections driven by hand so a handler can make the server hang
//! up without answering.
//!
//! `axum::serve` cannot do that: once a handler returns, its response is written. Here each
//! connection task races the connection against a one-shot "close" signal. A response that
//! carries [`CloseConnection`] fires the signal and never completes, so the task drops the
//! connection (and with it the socket) before a single byte of the answer is written.

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_service::Service;

/// Response extension: close the connection instead of sending this response.
///
/// Used by the `drop` fault (after the effect committed) and the `reset` fault (before
/// anything ran). The client sees the connection end with no response at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseConnection;

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    spawn_connection(stream, app.clone(), &graceful);
                }
                Err(err) => {
                    // Usually "too many open files": back off instead of spinning.
                    eprintln!("sendonce-server: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            eprintln!("sendonce-server: some connections did not finish in time");
        }
    }
}

fn spawn_connection(stream: tokio::net::TcpStream, app: Router, graceful: &GracefulShutdown) {
    let (close_tx, close_rx) = oneshot::channel::<()>();
    let close_tx = Arc::new(Mutex::new(Some(close_tx)));
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let mut app = app.clone();
        let close_tx = Arc::clone(&close_tx);
        async move {
            let response = match app.call(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<CloseConnection>().is_some() {
                let sender = close_tx.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(sender) = sender {
                    let _ = sender.send(());
                }
                // Never answer: the connection task drops us together with the connection.
                std::future::pending::<()>().await;
            }
            Ok::<_, Infallible>(response)
        }
    });
    // One request per connection. Browsers silently resend a request, POST included, when a
    // *reused* keep-alive connection closes before any response (they take it for a stale
    // socket), which would hide the `drop` and `reset` faults from the page and from the SDK.
    // On loopback a fresh connection per request costs nothing worth keeping that for.
    let conn = http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        // A client that never finishes its headers is cut off (hyper's default is 30 s);
        // the body has its own deadline in `limits`.
        .header_read_timeout(crate::limits::HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        let closed = async {
            // A dropped sender (connection over) is not a request to close.
            if close_rx.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            // Client-side hang-ups and malformed requests end up here; nothing to do.
            _ = conn => {}
            () = closed => {}
        }
    });
}
