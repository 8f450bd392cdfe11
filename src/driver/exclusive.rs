//! Carries out `core::exclusive` (one key's exclusivity across processes) for the quick-reply
//! and action drivers: a read of the stored result (the caller's), claims, renewals and
//! releases through the storage adapter, and a timer for each "wake at". Nothing here decides:
//! every step is the machine's output, and its result is fed back.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use super::shared::{Instance, LiveAction};
use crate::core::events::{Event, EventKind};
use crate::core::exclusive::{
    Config, Exclusive, Fallback, Found, Input, Output, Settle, SettleOutput,
};
use crate::platform;

/// How acquiring ended.
pub(crate) enum Acquired<C: LiveAction + 'static> {
    /// A stored result answers; `waited`: after waiting for another holder.
    Adopt { waited: bool },
    /// Run the work now, then [`Held::finish`].
    Run(Held<C>),
    /// Not run here, for this reason.
    Failed(String),
    /// The instance was disposed while waiting.
    Disposed,
}

/// The machine's settings for this instance: its lease time and deadline, and what to do when
/// the wait is too long or the store fails.
pub(crate) fn config<C: LiveAction + 'static>(
    shared: &Instance<C>,
    on_deadline: Fallback,
    on_trouble: Fallback,
) -> Config {
    Config::new(
        shared.lease_ms,
        shared.retry.deadline_ms,
        on_deadline,
        on_trouble,
    )
}

/// Where problems with the shared store go (a lease lost, a claim that failed before an
/// unguarded run, a release that failed).
pub(crate) type Report = Rc<dyn Fn(&str)>;

/// The usual [`Report`]: a `storage.fallback` event with the reason.
pub(crate) fn report_to<C: LiveAction + 'static>(shared: &Rc<Instance<C>>) -> Report {
    let weak = Rc::downgrade(shared);
    Rc::new(move |reason: &str| {
        if let Some(s) = weak.upgrade() {
            s.emit(Event::new(EventKind::StorageFallback).with_detail(reason));
        }
    })
}

/// Runs the machine for the lease `lease_key` until it says adopt, run or fail. `read` answers
/// "is a result stored?"; `on_waiting` is called once when another process holds the key.
/// With `stop_when_disposed`, a wait ends at the instance's `dispose()`.
pub(crate) async fn acquire<C: LiveAction + 'static, R, RF>(
    shared: &Rc<Instance<C>>,
    lease_key: &str,
    config: Config,
    mut read: R,
    mut on_waiting: impl FnMut(),
    stop_when_disposed: bool,
    report: Report,
) -> Acquired<C>
where
    R: FnMut() -> RF,
    RF: Future<Output = Result<bool, String>>,
{
    let token = shared.lease_token().ok();
    let machine = Rc::new(RefCell::new(Exclusive::new(config, token)));
    machine.borrow_mut().start(platform::now_ms());
    loop {
        let out = machine.borrow_mut().poll();
        let input = match out {
            Some(Output::Read) => Some(match read().await {
                Ok(done) => Input::Read { done },
                Err(e) => Input::ReadFailed(e),
            }),
            Some(Output::Claim { token, ttl_ms }) => {
                Some(match shared.store.claim(lease_key, &token, ttl_ms).await {
                    Ok(won) => Input::Claimed { won },
                    Err(e) => Input::ClaimFailed(e),
                })
            }
            Some(Output::Release { token }) => {
                if let Err(e) = shared.store.release(lease_key, &token).await {
                    report(&e);
                }
                None
            }
            Some(Output::Waiting) => {
                on_waiting();
                None
            }
            Some(Output::Trouble(e)) | Some(Output::LeaseLost(e)) => {
                report(&e);
                None
            }
            Some(Output::Renew { .. }) => None,
            Some(Output::Adopt { waited }) => return Acquired::Adopt { waited },
            Some(Output::Fail(e)) => return Acquired::Failed(e),
            Some(Output::Run { guarded }) => {
                let held = Held {
                    machine: machine.clone(),
                    shared: shared.clone(),
                    lease_key: lease_key.to_string(),
                    report: report.clone(),
                    guarded,
                    finished: false,
                };
                if guarded {
                    keep(machine, shared.clone(), lease_key.to_string(), report);
                }
                return Acquired::Run(held);
            }
            None => {
                let Some(at) = machine.borrow().poll_timeout() else {
                    // The machine always ends in adopt, run or fail; nothing to wait for.
                    return Acquired::Failed("the coordination stopped".into());
                };
                if stop_when_disposed && shared.disposed.get() {
                    return Acquired::Disposed;
                }
                wake_at(shared, at, stop_when_disposed).await;
                Some(Input::Tick)
            }
        };
        if let Some(input) = input {
            machine.borrow_mut().handle(input, platform::now_ms());
        }
    }
}

/// The lease held while the work runs: renewed in the background (the machine's "wake at" and
/// "renew"), released by [`Held::finish`] (or, unfinished, when dropped).
pub(crate) struct Held<C: LiveAction + 'static> {
    machine: Rc<RefCell<Exclusive>>,
    shared: Rc<Instance<C>>,
    lease_key: String,
    report: Report,
    guarded: bool,
    finished: bool,
}

impl<C: LiveAction + 'static> Held<C> {
    /// Whether the work runs under this process's lease (else without one).
    pub(crate) fn guarded(&self) -> bool {
        self.guarded
    }

    /// The work is over (its result stored): lets go of the lease and waits for the store.
    pub(crate) async fn finish(mut self) {
        self.finished = true;
        let outs = finished(&self.machine);
        for out in outs {
            carry_out_end(&self.shared, &self.lease_key, &self.report, out).await;
        }
    }
}

impl<C: LiveAction + 'static> Drop for Held<C> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let outs = finished(&self.machine);
        if outs.is_empty() {
            return;
        }
        let (shared, key) = (self.shared.clone(), self.lease_key.clone());
        let report = self.report.clone();
        platform::spawn(async move {
            for out in outs {
                carry_out_end(&shared, &key, &report, out).await;
            }
        });
    }
}

/// Feeds `Finished` and takes what the machine then asks for.
fn finished(machine: &RefCell<Exclusive>) -> Vec<Output> {
    let mut m = machine.borrow_mut();
    m.handle(Input::Finished, platform::now_ms());
    std::iter::from_fn(|| m.poll()).collect()
}

async fn carry_out_end<C: LiveAction + 'static>(
    shared: &Instance<C>,
    lease_key: &str,
    report: &Report,
    out: Output,
) {
    match out {
        Output::Release { token } => {
            if let Err(e) = shared.store.release(lease_key, &token).await {
                report(&e);
            }
        }
        Output::LeaseLost(e) | Output::Trouble(e) => report(&e),
        _ => {}
    }
}

/// While the work runs: wakes when the machine asks, renews, feeds the answer back, until the
/// machine stops asking (finished, or the lease lost).
fn keep<C: LiveAction + 'static>(
    machine: Rc<RefCell<Exclusive>>,
    shared: Rc<Instance<C>>,
    lease_key: String,
    report: Report,
) {
    platform::spawn(async move {
        loop {
            let Some(at) = machine.borrow().poll_timeout() else {
                return;
            };
            // A holder renews after `dispose()` too: its work is still running.
            wake_at(&shared, at, false).await;
            machine.borrow_mut().handle(Input::Tick, platform::now_ms());
            loop {
                let out = machine.borrow_mut().poll();
                let input = match out {
                    None => break,
                    Some(Output::Renew { token, ttl_ms }) => {
                        match shared.store.renew(&lease_key, &token, ttl_ms).await {
                            Ok(held) => Input::Renewed { held },
                            Err(e) => Input::RenewFailed(e),
                        }
                    }
                    Some(other) => {
                        carry_out_end(&shared, &lease_key, &report, other).await;
                        continue;
                    }
                };
                machine.borrow_mut().handle(input, platform::now_ms());
            }
        }
    });
}

/// A timer for the machine's "wake at" (this process's clock). With `cancellable`, the
/// instance's `dispose()` ends it early.
async fn wake_at<C: LiveAction + 'static>(shared: &Instance<C>, at: u64, cancellable: bool) {
    let ms = at.saturating_sub(platform::now_ms());
    if cancellable && !shared.disposed.get() {
        shared.sleep(ms).await;
    } else {
        platform::sleep(ms).await;
    }
}

/// After waiting for another tab's Web Lock (`core::exclusive::Settle`): reads with `read`
/// until that tab's result is there or the settle time has passed. True when it is there.
pub(crate) async fn settle<C: LiveAction + 'static, R, RF>(
    shared: &Instance<C>,
    mut read: R,
) -> bool
where
    R: FnMut() -> RF,
    RF: Future<Output = Found>,
{
    let mut settle = Settle::new(
        platform::now_ms(),
        platform::locks::SETTLE_MS,
        SETTLE_EVERY_MS,
    );
    loop {
        match settle.poll() {
            Some(SettleOutput::Read) => {
                let found = read().await;
                settle.read(found, platform::now_ms());
            }
            Some(SettleOutput::Adopt) => return true,
            Some(SettleOutput::GoOn) => return false,
            None => {
                let Some(at) = settle.poll_timeout() else {
                    return false;
                };
                wake_at(shared, at, false).await;
                settle.tick(platform::now_ms());
            }
        }
    }
}

/// How often the settle reads.
const SETTLE_EVERY_MS: u64 = 50;
