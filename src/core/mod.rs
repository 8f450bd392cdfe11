//! The pure core: every decision sendonce makes, with no web dependency, no clock and no
//! randomness of its own. Time (`now_ms`) and random bytes are always parameters.

pub mod error;
pub mod fingerprint;
pub mod json;
pub mod key;
pub mod record;
pub mod status;
pub mod window;
