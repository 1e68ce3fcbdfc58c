//! The order of a run's stages and its outcome: Setup, Post Setup, Warmup,
//! Tests, Pre Cleanup, Cleanup (the last two also after a failure or
//! Ctrl-C), the same whether the instances run in this process or in
//! worker processes (see [`Stages`]). What happens is told to the
//! reporters; the lifecycle itself prints nothing and computes nothing
//! but the phase results it hands them.

use std::sync::Arc;
use std::time::Duration;

use crate::metrics::{
    Comparison, FailureRecord, Iterations, PhaseEnd, PhaseMeasurement, PhaseResults, RunRecord,
    RunSummary, StatusSample, ThresholdResult, TickReport, Timeline,
};
use crate::outcome::Outcome;
use crate::phase::Phase;
use crate::plan::Plan;
use crate::report::{Console, Reporters};

use super::control::RunControl;
use super::panic::{catch_panic, panic_error};
use crate::failure::{Failure, Who};

/// Called at each status tick of a timed stage with the tick number (1, 2,
/// ...) and what the tick saw (every instance's progress, errors, ...).
pub(crate) type OnStatus<'a> = &'a mut dyn FnMut(u32, &TickReport);

/// The stages of a run, carried out by this process or by worker processes.
/// Failures are recorded in the run's [`RunControl`].
pub(crate) trait Stages {
    /// Create the instances, global setup, setup.
    fn setup(&mut self);
    /// The framework's post-setup stage (test-proxy recording starts here).
    fn post_setup(&mut self) {}
    /// A timed stage; `on_status` gets every instance's progress once a second.
    fn timed(
        &mut self,
        stage: Phase,
        duration: Duration,
        on_status: OnStatus<'_>,
    ) -> PhaseMeasurement;
    /// The framework's pre-cleanup stage (test-proxy playback stops here).
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

/// Runs the stages of one run in order and decides its outcome.
pub(crate) struct Lifecycle<'a> {
    plan: &'a Plan,
    control: &'a Arc<RunControl>,
    reporters: Reporters,
    failures: Vec<FailureRecord>,
    /// The timed runs (`--iterations`).
    iterations: Iterations,
}

impl<'a> Lifecycle<'a> {
    /// The lifecycle of `plan`'s run, reported to the reporters it asks for.
    pub(crate) fn new(plan: &'a Plan, control: &'a Arc<RunControl>) -> Self {
        Self {
            plan,
            control,
            reporters: crate::report::reporters(plan),
            failures: Vec::new(),
            iterations: Iterations::new(Vec::new()),
        }
    }

    /// Runs every stage and returns the outcome.
    pub(crate) fn run(mut self, stages: &mut dyn Stages) -> Outcome {
        self.reporters.options(self.plan);
        let (mut warmup, mut run) = (None, None);
        for stage in Phase::STAGES {
            let cancelled = self.control.is_cancelled();
            let skipped = match stage {
                Phase::Warmup => self.plan.warmup.is_zero() || cancelled,
                Phase::Run => cancelled,
                _ => false,
            };
            if skipped {
                continue;
            }
            self.reporters.stage_start(stage);
            // A panic of the framework itself (not of test code, which the
            // stages catch) is a reported failure too: the stages after it,
            // cleanup included, still run.
            let ran = catch_panic(|| {
                super::testing::framework_panic(stage);
                match stage {
                    Phase::Setup => stages.setup(),
                    Phase::PostSetup if !cancelled => stages.post_setup(),
                    Phase::Warmup => warmup = Some(self.timed(stages, stage, self.plan.warmup)),
                    Phase::Run => run = self.timed_runs(stages),
                    Phase::PreCleanup => stages.pre_cleanup(),
                    Phase::Cleanup => {
                        stages.cleanup();
                        stages.finish();
                    }
                    _ => {}
                }
            });
            if let Err(payload) = ran {
                self.control.fail(Failure {
                    who: Who::Runner,
                    phase: stage,
                    error: panic_error(payload),
                });
            }
            self.end_stage(stage);
        }

        let mut outcome = self.control.outcome();
        let thresholds = if outcome.is_success() {
            ThresholdResult::evaluate(self.plan, run.as_ref())
        } else {
            Vec::new()
        };
        // A run that worked but fails a gate: its files are still written
        // (CI wants the numbers), and it exits 3.
        if thresholds.iter().any(|result| !result.passed) {
            outcome = Outcome::GateFailed;
        }
        // Stress mode: more errors than --max-error-rate allows fail the
        // run (exit 1, said with the rate and the limit); like a gate, its
        // results files are still written.
        let errors_exceeded = outcome.has_results()
            && run
                .as_ref()
                .and_then(|run| run.errors.as_ref())
                .is_some_and(|errors| !errors.within_limit());
        // The run as a baseline keeps it, and with --baseline its
        // comparison (a regression fails the gate with --fail-on-regression).
        let record = run.as_ref().map(|run| {
            RunRecord::new(
                self.plan,
                run,
                &self.iterations.figures,
                self.iterations.statistics.as_ref(),
            )
        });
        let comparison = match record.as_ref().filter(|_| outcome.has_results()) {
            Some(record) => match crate::baseline::compare_with_baseline(self.plan, record) {
                Ok(comparison) => comparison,
                Err(error) => {
                    Console::new().error(&format!("error: {error}"));
                    outcome = Outcome::Failed;
                    None
                }
            },
            None => None,
        };
        if self.plan.baseline.fail_on_regression
            && outcome.is_success()
            && comparison.as_ref().is_some_and(Comparison::regressed)
        {
            outcome = Outcome::GateFailed;
        }
        let summary = RunSummary {
            plan: self.plan,
            warmup,
            run,
            failures: std::mem::take(&mut self.failures),
            coordination_seconds: stages.coordination().into_iter().collect(),
            thresholds,
            outcome,
            record,
            comparison,
        };
        let written = self.reporters.run_summary(&summary);
        // A signal while the files were written: the run ends with the
        // signal's outcome, and leaves no results file behind.
        let late = self.control.outcome();
        if outcome.has_results() && late.is_signal() {
            self.reporters.discard();
            return late;
        }
        match written {
            Ok(()) if errors_exceeded => Outcome::Failed,
            Ok(()) => outcome,
            Err(error) => {
                Console::new().error(&format!("error: {error}"));
                if outcome.has_results() {
                    Outcome::Failed
                } else {
                    outcome
                }
            }
        }
    }

    /// The timed run: once, or `--iterations N` times (each reported as it
    /// ends, and kept); the results of the runs taken together.
    fn timed_runs(&mut self, stages: &mut dyn Stages) -> Option<PhaseResults> {
        let count = self.plan.iterations;
        let mut runs = Vec::with_capacity(count);
        for index in 1..=count {
            if index > 1 && self.control.is_cancelled() {
                break;
            }
            if count > 1 {
                self.reporters.iteration_start(index, count);
            }
            runs.push(self.timed(stages, Phase::Run, self.plan.duration));
        }
        self.iterations = Iterations::new(runs);
        if count > 1 {
            self.reporters.iterations(&self.iterations);
        }
        self.iterations.combined(self.plan.parallel)
    }

    /// Runs timed stage `stage` and reports its status and results.
    fn timed(&mut self, stages: &mut dyn Stages, stage: Phase, duration: Duration) -> PhaseResults {
        let mut previous_total = 0;
        let reporters = &mut self.reporters;
        // The ticks carry interval histograms (service time) with --latency
        // or --rate and a timeline or histogram log, in the timed run.
        let interval_latency = self.plan.stress.interval_latency()
            && stage == Phase::Run
            && self.plan.timing.records_latency();
        let mut timeline = Timeline::new(stage, self.plan.stress.status_interval, interval_latency);
        let mut measurement = stages.timed(stage, duration, &mut |tick, report| {
            let interval = timeline.tick(tick, report);
            let sample = StatusSample::new(&report.snapshots, previous_total);
            previous_total = sample.total;
            // The interval first: the console's status line shows its errors.
            reporters.interval(&interval);
            reporters.status(stage, tick, &sample);
        });
        let ended = if self.control.is_interrupted() {
            PhaseEnd::Interrupted
        } else if self.control.has_failed() {
            PhaseEnd::Failed
        } else {
            PhaseEnd::Completed
        };
        // The last, partial interval ends with the phase: at its deadline,
        // or (stopped early) at its last completed operation.
        let end_seconds = match ended {
            PhaseEnd::Completed => duration.as_secs_f64(),
            _ => measurement
                .snapshots
                .iter()
                .map(|snapshot| snapshot.last_completion.as_secs_f64())
                .fold(0.0, f64::max),
        };
        if let Some(last) = timeline.finish(&measurement, end_seconds) {
            self.reporters.interval(&last);
        }
        measurement.memory_samples = timeline.memory_samples().to_vec();
        let results = PhaseResults::new(self.plan, stage, measurement, ended);
        self.reporters.phase_results(&results);
        results
    }

    /// Reports the failures of the stage, then its end.
    fn end_stage(&mut self, stage: Phase) {
        for failure in self.control.take_failures() {
            self.reporters.failure(self.plan, &failure);
            self.failures.push(FailureRecord::from(&failure));
        }
        self.reporters.stage_end(stage);
    }
}
