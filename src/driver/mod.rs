//! The drivers (wasm only): the quinn half of sendonce. One driver per feature feeds a core
//! machine its inputs from the platform (replies, timers, locks, storage, other tabs and
//! processes) and carries out its outputs (requests, waits, storage writes, statuses, events).
//! Drivers decide nothing the core could decide, and convert almost no arguments: the
//! bindings hand them checked values. The exception is a send's `init` (`method`, `headers`),
//! read by `ActionHandle::send` because the form driver sends through it too. Both that and
//! the JS values drivers give back (statuses, replies, events, chat messages) go through the
//! converters of `platform::convert`, the one place that knows their shapes (the bindings use
//! them too; a driver never imports the bindings above it).
//!
//! - [`shared`]: what an instance shares with its drivers: storage reads and writes (with
//!   eviction when full), events, the cross-tab channel, online/offline, the live actions.
//! - [`action`]: one action's machine: its sends, retries and timers, one send per key across
//!   tabs (Web Locks) and across processes (storage adapter claims and leases).
//! - [`exclusive`]: carries out `core::exclusive` (one key's exclusivity across processes:
//!   claims, renewals, releases, timers) for the action and quick-reply drivers.
//! - [`form`]: a bound form: submit and click handling, the button guard, drafts, the status
//!   element and its Retry button.
//! - `chat` (feature `chat`): a conversation's outbox, delivered in order, and reply streams.
//! - `quick` (feature `quick-replies`): bot quick replies: one run per tap and window, across
//!   tabs and processes, and inbound messages seen once.
//! - [`listeners`]: the callback lists behind `onStatus`, `onReply` and `onChange`.
//!
//! An action's run (its attempts, polls, writes over an adapter and timers) is decided step
//! by step by `core::run` and carried out by the JS shell (`drive` in `js/platform.js`): the
//! driver turns each command into one for the shell and hands the shell's result back
//! (`ActionRun`, in [`action`]); no future runs it. The other waits (locks, claims and
//! leases, a form's draft, chat and quick replies) are still
//! `async fn`s over `js/platform.js`'s promises, not Rust callbacks, by measurement
//! (BENCHMARKS.md, "Event-driven drivers, measured and not kept"): rewritten as callbacks over
//! one promise bridge they made the forms entry's wasm 2,063 bytes gzip larger (each
//! continuation is a closure type of its own, with its vtable and drop glue). A continuation
//! kept in JS costs neither (BENCHMARKS.md, "Issue 21: the action's run in the shell").

pub(crate) mod action;
#[cfg(feature = "chat")]
pub(crate) mod chat;
pub(crate) mod exclusive;
pub(crate) mod form;
pub(crate) mod listeners;
#[cfg(feature = "quick-replies")]
pub(crate) mod quick;
pub(crate) mod shared;
