//! The run as the user sees it: stage headers, status lines, results, the
//! failures, the results file and the exit code. The same whether the
//! instances run in this process or in worker processes (see [`Stages`]).

use std::sync::Arc;
use std::time::Duration;

use crate::metrics::{InstanceSnapshot, PhaseSummary, StatusSample};
use crate::options::GlobalOptions;
use crate::registry::TestEntry;
use crate::report::{
    Console, InstanceResults, LatencyResults, TestResults, format_count, format_significant,
    latency_table, write_operations_file, write_test_results,
};

use super::EXIT_FAILED;
use super::control::RunControl;
use super::local::PhaseMeasurement;
use super::local::timing::LATE_START_THRESHOLD;
use crate::phase::Phase;

/// The stages of a run, carried out by this process or by worker processes.
/// Failures are recorded in the run's [`RunControl`].
pub(crate) trait Stages {
    /// Create the instances, global setup, setup.
    fn setup(&mut self);
    /// The framework's post-setup phase (test-proxy recording starts here).
    fn post_setup(&mut self) {}
    /// A timed phase; `on_status` gets every instance's progress once a second.
    fn timed(
        &mut self,
        phase: Phase,
        duration: Duration,
        on_status: &mut dyn FnMut(&[InstanceSnapshot]),
    ) -> PhaseMeasurement;
    /// The framework's pre-cleanup phase (test-proxy playback stops here).
    fn pre_cleanup(&mut self) {}
    /// Cleanup, global cleanup, close.
    fn cleanup(&mut self);
    /// After the last stage (worker processes exit).
    fn finish(&mut self) {}
    /// Seconds spent coordinating processes, by what, for the results file.
    fn coordination(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
}

/// Prints the run and decides its outcome.
pub(crate) struct Coordinator<'a> {
    pub(crate) entry: &'static TestEntry,
    pub(crate) global: &'a GlobalOptions,
    pub(crate) test_options: &'a [String],
    pub(crate) processes: usize,
    pub(crate) control: &'a Arc<RunControl>,
    pub(crate) console: Console,
}

impl Coordinator<'_> {
    /// Runs every stage and returns the exit code.
    pub(crate) fn run(&self, stages: &mut dyn Stages) -> i32 {
        self.print_options();

        self.console.stage("Setup");
        stages.setup();
        self.end_stage();

        self.console.stage("Post Setup");
        if !self.control.is_cancelled() {
            stages.post_setup();
        }
        self.end_stage();

        let mut measurement = None;
        if !self.global.warmup.is_zero() && !self.control.is_cancelled() {
            self.console.stage("Warmup");
            self.timed(stages, Phase::Warmup, self.global.warmup);
        }
        if !self.control.is_cancelled() {
            self.console.stage("Tests");
            measurement = Some(self.timed(stages, Phase::Run, self.global.duration));
        }

        self.console.stage("Pre Cleanup");
        stages.pre_cleanup();
        self.end_stage();

        self.console.stage("Cleanup");
        stages.cleanup();
        stages.finish();
        self.end_stage();

        self.console.stage("Finished");
        let code = self.control.exit_code();
        if code != 0 {
            return code;
        }
        if let (Some(path), Some(latency)) = (
            &self.global.results_file,
            measurement
                .as_ref()
                .and_then(|measurement| measurement.latency.as_ref()),
        ) {
            let size = size_option(self.test_options);
            if let Err(error) = write_operations_file(path, &latency.service, size) {
                self.console.error(&format!(
                    "error: cannot write the results file {}: {error}",
                    path.display()
                ));
                return EXIT_FAILED;
            }
            self.console.line(&format!(
                "Per-operation results written to {}",
                path.display()
            ));
        }
        match (measurement, &self.global.test_results) {
            (Some(measurement), Some(path)) => {
                let results = self.test_results(measurement, stages.coordination());
                match write_test_results(path, &results) {
                    Ok(()) => {
                        self.console
                            .line(&format!("Results written to {}", path.display()));
                        0
                    }
                    Err(error) => {
                        self.console.error(&format!(
                            "error: cannot write the results file {}: {error}",
                            path.display()
                        ));
                        EXIT_FAILED
                    }
                }
            }
            _ => 0,
        }
    }

    fn print_options(&self) {
        let global = &self.global;
        self.console.stage("Options");
        self.console.line(&format!(
            "{}  duration {} s, warm-up {} s, parallel {} over {} process{}, {}{}{}",
            self.entry.name,
            global.duration.as_secs_f64(),
            global.warmup.as_secs_f64(),
            global.parallel,
            self.processes,
            if self.processes == 1 { "" } else { "es" },
            if global.sync { "sync" } else { "async" },
            if global.no_cleanup {
                ", no cleanup"
            } else {
                ""
            },
            if global.insecure { ", insecure" } else { "" },
        ));
        if !self.test_options.is_empty() {
            self.console
                .line(&format!("  {}", self.test_options.join("  ")));
        }
        self.console.line("");
    }

    fn timed(&self, stages: &mut dyn Stages, phase: Phase, duration: Duration) -> PhaseMeasurement {
        self.console.status_header();
        let mut previous_total = 0;
        let measurement = stages.timed(phase, duration, &mut |snapshots| {
            let sample = StatusSample::new(snapshots, previous_total);
            previous_total = sample.total;
            self.console.status_line(&sample);
        });
        self.console
            .results(&PhaseSummary::from_instances(measurement.snapshots.clone()));
        if self.control.is_interrupted() {
            self.console
                .line("(partial results: the phase was interrupted)");
        }
        if phase == Phase::Run {
            self.report_run_extras(&measurement);
        }
        self.end_stage();
        measurement
    }

    /// After the timed run's results: latency tables, the rate, profiles.
    fn report_run_extras(&self, measurement: &PhaseMeasurement) {
        if let Some(latency) = &measurement.latency {
            self.console.line("");
            self.console.stage("Latency Distribution");
            for line in latency_table(&latency.service.summary()) {
                self.console.line(&line);
            }
            if let Some(corrected) = &latency.corrected {
                self.console.line("");
                self.console.stage("Corrected Latency Distribution");
                for line in latency_table(&corrected.summary()) {
                    self.console.line(&line);
                }
            }
        }
        if let Some(rate) = self.global.rate {
            let achieved =
                PhaseSummary::from_instances(measurement.snapshots.clone()).operations_per_second;
            let late = measurement
                .latency
                .as_ref()
                .map_or(0, |latency| latency.late_starts);
            let started = measurement
                .latency
                .as_ref()
                .map_or(0, |latency| latency.service.count());
            self.console.line("");
            self.console.line(&format!(
                "Target rate {} ops/s, achieved {} ops/s; {} of {} operations started late (more than {} ms behind schedule)",
                format_significant(rate),
                format_significant(achieved),
                format_count(late),
                format_count(started),
                LATE_START_THRESHOLD.as_millis(),
            ));
        }
        for path in &measurement.profile_files {
            self.console.line(&format!("Profile written to {path}"));
        }
    }

    /// Reports the failures of the stage and leaves a blank line.
    fn end_stage(&self) {
        for failure in self.control.take_failures() {
            self.console.failure(
                self.entry.name,
                &failure.who.to_string(),
                &failure.phase.to_string(),
                &failure.error,
            );
        }
        self.console.line("");
    }

    fn test_results(
        &self,
        measurement: PhaseMeasurement,
        coordination: Vec<(String, f64)>,
    ) -> TestResults {
        let summary = PhaseSummary::from_instances(measurement.snapshots);
        let wall = measurement.wall_seconds;
        TestResults {
            test_name: self.entry.name.to_owned(),
            operations_per_second: summary.operations_per_second,
            average_cpu_use: measurement
                .cpu_seconds
                .filter(|_| wall > 0.0)
                .map(|cpu| cpu / wall * 100.0),
            average_memory_use: measurement.average_memory_bytes,
            total_operations: summary.total_operations,
            seconds_per_operation: summary.seconds_per_operation,
            weighted_average_seconds: summary.weighted_average_seconds,
            cpu_seconds: measurement.cpu_seconds,
            duration_seconds: self.global.duration.as_secs_f64(),
            warmup_seconds: self.global.warmup.as_secs_f64(),
            parallel: self.global.parallel,
            processes: self.processes,
            sync: self.global.sync,
            test_options: self.test_options.to_vec(),
            instances: summary
                .instances
                .iter()
                .enumerate()
                .map(|(parallel_index, instance)| InstanceResults {
                    parallel_index,
                    completed_operations: instance.completed_operations,
                    last_completion_seconds: instance.last_completion.as_secs_f64(),
                })
                .collect(),
            coordination_seconds: coordination.into_iter().collect(),
            latency: measurement
                .latency
                .as_ref()
                .map(|latency| LatencyResults::from(&latency.service.summary())),
            corrected_latency: measurement
                .latency
                .as_ref()
                .and_then(|latency| latency.corrected.as_ref())
                .map(|corrected| LatencyResults::from(&corrected.summary())),
            target_rate: self.global.rate,
            late_starts: measurement
                .latency
                .as_ref()
                .filter(|_| self.global.rate.is_some())
                .map(|latency| latency.late_starts),
            perfstress_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The test's `--size` option (what PerfAutomation reports MB/s from), or -1.
fn size_option(test_options: &[String]) -> i64 {
    test_options
        .iter()
        .find_map(|option| option.strip_prefix("--size "))
        .and_then(|size| size.trim().parse().ok())
        .unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_comes_from_the_test_options() {
        assert_eq!(size_option(&["--size 1024".to_owned()]), 1024);
        assert_eq!(size_option(&["--count 3".to_owned()]), -1);
        assert_eq!(size_option(&[]), -1);
    }
}
