//! Analysis: the measurements of a run turned into its results, once, as
//! plain data. Reporters read these and compute nothing themselves.

use std::collections::BTreeMap;

use crate::failure::Failure;
use crate::outcome::Outcome;
use crate::phase::Phase;
use crate::plan::Plan;
use crate::threshold::{LatencyFigure, Metric, Threshold};

use super::{Comparison, RunRecord};
use super::{
    ErrorResults, InstanceSnapshot, LatencyRecord, LatencySummary, MemoryTrend, PhaseMeasurement,
    PhaseSummary,
};
use crate::alloc::AllocationCounts;

/// How a timed phase ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PhaseEnd {
    /// It ran for its whole duration.
    Completed,
    /// Ctrl-C stopped it: the figures cover part of it.
    Interrupted,
    /// A failure stopped it: the figures cover part of it.
    Failed,
}

/// The latency of a timed run: the histograms and what they say.
#[derive(Clone, Debug)]
pub(crate) struct LatencyResults {
    /// The merged histograms of every instance.
    pub(crate) record: LatencyRecord,
    /// Service time: from an operation's start to its completion.
    pub(crate) service: LatencySummary,
    /// With `--rate`: from each operation's scheduled start.
    pub(crate) corrected: Option<LatencySummary>,
    /// The real resolution of the latency clock, in nanoseconds, measured
    /// at the start of the phase (the coarsest of the processes); `None`
    /// if it was not measured.
    pub(crate) clock_resolution_ns: Option<f64>,
}

/// With `--rate`: how well the schedule was kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RateResults {
    /// The target, operations per second over all instances.
    pub(crate) target: f64,
    /// What the run achieved (its operations per second).
    pub(crate) achieved: f64,
    /// Operations that started more than the late-start threshold behind
    /// their schedule.
    pub(crate) late_starts: u64,
    /// Operations started (and timed).
    pub(crate) started: u64,
}

/// Instances that completed far fewer operations than the others: fewer
/// than half of the median instance's (a stopped or starved process, an
/// operation that hung for a while). Their figures skew the results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lagging {
    /// The median instance's operations (the upper median).
    pub(crate) median: u64,
    /// The lagging instances: parallel index and operations, in order.
    pub(crate) instances: Vec<(usize, u64)>,
}

/// The median instance needs this many operations before an instance is
/// judged to lag: fewer are too coarse to tell.
const LAGGING_MIN_MEDIAN: u64 = 10;

impl Lagging {
    /// The instances of `instances` (every instance of the run, in
    /// parallel-index order) that lag; `None` if none does.
    pub(crate) fn find(instances: &[InstanceSnapshot]) -> Option<Self> {
        if instances.len() < 2 {
            return None;
        }
        let mut counts: Vec<u64> = instances
            .iter()
            .map(|instance| instance.completed_operations)
            .collect();
        counts.sort_unstable();
        let median = counts[counts.len() / 2];
        if median < LAGGING_MIN_MEDIAN {
            return None;
        }
        let lagging: Vec<(usize, u64)> = instances
            .iter()
            .enumerate()
            .map(|(index, instance)| (index, instance.completed_operations))
            .filter(|&(_, completed)| completed.saturating_mul(2) < median)
            .collect();
        (!lagging.is_empty()).then_some(Self {
            median,
            instances: lagging,
        })
    }
}

/// The results of one timed phase (warm-up or the timed run).
#[derive(Clone, Debug)]
pub(crate) struct PhaseResults {
    /// Which phase.
    #[allow(
        dead_code,
        reason = "plain data of the summary; no reporter needs it yet"
    )]
    pub(crate) phase: Phase,
    /// Operations and the results math over all instances.
    pub(crate) summary: PhaseSummary,
    /// Whether the phase ran to its end.
    pub(crate) ended: PhaseEnd,
    /// Wall-clock seconds of the phase (the longest of the processes).
    #[allow(
        dead_code,
        reason = "plain data of the summary; no reporter needs it yet"
    )]
    pub(crate) wall_seconds: f64,
    /// CPU seconds used by every process during the phase.
    pub(crate) cpu_seconds: Option<f64>,
    /// Average CPU use during the phase, in percent of one core.
    pub(crate) cpu_percent: Option<f64>,
    /// Mean resident memory over the phase, summed over processes, in bytes.
    pub(crate) average_memory_bytes: Option<u64>,
    /// With `--latency` (or `--rate`), in the timed run.
    pub(crate) latency: Option<LatencyResults>,
    /// With `--rate`, in the timed run.
    pub(crate) rate: Option<RateResults>,
    /// Files `--profile` wrote.
    pub(crate) profile_files: Vec<String>,
    /// After the warm-up, with `--results-file`: the entries the timed run
    /// will write at the warm-up's rate.
    pub(crate) projected_operations: Option<u64>,
    /// Instances far behind the others, if any (and if every instance's
    /// figures are there).
    pub(crate) lagging: Option<Lagging>,
    /// `--continue-on-error`: the failed operations (stress mode).
    pub(crate) errors: Option<ErrorResults>,
    /// Resident memory over the phase (peak, leak slope), from the samples
    /// of every status tick.
    pub(crate) memory: Option<MemoryTrend>,
    /// With the counting allocator installed: allocations per operation.
    pub(crate) allocations: Option<AllocationResults>,
}

/// What the counting allocator saw in a phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct AllocationResults {
    /// Everything allocated during the phase, by every process.
    pub(crate) counts: AllocationCounts,
    /// Allocations per operation attempted (completed or failed).
    pub(crate) per_operation: f64,
    /// Bytes allocated per operation attempted.
    pub(crate) bytes_per_operation: f64,
}

impl PhaseResults {
    /// Analyses what phase `phase` of a run with `plan` measured.
    pub(crate) fn new(
        plan: &Plan,
        phase: Phase,
        measurement: PhaseMeasurement,
        ended: PhaseEnd,
    ) -> Self {
        let summary = PhaseSummary::from_instances(measurement.snapshots);
        let errors = plan.stress.continue_on_error.then(|| {
            ErrorResults::new(
                measurement.errors,
                summary.total_operations,
                measurement
                    .latency
                    .as_ref()
                    .and_then(|latency| latency.errors.as_ref())
                    .map(|histogram| histogram.summary()),
                (phase == Phase::Run).then_some(plan.stress.max_error_rate),
            )
        });
        let memory = MemoryTrend::from_samples(&measurement.memory_samples);
        let attempted =
            summary.total_operations + errors.as_ref().map_or(0, |errors| errors.errors);
        let allocations = measurement.allocations.map(|counts| AllocationResults {
            counts,
            per_operation: counts.allocations as f64 / attempted.max(1) as f64,
            bytes_per_operation: counts.bytes as f64 / attempted.max(1) as f64,
        });
        // With a worker process lost, positions no longer are parallel indexes.
        let lagging = (summary.instances.len() == plan.parallel)
            .then(|| Lagging::find(&summary.instances))
            .flatten();
        let wall = measurement.wall_seconds;
        let latency = measurement.latency.map(|record| LatencyResults {
            service: record.service.summary(),
            clock_resolution_ns: Some(record.clock_resolution_ns).filter(|ns| *ns > 0.0),
            corrected: record
                .corrected
                .as_ref()
                .map(|corrected| corrected.summary()),
            record,
        });
        let rate = plan
            .timing
            .rate()
            .filter(|_| phase == Phase::Run)
            .map(|target| RateResults {
                target,
                achieved: summary.operations_per_second,
                late_starts: latency
                    .as_ref()
                    .map_or(0, |latency| latency.record.late_starts),
                started: latency.as_ref().map_or(0, |latency| latency.service.count),
            });
        Self {
            phase,
            ended,
            wall_seconds: wall,
            cpu_percent: measurement
                .cpu_seconds
                .filter(|_| wall > 0.0)
                .map(|cpu| cpu / wall * 100.0),
            cpu_seconds: measurement.cpu_seconds,
            average_memory_bytes: measurement.average_memory_bytes,
            latency,
            rate,
            profile_files: measurement.profile_files,
            projected_operations: (phase == Phase::Warmup && plan.results_file.is_some())
                .then_some((summary.operations_per_second * plan.duration.as_secs_f64()) as u64),
            lagging,
            summary,
            errors,
            memory,
            allocations,
        }
    }
}

/// A failure, as the run summary keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FailureRecord {
    /// Who failed (`parallel index 3`, `worker process 1`).
    pub(crate) who: String,
    /// The phase it failed in.
    pub(crate) phase: Phase,
    /// The error and its causes, outermost first.
    pub(crate) chain: Vec<String>,
}

impl From<&Failure> for FailureRecord {
    fn from(failure: &Failure) -> Self {
        Self {
            who: failure.who.to_string(),
            phase: failure.phase,
            chain: failure.error.chain(),
        }
    }
}

/// A `--threshold` and what the timed run measured of its metric.
#[derive(Clone, Debug)]
pub(crate) struct ThresholdResult {
    /// The bound.
    pub(crate) threshold: Threshold,
    /// The figure, in the metric's base unit; `None` where it could not
    /// be measured (which fails the bound).
    pub(crate) measured: Option<f64>,
    /// Whether the bound held.
    pub(crate) passed: bool,
}

impl ThresholdResult {
    /// Checks every threshold of `plan` against the timed run's `run`.
    pub(crate) fn evaluate(plan: &Plan, run: Option<&PhaseResults>) -> Vec<Self> {
        plan.thresholds
            .iter()
            .map(|threshold| {
                let measured = run.and_then(|run| measure(threshold.metric, run));
                ThresholdResult {
                    threshold: threshold.clone(),
                    passed: measured.is_some_and(|value| threshold.holds(value)),
                    measured,
                }
            })
            .collect()
    }
}

/// The figure of `metric` in `run`, in the metric's base unit.
fn measure(metric: Metric, run: &PhaseResults) -> Option<f64> {
    match metric {
        Metric::OperationsPerSecond => Some(run.summary.operations_per_second),
        Metric::Operations => Some(run.summary.total_operations as f64),
        // Stress mode counts failed operations; otherwise any failed
        // operation fails the run (and thresholds are checked on
        // successful runs only), so a run that got here had none.
        Metric::ErrorRate => Some(run.errors.as_ref().map_or(0.0, |errors| errors.rate)),
        Metric::Rss => run.average_memory_bytes.map(|bytes| bytes as f64),
        Metric::Cpu => run.cpu_percent,
        Metric::Latency(figure) => {
            let latency = run.latency.as_ref()?;
            Some(match figure {
                LatencyFigure::Mean => latency.service.mean.as_secs_f64(),
                LatencyFigure::Percentile(percentile) => {
                    latency.record.service.percentile(percentile).as_secs_f64()
                }
            })
        }
    }
}

/// Everything a run produced, built once at its end.
#[derive(Clone, Debug)]
pub(crate) struct RunSummary<'a> {
    /// What was run, and how.
    pub(crate) plan: &'a Plan,
    /// The warm-up's results, if it ran.
    #[allow(
        dead_code,
        reason = "plain data of the summary; no reporter needs it yet"
    )]
    pub(crate) warmup: Option<PhaseResults>,
    /// The timed run's results, if it ran.
    pub(crate) run: Option<PhaseResults>,
    /// Every failure, in the order reported.
    #[allow(
        dead_code,
        reason = "plain data of the summary; no reporter needs it yet"
    )]
    pub(crate) failures: Vec<FailureRecord>,
    /// With several processes: seconds spent coordinating them, by what.
    pub(crate) coordination_seconds: BTreeMap<String, f64>,
    /// A run across hosts (`--listen`): each host and its figures.
    pub(crate) hosts: Vec<super::HostResults>,
    /// A `--shard` run: its timed run's measurement as it was (histograms,
    /// every instance, errors), for `<runner> merge`.
    pub(crate) shard_measurement: Option<super::PhaseMeasurement>,
    /// Each `--threshold` and whether it held (successful runs only).
    pub(crate) thresholds: Vec<ThresholdResult>,
    /// How the run ended (before any reporter wrote its files).
    pub(crate) outcome: Outcome,
    /// The run as a baseline keeps it: every iteration's figures, their
    /// statistics, the environment (when the timed run ran).
    pub(crate) record: Option<RunRecord>,
    /// With `--baseline`: this run compared with the baseline.
    pub(crate) comparison: Option<Comparison>,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn instances(counts: &[u64]) -> Vec<InstanceSnapshot> {
        counts
            .iter()
            .map(|&completed_operations| InstanceSnapshot {
                completed_operations,
                last_completion: Duration::from_secs(5),
            })
            .collect()
    }

    #[test]
    fn instances_under_half_the_median_lag() {
        let lagging = Lagging::find(&instances(&[60, 20, 58, 61])).unwrap();
        assert_eq!(lagging.median, 60);
        assert_eq!(lagging.instances, vec![(1, 20)]);
        // Two instances: the median is the larger.
        let lagging = Lagging::find(&instances(&[60, 29])).unwrap();
        assert_eq!(lagging.instances, vec![(1, 29)]);
    }

    #[test]
    fn balanced_or_too_few_operations_do_not_lag() {
        assert_eq!(Lagging::find(&instances(&[60, 30, 55])), None);
        assert_eq!(Lagging::find(&instances(&[9, 0, 8])), None);
        assert_eq!(Lagging::find(&instances(&[100])), None);
        assert_eq!(Lagging::find(&[]), None);
    }
}
