//! A run as `--save-baseline` keeps it and `compare` reads it: the test,
//! the workload (the options that change what is measured), every
//! iteration's figures, their statistics, the merged latency histogram and
//! the environment. Plain, serializable data; also read from
//! `--test-results` files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::plan::Plan;

use super::LatencyHistogram;
use super::iterations::{IterationFigures, IterationStatistics, latency_figures_ms};
use super::run_summary::PhaseResults;

/// The `format` of a baseline file.
pub(crate) const BASELINE_FORMAT: &str = "perfstress-baseline";
/// The version of the baseline format this perfstress writes and reads.
pub(crate) const BASELINE_FORMAT_VERSION: u32 = 1;

/// The options that change what a run measures: two runs compare like
/// for like only if these are equal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Workload {
    /// `--parallel`.
    pub(crate) parallel: usize,
    /// Processes the instances ran in.
    pub(crate) processes: usize,
    /// `--sync`.
    pub(crate) sync: bool,
    /// `--rate`, if given.
    #[serde(default)]
    pub(crate) rate: Option<f64>,
    /// Whether latency was recorded (`--latency` or `--rate`).
    #[serde(default)]
    pub(crate) latency: bool,
    /// The test's own options (secrets masked).
    #[serde(default)]
    pub(crate) test_options: Vec<String>,
}

impl Workload {
    /// The workload of `plan`.
    pub(crate) fn of(plan: &Plan) -> Self {
        Self {
            parallel: plan.parallel,
            processes: plan.processes(),
            sync: plan.sync,
            rate: plan.timing.rate(),
            latency: plan.timing.records_latency(),
            test_options: plan.test_options.clone(),
        }
    }

    /// One line: `parallel 1 over 1 process, async, --initial-delay-ms 10`.
    pub(crate) fn describe(&self) -> String {
        let mut text = format!(
            "parallel {} over {} process{}, {}",
            self.parallel,
            self.processes,
            if self.processes == 1 { "" } else { "es" },
            if self.sync { "sync" } else { "async" }
        );
        if let Some(rate) = self.rate {
            text.push_str(&format!(", --rate {rate}"));
        } else if self.latency {
            text.push_str(", --latency");
        }
        for option in &self.test_options {
            text.push_str(", ");
            text.push_str(option);
        }
        text
    }

    /// How `self` differs from `other`, one phrase each.
    pub(crate) fn differences(&self, other: &Workload) -> Vec<String> {
        let mut differences = Vec::new();
        if self.parallel != other.parallel {
            differences.push(format!(
                "--parallel {} vs {}",
                self.parallel, other.parallel
            ));
        }
        if self.processes != other.processes {
            differences.push(format!(
                "{} vs {} processes",
                self.processes, other.processes
            ));
        }
        if self.sync != other.sync {
            differences.push(format!(
                "{} vs {}",
                if self.sync { "sync" } else { "async" },
                if other.sync { "sync" } else { "async" }
            ));
        }
        if self.rate != other.rate {
            differences.push(format!("--rate {:?} vs {:?}", self.rate, other.rate));
        }
        if self.latency != other.latency {
            differences.push(format!(
                "latency recorded: {} vs {}",
                self.latency, other.latency
            ));
        }
        let (mine, theirs): (Vec<&String>, Vec<&String>) = (
            self.test_options
                .iter()
                .filter(|option| !other.test_options.contains(option))
                .collect(),
            other
                .test_options
                .iter()
                .filter(|option| !self.test_options.contains(option))
                .collect(),
        );
        if !mine.is_empty() || !theirs.is_empty() {
            let list = |options: &[&String]| {
                if options.is_empty() {
                    "(none)".to_owned()
                } else {
                    options
                        .iter()
                        .map(|option| option.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            };
            differences.push(format!("{} vs {}", list(&mine), list(&theirs)));
        }
        differences
    }
}

/// A run, as a baseline keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    /// Always `perfstress-baseline`.
    pub(crate) format: String,
    /// The version of the format.
    pub(crate) format_version: u32,
    /// The name it was saved under (`--save-baseline`), if any.
    #[serde(default)]
    pub(crate) baseline_name: Option<String>,
    /// The test's name.
    pub(crate) test_name: String,
    /// What was run.
    pub(crate) workload: Workload,
    /// `--duration` of each iteration, in seconds.
    #[serde(default)]
    pub(crate) duration_seconds: f64,
    /// `--warmup`, in seconds.
    #[serde(default)]
    pub(crate) warmup_seconds: f64,
    /// The iterations taken together (the pooled results math), as in
    /// the results file.
    pub(crate) operations_per_second: f64,
    /// Every iteration's figures, in order.
    pub(crate) iterations: Vec<IterationFigures>,
    /// Their mean, standard deviation and 95% confidence intervals.
    #[serde(default)]
    pub(crate) statistics: Option<IterationStatistics>,
    /// With latency: the merged histogram's percentiles and mean, in ms.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) latency_ms: BTreeMap<String, f64>,
    /// With latency: the merged service-time histogram of every
    /// iteration, HdrHistogram's V2 deflate encoding, in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) latency_histogram: Option<String>,
    /// Where it was measured.
    pub(crate) environment: Environment,
    /// When it was saved, in seconds since the Unix epoch.
    #[serde(default)]
    pub(crate) created_unix_seconds: Option<u64>,
}

impl RunRecord {
    /// The record of a run of `plan` whose timed runs were `iterations`
    /// (taken together: `combined`).
    pub(crate) fn new(
        plan: &Plan,
        combined: &PhaseResults,
        iterations: &[IterationFigures],
        statistics: Option<&IterationStatistics>,
    ) -> Self {
        let latency_ms = latency_figures_ms(combined);
        Self {
            format: BASELINE_FORMAT.to_owned(),
            format_version: BASELINE_FORMAT_VERSION,
            baseline_name: None,
            test_name: plan.test_name().to_owned(),
            workload: Workload::of(plan),
            duration_seconds: plan.duration.as_secs_f64(),
            warmup_seconds: plan.warmup.as_secs_f64(),
            operations_per_second: combined.summary.operations_per_second,
            iterations: iterations.to_vec(),
            statistics: statistics.cloned(),
            latency_ms,
            latency_histogram: combined
                .latency
                .as_ref()
                .map(|latency| encode_histogram(&latency.record.service)),
            environment: Environment::current(Some(suite(plan))),
            created_unix_seconds: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|elapsed| elapsed.as_secs()),
        }
    }

    /// The merged latency histogram, if the record has one.
    #[allow(dead_code, reason = "read back by the tests; kept for future reports")]
    pub(crate) fn histogram(&self) -> Option<LatencyHistogram> {
        LatencyHistogram::from_bytes(&from_hex(self.latency_histogram.as_deref()?)?)
    }

    /// Reads a baseline file's or a `--test-results` file's JSON.
    pub(crate) fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
        if value.get("format").and_then(|format| format.as_str()) == Some(BASELINE_FORMAT) {
            let version = value.get("format_version").and_then(|v| v.as_u64());
            if version != Some(u64::from(BASELINE_FORMAT_VERSION)) {
                return Err(format!(
                    "baseline format version {} is not the one this perfstress reads ({BASELINE_FORMAT_VERSION}); save the baseline again",
                    version.map_or("(none)".to_owned(), |v| v.to_string())
                ));
            }
            return serde_json::from_value(value).map_err(|error| error.to_string());
        }
        Self::from_test_results(&value)
    }

    /// A `--test-results` file: PerfAutomation's fields, and the figures
    /// perfstress adds (iterations, options, environment) where present.
    fn from_test_results(value: &serde_json::Value) -> Result<Self, String> {
        let test_name = value
            .get("test_name")
            .and_then(|name| name.as_str())
            .ok_or("neither a perfstress baseline nor a results file: no test_name")?
            .to_owned();
        let operations_per_second = value
            .get("operations_per_second")
            .and_then(|number| number.as_f64())
            .ok_or("a results file without a numeric operations_per_second")?;
        let field = |name: &str| value.get(name).cloned().unwrap_or(serde_json::Value::Null);
        let iterations: Vec<IterationFigures> =
            serde_json::from_value(field("iterations")).unwrap_or_default();
        let iterations = if iterations.is_empty() {
            vec![IterationFigures {
                operations_per_second,
                total_operations: field("total_operations").as_u64().unwrap_or(0),
                latency_ms: latency_of(&field("latency")),
            }]
        } else {
            iterations
        };
        let statistics = IterationStatistics::of(&iterations);
        Ok(Self {
            format: BASELINE_FORMAT.to_owned(),
            format_version: BASELINE_FORMAT_VERSION,
            baseline_name: None,
            test_name,
            workload: Workload {
                parallel: field("parallel").as_u64().unwrap_or(1) as usize,
                processes: field("processes").as_u64().unwrap_or(1) as usize,
                sync: field("sync").as_bool().unwrap_or(false),
                rate: field("target_rate").as_f64(),
                latency: !field("latency").is_null(),
                test_options: serde_json::from_value(field("test_options")).unwrap_or_default(),
            },
            duration_seconds: field("duration_seconds").as_f64().unwrap_or(0.0),
            warmup_seconds: field("warmup_seconds").as_f64().unwrap_or(0.0),
            operations_per_second,
            statistics,
            latency_ms: latency_of(&field("latency")),
            latency_histogram: None,
            environment: serde_json::from_value(field("environment")).unwrap_or_default(),
            created_unix_seconds: None,
            iterations,
        })
    }
}

/// The percentiles and mean of a results file's `latency` object, in ms.
fn latency_of(latency: &serde_json::Value) -> BTreeMap<String, f64> {
    let mut figures: BTreeMap<String, f64> = latency
        .get("percentiles_ms")
        .and_then(|percentiles| percentiles.as_object())
        .map(|percentiles| {
            percentiles
                .iter()
                .filter_map(|(name, value)| Some((name.clone(), value.as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    if let Some(mean) = latency.get("mean_ms").and_then(|mean| mean.as_f64()) {
        figures.insert("mean".to_owned(), mean);
    }
    figures
}

/// `systemperf 0.1.0`: the test's crate (the first segment of its module
/// path) and version.
pub(crate) fn suite(plan: &Plan) -> String {
    let krate = plan
        .entry
        .module_path
        .split("::")
        .next()
        .unwrap_or(plan.entry.module_path);
    format!("{krate} {}", plan.entry.suite_version)
}

/// A histogram as a record keeps it: its V2 deflate encoding in hex.
pub(crate) fn encode_histogram(histogram: &LatencyHistogram) -> String {
    to_hex(&histogram.to_bytes())
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes)).unwrap(), bytes);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn a_results_file_reads_as_one_iteration() {
        let record = RunRecord::from_json(
            r#"{"test_name":"NoOpTest","operations_per_second":1000.5,"average_cpu_use":null,
                "average_memory_use":null,"total_operations":5000,"parallel":2,"sync":true,
                "test_options":["--size 10"],
                "latency":{"percentiles_ms":{"p50":0.5,"p99":2.0},"mean_ms":0.6}}"#,
        )
        .unwrap();
        assert_eq!(record.test_name, "NoOpTest");
        assert_eq!(record.iterations.len(), 1);
        assert_eq!(record.iterations[0].operations_per_second, 1000.5);
        assert_eq!(record.iterations[0].latency_ms["p99"], 2.0);
        assert_eq!(record.workload.parallel, 2);
        assert!(record.workload.sync && record.workload.latency);
        assert_eq!(record.workload.test_options, ["--size 10"]);
    }

    #[test]
    fn other_json_is_refused_with_a_reason() {
        assert!(
            RunRecord::from_json("[1]")
                .unwrap_err()
                .contains("test_name")
        );
        assert!(
            RunRecord::from_json("nope")
                .unwrap_err()
                .contains("not JSON")
        );
        let future = r#"{"format":"perfstress-baseline","format_version":99}"#;
        assert!(
            RunRecord::from_json(future)
                .unwrap_err()
                .contains("version 99")
        );
    }

    #[test]
    fn workload_differences_are_named() {
        let workload = Workload {
            parallel: 1,
            processes: 1,
            sync: false,
            rate: None,
            latency: false,
            test_options: vec!["--initial-delay-ms 10".into(), "--x 1".into()],
        };
        let other = Workload {
            test_options: vec!["--initial-delay-ms 11".into(), "--x 1".into()],
            ..workload.clone()
        };
        assert_eq!(
            workload.differences(&other),
            ["--initial-delay-ms 10 vs --initial-delay-ms 11"]
        );
        assert!(workload.differences(&workload).is_empty());
        assert_eq!(
            workload.describe(),
            "parallel 1 over 1 process, async, --initial-delay-ms 10, --x 1"
        );
    }
}
