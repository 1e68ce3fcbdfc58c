//! The per-operation loops: the hot path. Generic over the test type and
//! the timing strategy (no `dyn`, no allocation, no lock per operation);
//! each instance writes only its own counters; the end of the phase is one
//! relaxed flag.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::metrics::{InstanceCounters, OperationTracker};

use super::driver::Driver;
use super::timing::Timing;

/// An async instance that never awaits anything pending would keep its
/// runtime worker forever, starving the other instances queued there. So
/// at the first clock read this long after the last yield point, the loop
/// yields, unless its task was polled again since then: it returned
/// `Pending` (something it awaited was not ready), so it gave its worker
/// back to the runtime already. A test that waits on I/O or a timer is
/// therefore never made to yield: a forced yield changes what it measures
/// (a latency-bound one-connection HTTP test ran 1.46x faster with it than
/// the same client in a bare loop).
const YIELD_INTERVAL: Duration = Duration::from_millis(1);

pin_project_lite::pin_project! {
    /// Counts the polls of `future` in `polls`: a poll after the first means
    /// the future returned `Pending` before. One load and store per poll,
    /// nothing per operation; the counter is the instance's own (an atomic
    /// only because the task's future must be `Send`; never contended).
    struct CountPolls<'a, F> {
        #[pin]
        future: F,
        polls: &'a AtomicU32,
    }
}

impl<F: Future> Future for CountPolls<'_, F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let polls = this.polls.load(Ordering::Relaxed);
        this.polls.store(polls.wrapping_add(1), Ordering::Relaxed);
        this.future.poll(cx)
    }
}

/// `--continue-on-error`: an async instance whose operations keep failing
/// yields after this many failures in a row (failures do not go through
/// the tracker's clock reads, which decide the yields of the success path).
const ERRORS_BETWEEN_YIELDS: u32 = 256;

/// Runs `test` synchronously until `stop` is set. With `continue_on_error`
/// (stress mode) a failed operation is counted and the loop goes on; the
/// flag is read on the error path only.
pub(crate) fn run_sync_loop<D: Driver, T: Timing>(
    test: &mut D,
    counters: &InstanceCounters,
    stop: &AtomicBool,
    phase_start: Instant,
    timing: &mut T,
    continue_on_error: bool,
) -> Result<()> {
    let mut tracker = if T::PACED {
        OperationTracker::exact(counters, phase_start)
    } else {
        OperationTracker::new(counters, phase_start)
    };
    timing.begin();
    let result = loop {
        if stop.load(Ordering::Relaxed) || (T::PACED && !timing.before_sync(stop)) {
            break Ok(());
        }
        match test.run_sync() {
            Ok(results) => {
                timing.after();
                tracker.record(results);
            }
            Err(error) if continue_on_error => {
                timing.after_error();
                counters.record_error(&error);
            }
            Err(error) => break Err(error),
        }
    };
    tracker.finish();
    timing.end();
    result
}

/// Runs `test` asynchronously until `stop` is set.
pub(crate) async fn run_async_loop<D: Driver, T: Timing>(
    test: &mut D,
    counters: &InstanceCounters,
    stop: &AtomicBool,
    phase_start: Instant,
    timing: &mut T,
    continue_on_error: bool,
) -> Result<()> {
    let polls = AtomicU32::new(0);
    CountPolls {
        future: async_loop(
            test,
            counters,
            stop,
            phase_start,
            timing,
            &polls,
            continue_on_error,
        ),
        polls: &polls,
    }
    .await
}

/// The loop of [`run_async_loop`]; `polls` counts the polls of its task.
async fn async_loop<D: Driver, T: Timing>(
    test: &mut D,
    counters: &InstanceCounters,
    stop: &AtomicBool,
    phase_start: Instant,
    timing: &mut T,
    polls: &AtomicU32,
    continue_on_error: bool,
) -> Result<()> {
    let mut tracker = if T::PACED {
        OperationTracker::exact(counters, phase_start)
    } else {
        OperationTracker::new(counters, phase_start)
    };
    let mut last_yield = phase_start;
    let mut polls_at_last_yield = polls.load(Ordering::Relaxed);
    let mut errors_since_yield: u32 = 0;
    timing.begin();
    loop {
        if stop.load(Ordering::Relaxed) || (T::PACED && !timing.before_async(stop).await) {
            break;
        }
        let results = match test.run_async().await {
            Ok(results) => results,
            Err(error) if continue_on_error => {
                timing.after_error();
                counters.record_error(&error);
                errors_since_yield += 1;
                if errors_since_yield >= ERRORS_BETWEEN_YIELDS {
                    errors_since_yield = 0;
                    tokio::task::yield_now().await;
                }
                continue;
            }
            Err(error) => {
                tracker.finish();
                timing.end();
                return Err(error);
            }
        };
        timing.after();
        if let Some(now) = tracker.record(results)
            && now.saturating_duration_since(last_yield) >= YIELD_INTERVAL
        {
            last_yield = now;
            if polls.load(Ordering::Relaxed) == polls_at_last_yield {
                // Not polled again since the last yield point: nothing
                // pended, this instance kept its worker all along.
                tokio::task::yield_now().await;
            }
            polls_at_last_yield = polls.load(Ordering::Relaxed);
        }
    }
    tracker.finish();
    timing.end();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn count_polls_counts_every_poll() {
        let polls = AtomicU32::new(0);
        let value = CountPolls {
            future: async { 7 },
            polls: &polls,
        }
        .await;
        assert_eq!(
            (value, polls.load(Ordering::Relaxed)),
            (7, 1),
            "ready at once"
        );
        CountPolls {
            future: tokio::task::yield_now(),
            polls: &polls,
        }
        .await;
        assert_eq!(
            polls.load(Ordering::Relaxed),
            3,
            "pended once, polled twice"
        );
    }
}
