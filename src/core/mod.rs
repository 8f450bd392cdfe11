//! The pure core: every decision sendonce makes, with no web dependency, no clock and no
//! randomness of its own. Time (`now_ms`) and random bytes are always parameters.

pub mod action;
pub mod chat;
pub mod config;
pub mod cors;
pub mod error;
pub mod events;
pub mod exclusive;
pub mod fingerprint;
pub mod form;
pub mod http;
pub mod json;
pub mod key;
pub mod mask;
mod number;
pub mod options;
pub(crate) mod order;
// Used by the web adapters and bindings only (wasm); tested natively.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) mod small_map;

pub mod quick;
pub mod record;
pub mod reply;
pub mod retry;
pub mod run;
mod sha1;
pub mod status;
pub(crate) mod text;
pub mod url;
pub mod window;
