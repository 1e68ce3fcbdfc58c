//! What a timed phase measured, as plain data: per process, and merged
//! over every process of a run.

use serde::{Deserialize, Serialize};

use super::{ErrorGroups, InstanceSnapshot, LatencyHistogram};
use crate::alloc::AllocationCounts;

/// What one process measured in a timed phase.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct PhaseMeasurement {
    /// The process's instances, in parallel-index order.
    pub(crate) snapshots: Vec<InstanceSnapshot>,
    /// CPU seconds the process used during the phase.
    pub(crate) cpu_seconds: Option<f64>,
    /// Wall-clock seconds of the phase in this process.
    pub(crate) wall_seconds: f64,
    /// Mean resident memory of the process during the phase, in bytes.
    pub(crate) average_memory_bytes: Option<u64>,
    /// Latency of the process's operations (timed run with --latency).
    pub(crate) latency: Option<LatencyRecord>,
    /// Files --profile wrote.
    pub(crate) profile_files: Vec<String>,
    /// `--continue-on-error`: the failed operations, by group.
    #[serde(default)]
    pub(crate) errors: ErrorGroups,
    /// Resident memory at each status tick, `(seconds since the start,
    /// bytes)`, all processes together (filled in from the merged ticks).
    #[serde(default)]
    pub(crate) memory_samples: Vec<(f64, u64)>,
    /// With several processes (or hosts): the operations each completed in
    /// the phase, in the order of their shares (`None`: it was lost and
    /// sent no figures); filled in by the parent, empty otherwise.
    #[serde(skip)]
    pub(crate) process_operations: Vec<Option<u64>>,
    /// With the counting allocator installed: what the phase allocated.
    #[serde(default)]
    pub(crate) allocations: Option<AllocationCounts>,
}

impl PhaseMeasurement {
    /// Operations completed in the phase, all instances.
    pub(crate) fn completed_operations(&self) -> u64 {
        self.snapshots
            .iter()
            .map(|snapshot| snapshot.completed_operations)
            .sum()
    }

    /// Every process's figures together: instances in parallel-index
    /// order (processes come in the order of their shares), CPU and memory
    /// summed, wall time the longest, latency merged.
    pub(crate) fn merge(measurements: impl IntoIterator<Item = PhaseMeasurement>) -> Self {
        let mut merged = PhaseMeasurement::default();
        let mut cpu = Some(0.0);
        let mut memory = Some(0);
        for measurement in measurements {
            merged.snapshots.extend(measurement.snapshots);
            merged.profile_files.extend(measurement.profile_files);
            merged.errors.merge(&measurement.errors);
            if let Some(counts) = measurement.allocations {
                let all = merged.allocations.get_or_insert_with(Default::default);
                all.allocations += counts.allocations;
                all.bytes += counts.bytes;
            }
            if let Some(latency) = measurement.latency {
                match &mut merged.latency {
                    Some(all) => all.merge(&latency),
                    None => merged.latency = Some(latency),
                }
            }
            merged.wall_seconds = merged.wall_seconds.max(measurement.wall_seconds);
            cpu = cpu.zip(measurement.cpu_seconds).map(|(a, b)| a + b);
            memory = memory
                .zip(measurement.average_memory_bytes)
                .map(|(a, b)| a + b);
        }
        merged.cpu_seconds = cpu;
        merged.average_memory_bytes = memory.filter(|bytes| *bytes > 0);
        merged
    }
}

/// What a timed instance recorded in a phase.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct LatencyRecord {
    /// Service time: from an operation's actual start to its completion.
    pub(crate) service: LatencyHistogram,
    /// With a target rate: from an operation's scheduled start to its
    /// completion (includes the time it waited behind schedule).
    pub(crate) corrected: Option<LatencyHistogram>,
    /// With a target rate: operations that started late.
    pub(crate) late_starts: u64,
    /// The real resolution of the clock the latencies were read with, in
    /// nanoseconds, measured at the start of the phase (the coarsest of
    /// the processes once merged); 0 if not measured.
    #[serde(default)]
    pub(crate) clock_resolution_ns: f64,
    /// `--continue-on-error`: the latency of failed operations, kept apart.
    #[serde(default)]
    pub(crate) errors: Option<LatencyHistogram>,
}

impl LatencyRecord {
    /// Adds `other`'s samples to this record.
    pub(crate) fn merge(&mut self, other: &LatencyRecord) {
        self.service.merge(&other.service);
        match (&mut self.corrected, &other.corrected) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, Some(theirs)) => self.corrected = Some(theirs.clone()),
            _ => {}
        }
        self.late_starts += other.late_starts;
        match (&mut self.errors, &other.errors) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, Some(theirs)) => self.errors = Some(theirs.clone()),
            _ => {}
        }
        self.clock_resolution_ns = self.clock_resolution_ns.max(other.clock_resolution_ns);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn merge_keeps_every_instance_and_sample() {
        let process = |first: u64, cpu: f64, nanos: u64| {
            let mut latency = LatencyRecord::default();
            latency.service.record_nanos(nanos);
            latency.clock_resolution_ns = first as f64;
            PhaseMeasurement {
                snapshots: vec![InstanceSnapshot {
                    completed_operations: first,
                    last_completion: Duration::from_secs(1),
                }],
                cpu_seconds: Some(cpu),
                wall_seconds: cpu,
                average_memory_bytes: Some(10),
                latency: Some(latency),
                profile_files: vec![format!("p{first}")],
                ..Default::default()
            }
        };
        let merged = PhaseMeasurement::merge([process(1, 1.0, 100), process(2, 2.0, 200)]);
        assert_eq!(merged.snapshots.len(), 2);
        assert_eq!(merged.snapshots[1].completed_operations, 2);
        assert_eq!(merged.cpu_seconds, Some(3.0));
        assert_eq!(merged.wall_seconds, 2.0);
        assert_eq!(merged.average_memory_bytes, Some(20));
        let latency = merged.latency.unwrap();
        assert_eq!(latency.service.count(), 2);
        assert_eq!(latency.clock_resolution_ns, 2.0, "the coarsest clock");
        assert_eq!(merged.profile_files, vec!["p1", "p2"]);
    }
}
