//! The coordination machine (`core::exclusive`) in a simulated world: processes with their own
//! clocks, a shared store with its own clock that expires leases, message latency, stalls, and
//! a store that loses its data. Time is simulated; the whole file runs in well under a second.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use sendonce::core::exclusive::{
    Config, Exclusive, Fallback, Found, Input, Output, Settle, SettleOutput,
};

/// A small deterministic random source (xorshift64*), seeded per test.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Read,
    Claim(String, u64),
    Renew(String, u64),
    Release(String),
    WriteResult,
}

#[derive(Clone, Debug)]
enum Ev {
    Start(usize),
    /// An operation reaches the store.
    AtStore(usize, Op),
    /// An answer reaches a process.
    Deliver(usize, Input),
    /// A process's timer fires (the machine time it was set for).
    Wake(usize, u64),
    /// A process's work is over: it writes its result.
    WorkDone(usize),
    /// The store loses everything.
    Wipe,
}

struct Proc {
    machine: Exclusive,
    /// This process's clock minus the true time.
    offset: i64,
    /// True-time intervals when the process is frozen (events wait until the end).
    stalls: Vec<(u64, u64)>,
    work_ms: u64,
    wake_set: Option<u64>,
    runs: u32,
    guarded_runs: u32,
    adopted: bool,
    failed: Option<String>,
    lost: u32,
    waiting: u32,
    claims: u32,
    /// Set when the machine sent a Claim and no token should have been used.
    claimed_with: Vec<String>,
    /// Whether this process's work wrote its result (a work that is cut short does not).
    work_never_ends: bool,
}

struct World {
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    events: Vec<Ev>,
    procs: Vec<Proc>,
    /// The store: the lease's token and when it expires (true time), and the result.
    lease: Option<(String, u64)>,
    result: bool,
    latency_max: u64,
    /// Extra latency for the answers to renews (a renew that comes back late).
    renew_reply_extra: u64,
    rng: Rng,
    /// Whether two processes ever ran guarded work at once.
    overlap_seen: bool,
    running_guarded: Vec<bool>,
}

impl World {
    fn new(seed: u64, latency_max: u64) -> Self {
        World {
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            procs: Vec::new(),
            lease: None,
            result: false,
            latency_max,
            renew_reply_extra: 0,
            rng: Rng::new(seed),
            overlap_seen: false,
            running_guarded: Vec::new(),
        }
    }

    fn add(&mut self, config: Config, token: Option<String>, offset: i64, work_ms: u64) -> usize {
        self.procs.push(Proc {
            machine: Exclusive::new(config, token),
            offset,
            stalls: Vec::new(),
            work_ms,
            wake_set: None,
            runs: 0,
            guarded_runs: 0,
            adopted: false,
            failed: None,
            lost: 0,
            waiting: 0,
            claims: 0,
            claimed_with: Vec::new(),
            work_never_ends: false,
        });
        self.running_guarded.push(false);
        self.procs.len() - 1
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.events.push(ev);
        self.queue
            .push(Reverse((t, self.seq, self.events.len() - 1)));
    }

    fn latency(&mut self) -> u64 {
        self.rng.below(self.latency_max + 1)
    }

    fn clock(&self, p: usize) -> u64 {
        (self.now as i64 + self.procs[p].offset) as u64
    }

    fn stalled_until(&self, p: usize, t: u64) -> Option<u64> {
        self.procs[p]
            .stalls
            .iter()
            .find(|(a, b)| t >= *a && t < *b)
            .map(|(_, b)| *b)
    }

    fn run(&mut self, until: u64) {
        while let Some(Reverse((t, _, i))) = self.queue.pop() {
            if t > until {
                break;
            }
            self.now = t;
            let ev = self.events[i].clone();
            // A frozen process handles nothing until it thaws (the store goes on).
            let target = match &ev {
                Ev::Start(p) | Ev::Deliver(p, _) | Ev::Wake(p, _) | Ev::WorkDone(p) => Some(*p),
                _ => None,
            };
            if let Some(p) = target {
                if let Some(end) = self.stalled_until(p, t) {
                    self.at(end, ev);
                    continue;
                }
            }
            match ev {
                Ev::Start(p) => {
                    let now = self.clock(p);
                    self.procs[p].machine.start(now);
                    self.pump(p);
                }
                Ev::Deliver(p, input) => {
                    let now = self.clock(p);
                    self.procs[p].machine.handle(input, now);
                    self.pump(p);
                }
                Ev::Wake(p, at) => {
                    if self.procs[p].wake_set == Some(at) {
                        self.procs[p].wake_set = None;
                        let now = self.clock(p);
                        self.procs[p].machine.handle(Input::Tick, now);
                        self.pump(p);
                    }
                }
                Ev::WorkDone(p) => {
                    self.running_guarded[p] = false;
                    let l = self.latency();
                    self.at(t + l, Ev::AtStore(p, Op::WriteResult));
                }
                Ev::AtStore(p, op) => self.store(p, op),
                Ev::Wipe => {
                    self.lease = None;
                    self.result = false;
                }
            }
        }
    }

    fn lease_alive(&self) -> Option<&str> {
        match &self.lease {
            Some((tok, exp)) if self.now < *exp => Some(tok.as_str()),
            _ => None,
        }
    }

    fn store(&mut self, p: usize, op: Op) {
        let reply = match op {
            Op::Read => Some(Input::Read { done: self.result }),
            Op::Claim(tok, ttl) => {
                if self.lease_alive().is_some() {
                    Some(Input::Claimed { won: false })
                } else {
                    self.lease = Some((tok, self.now + ttl));
                    Some(Input::Claimed { won: true })
                }
            }
            Op::Renew(tok, ttl) => {
                if self.lease_alive() == Some(tok.as_str()) {
                    self.lease = Some((tok, self.now + ttl));
                    Some(Input::Renewed { held: true })
                } else {
                    Some(Input::Renewed { held: false })
                }
            }
            Op::Release(tok) => {
                if self.lease_alive() == Some(tok.as_str()) {
                    self.lease = None;
                }
                None
            }
            Op::WriteResult => {
                self.result = true;
                Some(Input::Finished)
            }
        };
        if let Some(input) = reply {
            let mut l = self.latency();
            if matches!(input, Input::Renewed { .. }) {
                l += self.renew_reply_extra;
            }
            let t = self.now + l;
            self.at(t, Ev::Deliver(p, input));
        }
    }

    fn pump(&mut self, p: usize) {
        while let Some(out) = self.procs[p].machine.poll() {
            let l = self.latency();
            let t = self.now + l;
            match out {
                Output::Read => self.at(t, Ev::AtStore(p, Op::Read)),
                Output::Claim { token, ttl_ms } => {
                    self.procs[p].claims += 1;
                    self.procs[p].claimed_with.push(token.clone());
                    self.at(t, Ev::AtStore(p, Op::Claim(token, ttl_ms)));
                }
                Output::Renew { token, ttl_ms } => {
                    self.at(t, Ev::AtStore(p, Op::Renew(token, ttl_ms)))
                }
                Output::Release { token } => self.at(t, Ev::AtStore(p, Op::Release(token))),
                Output::Waiting => self.procs[p].waiting += 1,
                Output::Adopt { .. } => self.procs[p].adopted = true,
                Output::Run { guarded } => {
                    self.procs[p].runs += 1;
                    if guarded {
                        self.procs[p].guarded_runs += 1;
                        if self.running_guarded.iter().any(|r| *r) {
                            self.overlap_seen = true;
                        }
                        self.running_guarded[p] = true;
                    }
                    if !self.procs[p].work_never_ends {
                        let w = self.procs[p].work_ms;
                        self.at(self.now + w, Ev::WorkDone(p));
                    }
                }
                Output::LeaseLost(_) => self.procs[p].lost += 1,
                Output::Fail(e) => self.procs[p].failed = Some(e),
                Output::Trouble(_) => {}
            }
        }
        let wake = self.procs[p].machine.poll_timeout();
        if wake.is_some() && wake != self.procs[p].wake_set {
            let at = wake.unwrap_or_default();
            self.procs[p].wake_set = Some(at);
            let true_t = (at as i64 - self.procs[p].offset).max(self.now as i64) as u64;
            self.at(true_t, Ev::Wake(p, at));
        }
    }
}

fn quick_config() -> Config {
    Config::new(1500, 60_000, Fallback::Fail, Fallback::Fail)
}

fn token(i: usize) -> Option<String> {
    Some(format!("token-{i}"))
}

/// Every interleaving we can reach: 2 to 6 processes whose clocks differ by up to a day,
/// starting at random times, with random latencies and handlers shorter and longer than the
/// lease. Exactly one runs the work, under the lease; every other adopts its result; nobody
/// fails, waits forever or loses its lease.
#[test]
fn one_run_per_key_across_many_seeds() {
    for seed in 0..400u64 {
        let mut rng = Rng::new(seed ^ 0xABCD);
        let mut w = World::new(seed, rng.below(120));
        let n = 2 + rng.below(5) as usize;
        for i in 0..n {
            let offset = rng.below(86_400_000) as i64 - 43_200_000 + 86_400_000;
            let work = rng.below(4000);
            let p = w.add(quick_config(), token(i), offset, work);
            let start = rng.below(2000);
            w.at(start, Ev::Start(p));
        }
        w.run(120_000);
        let runs: u32 = w.procs.iter().map(|p| p.runs).sum();
        assert_eq!(runs, 1, "seed {seed}: {runs} runs");
        assert!(!w.overlap_seen, "seed {seed}: two guarded runs at once");
        for (i, p) in w.procs.iter().enumerate() {
            assert!(p.machine.is_over(), "seed {seed}: process {i} never ended");
            assert!(
                p.failed.is_none(),
                "seed {seed}: process {i} failed: {:?}",
                p.failed
            );
            assert_eq!(p.lost, 0, "seed {seed}: process {i} lost its lease");
            assert!(
                p.runs == 1 || p.adopted,
                "seed {seed}: process {i} neither ran nor adopted"
            );
            assert_eq!(p.guarded_runs, p.runs, "seed {seed}: an unguarded run");
        }
        assert!(w.result, "seed {seed}: no result stored");
        assert!(
            w.lease_alive().is_none(),
            "seed {seed}: the lease was left held"
        );
    }
}

/// A holder frozen past its lease (a paused process): another process takes the key over and
/// runs the work with the same key; the frozen one learns at its next renew that the lease is
/// gone (told once, renews no more), and its release does not free the new holder's lease.
#[test]
fn a_holder_that_stalls_past_its_lease_loses_it_and_is_told() {
    for seed in 0..50u64 {
        let mut w = World::new(seed, 20);
        let a = w.add(quick_config(), token(0), 0, 6000);
        let b = w.add(quick_config(), token(1), 5_000, 6000);
        w.at(0, Ev::Start(a));
        w.at(100, Ev::Start(b));
        // A runs from about t=0; it freezes from 200 ms to 5 s (its lease is 1.5 s).
        w.procs[a].stalls.push((200, 5000));
        w.run(3000);
        // While A is frozen, B has taken the lease and runs.
        assert_eq!(w.procs[b].runs, 1, "seed {seed}");
        assert_eq!(w.lease_alive(), Some("token-1"), "seed {seed}");
        w.run(120_000);
        assert_eq!(w.procs[a].runs, 1, "seed {seed}");
        assert_eq!(
            w.procs[a].lost, 1,
            "seed {seed}: A not told its lease was lost"
        );
        assert!(!w.procs[a].machine.is_holding());
        assert_eq!(w.procs[b].lost, 0, "seed {seed}");
        assert!(w.procs.iter().all(|p| p.machine.is_over()), "seed {seed}");
        assert!(w.result);
    }
}

/// The released lease of the stalled holder cannot free the new holder's: a release is a
/// compare-and-delete on the token.
#[test]
fn a_late_release_does_not_free_another_holder() {
    let mut released = 0;
    for seed in 0..50u64 {
        let mut w = World::new(seed, 30);
        let a = w.add(quick_config(), token(0), 0, 2500);
        let b = w.add(quick_config(), token(1), 0, 20_000);
        w.at(0, Ev::Start(a));
        w.at(500, Ev::Start(b));
        // A's work ends while it is frozen: when it thaws, its renew and its result race.
        w.procs[a].stalls.push((1000, 4000));
        w.run(4500);
        if w.procs[a].lost == 0 {
            released += 1;
        }
        // A has thawed and finished; B (which took over) still holds its lease.
        assert!(w.procs[a].machine.is_over(), "seed {seed}");
        assert_eq!(w.lease_alive(), Some("token-1"), "seed {seed}");
        assert!(w.procs[b].machine.is_holding(), "seed {seed}");
    }
    assert!(released > 0, "no seed sent the late release");
}

/// A process frozen after winning the claim and before starting the work, for longer than the
/// lease: it does not start on a lease that may have gone; it claims again, waits for the
/// other process and adopts its result.
#[test]
fn a_stall_between_claim_and_work_claims_again() {
    let mut m = Exclusive::new(quick_config(), token(0));
    m.start(0);
    m.poll();
    m.handle(Input::Read { done: false }, 0);
    m.poll();
    m.handle(Input::Claimed { won: true }, 0);
    assert_eq!(m.poll(), Some(Output::Read));
    // The answer is handled 2 s later (the process was frozen): the lease may be gone.
    m.handle(Input::Read { done: false }, 2000);
    assert_eq!(
        m.poll(),
        Some(Output::Release {
            token: "token-0".into()
        })
    );
    assert!(matches!(m.poll(), Some(Output::Claim { .. })));
    m.handle(Input::Claimed { won: false }, 2001);
    assert_eq!(m.poll(), Some(Output::Waiting));
    let at = m.poll_timeout().unwrap();
    m.handle(Input::Tick, at);
    assert_eq!(m.poll(), Some(Output::Read));
    m.handle(Input::Read { done: true }, at);
    assert_eq!(m.poll(), Some(Output::Adopt { waited: true }));
    assert!(m.is_over());
}

/// A renew whose answer comes back late (but which the store accepted in time) keeps the lease:
/// no loss, one run, and the waiting process adopts.
#[test]
fn a_lease_renewed_late_is_kept() {
    for seed in 0..50u64 {
        let mut w = World::new(seed, 10);
        w.renew_reply_extra = 1200;
        let a = w.add(quick_config(), token(0), 0, 8000);
        let b = w.add(quick_config(), token(1), -777, 100);
        w.at(0, Ev::Start(a));
        w.at(300, Ev::Start(b));
        w.run(120_000);
        assert_eq!(w.procs[a].runs, 1, "seed {seed}");
        assert_eq!(w.procs[a].lost, 0, "seed {seed}");
        assert_eq!(w.procs[b].runs, 0, "seed {seed}");
        assert!(w.procs[b].adopted, "seed {seed}");
        assert_eq!(w.procs[b].waiting, 1, "seed {seed}: waiting told once");
    }
}

/// A renew that reaches the store after the lease lapsed is refused: lost, told once.
#[test]
fn a_renew_that_arrives_after_the_lease_lapsed_is_refused() {
    let mut w = World::new(3, 0);
    let a = w.add(quick_config(), token(0), 0, 10_000);
    w.at(0, Ev::Start(a));
    // Frozen from before its first renew (at 500) until after the lease's end (1500).
    w.procs[a].stalls.push((400, 2000));
    w.run(120_000);
    assert_eq!(w.procs[a].lost, 1);
    assert_eq!(w.procs[a].runs, 1);
    assert!(w.procs[a].machine.is_over());
}

/// Clocks that disagree by more than the lease (and run backwards relative to each other) do
/// not matter: the machine only measures its own durations; the store's clock expires leases.
#[test]
fn clocks_that_differ_between_processes_do_not_matter() {
    for seed in 0..100u64 {
        let mut w = World::new(seed, 50);
        let offsets = [0i64, 3_600_000, 10, 1_000_000_000];
        for (i, o) in offsets.iter().enumerate() {
            let p = w.add(quick_config(), token(i), *o, 2000 + 700 * i as u64);
            w.at(i as u64 * 30, Ev::Start(p));
        }
        w.run(120_000);
        let runs: u32 = w.procs.iter().map(|p| p.runs).sum();
        assert_eq!(runs, 1, "seed {seed}");
        assert!(w.procs.iter().all(|p| p.machine.is_over() && p.lost == 0));
    }
}

/// A store that loses its data (restart) while one process runs and others wait: the waiters
/// find no result and no holder and one of them runs the work with the same key; the old
/// holder is told at its next renew that its lease is gone. Nobody hangs.
#[test]
fn a_claim_store_that_loses_its_data() {
    for seed in 0..200u64 {
        let mut rng = Rng::new(seed);
        let mut w = World::new(seed, 30);
        let first = w.add(quick_config(), token(0), 0, 5000);
        w.at(0, Ev::Start(first));
        for i in 1..4 {
            let p = w.add(quick_config(), token(i), rng.below(1000) as i64, 3000);
            w.at(100 + rng.below(500), Ev::Start(p));
        }
        w.at(1000 + rng.below(1500), Ev::Wipe);
        w.run(120_000);
        let runs: u32 = w.procs.iter().map(|p| p.runs).sum();
        assert!(
            (1..=2).contains(&runs),
            "seed {seed}: {runs} runs after one wipe"
        );
        assert!(w.procs.iter().all(|p| p.machine.is_over()), "seed {seed}");
        assert!(w.procs.iter().all(|p| p.failed.is_none()), "seed {seed}");
        if runs == 2 {
            assert_eq!(
                w.procs[first].lost, 1,
                "seed {seed}: the first holder not told"
            );
        }
        assert!(w.result, "seed {seed}");
    }
}

/// A result that the store loses after a holder finished: the next process runs the work again
/// (same key); it does not wait forever for a result that is gone.
#[test]
fn a_result_lost_after_the_run_is_run_again() {
    let mut w = World::new(1, 10);
    let a = w.add(quick_config(), token(0), 0, 500);
    w.at(0, Ev::Start(a));
    w.run(5000);
    assert!(w.result);
    w.at(5001, Ev::Wipe);
    let b = w.add(quick_config(), token(1), 0, 500);
    w.at(6000, Ev::Start(b));
    w.run(120_000);
    assert_eq!(w.procs[b].runs, 1);
    assert!(w.procs[b].machine.is_over());
}

/// No random token: no claim at all, and a clear refusal (never a shared constant token), or,
/// where trouble proceeds (an action's send), an unguarded run that says why.
#[test]
fn no_token_no_claim() {
    for t in [None, Some(String::new())] {
        let mut w = World::new(1, 10);
        let a = w.add(quick_config(), t.clone(), 0, 500);
        w.at(0, Ev::Start(a));
        w.run(10_000);
        assert_eq!(w.procs[a].claims, 0);
        assert_eq!(w.procs[a].runs, 0);
        let why = w.procs[a].failed.clone().expect("a refusal");
        assert!(why.contains("token"), "{why}");

        let mut m = Exclusive::new(
            Config::new(1500, 10_000, Fallback::Proceed, Fallback::Proceed),
            t,
        );
        m.start(0);
        match m.poll() {
            Some(Output::Trouble(why)) => assert!(why.contains("token"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.poll(), Some(Output::Run { guarded: false }));
        assert_eq!(m.poll(), None);
        assert_eq!(m.poll_timeout(), None);
    }
}

/// Every claim a process makes carries its own token; two processes never share one.
#[test]
fn tokens_are_never_shared() {
    let mut w = World::new(9, 40);
    for i in 0..5 {
        let p = w.add(quick_config(), token(i), 0, 3000);
        w.at(i as u64 * 10, Ev::Start(p));
    }
    w.run(120_000);
    for (i, p) in w.procs.iter().enumerate() {
        assert!(p.claimed_with.iter().all(|t| *t == format!("token-{i}")));
    }
}

/// A holder that never finishes: a waiter gives up at its deadline (on its own clock), failing
/// (quick replies) or running unguarded with the same key (actions).
#[test]
fn waiting_past_the_deadline() {
    for (fallback, runs) in [(Fallback::Fail, 0), (Fallback::Proceed, 1)] {
        let mut w = World::new(2, 10);
        let cfg = Config::new(1500, 4000, fallback, Fallback::Fail);
        let a = w.add(cfg.clone(), token(0), 0, 0);
        w.procs[a].work_never_ends = true;
        let b = w.add(cfg, token(1), 99_999, 100);
        w.at(0, Ev::Start(a));
        w.at(50, Ev::Start(b));
        w.run(60_000);
        assert_eq!(w.procs[b].runs, runs);
        assert_eq!(w.procs[b].guarded_runs, 0);
        assert_eq!(w.procs[b].failed.is_some(), runs == 0);
        assert_eq!(w.procs[b].waiting, 1);
        assert_eq!(w.procs[a].lost, 0, "the holder keeps renewing");
    }
}

/// The machine alone: a claim or read that fails refuses (`Fail`) or runs unguarded
/// (`Proceed`); a failed read after winning releases the lease first.
#[test]
fn trouble_with_the_store() {
    let cfg = |t| Config::new(1500, 10_000, Fallback::Fail, t);
    let mut m = Exclusive::new(cfg(Fallback::Fail), token(0));
    m.start(0);
    assert_eq!(m.poll(), Some(Output::Read));
    m.handle(Input::ReadFailed("down".into()), 1);
    assert_eq!(m.poll(), Some(Output::Fail("down".into())));
    assert!(m.is_over());

    let mut m = Exclusive::new(cfg(Fallback::Proceed), token(0));
    m.start(0);
    m.poll();
    m.handle(Input::Read { done: false }, 1);
    assert!(matches!(m.poll(), Some(Output::Claim { .. })));
    m.handle(Input::ClaimFailed("timeout".into()), 2);
    assert_eq!(
        m.poll(),
        Some(Output::Trouble(
            "timeout; going on with the same key without a lease".into()
        ))
    );
    assert_eq!(m.poll(), Some(Output::Run { guarded: false }));
    assert_eq!(m.poll_timeout(), None, "no renewing without a lease");
    m.handle(Input::Finished, 3);
    assert_eq!(m.poll(), None, "nothing to release");
    assert!(m.is_over());

    let mut m = Exclusive::new(cfg(Fallback::Fail), token(0));
    m.start(0);
    m.poll();
    m.handle(Input::Read { done: false }, 1);
    m.poll();
    m.handle(Input::Claimed { won: true }, 2);
    assert_eq!(m.poll(), Some(Output::Read));
    m.handle(Input::ReadFailed("gone".into()), 3);
    assert_eq!(
        m.poll(),
        Some(Output::Release {
            token: "token-0".into()
        })
    );
    assert_eq!(m.poll(), Some(Output::Fail("gone".into())));
}

/// Renews that fail (no answer) are tried again; after a whole lease without an accepted renew
/// the lease is presumed lost.
#[test]
fn renews_that_fail_for_a_whole_lease() {
    let mut m = Exclusive::new(quick_config(), token(0));
    m.start(0);
    m.poll();
    m.handle(Input::Read { done: false }, 0);
    m.poll();
    m.handle(Input::Claimed { won: true }, 0);
    m.poll();
    m.handle(Input::Read { done: false }, 0);
    assert_eq!(m.poll(), Some(Output::Run { guarded: true }));
    let mut t = 0;
    let mut lost = false;
    for _ in 0..10 {
        t = m.poll_timeout().expect("a renew time");
        m.handle(Input::Tick, t);
        assert!(matches!(m.poll(), Some(Output::Renew { .. })));
        m.handle(Input::RenewFailed("no answer".into()), t);
        if let Some(Output::LeaseLost(_)) = m.poll() {
            lost = true;
            break;
        }
    }
    assert!(lost);
    assert!((1500..3000).contains(&t), "{t}");
    assert_eq!(m.poll_timeout(), None);
    m.handle(Input::Finished, t + 1);
    assert_eq!(m.poll(), None, "a lost lease is not released");
    assert!(m.is_over());
}

/// Inputs that do not fit (a tick before its time, a late answer after the end) change nothing.
#[test]
fn stray_inputs_are_ignored() {
    let mut m = Exclusive::new(quick_config(), token(0));
    m.handle(Input::Claimed { won: true }, 0);
    assert_eq!(m.poll(), None);
    m.start(10);
    m.poll();
    m.handle(Input::Read { done: false }, 10);
    m.poll();
    m.handle(Input::Claimed { won: false }, 11);
    assert_eq!(m.poll(), Some(Output::Waiting));
    let at = m.poll_timeout().unwrap();
    m.handle(Input::Tick, at - 1);
    assert_eq!(m.poll(), None, "too early");
    m.handle(Input::Tick, at);
    assert_eq!(m.poll(), Some(Output::Read));
    m.handle(Input::Read { done: true }, at);
    assert_eq!(m.poll(), Some(Output::Adopt { waited: true }));
    m.handle(Input::Renewed { held: false }, at + 1);
    m.handle(Input::Finished, at + 1);
    assert_eq!(m.poll(), None);
}

/// The settle after another tab's lock: adopts as soon as the record is there, stops at a
/// finished but unadoptable record, and gives up after its time.
#[test]
fn settle_after_another_tabs_lock() {
    let mut s = Settle::new(1000, 1000, 50);
    assert_eq!(s.poll(), Some(SettleOutput::Read));
    s.read(Found::Nothing, 1000);
    assert_eq!(s.poll_timeout(), Some(1050));
    s.tick(1049);
    assert_eq!(s.poll(), None);
    s.tick(1050);
    assert_eq!(s.poll(), Some(SettleOutput::Read));
    s.read(Found::Adoptable, 1051);
    assert_eq!(s.poll(), Some(SettleOutput::Adopt));
    assert!(s.is_over());

    let mut s = Settle::new(0, 1000, 50);
    s.poll();
    s.read(Found::Finished, 0);
    assert_eq!(s.poll(), Some(SettleOutput::GoOn));

    let mut s = Settle::new(0, 1000, 50);
    let mut reads = 0;
    let mut now = 0;
    loop {
        match s.poll() {
            Some(SettleOutput::Read) => {
                reads += 1;
                s.read(Found::Nothing, now);
            }
            Some(SettleOutput::GoOn) => break,
            Some(SettleOutput::Adopt) => panic!("nothing to adopt"),
            None => {
                now = s.poll_timeout().expect("a wake");
                s.tick(now);
            }
        }
    }
    assert_eq!(now, 1000);
    assert_eq!(reads, 21);
}
