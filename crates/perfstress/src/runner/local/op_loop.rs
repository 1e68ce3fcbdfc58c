//! The per-operation loops: the hot path. Generic over the test type and
//! the timing strategy (no `dyn`, no allocation, no lock per operation);
//! each instance writes only its own counters; the end of the phase is one
//! relaxed flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::metrics::{InstanceCounters, OperationTracker};

use super::driver::Driver;
use super::timing::Timing;

/// An async instance that never awaits anything pending would keep its
/// runtime worker forever, starving the other instances queued there; it
/// yields this often (checked only when the tracker reads the clock).
const YIELD_INTERVAL: Duration = Duration::from_millis(1);

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
    timing.begin();
    loop {
        if stop.load(Ordering::Relaxed) || (T::PACED && !timing.before_async(stop).await) {
            break;
        }
        let results = match test.run_async().await {
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
            tokio::task::yield_now().await;
        }
    }
    tracker.finish();
    Ok(())
}
