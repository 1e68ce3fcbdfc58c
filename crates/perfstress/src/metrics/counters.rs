use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ErrorGroups;
use crate::error::Error;

/// The counters of one test instance for the current phase.
///
/// Exactly one thread writes them (the instance's worker), with relaxed
/// stores; the status thread and the runner read them. The alignment keeps
/// each instance's counters on cache lines of their own, so instances never
/// contend (128 bytes covers the adjacent-line prefetcher of x86 and the
/// 128-byte lines of Apple silicon).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct InstanceCounters {
    completed_operations: AtomicU64,
    last_completion_nanos: AtomicU64,
    /// `--continue-on-error`: the instance's failed operations, by group.
    /// Locked by the instance on the error path only, and by the status
    /// tick once an interval: never on the success path.
    errors: Mutex<ErrorGroups>,
}

/// What one instance achieved in a phase, as plain data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSnapshot {
    /// Results completed in the phase (the sum of batch counts).
    pub completed_operations: u64,
    /// Time from the phase start to the instance's last completed operation.
    pub last_completion: Duration,
}

impl InstanceCounters {
    /// Zeroes both counters; done by the runner before each phase starts.
    pub(crate) fn reset(&self) {
        self.completed_operations.store(0, Ordering::Relaxed);
        self.last_completion_nanos.store(0, Ordering::Relaxed);
        *self.lock_errors() = ErrorGroups::default();
    }

    fn lock_errors(&self) -> std::sync::MutexGuard<'_, ErrorGroups> {
        self.errors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a failed operation (stress mode); called by its worker only.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_error(&self, error: &Error) {
        self.lock_errors().record(error);
    }

    /// The errors counted so far in the phase.
    pub(crate) fn errors(&self) -> ErrorGroups {
        self.lock_errors().clone()
    }

    /// Publishes the instance's progress; called by its worker only.
    #[inline]
    pub(crate) fn publish(&self, completed_operations: u64, last_completion: Duration) {
        let nanos = u64::try_from(last_completion.as_nanos()).unwrap_or(u64::MAX);
        self.last_completion_nanos.store(nanos, Ordering::Relaxed);
        self.completed_operations
            .store(completed_operations, Ordering::Relaxed);
    }

    /// The last published progress.
    pub(crate) fn snapshot(&self) -> InstanceSnapshot {
        InstanceSnapshot {
            completed_operations: self.completed_operations.load(Ordering::Relaxed),
            last_completion: Duration::from_nanos(
                self.last_completion_nanos.load(Ordering::Relaxed),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_do_not_share_cache_lines() {
        assert!(std::mem::align_of::<InstanceCounters>() >= 128);
        let counters = [InstanceCounters::default(), InstanceCounters::default()];
        let distance = (&counters[1] as *const _ as usize) - (&counters[0] as *const _ as usize);
        assert!(distance >= 128);
    }

    #[test]
    fn publish_then_reset() {
        let counters = InstanceCounters::default();
        counters.publish(7, Duration::from_millis(1500));
        assert_eq!(
            counters.snapshot(),
            InstanceSnapshot {
                completed_operations: 7,
                last_completion: Duration::from_millis(1500)
            }
        );
        counters.reset();
        assert_eq!(counters.snapshot(), InstanceSnapshot::default());
    }
}
