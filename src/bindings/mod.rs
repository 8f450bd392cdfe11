//! The `#[wasm_bindgen]` surface: converts JS values to core types, calls the core and the
//! platform, and turns core errors into JS `Error`s. No decisions of its own.

mod action;
#[cfg(feature = "chat")]
mod chat;
mod check;
mod convert;
mod error;
mod form;
mod listeners;
mod options;
#[cfg(feature = "quick-replies")]
mod quick;
mod sendonce;
mod types;

pub use action::Action;
#[cfg(feature = "chat")]
pub use chat::Chat;
pub use form::Form;
#[cfg(feature = "quick-replies")]
pub use quick::QuickReplies;
pub use sendonce::Sendonce;
