//! The pure core: every decision sendonce makes, with no web dependency, no clock and no
//! randomness of its own. Time (`now_ms`) and random bytes are always parameters.

pub mod action;
pub mod chat;
pub mod error;
pub mod events;
pub mod fingerprint;
pub mod form;
pub mod json;
pub mod key;
pub mod mask;
mod number;
pub(crate) mod order;

pub mod quick;
pub mod record;
pub mod reply;
pub mod retry;
pub mod status;
pub(crate) mod text;
pub mod window;
