use serde::Serialize;

use super::InstanceSnapshot;

/// The results math of the family: the sum over instances of
/// `completed_i / last_completion_i`. An instance without operations (or
/// without a measurable completion time) contributes 0, so the result is
/// never NaN or infinite.
pub fn operations_per_second(instances: &[InstanceSnapshot]) -> f64 {
    instances
        .iter()
        .filter(|instance| instance.completed_operations > 0)
        .map(|instance| {
            let seconds = instance.last_completion.as_secs_f64();
            if seconds > 0.0 {
                instance.completed_operations as f64 / seconds
            } else {
                0.0
            }
        })
        // Not `.sum()`: the sum of no f64 is -0.0, which would print as a
        // negative zero rate.
        .fold(0.0, |total, rate| total + rate)
}

/// The results of one phase (warm-up or timed run) over all instances.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseSummary {
    /// Results completed by all instances.
    pub total_operations: u64,
    /// Sum of the instances' rates (see [`operations_per_second`]).
    pub operations_per_second: f64,
    /// `1 / operations_per_second`; `None` without operations.
    pub seconds_per_operation: Option<f64>,
    /// `total_operations / operations_per_second`; `None` without operations.
    pub weighted_average_seconds: Option<f64>,
    /// Each instance's figures, by parallel index.
    pub instances: Vec<InstanceSnapshot>,
}

impl PhaseSummary {
    /// Applies the results math to the instances' final snapshots.
    pub fn from_instances(instances: Vec<InstanceSnapshot>) -> Self {
        let total_operations = instances.iter().map(|i| i.completed_operations).sum();
        let operations_per_second = operations_per_second(&instances);
        let has_rate = total_operations > 0 && operations_per_second > 0.0;
        Self {
            total_operations,
            operations_per_second,
            seconds_per_operation: has_rate.then(|| 1.0 / operations_per_second),
            weighted_average_seconds: has_rate
                .then(|| total_operations as f64 / operations_per_second),
            instances,
        }
    }
}

/// One status line: progress since the previous line, in total, and the rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatusSample {
    /// Operations completed since the previous status line.
    pub current: u64,
    /// Operations completed since the phase started.
    pub total: u64,
    /// The results math applied to the progress so far.
    pub average: f64,
}

impl StatusSample {
    /// The sample for `instances`, given the total of the previous sample.
    pub fn new(instances: &[InstanceSnapshot], previous_total: u64) -> Self {
        let total: u64 = instances.iter().map(|i| i.completed_operations).sum();
        Self {
            current: total.saturating_sub(previous_total),
            total,
            average: operations_per_second(instances),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn instance(completed_operations: u64, millis: u64) -> InstanceSnapshot {
        InstanceSnapshot {
            completed_operations,
            last_completion: Duration::from_millis(millis),
        }
    }

    #[test]
    fn sum_of_rates() {
        // 100 ops in 10 s and 50 ops in 10.1 s.
        let summary =
            PhaseSummary::from_instances(vec![instance(100, 10_000), instance(50, 10_100)]);
        let expected = 10.0 + 50.0 / 10.1;
        assert_eq!(summary.total_operations, 150);
        assert!((summary.operations_per_second - expected).abs() < 1e-12);
        assert!((summary.seconds_per_operation.unwrap() - 1.0 / expected).abs() < 1e-12);
        assert!((summary.weighted_average_seconds.unwrap() - 150.0 / expected).abs() < 1e-12);
    }

    #[test]
    fn idle_instances_contribute_zero() {
        let summary = PhaseSummary::from_instances(vec![instance(0, 0), instance(20, 1000)]);
        assert_eq!(summary.operations_per_second, 20.0);
        let empty = PhaseSummary::from_instances(vec![instance(0, 0), instance(0, 0)]);
        assert_eq!(empty.operations_per_second, 0.0);
        assert!(empty.operations_per_second.is_sign_positive());
        assert_eq!(empty.seconds_per_operation, None);
        assert_eq!(empty.weighted_average_seconds, None);
        // A completion at time zero cannot give a rate; it must not give NaN.
        assert_eq!(operations_per_second(&[instance(3, 0)]), 0.0);
    }

    #[test]
    fn status_sample_counts_since_previous() {
        let sample = StatusSample::new(&[instance(30, 1500), instance(10, 1000)], 25);
        assert_eq!(sample.current, 15);
        assert_eq!(sample.total, 40);
        assert_eq!(sample.average, 30.0);
    }
}
