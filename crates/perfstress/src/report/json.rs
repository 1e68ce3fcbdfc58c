use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

/// The `--test-results` file: PerfAutomation's Rust contract (`test_name`,
/// `operations_per_second`, `average_cpu_use`, `average_memory_use`) plus the
/// figures behind the number.
#[derive(Clone, Debug, Serialize)]
pub struct TestResults {
    /// The test's name, e.g. `"SleepTest"`.
    pub test_name: String,
    /// The timed run's operations per second (the results math).
    pub operations_per_second: f64,
    /// Average CPU use of the process during the timed run, in percent of
    /// one core (200 = two cores busy); `null` where it cannot be measured.
    pub average_cpu_use: Option<f64>,
    /// Average resident memory of the process during the timed run, in
    /// bytes, sampled once a second; `null` where it cannot be measured.
    pub average_memory_use: Option<u64>,
    /// Results completed in the timed run.
    pub total_operations: u64,
    /// `1 / operations_per_second`.
    pub seconds_per_operation: Option<f64>,
    /// `total_operations / operations_per_second`.
    pub weighted_average_seconds: Option<f64>,
    /// CPU seconds the process used during the timed run.
    pub cpu_seconds: Option<f64>,
    /// `--duration` in seconds.
    pub duration_seconds: f64,
    /// `--warmup` in seconds.
    pub warmup_seconds: f64,
    /// `--parallel`.
    pub parallel: usize,
    /// Processes the instances ran in.
    pub processes: usize,
    /// `--sync`.
    pub sync: bool,
    /// The test's own options as given on the command line (secrets masked).
    pub test_options: Vec<String>,
    /// Per-instance figures of the timed run.
    pub instances: Vec<InstanceResults>,
    /// With several processes: seconds spent coordinating them (`startup`:
    /// starting and connecting the workers; `barrier_*`: a stage that does
    /// nothing, from the parent's command to the last worker's reply).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub coordination_seconds: std::collections::BTreeMap<String, f64>,
    /// With --latency: the timed run's latency (service time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyResults>,
    /// With --rate: latency from each operation's scheduled start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_latency: Option<LatencyResults>,
    /// --rate, in operations per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    /// With --rate: operations that started more than 1 ms behind schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_starts: Option<u64>,
    /// The perfstress version that measured this.
    pub perfstress_version: String,
}

/// A latency distribution in the results file, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyResults {
    /// Operations recorded.
    pub count: u64,
    /// Percentile (`"p50"`, `"p99.9"`, ...) to milliseconds.
    pub percentiles_ms: std::collections::BTreeMap<String, f64>,
    /// Mean latency.
    pub mean_ms: f64,
    /// Smallest latency.
    pub min_ms: f64,
    /// Largest latency.
    pub max_ms: f64,
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
            mean_ms: ms(summary.mean),
            min_ms: ms(summary.min),
            max_ms: ms(summary.max),
        }
    }
}

/// One instance's figures in the results file.
#[derive(Clone, Debug, Serialize)]
pub struct InstanceResults {
    /// The instance's parallel index.
    pub parallel_index: usize,
    /// Results it completed.
    pub completed_operations: u64,
    /// Seconds from the phase start to its last completion.
    pub last_completion_seconds: f64,
}

/// Removes a results file left by an earlier run, so that a run that fails
/// can never leave a stale number behind. A missing file is fine.
pub fn remove_stale_results(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Writes the results file atomically, so a reader never sees half a file.
pub fn write_test_results(path: &Path, results: &TestResults) -> std::io::Result<()> {
    write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, results)?;
        out.write_all(b"\n")
    })
}

/// Writes `path` through `write` into a temporary file beside it, then
/// renames that into place; on any error the temporary file is removed and
/// `path` is left alone.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = std::path::PathBuf::from(temporary);
    let outcome = (|| {
        let mut out = BufWriter::with_capacity(1 << 16, std::fs::File::create(&temporary)?);
        write(&mut out)?;
        out.into_inner()
            .map_err(|error| error.into_error())?
            .sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if outcome.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    outcome
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
            latency: None,
            corrected_latency: None,
            target_rate: None,
            late_starts: None,
            perfstress_version: "0.1.0".into(),
        };
        write_test_results(&path, &results).unwrap();
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(value["test_name"], "SleepTest");
        assert_eq!(value["operations_per_second"], 20.0);
        assert_eq!(value["average_cpu_use"], 1.5);
        assert!(value["average_memory_use"].is_null());
        remove_stale_results(&path).unwrap();
        assert!(!path.exists());
        remove_stale_results(&path).unwrap();
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
