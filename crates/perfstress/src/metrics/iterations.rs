//! `--iterations N`: the N timed runs after the one warm-up, each kept,
//! what they say together (mean, standard deviation, 95% confidence
//! interval of ops/s and of each latency percentile), and the N runs
//! combined into one set of phase results.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::run_summary::{AllocationResults, LatencyResults, RateResults};
use super::statistics::Estimate;
use super::{
    ErrorGroups, ErrorResults, InstanceSnapshot, Lagging, MemoryTrend, PhaseEnd, PhaseResults,
    PhaseSummary,
};

/// The figures of one iteration, as the results file and baselines keep
/// them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct IterationFigures {
    /// The iteration's operations per second (the results math).
    pub(crate) operations_per_second: f64,
    /// Results it completed.
    pub(crate) total_operations: u64,
    /// With --latency: its service-time percentiles (`p50` ... `p100`) and
    /// `mean`, in milliseconds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) latency_ms: BTreeMap<String, f64>,
}

/// A timed run's service-time percentiles (`p50` ... `p100`) and `mean`,
/// in milliseconds; empty without `--latency`.
pub(crate) fn latency_figures_ms(results: &PhaseResults) -> BTreeMap<String, f64> {
    let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
    results
        .latency
        .as_ref()
        .map(|latency| {
            let mut figures: BTreeMap<String, f64> = latency
                .service
                .percentiles
                .iter()
                .map(|(percentile, value)| (latency_figure_name(*percentile), ms(*value)))
                .collect();
            figures.insert("mean".to_owned(), ms(latency.service.mean));
            figures
        })
        .unwrap_or_default()
}

impl IterationFigures {
    /// The figures of one timed run.
    pub(crate) fn of(results: &PhaseResults) -> Self {
        let latency_ms = latency_figures_ms(results);
        Self {
            operations_per_second: results.summary.operations_per_second,
            total_operations: results.summary.total_operations,
            latency_ms,
        }
    }
}

/// The name of a latency percentile in files and tables: `p50`, `p99.9`.
pub(crate) fn latency_figure_name(percentile: f64) -> String {
    format!("p{percentile}")
}

/// What the iterations say together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct IterationStatistics {
    /// Operations per second over the iterations.
    pub(crate) operations_per_second: Estimate,
    /// With --latency: each service-time percentile and the mean, in
    /// milliseconds, over the iterations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) latency_ms: BTreeMap<String, Estimate>,
}

impl IterationStatistics {
    /// The statistics of `iterations`; `None` for none.
    pub(crate) fn of(iterations: &[IterationFigures]) -> Option<Self> {
        let rates: Vec<f64> = iterations
            .iter()
            .map(|iteration| iteration.operations_per_second)
            .collect();
        let operations_per_second = Estimate::of(&rates)?;
        let mut latency_ms = BTreeMap::new();
        if let Some(first) = iterations.first() {
            for name in first.latency_ms.keys() {
                let values: Option<Vec<f64>> = iterations
                    .iter()
                    .map(|iteration| iteration.latency_ms.get(name).copied())
                    .collect();
                if let Some(estimate) = values.as_deref().and_then(Estimate::of) {
                    latency_ms.insert(name.clone(), estimate);
                }
            }
        }
        Some(Self {
            operations_per_second,
            latency_ms,
        })
    }

    /// The latency figures in report order: the percentiles ascending,
    /// then the mean.
    pub(crate) fn latency_in_order(&self) -> Vec<(&str, &Estimate)> {
        ordered_latency(&self.latency_ms)
    }
}

/// Latency figures keyed by name, in report order (percentiles ascending,
/// then `mean`).
pub(crate) fn ordered_latency<T>(figures: &BTreeMap<String, T>) -> Vec<(&str, &T)> {
    let mut ordered: Vec<(&str, &T)> = figures
        .iter()
        .map(|(name, value)| (name.as_str(), value))
        .collect();
    let rank = |name: &str| {
        name.strip_prefix('p')
            .and_then(|number| number.parse::<f64>().ok())
            .unwrap_or(f64::INFINITY)
    };
    ordered.sort_by(|a, b| rank(a.0).total_cmp(&rank(b.0)));
    ordered
}

/// The N timed runs of `--iterations`, kept, and what they say together.
#[derive(Clone, Debug)]
pub(crate) struct Iterations {
    /// Each timed run's results, in order.
    pub(crate) runs: Vec<PhaseResults>,
    /// Each run's figures, in order.
    pub(crate) figures: Vec<IterationFigures>,
    /// Mean, spread and confidence intervals over the runs.
    pub(crate) statistics: Option<IterationStatistics>,
}

impl Iterations {
    /// The iterations of the timed runs `runs`.
    pub(crate) fn new(runs: Vec<PhaseResults>) -> Self {
        let figures: Vec<IterationFigures> = runs.iter().map(IterationFigures::of).collect();
        Self {
            statistics: IterationStatistics::of(&figures),
            figures,
            runs,
        }
    }

    /// The runs taken together as one timed run of their summed length:
    /// each instance's operations and time to its last completion are
    /// summed over the runs (so the results math gives the pooled rate),
    /// the latency histograms merged, CPU seconds summed, memory averaged.
    /// This is what thresholds, the per-operation file and PerfAutomation's
    /// `operations_per_second` read.
    /// `parallel` is the run's instance count (`--parallel`).
    pub(crate) fn combined(&self, parallel: usize) -> Option<PhaseResults> {
        let (first, rest) = self.runs.split_first()?;
        if rest.is_empty() {
            return Some(first.clone());
        }
        let mut instances: Vec<InstanceSnapshot> = first.summary.instances.clone();
        let mut wall_seconds = first.wall_seconds;
        let mut cpu_seconds = first.cpu_seconds;
        let mut memory: Vec<u64> = first.average_memory_bytes.into_iter().collect();
        let mut latency = first.latency.as_ref().map(|latency| latency.record.clone());
        let mut profile_files = first.profile_files.clone();
        let mut ended = first.ended;
        for run in rest {
            for (total, instance) in instances.iter_mut().zip(&run.summary.instances) {
                total.completed_operations += instance.completed_operations;
                total.last_completion += instance.last_completion;
            }
            wall_seconds += run.wall_seconds;
            cpu_seconds = cpu_seconds.zip(run.cpu_seconds).map(|(a, b)| a + b);
            memory.extend(run.average_memory_bytes);
            if let (Some(all), Some(this)) = (&mut latency, &run.latency) {
                all.merge(&this.record);
            }
            for file in &run.profile_files {
                if !profile_files.contains(file) {
                    profile_files.push(file.clone());
                }
            }
            if run.ended != PhaseEnd::Completed {
                ended = run.ended;
            }
        }
        let summary = PhaseSummary::from_instances(instances);
        let latency = latency.map(|record| LatencyResults {
            service: record.service.summary(),
            corrected: record.corrected.as_ref().map(|c| c.summary()),
            clock_resolution_ns: Some(record.clock_resolution_ns).filter(|ns| *ns > 0.0),
            record,
        });
        let rate = first.rate.map(|rate| RateResults {
            target: rate.target,
            achieved: summary.operations_per_second,
            late_starts: latency.as_ref().map_or(0, |l| l.record.late_starts),
            started: latency.as_ref().map_or(0, |l| l.service.count),
        });
        let lagging = (summary.instances.len() == parallel)
            .then(|| Lagging::find(&summary.instances))
            .flatten();
        let errors = first.errors.as_ref().map(|first_errors| {
            let mut groups = ErrorGroups::default();
            for run in &self.runs {
                if let Some(errors) = &run.errors {
                    groups.merge(&errors.groups);
                }
            }
            ErrorResults::new(
                groups,
                summary.total_operations,
                latency
                    .as_ref()
                    .and_then(|latency| latency.record.errors.as_ref())
                    .map(|histogram| histogram.summary()),
                first_errors.limit,
            )
        });
        let attempted =
            summary.total_operations + errors.as_ref().map_or(0, |errors| errors.errors);
        let allocations = self
            .runs
            .iter()
            .filter_map(|run| run.allocations.as_ref())
            .map(|allocations| allocations.counts)
            .reduce(|all, counts| crate::alloc::AllocationCounts {
                allocations: all.allocations + counts.allocations,
                bytes: all.bytes + counts.bytes,
            })
            .map(|counts| AllocationResults {
                counts,
                per_operation: counts.allocations as f64 / attempted.max(1) as f64,
                bytes_per_operation: counts.bytes as f64 / attempted.max(1) as f64,
            });
        Some(PhaseResults {
            errors,
            memory: combined_memory(self.runs.iter().filter_map(|run| run.memory.as_ref())),
            allocations,
            phase: first.phase,
            ended,
            wall_seconds,
            cpu_percent: cpu_seconds
                .filter(|_| wall_seconds > 0.0)
                .map(|cpu| cpu / wall_seconds * 100.0),
            cpu_seconds,
            average_memory_bytes: (!memory.is_empty())
                .then(|| memory.iter().sum::<u64>() / memory.len() as u64),
            latency,
            rate,
            profile_files,
            projected_operations: None,
            lagging,
            summary,
        })
    }
}

/// The memory of several timed runs: the highest peak, and the mean of
/// their leak slopes weighted by their samples (each run's slope is over
/// its own time axis; a steady leak shows the same slope in each).
fn combined_memory<'a>(trends: impl Iterator<Item = &'a MemoryTrend>) -> Option<MemoryTrend> {
    let trends: Vec<&MemoryTrend> = trends.collect();
    let peak_bytes = trends.iter().map(|trend| trend.peak_bytes).max()?;
    let samples = trends.iter().map(|trend| trend.samples).sum();
    let sloped: Vec<(f64, usize)> = trends
        .iter()
        .filter_map(|trend| Some((trend.slope_bytes_per_minute?, trend.samples)))
        .collect();
    let weight: usize = sloped.iter().map(|(_, samples)| samples).sum();
    let slope_bytes_per_minute = (weight > 0).then(|| {
        sloped
            .iter()
            .map(|(slope, samples)| slope * *samples as f64)
            .sum::<f64>()
            / weight as f64
    });
    Some(MemoryTrend {
        peak_bytes,
        slope_bytes_per_minute,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(rate: f64, p99: f64) -> IterationFigures {
        IterationFigures {
            operations_per_second: rate,
            total_operations: rate as u64,
            latency_ms: [("p99".to_owned(), p99), ("mean".to_owned(), p99 / 2.0)]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn statistics_cover_rate_and_latency() {
        let statistics =
            IterationStatistics::of(&[figures(100.0, 10.0), figures(110.0, 12.0)]).unwrap();
        assert_eq!(statistics.operations_per_second.mean, 105.0);
        assert_eq!(statistics.latency_ms["p99"].mean, 11.0);
        assert_eq!(statistics.latency_ms["mean"].mean, 5.5);
        let names: Vec<&str> = statistics
            .latency_in_order()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["p99", "mean"]);
        assert_eq!(IterationStatistics::of(&[]), None);
    }

    fn timed_run(counts: &[(u64, u64)], nanos: u64) -> PhaseResults {
        let mut record = crate::metrics::LatencyRecord::default();
        record.service.record_nanos(nanos);
        let instances = counts
            .iter()
            .map(|&(completed_operations, millis)| InstanceSnapshot {
                completed_operations,
                last_completion: Duration::from_millis(millis),
            })
            .collect();
        PhaseResults {
            phase: crate::phase::Phase::Run,
            summary: PhaseSummary::from_instances(instances),
            ended: PhaseEnd::Completed,
            wall_seconds: 1.0,
            cpu_seconds: Some(0.5),
            cpu_percent: Some(50.0),
            average_memory_bytes: Some(1000),
            latency: Some(LatencyResults {
                service: record.service.summary(),
                corrected: None,
                clock_resolution_ns: None,
                record,
            }),
            rate: None,
            profile_files: vec![],
            projected_operations: None,
            lagging: None,
            errors: None,
            memory: None,
            allocations: None,
        }
    }

    #[test]
    fn memory_of_several_runs_is_the_highest_peak_and_the_weighted_slope() {
        let trend = |peak_bytes, slope, samples| MemoryTrend {
            peak_bytes,
            slope_bytes_per_minute: slope,
            samples,
        };
        let runs = [
            trend(100, Some(10.0), 3),
            trend(300, Some(40.0), 9),
            trend(200, None, 2),
        ];
        assert_eq!(
            combined_memory(runs.iter()),
            Some(trend(300, Some((10.0 * 3.0 + 40.0 * 9.0) / 12.0), 14))
        );
        assert_eq!(combined_memory([].iter()), None);
    }

    #[test]
    fn runs_combine_as_one_run_of_their_summed_length() {
        // Two instances; the second iteration is slower for the first.
        let iterations = Iterations::new(vec![
            timed_run(&[(100, 1000), (50, 1000)], 1_000),
            timed_run(&[(60, 1000), (50, 1000)], 2_000),
        ]);
        assert_eq!(iterations.figures.len(), 2);
        assert_eq!(iterations.figures[1].operations_per_second, 110.0);
        let statistics = iterations.statistics.as_ref().unwrap();
        assert_eq!(statistics.operations_per_second.mean, 130.0);
        let combined = iterations.combined(2).unwrap();
        // 160 operations in 2 s + 100 in 2 s: 80 + 50 ops/s.
        assert_eq!(combined.summary.total_operations, 260);
        assert_eq!(combined.summary.operations_per_second, 130.0);
        assert_eq!(combined.cpu_seconds, Some(1.0));
        assert_eq!(combined.cpu_percent, Some(50.0));
        assert_eq!(combined.average_memory_bytes, Some(1000));
        assert_eq!(
            combined.latency.unwrap().service.count,
            2,
            "histograms merged"
        );
        // One run is itself.
        let single = Iterations::new(vec![timed_run(&[(7, 1000)], 1)]);
        assert_eq!(single.combined(1).unwrap().summary.total_operations, 7);
        assert!(Iterations::new(vec![]).combined(1).is_none());
    }

    #[test]
    fn latency_order_is_numeric() {
        let figures: BTreeMap<String, u8> = ["mean", "p100", "p99.9", "p50", "p9"]
            .iter()
            .map(|name| (name.to_string(), 0))
            .collect();
        let names: Vec<&str> = ordered_latency(&figures)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["p9", "p50", "p99.9", "p100", "mean"]);
    }
}
