//! sendonce makes a user's action happen once.
//!
//! The crate has four layers (see `STYLE` in the project docs):
//! - [`core`]: every decision, pure and deterministic: keys, fingerprints, windows, the action
//!   state machine, retry decisions, reply classification, status texts and stored records.
//!   Time and random bytes are parameters, so it is tested natively on a fake clock and the
//!   reference server computes exactly what the browser computes.
//! - `platform` (wasm only): web adapters for storage, timers, fetch, locks and the DOM.
//! - `driver` (wasm only): one driver per feature (action, form, chat, quick replies) feeds a
//!   core machine its inputs from the platform (replies, timers, locks, storage, other tabs)
//!   and carries out its outputs. Locks, retries' waits, leases and storage writes live here.
//! - `bindings` (wasm only): the `#[wasm_bindgen]` surface that converts JS values, calls the
//!   drivers and turns core errors into JS `Error`s.
//!
//! Each layer imports only the layers below it (`core` <- `platform` <- `driver` <-
//! `bindings`), and no two files import each other: `tests/layers.rs` reads the sources and
//! fails on an upward import or a circle of files. The JS-value converters that drivers and
//! bindings share are in `platform::convert`; `driver::shared` holds the live actions as a
//! type parameter that `driver::action` fills in, so it names no driver above it.
#![deny(missing_docs)]
// A lighter build (the `sendonce/forms` entry, without chat or quick replies) leaves helpers
// that only those features call unused; the full build keeps the dead-code lint.
#![cfg_attr(
    not(all(feature = "chat", feature = "quick-replies")),
    allow(dead_code)
)]

pub mod core;

/// The wasm's allocator: talc instead of the standard library's dlmalloc, 2.7 KB gzip smaller
/// (BENCHMARKS.md, "issue 21: size levers"), the same create time in one interleaved run, and
/// within 0.2 MiB of dlmalloc's wasm memory over an async storage adapter (0.6 MiB more after
/// 20,000 actions on the memory store). The wasm is single-threaded: talc's cell needs no lock.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
mod platform;

#[cfg(target_arch = "wasm32")]
mod driver;

/// The JS surface. Public for the crate's browser tests; JS users see it as the npm package.
#[cfg(target_arch = "wasm32")]
pub mod bindings;
