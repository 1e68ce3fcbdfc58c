//! Comparing two runs (a baseline and a new run, or two saved runs): per
//! metric the change of the new run relative to the old in percent, with a
//! 95% confidence interval, and a verdict from Welch's t-test on the
//! iterations and a noise threshold.

use serde::Serialize;

use super::record::RunRecord;
use super::statistics::{Estimate, SIGNIFICANCE, Welch};

/// The latency figures compared (when both runs recorded latency): a few,
/// so that many comparisons do not make false verdicts likely.
const COMPARED_LATENCY: [&str; 4] = ["mean", "p50", "p90", "p99"];

/// What a comparison concludes about one metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// Significantly better, by more than the noise threshold.
    Improved,
    /// Significantly worse, by more than the noise threshold.
    Regressed,
    /// Not significant, or within the noise threshold.
    NoChange,
    /// A side has fewer than two iterations: no test is possible.
    Inconclusive,
}

impl Verdict {
    /// As the tables print it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Regressed => "REGRESSED",
            Verdict::NoChange => "no change",
            Verdict::Inconclusive => "inconclusive (fewer than 2 iterations)",
        }
    }
}

/// The change of one metric.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct MetricChange {
    /// `ops/s`, or a latency figure (`p99`, `mean`) in ms.
    pub(crate) metric: String,
    /// Whether a larger value is better (ops/s) or worse (latency).
    pub(crate) higher_is_better: bool,
    /// The old run's iterations.
    pub(crate) old: Estimate,
    /// The new run's iterations.
    pub(crate) new: Estimate,
    /// `(new - old) / old`, in percent.
    pub(crate) change_percent: f64,
    /// The 95% confidence interval of the change, in percent of the old
    /// mean (Welch), with two iterations or more on each side.
    pub(crate) change_ci_percent: Option<(f64, f64)>,
    /// Welch's two-sided p-value.
    pub(crate) p_value: Option<f64>,
    /// The conclusion.
    pub(crate) verdict: Verdict,
}

/// Two runs of one test compared.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Comparison {
    /// The test.
    pub(crate) test_name: String,
    /// What the old run is (a baseline's name or a file).
    pub(crate) old_label: String,
    /// What the new run is.
    pub(crate) new_label: String,
    /// How the old run's options differ from the new run's, if they do.
    pub(crate) option_differences: Vec<String>,
    /// How the machines differ, if they do.
    pub(crate) machine_differences: Vec<String>,
    /// Changes below this many percent are no change.
    pub(crate) noise_threshold_percent: f64,
    /// Per metric: ops/s first, then latency.
    pub(crate) metrics: Vec<MetricChange>,
}

impl Comparison {
    /// Compares `new` with `old`; refuses runs of different tests.
    pub(crate) fn new(
        old: (&str, &RunRecord),
        new: (&str, &RunRecord),
        noise_threshold_percent: f64,
    ) -> Result<Self, String> {
        let ((old_label, old), (new_label, new)) = (old, new);
        if !old.test_name.eq_ignore_ascii_case(&new.test_name) {
            return Err(format!(
                "{old_label} is a run of {} and {new_label} of {}: only runs of the same test compare",
                old.test_name, new.test_name
            ));
        }
        let rates = |record: &RunRecord| -> Vec<f64> {
            record
                .iterations
                .iter()
                .map(|iteration| iteration.operations_per_second)
                .collect()
        };
        let mut metrics = Vec::new();
        metrics.extend(MetricChange::new(
            "ops/s",
            true,
            &rates(old),
            &rates(new),
            noise_threshold_percent,
        ));
        for figure in COMPARED_LATENCY {
            let values = |record: &RunRecord| -> Option<Vec<f64>> {
                record
                    .iterations
                    .iter()
                    .map(|iteration| iteration.latency_ms.get(figure).copied())
                    .collect()
            };
            if let (Some(old_values), Some(new_values)) = (values(old), values(new)) {
                metrics.extend(MetricChange::new(
                    &format!("{figure} latency (ms)"),
                    false,
                    &old_values,
                    &new_values,
                    noise_threshold_percent,
                ));
            }
        }
        Ok(Self {
            test_name: new.test_name.clone(),
            old_label: old_label.to_owned(),
            new_label: new_label.to_owned(),
            option_differences: old.workload.differences(&new.workload),
            machine_differences: old.environment.machine_differences(&new.environment),
            noise_threshold_percent,
            metrics,
        })
    }

    /// Whether any metric regressed.
    pub(crate) fn regressed(&self) -> bool {
        self.metrics
            .iter()
            .any(|metric| metric.verdict == Verdict::Regressed)
    }

    /// The warnings to print above the comparison.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if !self.option_differences.is_empty() {
            warnings.push(format!(
                "the runs' options differ ({}): the change is not only the code's",
                self.option_differences.join("; ")
            ));
        }
        if !self.machine_differences.is_empty() {
            warnings.push(format!(
                "the runs come from different machines ({}): the change is not only the code's",
                self.machine_differences.join("; ")
            ));
        }
        warnings
    }
}

impl MetricChange {
    /// The change from `old` to `new` values (one per iteration); `None`
    /// if either side has no usable value.
    fn new(
        metric: &str,
        higher_is_better: bool,
        old: &[f64],
        new: &[f64],
        noise_threshold_percent: f64,
    ) -> Option<Self> {
        let (old_estimate, new_estimate) = (Estimate::of(old)?, Estimate::of(new)?);
        if old_estimate.mean == 0.0 {
            return None;
        }
        let base = old_estimate.mean.abs();
        let change_percent = (new_estimate.mean - old_estimate.mean) / base * 100.0;
        let welch = Welch::test(old, new);
        let verdict = match welch {
            None => Verdict::Inconclusive,
            Some(welch)
                if welch.p_value >= SIGNIFICANCE
                    || change_percent.abs() < noise_threshold_percent =>
            {
                Verdict::NoChange
            }
            Some(_) if (change_percent > 0.0) == higher_is_better => Verdict::Improved,
            Some(_) => Verdict::Regressed,
        };
        Some(Self {
            metric: metric.to_owned(),
            higher_is_better,
            old: old_estimate,
            new: new_estimate,
            change_percent,
            change_ci_percent: welch
                .map(|welch| (welch.ci_low / base * 100.0, welch.ci_high / base * 100.0)),
            p_value: welch.map(|welch| welch.p_value),
            verdict,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::metrics::{IterationFigures, Workload};

    fn record(test: &str, rates: &[f64], delay: &str) -> RunRecord {
        RunRecord {
            format: "perfstress-baseline".into(),
            format_version: 1,
            baseline_name: None,
            test_name: test.into(),
            workload: Workload {
                parallel: 1,
                processes: 1,
                sync: false,
                rate: None,
                latency: false,
                test_options: vec![format!("--initial-delay-ms {delay}")],
            },
            duration_seconds: 1.0,
            warmup_seconds: 0.0,
            operations_per_second: rates.iter().sum::<f64>() / rates.len() as f64,
            iterations: rates
                .iter()
                .map(|&operations_per_second| IterationFigures {
                    operations_per_second,
                    total_operations: 10,
                    latency_ms: Default::default(),
                })
                .collect(),
            statistics: None,
            latency_ms: Default::default(),
            latency_histogram: None,
            environment: Environment::default(),
            created_unix_seconds: None,
        }
    }

    #[test]
    fn a_slower_run_is_a_regression_with_its_interval() {
        let old = record("SleepTest", &[100.0, 99.9, 100.1, 100.0], "10");
        let new = record("SleepTest", &[90.9, 90.8, 91.0, 90.9], "11");
        let comparison = Comparison::new(("old", &old), ("new", &new), 2.0).unwrap();
        let rate = &comparison.metrics[0];
        assert_eq!(rate.verdict, Verdict::Regressed);
        assert!((rate.change_percent + 9.1).abs() < 0.01, "{rate:?}");
        let (low, high) = rate.change_ci_percent.unwrap();
        assert!(low < rate.change_percent && rate.change_percent < high && high < 0.0);
        assert!(comparison.regressed());
        assert_eq!(comparison.option_differences.len(), 1);
        assert!(comparison.warnings()[0].contains("--initial-delay-ms 10 vs"));
        // The other way round it is an improvement.
        let back = Comparison::new(("new", &new), ("old", &old), 2.0).unwrap();
        assert_eq!(back.metrics[0].verdict, Verdict::Improved);
    }

    #[test]
    fn small_or_noisy_changes_are_no_change() {
        let old = record("SleepTest", &[100.0, 100.1, 99.9], "10");
        // Significant but within 2%.
        let small = record("SleepTest", &[99.0, 99.1, 98.9], "10");
        let comparison = Comparison::new(("a", &old), ("b", &small), 2.0).unwrap();
        assert_eq!(comparison.metrics[0].verdict, Verdict::NoChange);
        assert!(comparison.warnings().is_empty());
        // 10% lower but noisy: not significant.
        let noisy = record("SleepTest", &[60.0, 120.0, 90.0], "10");
        let comparison = Comparison::new(("a", &old), ("b", &noisy), 2.0).unwrap();
        assert_eq!(comparison.metrics[0].verdict, Verdict::NoChange);
        // A single iteration cannot be tested.
        let single = record("SleepTest", &[50.0], "10");
        let comparison = Comparison::new(("a", &old), ("b", &single), 2.0).unwrap();
        assert_eq!(comparison.metrics[0].verdict, Verdict::Inconclusive);
        assert!(!comparison.regressed());
    }

    #[test]
    fn different_tests_are_refused() {
        let error = Comparison::new(
            ("a", &record("SleepTest", &[1.0, 2.0], "1")),
            ("b", &record("NoOpTest", &[1.0, 2.0], "1")),
            2.0,
        )
        .unwrap_err();
        assert!(
            error.contains("SleepTest") && error.contains("NoOpTest"),
            "{error}"
        );
    }
}
