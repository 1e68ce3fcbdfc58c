//! The per-operation loops: the hot path. Generic over the test type and
//! the timing strategy (no `dyn`, no allocation, no lock per operation);
//! each instance writes only its own counters; the end of the phase is one
//! relaxed flag.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::metrics::{InstanceCounters, OperationTracker};

use super::driver::Driver;
use super::timing::Timing;

/// An async instance that never awaits anything pending would keep its
/// runtime worker forever, starving the other instances queued there. So
/// at the first clock read this long after the last yield point, the loop
/// yields, unless an operation returned `Pending` since then (it gave its
/// worker back to the runtime already). A test that waits on I/O or a timer
/// is therefore never made to yield: a forced yield changes what it
/// measures (a latency-bound one-connection HTTP test ran 1.46x faster
/// with it than the same client in a bare loop).
const YIELD_INTERVAL: Duration = Duration::from_millis(1);

pin_project_lite::pin_project! {
    /// Polls `future`, noting in `pended` whether it ever returned
    /// `Pending`: one branch per poll, no allocation, no shared state.
    struct ObservePending<'a, F> {
        #[pin]
        future: F,
        pended: &'a mut bool,
    }
}

impl<F: Future> Future for ObservePending<'_, F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let poll = this.future.poll(cx);
        if poll.is_pending() {
            **this.pended = true;
        }
        poll
    }
}

/// `future`, observed by [`ObservePending`].
#[inline(always)]
fn observe_pending<F: Future>(future: F, pended: &mut bool) -> ObservePending<'_, F> {
    ObservePending { future, pended }
}

/// Runs `test` synchronously until `stop` is set.
pub(crate) fn run_sync_loop<D: Driver, T: Timing>(
    test: &mut D,
    counters: &InstanceCounters,
    stop: &AtomicBool,
    phase_start: Instant,
    timing: &mut T,
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
            Err(error) => break Err(error),
        }
    };
    tracker.finish();
    result
}

/// Runs `test` asynchronously until `stop` is set.
pub(crate) async fn run_async_loop<D: Driver, T: Timing>(
    test: &mut D,
    counters: &InstanceCounters,
    stop: &AtomicBool,
    phase_start: Instant,
    timing: &mut T,
) -> Result<()> {
    let mut tracker = if T::PACED {
        OperationTracker::exact(counters, phase_start)
    } else {
        OperationTracker::new(counters, phase_start)
    };
    let mut last_yield = phase_start;
    // Whether anything the loop awaited returned `Pending` since the last
    // yield point.
    let mut pended = false;
    timing.begin();
    loop {
        if stop.load(Ordering::Relaxed)
            || (T::PACED && !observe_pending(timing.before_async(stop), &mut pended).await)
        {
            break;
        }
        let results = match observe_pending(test.run_async(), &mut pended).await {
            Ok(results) => results,
            Err(error) => {
                tracker.finish();
                return Err(error);
            }
        };
        timing.after();
        if let Some(now) = tracker.record(results)
            && now.saturating_duration_since(last_yield) >= YIELD_INTERVAL
        {
            last_yield = now;
            if !std::mem::take(&mut pended) {
                tokio::task::yield_now().await;
            }
        }
    }
    tracker.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn observe_pending_notes_a_pending_poll() {
        let mut pended = false;
        assert_eq!(observe_pending(async { 7 }, &mut pended).await, 7);
        assert!(!pended, "a ready future never pended");
        observe_pending(tokio::task::yield_now(), &mut pended).await;
        assert!(pended, "yield_now returns Pending once");
    }
}
