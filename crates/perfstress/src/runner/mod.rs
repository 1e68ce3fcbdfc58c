//! Phases and orchestration: create, global setup, setup, post setup,
//! warm-up, timed run, pre cleanup, cleanup, global cleanup, close; with
//! cleanup also after a failure or Ctrl-C.

mod control;
mod driver;
mod failure;
mod hooks;
mod phase;
mod plan;
mod worker;

use std::sync::Arc;
use std::time::Instant;

use clap::FromArgMatches;

use crate::cli::{EXIT_USAGE, describe_test_options};
use crate::metrics::{InstanceCounters, PhaseSummary, process_cpu_time};
use crate::options::GlobalOptions;
use crate::registry::{Invocation, TestEntry};
use crate::report::{Console, InstanceResults, TestResults, write_test_results};
use crate::test::TestContext;

use control::{EXIT_INTERRUPTED, RunControl};
pub(crate) use driver::{Batch, Driver, Single};
use failure::Phase;
pub(crate) use failure::install_panic_hook;
use phase::TimedPhase;
pub use plan::{ProcessShare, split};

/// Exit code of a failed run.
const EXIT_FAILED: i32 = 1;

/// Runs test `D` as `invocation` asks; returns the exit code.
pub(crate) fn launch<D: Driver>(entry: &'static TestEntry, invocation: Invocation) -> i32 {
    let options = match D::Options::from_arg_matches(&invocation.matches) {
        Ok(options) => options,
        Err(error) => {
            let _ = error.print();
            return EXIT_USAGE;
        }
    };
    let test_options = describe_test_options(entry, &invocation.matches);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("perfstress-runtime")
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the tokio runtime: {error}");
            return EXIT_FAILED;
        }
    };
    let control = Arc::new(RunControl::new());
    if let Err(error) = control::route_interrupts_to(&control) {
        eprintln!("warning: Ctrl-C will not clean up: cannot install its handler: {error}");
    }
    let run = Run {
        entry,
        global: invocation.global,
        test_options,
        control,
        runtime,
        console: Console::new(),
    };
    run.execute::<D>(options)
}

/// One run of one test in this process.
struct Run {
    entry: &'static TestEntry,
    global: GlobalOptions,
    test_options: Vec<String>,
    control: Arc<RunControl>,
    runtime: tokio::runtime::Runtime,
    console: Console,
}

/// What the timed run measured besides the instances' counters.
struct RunMeasurements {
    summary: PhaseSummary,
    cpu_seconds: Option<f64>,
    average_cpu_use: Option<f64>,
    average_memory_use: Option<u64>,
}

impl Run {
    fn execute<D: Driver>(self, options: D::Options) -> i32 {
        let share = ProcessShare {
            first_index: 0,
            count: self.global.parallel,
        };
        self.print_options(share);

        self.console.stage("Setup");
        let contexts = (share.first_index..share.first_index + share.count)
            .map(|parallel_index| {
                TestContext::new(
                    self.entry.name,
                    options.clone(),
                    parallel_index,
                    self.global.parallel,
                )
                .with_flags(self.global.insecure, self.global.sync)
            })
            .collect();
        let mut instances: Vec<Option<D>> = self
            .runtime
            .block_on(hooks::create_instances(contexts, &self.control));
        let mut global_setup_ran = false;
        if !self.control.is_cancelled() {
            global_setup_ran = true;
            self.hook(&mut instances, Phase::GlobalSetup, true);
        }
        if !self.control.is_cancelled() {
            self.hook(&mut instances, Phase::Setup, true);
        }
        self.report_failures();
        self.console.line("");

        self.console.stage("Post Setup");
        self.console.line("");

        let counters: Arc<[InstanceCounters]> = (0..share.count)
            .map(|_| InstanceCounters::default())
            .collect();
        let mut measurements = None;
        if !self.global.warmup.is_zero() && !self.control.is_cancelled() {
            self.console.stage("Warmup");
            self.timed_phase(&mut instances, Phase::Warmup, &counters, share);
        }
        if !self.control.is_cancelled() {
            self.console.stage("Tests");
            measurements = Some(self.timed_phase(&mut instances, Phase::Run, &counters, share));
        }

        self.console.stage("Pre Cleanup");
        self.console.line("");

        self.console.stage("Cleanup");
        if !self.global.no_cleanup {
            self.hook(&mut instances, Phase::Cleanup, false);
            if global_setup_ran {
                self.hook(&mut instances, Phase::GlobalCleanup, false);
            }
        }
        self.hook(&mut instances, Phase::Close, false);
        self.report_failures();
        self.console.line("");
        drop(instances);

        self.console.stage("Finished");
        if self.control.is_interrupted() {
            return EXIT_INTERRUPTED;
        }
        if self.control.has_usage_error() {
            return EXIT_USAGE;
        }
        if self.control.has_failed() {
            return EXIT_FAILED;
        }
        match (measurements, &self.global.test_results) {
            (Some(measurements), Some(path)) => {
                match write_test_results(path, &self.test_results(measurements)) {
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

    fn print_options(&self, share: ProcessShare) {
        let global = &self.global;
        self.console.stage("Options");
        self.console.line(&format!(
            "{}  duration {} s, warm-up {} s, parallel {} over 1 process, {}{}{}",
            self.entry.name,
            global.duration.as_secs_f64(),
            global.warmup.as_secs_f64(),
            share.count,
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

    /// Runs hook `phase`: global hooks on the first instance of this
    /// process, the others on every instance.
    fn hook<D: Driver>(&self, instances: &mut [Option<D>], phase: Phase, stop_on_failure: bool) {
        let global = matches!(phase, Phase::GlobalSetup | Phase::GlobalCleanup);
        let count = if global {
            instances.len().min(1)
        } else {
            instances.len()
        };
        let targets = &mut instances[..count];
        self.runtime.block_on(hooks::run_hook(
            targets,
            0,
            phase,
            &self.control,
            stop_on_failure,
        ));
    }

    fn timed_phase<D: Driver>(
        &self,
        instances: &mut [Option<D>],
        phase: Phase,
        counters: &Arc<[InstanceCounters]>,
        share: ProcessShare,
    ) -> RunMeasurements {
        let duration = if phase == Phase::Warmup {
            self.global.warmup
        } else {
            self.global.duration
        };
        let timed = TimedPhase {
            phase,
            duration,
            sync: self.global.sync,
            first_index: share.first_index,
            counters,
            control: &self.control,
            runtime: &self.runtime,
            console: &self.console,
        };
        let cpu_before = process_cpu_time();
        let wall_start = Instant::now();
        let (snapshots, readings) = timed.run(instances);
        let wall = wall_start.elapsed().as_secs_f64();
        let cpu_seconds = match (cpu_before, process_cpu_time()) {
            (Some(before), Some(after)) => Some(after.saturating_sub(before).as_secs_f64()),
            _ => None,
        };
        let summary = PhaseSummary::from_instances(snapshots);
        self.console.results(&summary);
        if self.control.is_interrupted() {
            self.console
                .line("(partial results: the phase was interrupted)");
        }
        self.report_failures();
        self.console.line("");
        let samples = &readings.memory_samples;
        RunMeasurements {
            summary,
            cpu_seconds,
            average_cpu_use: cpu_seconds
                .filter(|_| wall > 0.0)
                .map(|cpu| cpu / wall * 100.0),
            average_memory_use: (!samples.is_empty())
                .then(|| samples.iter().sum::<u64>() / samples.len() as u64),
        }
    }

    fn report_failures(&self) {
        for failure in self.control.take_failures() {
            self.console.failure(
                self.entry.name,
                failure.parallel_index,
                &failure.phase.to_string(),
                &failure.error,
            );
        }
    }

    fn test_results(&self, measurements: RunMeasurements) -> TestResults {
        let summary = measurements.summary;
        TestResults {
            test_name: self.entry.name.to_owned(),
            operations_per_second: summary.operations_per_second,
            average_cpu_use: measurements.average_cpu_use,
            average_memory_use: measurements.average_memory_use,
            total_operations: summary.total_operations,
            seconds_per_operation: summary.seconds_per_operation,
            weighted_average_seconds: summary.weighted_average_seconds,
            cpu_seconds: measurements.cpu_seconds,
            duration_seconds: self.global.duration.as_secs_f64(),
            warmup_seconds: self.global.warmup.as_secs_f64(),
            parallel: self.global.parallel,
            processes: 1,
            sync: self.global.sync,
            test_options: self.test_options.clone(),
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
            perfstress_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}
