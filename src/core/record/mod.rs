//! Stored records and their schema: what sendonce keeps in storage, how it is encoded, and
//! how a record that does not decode is skipped.
//!
//! Storage keys (all under the namespace prefix `{ns}:v1:`; every part is escaped with
//! [`key_part`] so that a `:` inside a namespace, key or conversation id cannot make one
//! key look like another):
//! - `{ns}:v1:a:{key}`             an action ([`ActionRecord`]), see [`action_key`]
//! - `{ns}:v1:i:{action}:{fp}`     index: action name + fingerprint -> key (plain key text),
//!   see [`index_key`]
//! - `{ns}:v1:d:{form}`            a form draft ([`DraftRecord`]), see [`draft_key`]
//! - `{ns}:v1:o:{conversation}:{seq}` one chat message of the outbox ([`OutboxEntry`]), `seq`
//!   zero-padded to 10 digits so that keys sort in delivery order, see [`outbox_key`]
//! - `{ns}:v1:q:{key}`             a finished quick reply ([`QuickReplyRecord`]), see [`quick_key`]
//! - `{ns}:v1:s:{id or hash}`      an inbound message already handled ([`SeenRecord`]), see
//!   [`seen_key`]
//!
//! Every record is one compact JSON object with `"v": SCHEMA_VERSION` and
//! `"t": "action" | "draft" | "outbox" | "quick" | "seen"`, and one- or two-letter member
//! names: localStorage has about 5 MB per origin and the records of a busy chat add up. A
//! finished action with a small JSON reply is 241 bytes (measured in `tests/core_records.rs`).
//! Optional members are left out when empty. Expiry is checked when a record is read
//! ([`Record::decode`]), the way workbox's queue checks it lazily, so nothing needs a timer.
//!
//! The module is split by job: [`types`] (the records and their expiry), `codec` (their JSON,
//! [`Record::encode`] and [`Record::decode`]), [`keys`] (the storage-key layout, lock and
//! lease names) and [`eviction`] (quotas and the eviction order). Everything is re-exported
//! here, so `core::record::X` names each item. What to do with a stored action (repeat,
//! resume or start anew; what `pending()` lists) is decided next to the machines that use it:
//! `core::action::plan_action` and `pending_view`, `core::form::form_key`.

mod codec;
pub mod eviction;
pub mod keys;
pub mod types;

pub use eviction::*;
pub use keys::*;
pub use types::*;
