//! The `--test-results` file: the run summary as JSON, the contract
//! PerfAutomation reads.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::metrics::RunSummary;

use super::end_file::EndOfRunFile;
use super::reporter::Reporter;

/// The `--test-results` file: PerfAutomation's Rust contract (`test_name`,
/// `operations_per_second`, `average_cpu_use`, `average_memory_use`) plus the
/// figures behind the number.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TestResults {
    /// The test's name, e.g. `"SleepTest"`.
    pub(crate) test_name: String,
    /// The timed run's operations per second (the results math).
    pub(crate) operations_per_second: f64,
    /// Average CPU use of the process during the timed run, in percent of
    /// one core (200 = two cores busy); `null` where it cannot be measured.
    pub(crate) average_cpu_use: Option<f64>,
    /// Average resident memory of the process during the timed run, in
    /// bytes, sampled once a second; `null` where it cannot be measured.
    pub(crate) average_memory_use: Option<u64>,
    /// Results completed in the timed run.
    pub(crate) total_operations: u64,
    /// `1 / operations_per_second`.
    pub(crate) seconds_per_operation: Option<f64>,
    /// `total_operations / operations_per_second`.
    pub(crate) weighted_average_seconds: Option<f64>,
    /// CPU seconds the process used during the timed run.
    pub(crate) cpu_seconds: Option<f64>,
    /// `--duration` in seconds.
    pub(crate) duration_seconds: f64,
    /// `--warmup` in seconds.
    pub(crate) warmup_seconds: f64,
    /// `--parallel`.
    pub(crate) parallel: usize,
    /// Processes the instances ran in.
    pub(crate) processes: usize,
    /// `--sync`.
    pub(crate) sync: bool,
    /// The test's own options as given on the command line (secrets masked).
    pub(crate) test_options: Vec<String>,
    /// Per-instance figures of the timed run.
    pub(crate) instances: Vec<InstanceResults>,
    /// With several processes: seconds spent coordinating them (`startup`:
    /// starting and connecting the workers; `barrier_*`: a stage that does
    /// nothing, from the parent's command to the last worker's reply).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub(crate) coordination_seconds: std::collections::BTreeMap<String, f64>,
    /// A run across hosts (`--listen`): each host's own figures (the
    /// fields above are the merged ones).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) hosts: Vec<HostFigures>,
    /// `--shard I/N`: which segment of the run this is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shard: Option<String>,
    /// `--shard`: what `<runner> merge` needs to merge the shards exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) merge_input: Option<MergeInput>,
    /// With --latency: the timed run's latency (service time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) latency: Option<LatencyResults>,
    /// With --rate: latency from each operation's scheduled start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) corrected_latency: Option<LatencyResults>,
    /// --rate, in operations per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) target_rate: Option<f64>,
    /// With --rate: operations that started more than 1 ms behind schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) late_starts: Option<u64>,
    /// Each `--threshold`: the expression, the measured value (in the
    /// metric's base unit: seconds, bytes, a fraction, percent of a core),
    /// and whether it held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) thresholds: Vec<ThresholdResults>,
    /// Stress mode's errors, the timed run's memory and allocations.
    #[serde(flatten)]
    pub(crate) stress: super::stress::StressResults<LatencyResults>,
    /// The perfstress version that measured this.
    pub(crate) perfstress_version: String,
    /// Every timed run (`--iterations`; one without it): its ops/s,
    /// operations and, with --latency, percentiles in ms. The fields above
    /// are the iterations taken together (the pooled results math).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) iterations: Vec<crate::metrics::IterationFigures>,
    /// With `--iterations` above 1: mean, standard deviation and 95%
    /// confidence interval of ops/s and of each latency figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iteration_statistics: Option<crate::metrics::IterationStatistics>,
    /// Where it was measured (versions, toolchain, machine, commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) environment: Option<crate::environment::Environment>,
    /// With `--baseline`: the comparison with the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comparison: Option<crate::metrics::Comparison>,
}

/// A latency distribution in the results file, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct LatencyResults {
    /// Operations recorded.
    pub(crate) count: u64,
    /// Percentile (`"p50"`, `"p99.9"`, ...) to milliseconds.
    pub(crate) percentiles_ms: std::collections::BTreeMap<String, f64>,
    /// The percentile spectrum (50% ... 99.999%, 100%): the tail in finer
    /// steps, for the HTML report's chart on a "nines" axis.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) spectrum_ms: Vec<SpectrumPoint>,
    /// Mean latency.
    pub(crate) mean_ms: f64,
    /// Smallest latency.
    pub(crate) min_ms: f64,
    /// Largest latency.
    pub(crate) max_ms: f64,
    /// The real resolution of the clock the latencies were read with, in
    /// nanoseconds, measured at the start of the timed run (the coarsest of
    /// the processes). Only in `latency`: both distributions use one clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) clock_resolution_ns: Option<f64>,
}

impl From<&crate::metrics::LatencySummary> for LatencyResults {
    fn from(summary: &crate::metrics::LatencySummary) -> Self {
        let ms = |duration: std::time::Duration| duration.as_secs_f64() * 1e3;
        Self {
            count: summary.count,
            percentiles_ms: summary
                .percentiles
                .iter()
                .map(|(percentile, latency)| (format!("p{percentile}"), ms(*latency)))
                .collect(),
            spectrum_ms: summary
                .spectrum
                .iter()
                .map(|&(percentile, latency)| SpectrumPoint {
                    percentile,
                    ms: ms(latency),
                })
                .collect(),
            mean_ms: ms(summary.mean),
            min_ms: ms(summary.min),
            max_ms: ms(summary.max),
            clock_resolution_ns: None,
        }
    }
}

/// A point of the percentile spectrum.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct SpectrumPoint {
    /// The percentile, 0-100.
    pub(crate) percentile: f64,
    /// The latency at it, in milliseconds.
    pub(crate) ms: f64,
}

/// A `--threshold` in the results file.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ThresholdResults {
    /// The expression, as given.
    pub(crate) threshold: String,
    /// The figure measured, in the metric's base unit.
    pub(crate) measured: Option<f64>,
    /// Whether the bound held.
    pub(crate) passed: bool,
}

/// One instance's figures in the results file.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct InstanceResults {
    /// The instance's parallel index.
    pub(crate) parallel_index: usize,
    /// Results it completed.
    pub(crate) completed_operations: u64,
    /// Seconds from the phase start to its last completion.
    pub(crate) last_completion_seconds: f64,
}

/// A `--shard` run's command line (secrets masked) and its timed run's
/// measurement (every instance, the HdrHistograms, the errors).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub(crate) struct MergeInput {
    /// The arguments after the program name.
    pub(crate) arguments: Vec<String>,
    /// The timed run as measured.
    pub(crate) measurement: crate::metrics::PhaseMeasurement,
}

/// One host of a run across hosts, in the results file.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct HostFigures {
    /// The name it joined with.
    pub(crate) host: String,
    /// Its process id, on its machine.
    pub(crate) pid: u32,
    /// Where its connection came from.
    pub(crate) address: String,
    /// The first and last parallel index it ran.
    pub(crate) parallel_indexes: [usize; 2],
    /// Its wall clock less the coordinator's, in milliseconds.
    pub(crate) clock_offset_ms: f64,
    /// How far that offset may be off (half the best round trip), in ms.
    pub(crate) clock_offset_uncertainty_ms: f64,
    /// Its instances' operations per second (the results math over them).
    pub(crate) operations_per_second: Option<f64>,
    /// Results its instances completed.
    pub(crate) total_operations: Option<u64>,
    /// CPU seconds its processes used in the timed run.
    pub(crate) cpu_seconds: Option<f64>,
    /// Its instances' latency, with --latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) latency: Option<LatencyResults>,
    /// It was lost during the run, after this status interval (0: before
    /// the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lost_after_interval: Option<u32>,
}

impl From<&crate::metrics::HostResults> for HostFigures {
    fn from(host: &crate::metrics::HostResults) -> Self {
        let part = &host.part;
        let ms = |nanos: f64| nanos / 1e6;
        Self {
            host: part.host.identity.clone(),
            pid: part.host.pid,
            address: part.host.address.to_string(),
            parallel_indexes: [
                part.share.first_index,
                part.share.first_index + part.share.count - 1,
            ],
            clock_offset_ms: ms(part.host.clock.offset_nanos as f64),
            clock_offset_uncertainty_ms: ms(part.host.clock.uncertainty().as_nanos() as f64),
            operations_per_second: host
                .run
                .as_ref()
                .map(|run| run.summary.operations_per_second),
            total_operations: host.run.as_ref().map(|run| run.summary.total_operations),
            cpu_seconds: host.run.as_ref().and_then(|run| run.cpu_seconds),
            latency: host
                .run
                .as_ref()
                .and_then(|run| run.latency.as_ref())
                .map(|latency| LatencyResults::from(&latency.service)),
            lost_after_interval: part.lost,
        }
    }
}

impl TestResults {
    /// The results file of a run whose timed run produced `summary.run`.
    pub(crate) fn new(summary: &RunSummary<'_>) -> Option<Self> {
        let plan = summary.plan;
        let run = summary.run.as_ref()?;
        Some(Self {
            test_name: plan.test_name().to_owned(),
            operations_per_second: run.summary.operations_per_second,
            average_cpu_use: run.cpu_percent,
            average_memory_use: run.average_memory_bytes,
            total_operations: run.summary.total_operations,
            seconds_per_operation: run.summary.seconds_per_operation,
            weighted_average_seconds: run.summary.weighted_average_seconds,
            cpu_seconds: run.cpu_seconds,
            duration_seconds: plan.duration.as_secs_f64(),
            warmup_seconds: plan.warmup.as_secs_f64(),
            parallel: plan.parallel,
            processes: plan.processes(),
            sync: plan.sync,
            test_options: plan.test_options.clone(),
            instances: run
                .summary
                .instances
                .iter()
                .enumerate()
                .map(|(index, instance)| InstanceResults {
                    // A shard's instances start at its segment's first.
                    parallel_index: plan.segment.first_index + index,
                    completed_operations: instance.completed_operations,
                    last_completion_seconds: instance.last_completion.as_secs_f64(),
                })
                .collect(),
            coordination_seconds: summary.coordination_seconds.clone(),
            hosts: summary.hosts.iter().map(HostFigures::from).collect(),
            shard: plan
                .shard
                .map(|shard| format!("{}/{}", shard.index, shard.count)),
            merge_input: summary
                .shard_measurement
                .clone()
                .map(|measurement| MergeInput {
                    arguments: plan.shard_arguments.clone(),
                    measurement,
                }),
            latency: run.latency.as_ref().map(|latency| LatencyResults {
                clock_resolution_ns: latency.clock_resolution_ns,
                ..LatencyResults::from(&latency.service)
            }),
            corrected_latency: run
                .latency
                .as_ref()
                .and_then(|latency| latency.corrected.as_ref())
                .map(LatencyResults::from),
            target_rate: run.rate.map(|rate| rate.target),
            late_starts: run.rate.map(|rate| rate.late_starts),
            thresholds: summary
                .thresholds
                .iter()
                .map(|result| ThresholdResults {
                    threshold: result.threshold.text.clone(),
                    measured: result.measured,
                    passed: result.passed,
                })
                .collect(),
            stress: super::stress::StressResults::new(run, |summary| LatencyResults::from(summary)),
            perfstress_version: env!("CARGO_PKG_VERSION").to_owned(),
            iterations: summary
                .record
                .as_ref()
                .map(|record| record.iterations.clone())
                .unwrap_or_default(),
            iteration_statistics: summary
                .record
                .as_ref()
                .filter(|record| record.iterations.len() > 1)
                .and_then(|record| record.statistics.clone()),
            environment: summary
                .record
                .as_ref()
                .map(|record| record.environment.clone()),
            comparison: summary.comparison.clone(),
        })
    }
}

/// Writes `--test-results` at the end of a successful run.
pub(crate) struct TestResultsFile(EndOfRunFile);

impl TestResultsFile {
    /// The reporter writing `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self(EndOfRunFile::new(path, "Results"))
    }
}

impl Reporter for TestResultsFile {
    fn discard(&mut self) {
        self.0.discard();
    }

    fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error> {
        self.0.write(summary, |path| {
            let Some(results) = TestResults::new(summary) else {
                return Ok(false);
            };
            write_test_results(path, &results).map_err(|error| file_error(path, error))?;
            Ok(true)
        })
    }
}

/// Writes the results file atomically, so a reader never sees half a file.
pub(crate) fn write_test_results(path: &Path, results: &TestResults) -> std::io::Result<()> {
    crate::fs::write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, results)?;
        out.write_all(b"\n")
    })
}

/// The error of a results file that cannot be written.
pub(crate) fn file_error(path: &Path, error: std::io::Error) -> Error {
    Error::with_source(
        ErrorKind::Io,
        format!("cannot write the results file {}", path.display()),
        error,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_contract_fields() {
        let directory =
            std::env::temp_dir().join(format!("perfstress-json-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("results.json");
        let results = TestResults {
            test_name: "SleepTest".into(),
            operations_per_second: 20.0,
            average_cpu_use: Some(1.5),
            average_memory_use: None,
            total_operations: 200,
            seconds_per_operation: Some(0.05),
            weighted_average_seconds: Some(10.0),
            cpu_seconds: Some(0.15),
            duration_seconds: 10.0,
            warmup_seconds: 5.0,
            parallel: 2,
            processes: 1,
            sync: false,
            test_options: vec!["--initial-delay-ms 100".into()],
            instances: vec![],
            coordination_seconds: Default::default(),
            hosts: Vec::new(),
            shard: None,
            merge_input: None,
            latency: None,
            corrected_latency: None,
            target_rate: None,
            late_starts: None,
            thresholds: vec![],
            stress: Default::default(),
            perfstress_version: "0.1.0".into(),
            iterations: vec![],
            iteration_statistics: None,
            environment: None,
            comparison: None,
        };
        write_test_results(&path, &results).unwrap();
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(value["test_name"], "SleepTest");
        assert_eq!(value["operations_per_second"], 20.0);
        assert_eq!(value["average_cpu_use"], 1.5);
        assert!(value["average_memory_use"].is_null());
        crate::fs::remove_stale_results(&path).unwrap();
        assert!(!path.exists());
        crate::fs::remove_stale_results(&path).unwrap();
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
