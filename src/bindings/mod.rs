//! The `#[wasm_bindgen]` surface: converts JS values to core types, calls the drivers
//! (`driver`), and turns core errors into JS `Error`s. No logic of its own: no locks, timers,
//! retries or storage decisions live here.

mod action;
#[cfg(feature = "chat")]
mod chat;
mod check;
pub(crate) mod convert;
mod form;
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
