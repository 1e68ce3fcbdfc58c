use std::time::{Duration, Instant};

use super::InstanceCounters;

/// Reads of the clock are spaced about this far apart for fast operations.
const TARGET_SAMPLE_INTERVAL: Duration = Duration::from_micros(20);
/// Upper bound on operations between two clock reads.
const MAX_STRIDE: u32 = 1 << 20;

/// The per-operation bookkeeping of one instance: the hot path.
///
/// Reading the clock costs 20-50 ns, far more than a no-op operation, so the
/// tracker reads it only every `stride` operations. The stride adapts so that
/// reads are about [`TARGET_SAMPLE_INTERVAL`] apart: an operation slower
/// than that is timed individually (stride 1), a no-op is timed once per
/// thousands of operations. Progress is published at each read, and
/// [`finish`](Self::finish) reads the clock right after the last operation,
/// so the final `last_completion` is exact whatever the stride.
pub(crate) struct OperationTracker<'a> {
    counters: &'a InstanceCounters,
    phase_start: Instant,
    completed_operations: u64,
    countdown: u32,
    stride: u32,
    last_sample: Instant,
    /// Time every operation (stride 1) and keep the last one's time at the
    /// end: for paced loops, which wait between operations, so the end of
    /// the loop is not the end of the last operation.
    exact: bool,
}

impl<'a> OperationTracker<'a> {
    /// A tracker for a phase that started at `phase_start`.
    pub(crate) fn new(counters: &'a InstanceCounters, phase_start: Instant) -> Self {
        Self {
            counters,
            phase_start,
            completed_operations: 0,
            countdown: 1,
            stride: 1,
            last_sample: Instant::now(),
            exact: false,
        }
    }

    /// A tracker that times every operation: for loops that wait between
    /// operations (pacing), where the clock read is negligible.
    pub(crate) fn exact(counters: &'a InstanceCounters, phase_start: Instant) -> Self {
        Self {
            exact: true,
            ..Self::new(counters, phase_start)
        }
    }

    /// Records a completed run that produced `results` results. Returns the
    /// time of the clock read when one happened (rarely, for fast operations).
    #[inline(always)]
    pub(crate) fn record(&mut self, results: u64) -> Option<Instant> {
        self.completed_operations += results;
        self.countdown -= 1;
        if self.countdown == 0 {
            Some(self.sample())
        } else {
            None
        }
    }

    #[cold]
    #[inline(never)]
    fn sample(&mut self) -> Instant {
        let now = Instant::now();
        self.counters.publish(
            self.completed_operations,
            now.saturating_duration_since(self.phase_start),
        );
        let interval = now.saturating_duration_since(self.last_sample);
        if self.exact {
            // Stride stays 1.
        } else if interval < TARGET_SAMPLE_INTERVAL / 2 && self.stride < MAX_STRIDE {
            self.stride *= 2;
        } else if interval > TARGET_SAMPLE_INTERVAL * 2 && self.stride > 1 {
            self.stride /= 2;
        }
        self.countdown = self.stride;
        self.last_sample = now;
        now
    }

    /// Publishes the exact final figures; call right after the last
    /// operation. (An exact tracker published them at that operation.)
    pub(crate) fn finish(&mut self) {
        if !self.exact {
            self.sample();
        }
    }

    /// The results counted so far, published or not.
    #[allow(dead_code)]
    pub(crate) fn completed_operations(&self) -> u64 {
        self.completed_operations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_publishes_exact_totals() {
        let counters = InstanceCounters::default();
        let start = Instant::now();
        let mut tracker = OperationTracker::new(&counters, start);
        for _ in 0..100_000 {
            tracker.record(2);
        }
        tracker.finish();
        let end = start.elapsed();
        let snapshot = counters.snapshot();
        assert_eq!(snapshot.completed_operations, 200_000);
        assert!(snapshot.last_completion <= end);
        assert!(snapshot.last_completion > Duration::ZERO);
    }

    #[test]
    fn slow_operations_are_timed_each() {
        let counters = InstanceCounters::default();
        let mut tracker = OperationTracker::new(&counters, Instant::now());
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(2));
            assert!(
                tracker.record(1).is_some(),
                "every slow operation reads the clock"
            );
        }
        assert_eq!(counters.snapshot().completed_operations, 3);
    }
}
