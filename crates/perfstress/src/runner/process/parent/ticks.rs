//! The status ticks of a timed stage, as the workers (or hosts) report
//! them, merged tick by tick: a tick is passed on once every responding
//! worker has reported it; a silent worker counts with its last progress and
//! a dead one is left out.

use std::collections::BTreeMap;

use crate::metrics::{InstanceSnapshot, TickReport};

/// Where a worker stands, for the merge of status ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Standing {
    Responding,
    /// Reported as not responding: not waited for.
    Silent,
    /// Dead: left out.
    Gone,
}

/// The status ticks of a timed stage as the workers report them, merged
/// tick by tick.
pub(super) struct Ticks {
    /// Ticks not passed on yet: each worker's report, once it sent it.
    pending: BTreeMap<u32, Vec<Option<TickReport>>>,
    /// The progress each worker last reported (its instances at zero
    /// before its first tick); without its interval's latency.
    latest: Vec<TickReport>,
    /// The last tick passed on: a worker's later report of an earlier tick
    /// (it was not responding) only updates its progress.
    flushed: u32,
}

impl Ticks {
    /// The ticks of workers with `counts` instances each.
    pub(super) fn new(counts: impl IntoIterator<Item = usize>) -> Self {
        Self {
            pending: BTreeMap::new(),
            latest: counts
                .into_iter()
                .map(|count| TickReport {
                    snapshots: vec![InstanceSnapshot::default(); count],
                    ..TickReport::default()
                })
                .collect(),
            flushed: 0,
        }
    }

    pub(super) fn add(&mut self, index: usize, tick: u32, mut report: TickReport) {
        let latency = report.latency.take();
        if tick > self.flushed {
            let count = self.latest.len();
            self.pending
                .entry(tick)
                .or_insert_with(|| vec![None; count])[index] = Some(TickReport {
                latency,
                ..report.clone()
            });
        }
        // A late report's latency is not in any interval: the last one of
        // the phase (the whole histogram less the intervals) holds it.
        self.latest[index] = report;
    }

    /// The first pending tick every live, responding worker has reported.
    pub(super) fn next_complete(&self, standing: &[Standing]) -> Option<u32> {
        let (&tick, reported) = self.pending.first_key_value()?;
        reported
            .iter()
            .zip(standing)
            .all(|(snapshots, standing)| snapshots.is_some() || *standing != Standing::Responding)
            .then_some(tick)
    }

    /// Takes tick `tick` out, merged over the workers (dead ones left out,
    /// silent ones at their last progress).
    pub(super) fn flush(&mut self, tick: u32, standing: &[Standing]) -> TickReport {
        let mut reported = self.pending.remove(&tick).unwrap_or_default();
        self.flushed = tick;
        let mut merged = TickReport::default();
        for (index, standing) in standing.iter().enumerate() {
            match reported.get_mut(index).and_then(Option::take) {
                Some(report) => merged.merge(&report),
                None if *standing != Standing::Gone => merged.merge(&self.latest[index]),
                None => {}
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(completed_operations: u64) -> TickReport {
        TickReport {
            snapshots: vec![InstanceSnapshot {
                completed_operations,
                last_completion: Duration::from_millis(completed_operations * 100),
            }],
            ..TickReport::default()
        }
    }

    fn totals(merged: &TickReport) -> Vec<u64> {
        merged
            .snapshots
            .iter()
            .map(|snapshot| snapshot.completed_operations)
            .collect()
    }

    #[test]
    fn a_silent_worker_counts_with_its_last_progress() {
        use Standing::*;
        let mut ticks = Ticks::new([1, 1]);
        ticks.add(0, 1, at(10));
        ticks.add(1, 1, at(10));
        assert_eq!(ticks.next_complete(&[Responding, Responding]), Some(1));
        assert_eq!(totals(&ticks.flush(1, &[Responding, Responding])), [10, 10]);
        ticks.add(0, 2, at(20));
        // Worker 1 is waited for, until it is reported silent.
        assert_eq!(ticks.next_complete(&[Responding, Responding]), None);
        assert_eq!(ticks.next_complete(&[Responding, Silent]), Some(2));
        assert_eq!(totals(&ticks.flush(2, &[Responding, Silent])), [20, 10]);
        // Back, it reports tick 2 late: only its progress is kept.
        ticks.add(1, 2, at(11));
        assert_eq!(ticks.next_complete(&[Responding, Responding]), None);
        ticks.add(0, 3, at(30));
        ticks.add(1, 3, at(21));
        assert_eq!(totals(&ticks.flush(3, &[Responding, Responding])), [30, 21]);
        // A dead worker is left out.
        ticks.add(0, 4, at(40));
        assert_eq!(ticks.next_complete(&[Responding, Gone]), Some(4));
        assert_eq!(totals(&ticks.flush(4, &[Responding, Gone])), [40]);
    }
}
