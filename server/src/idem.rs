//! Idempotency records: claim a key, finish it together with its effect, replay it.
//!
//! This is the draft "The Idempotency-Key HTTP Header Field"
//! (draft-ietf-httpapi-idempotency-key-header-07) as storage: a record per (scope, key) with
//! the request fingerprint, a state (`in_flight` or `done`) and, once done, the response to
//! replay. The functions take a connection and the time, and know nothing of HTTP, so the
//! rules can be read (and tested) in one place.

use std::cell::RefCell;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

/// Identifies one idempotent request: where it went, its key and what it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemRequest {
    /// Method and path, e.g. `POST /api/orders`: the draft lets a server scope keys per
    /// resource, and this one does, so one key can be reused across endpoints.
    pub scope: String,
    /// The validated `Idempotency-Key`.
    pub key: String,
    /// Fingerprint of the body (see `sendonce::core::fingerprint::fingerprint_body`).
    pub fingerprint: String,
    /// The business reference the payload names (an order reference, say), if any: effects
    /// are also counted per reference, so one order placed under two keys shows.
    pub reference: Option<String>,
}

/// A response kept to answer repeats of a finished request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The original status, replayed as is (a 201 stays a 201).
    pub status: u16,
    /// The original `Content-Type`.
    pub content_type: String,
    /// The original body bytes.
    pub body: Vec<u8>,
    /// The original `Location`, if any (jobs answer 202 with one).
    pub location: Option<String>,
}

/// What the store says about a request before anything runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free and is now held `in_flight` by this request; `since` names the record
    /// and must be handed back to [`complete`] or [`release`].
    Fresh {
        /// Creation time of the record, which tells one retention window from the next.
        since: i64,
    },
    /// Another request with this key has not finished: answer 409 and let the client retry.
    InFlight,
    /// The key was used with a different payload: answer 422.
    Mismatch,
    /// The key finished before: replay this response.
    Done(StoredResponse),
}

/// What an effect may know about the request that caused it.
#[derive(Debug, Clone, Copy)]
pub struct EffectContext<'a> {
    /// The idempotency key, stored next to the effect's row for the demo pages.
    pub key: &'a str,
    /// Time of the effect, milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Where the effect leaves what must happen only once its transaction has committed.
    pub after_commit: &'a AfterCommit,
}

/// Work an effect hands on for after its commit (a job put into the queue): [`complete`] gives
/// it back only once the transaction has committed (the caller runs it when it chooses), and
/// drops it if the transaction rolled back.
#[derive(Default)]
pub struct AfterCommit(RefCell<Vec<Box<dyn FnOnce()>>>);

impl AfterCommit {
    /// Adds work to run after the commit, in the order it was added.
    pub fn push(&self, work: impl FnOnce() + 'static) {
        self.0.borrow_mut().push(Box::new(work));
    }

    /// Runs the work added so far. Call it only after the commit.
    pub fn run(self) {
        for work in self.0.into_inner() {
            work();
        }
    }
}

impl std::fmt::Debug for AfterCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AfterCommit({} pending)", self.0.borrow().len())
    }
}

/// Looks the key up and, if it is free, holds it `in_flight` in the same transaction.
///
/// The transaction starts `IMMEDIATE` so two requests can never both see "free": the second
/// waits for the first's write lock and then finds its record. A `done` record past its expiry
/// is deleted first, so a key after its retention window runs again. An expired `in_flight`
/// record is left alone: its request may still be running, and freeing its key would let a
/// retry run the effect a second time.
pub fn claim(
    conn: &mut Connection,
    req: &IdemRequest,
    now_ms: i64,
    retention_ms: i64,
) -> rusqlite::Result<Claim> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "DELETE FROM idempotency
         WHERE scope = ?1 AND key = ?2 AND state = 'done' AND expires_at <= ?3",
        params![req.scope, req.key, now_ms],
    )?;
    let existing = tx
        .query_row(
            "SELECT fingerprint, state, status, content_type, body, location
             FROM idempotency WHERE scope = ?1 AND key = ?2",
            params![req.scope, req.key],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<u16>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<Vec<u8>>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                ))
            },
        )
        .optional()?;
    let claim = match existing {
        // A different payload is reported before "in flight": it is the more useful answer,
        // since retrying will never help.
        Some((fingerprint, ..)) if fingerprint != req.fingerprint => Claim::Mismatch,
        Some((_, state, status, content_type, body, location)) => match (state.as_str(), status) {
            ("done", Some(status)) => Claim::Done(StoredResponse {
                status,
                content_type: content_type.unwrap_or_else(|| "application/json".into()),
                body: body.unwrap_or_default(),
                location,
            }),
            _ => Claim::InFlight,
        },
        None => {
            tx.execute(
                "INSERT INTO idempotency (scope, key, fingerprint, state, created_at, expires_at)
                 VALUES (?1, ?2, ?3, 'in_flight', ?4, ?5)",
                params![
                    req.scope,
                    req.key,
                    req.fingerprint,
                    now_ms,
                    now_ms.saturating_add(retention_ms)
                ],
            )?;
            Claim::Fresh { since: now_ms }
        }
    };
    tx.commit()?;
    Ok(claim)
}

/// Runs `effect` and stores its response as `done` in ONE transaction, then commits.
///
/// Either both the effect and the record commit, or neither does: a crash in between can
/// neither lose the replay of an effect that happened nor keep a replay of one that did not.
/// The effect counter for this record is bumped in the same transaction, and so is the
/// count of its business reference, if the request named one.
pub fn complete<F>(
    conn: &mut Connection,
    req: &IdemRequest,
    since: i64,
    now_ms: i64,
    retention_ms: i64,
    effect: F,
) -> rusqlite::Result<(StoredResponse, AfterCommit)>
where
    F: FnOnce(&Transaction<'_>, EffectContext<'_>) -> rusqlite::Result<StoredResponse>,
{
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let after_commit = AfterCommit::default();
    let response = effect(
        &tx,
        EffectContext {
            key: &req.key,
            now_ms,
            after_commit: &after_commit,
        },
    )?;
    // INSERT OR REPLACE rather than UPDATE: if the record vanished meanwhile (a reset), the
    // effect still happened and its replay must exist.
    tx.execute(
        "INSERT OR REPLACE INTO idempotency
             (scope, key, fingerprint, state, status, content_type, body, location,
              created_at, expires_at)
         VALUES (?1, ?2, ?3, 'done', ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            req.scope,
            req.key,
            req.fingerprint,
            response.status,
            response.content_type,
            response.body,
            response.location,
            since,
            now_ms.saturating_add(retention_ms)
        ],
    )?;
    tx.execute(
        "INSERT INTO effects (scope, key, since, count) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (scope, key, since) DO UPDATE SET count = count + 1",
        params![req.scope, req.key, since],
    )?;
    if let Some(reference) = &req.reference {
        tx.execute(
            "INSERT INTO business_effects (scope, ref, key, at) VALUES (?1, ?2, ?3, ?4)",
            params![req.scope, reference, req.key, now_ms],
        )?;
    }
    tx.commit()?;
    Ok((response, after_commit))
}

/// Gives a key back after its effect failed, so a retry can run it.
pub fn release(conn: &mut Connection, req: &IdemRequest, since: i64) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM idempotency
         WHERE scope = ?1 AND key = ?2 AND created_at = ?3 AND state = 'in_flight'",
        params![req.scope, req.key, since],
    )?;
    Ok(())
}

/// Deletes finished records past their expiry; returns how many went.
pub fn purge_expired(conn: &mut Connection, now_ms: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM idempotency WHERE state = 'done' AND expires_at <= ?1",
        params![now_ms],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE idempotency (scope TEXT, key TEXT, fingerprint TEXT, state TEXT,
               status INTEGER, content_type TEXT, body BLOB, location TEXT,
               created_at INTEGER, expires_at INTEGER, PRIMARY KEY (scope, key));
             CREATE TABLE effects (scope TEXT, key TEXT, since INTEGER, count INTEGER,
               PRIMARY KEY (scope, key, since));
             CREATE TABLE business_effects (scope TEXT, ref TEXT, key TEXT, at INTEGER);
             CREATE TABLE things (n INTEGER);",
        )
        .unwrap();
        conn
    }

    fn req(fp: &str) -> IdemRequest {
        IdemRequest {
            scope: "POST /api/things".into(),
            key: "k1".into(),
            fingerprint: fp.into(),
            reference: Some("order-1".into()),
        }
    }

    fn effect(tx: &Transaction<'_>, _: EffectContext<'_>) -> rusqlite::Result<StoredResponse> {
        tx.execute("INSERT INTO things (n) VALUES (1)", [])?;
        Ok(StoredResponse {
            status: 201,
            content_type: "application/json".into(),
            body: b"{\"id\":1}".to_vec(),
            location: None,
        })
    }

    fn things(c: &Connection) -> i64 {
        c.query_row("SELECT COUNT(*) FROM things", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn second_claim_sees_in_flight_then_done() {
        let mut c = conn();
        let Claim::Fresh { since } = claim(&mut c, &req("a"), 1000, 60_000).unwrap() else {
            panic!("first claim must be fresh")
        };
        assert_eq!(
            claim(&mut c, &req("a"), 1001, 60_000).unwrap(),
            Claim::InFlight
        );
        let (stored, _) = complete(&mut c, &req("a"), since, 1002, 60_000, effect).unwrap();
        assert_eq!(
            claim(&mut c, &req("a"), 1003, 60_000).unwrap(),
            Claim::Done(stored)
        );
        assert_eq!(things(&c), 1);
    }

    #[test]
    fn effects_are_counted_per_business_reference_across_keys() {
        let mut c = conn();
        for key in ["k1", "k2"] {
            let r = IdemRequest {
                key: key.into(),
                ..req("a")
            };
            let Claim::Fresh { since } = claim(&mut c, &r, 0, 60_000).unwrap() else {
                panic!()
            };
            complete(&mut c, &r, since, 0, 60_000, effect).unwrap();
        }
        let per_ref: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM business_effects WHERE ref = 'order-1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            per_ref, 2,
            "two keys, one order reference: two effects for it"
        );
    }

    #[test]
    fn different_payload_is_a_mismatch() {
        let mut c = conn();
        let Claim::Fresh { since } = claim(&mut c, &req("a"), 0, 60_000).unwrap() else {
            panic!()
        };
        complete(&mut c, &req("a"), since, 0, 60_000, effect).unwrap();
        assert_eq!(
            claim(&mut c, &req("b"), 1, 60_000).unwrap(),
            Claim::Mismatch
        );
    }

    #[test]
    fn expired_done_record_frees_the_key_but_in_flight_never_expires_early() {
        let mut c = conn();
        let Claim::Fresh { since } = claim(&mut c, &req("a"), 0, 100).unwrap() else {
            panic!()
        };
        // Still running after its expiry: must not be handed to a retry.
        assert_eq!(claim(&mut c, &req("a"), 500, 100).unwrap(), Claim::InFlight);
        complete(&mut c, &req("a"), since, 500, 100, effect).unwrap();
        assert!(matches!(
            claim(&mut c, &req("a"), 550, 100).unwrap(),
            Claim::Done(_)
        ));
        assert!(matches!(
            claim(&mut c, &req("a"), 600, 100).unwrap(),
            Claim::Fresh { since: 600 }
        ));
    }

    #[test]
    fn release_lets_a_retry_run() {
        let mut c = conn();
        let Claim::Fresh { since } = claim(&mut c, &req("a"), 0, 100).unwrap() else {
            panic!()
        };
        release(&mut c, &req("a"), since).unwrap();
        assert!(matches!(
            claim(&mut c, &req("a"), 1, 100).unwrap(),
            Claim::Fresh { .. }
        ));
    }

    #[test]
    fn purge_removes_only_finished_expired_records() {
        let mut c = conn();
        let Claim::Fresh { since } = claim(&mut c, &req("a"), 0, 100).unwrap() else {
            panic!()
        };
        complete(&mut c, &req("a"), since, 0, 100, effect).unwrap();
        let other = IdemRequest {
            key: "k2".into(),
            ..req("a")
        };
        claim(&mut c, &other, 0, 100).unwrap();
        assert_eq!(purge_expired(&mut c, 50).unwrap(), 0);
        assert_eq!(purge_expired(&mut c, 100).unwrap(), 1);
        assert_eq!(claim(&mut c, &other, 200, 100).unwrap(), Claim::InFlight);
    }

    #[test]
    fn after_commit_work_is_handed_back_only_when_the_transaction_commits() {
        use std::rc::Rc;
        let ran = Rc::new(RefCell::new(Vec::new()));
        let mut c = conn();
        let Claim::Fresh { since } = claim(&mut c, &req("a"), 0, 60_000).unwrap() else {
            panic!()
        };
        let log = Rc::clone(&ran);
        let failed = complete(&mut c, &req("a"), since, 0, 60_000, |tx, ctx| {
            let log = Rc::clone(&log);
            ctx.after_commit
                .push(move || log.borrow_mut().push("rolled back"));
            effect(tx, ctx)?;
            Err(rusqlite::Error::InvalidQuery)
        });
        assert!(failed.is_err());
        assert_eq!(things(&c), 0);
        let (_, after) = complete(&mut c, &req("a"), since, 0, 60_000, |tx, ctx| {
            let log = Rc::clone(&log);
            ctx.after_commit
                .push(move || log.borrow_mut().push("committed"));
            effect(tx, ctx)
        })
        .unwrap();
        assert!(
            ran.borrow().is_empty(),
            "nothing runs before the caller says so"
        );
        after.run();
        assert_eq!(*ran.borrow(), ["committed"]);
        assert_eq!(things(&c), 1);
    }
}
