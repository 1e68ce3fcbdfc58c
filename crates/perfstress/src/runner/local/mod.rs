//! The instances of this process and the stages run on them: what a
//! single-process run does, and what each worker process of a
//! multi-process run does when its parent says so.

pub(crate) mod driver;
mod hooks;
mod op_loop;
mod timed;
pub(crate) mod timing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::metrics::{InstanceCounters, InstanceSnapshot, process_cpu_time};
use crate::profile::{ProfileTarget, Profiler, profile_directory};
use crate::test::TestContext;

use self::driver::Driver;
use self::timed::{OnTick, TimedPhase};
use self::timing::{LatencyRecord, TimingPlan};
use crate::failure::Failure;
use crate::phase::Phase;
use crate::runner::RunSettings;
use crate::runner::control::RunControl;
use crate::runner::lifecycle::Stages;
use crate::runner::plan::ProcessShare;

/// What one process measured in a timed phase.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct PhaseMeasurement {
    /// The process's instances, in parallel-index order.
    pub(crate) snapshots: Vec<InstanceSnapshot>,
    /// CPU seconds the process used during the phase.
    pub(crate) cpu_seconds: Option<f64>,
    /// Wall-clock seconds of the phase in this process.
    pub(crate) wall_seconds: f64,
    /// Mean resident memory of the process during the phase, in bytes.
    pub(crate) average_memory_bytes: Option<u64>,
    /// Latency of the process's operations (timed run with --latency).
    pub(crate) latency: Option<LatencyRecord>,
    /// Files --profile wrote.
    pub(crate) profile_files: Vec<String>,
}

/// How the instances of this process are to be run.
pub(crate) struct LocalSettings {
    pub(crate) test_name: &'static str,
    pub(crate) parallel: usize,
    pub(crate) share: ProcessShare,
    pub(crate) sync: bool,
    pub(crate) insecure: bool,
    pub(crate) no_cleanup: bool,
    /// --latency (or --rate, which implies it).
    pub(crate) latency: bool,
    pub(crate) rate: Option<f64>,
    /// Where --profile writes, if profiling.
    pub(crate) profile_directory: Option<std::path::PathBuf>,
}

impl LocalSettings {
    /// The settings of the instances `share` of run `settings`.
    pub(crate) fn new(settings: &RunSettings, share: ProcessShare) -> Self {
        let global = &settings.global;
        Self {
            test_name: settings.entry.name,
            parallel: global.parallel,
            share,
            sync: global.sync,
            insecure: global.insecure,
            no_cleanup: global.no_cleanup,
            latency: global.latency || global.rate.is_some(),
            rate: global.rate,
            profile_directory: global
                .profile
                .then(|| profile_directory(global.profile_path.as_deref())),
        }
    }
}

/// The instances of this process and everything needed to run them.
pub(crate) struct LocalStages<D: Driver> {
    settings: LocalSettings,
    options: D::Options,
    instances: Vec<Option<D>>,
    counters: Arc<[InstanceCounters]>,
    control: Arc<RunControl>,
    runtime: tokio::runtime::Runtime,
    global_setup_ran: bool,
    events_started: bool,
    cleaned_up: bool,
}

impl<D: Driver> LocalStages<D> {
    pub(crate) fn new(
        settings: LocalSettings,
        options: D::Options,
        control: Arc<RunControl>,
        runtime: tokio::runtime::Runtime,
    ) -> Self {
        let counters = (0..settings.share.count)
            .map(|_| InstanceCounters::default())
            .collect();
        Self {
            settings,
            options,
            instances: Vec::new(),
            counters,
            control,
            runtime,
            global_setup_ran: false,
            events_started: false,
            cleaned_up: false,
        }
    }

    /// Creates the instances, then global setup (first instance), then setup.
    pub(crate) fn setup(&mut self) {
        let settings = &self.settings;
        let contexts = (settings.share.first_index
            ..settings.share.first_index + settings.share.count)
            .map(|parallel_index| {
                TestContext::new(
                    settings.test_name,
                    self.options.clone(),
                    parallel_index,
                    settings.parallel,
                )
                .with_flags(settings.insecure, settings.sync)
            })
            .collect();
        self.control.set_phase(Phase::Create);
        self.instances = self
            .runtime
            .block_on(hooks::create_instances(contexts, &self.control));
        if !self.control.is_cancelled() {
            self.global_setup_ran = true;
            self.hook(Phase::GlobalSetup, true);
        }
        if !self.control.is_cancelled() {
            self.hook(Phase::Setup, true);
        }
        if self.is_event_test() && !self.control.is_cancelled() {
            self.events_started = true;
            self.events(Phase::StartEvents);
        }
    }

    fn is_event_test(&self) -> bool {
        self.instances
            .iter()
            .flatten()
            .any(|test| test.event_counter().is_some())
    }

    /// Starts or stops an event test's sources, in the chosen variant.
    fn events(&mut self, phase: Phase) {
        if self.settings.sync {
            self.control.set_phase(phase);
            let first_index = self.settings.share.first_index;
            hooks::run_sync_events(&mut self.instances, first_index, phase, &self.control);
        } else {
            self.hook(phase, phase == Phase::StartEvents);
        }
    }

    /// Runs a timed phase; `agree_start` (with several processes) reports
    /// this process ready and returns the start all processes agreed on.
    pub(crate) fn timed(
        &mut self,
        phase: Phase,
        duration: Duration,
        agree_start: Option<&dyn Fn() -> Instant>,
        on_tick: OnTick<'_>,
    ) -> PhaseMeasurement {
        let timed = TimedPhase {
            phase,
            duration,
            sync: self.settings.sync,
            first_index: self.settings.share.first_index,
            counters: &self.counters,
            control: &self.control,
            runtime: &self.runtime,
            agree_start,
            timing: TimingPlan {
                record: self.settings.latency && phase == Phase::Run,
                rate: self.settings.rate,
                parallel: self.settings.parallel,
            },
        };
        self.control.set_phase(phase);
        let profiler = self.start_profiler(phase);
        let cpu_before = process_cpu_time();
        let wall_start = Instant::now();
        let (snapshots, readings) = timed.run(&mut self.instances, on_tick);
        let wall_seconds = wall_start.elapsed().as_secs_f64();
        let profile_files = self.finish_profiler(profiler);
        let cpu_seconds = match (cpu_before, process_cpu_time()) {
            (Some(before), Some(after)) => Some(after.saturating_sub(before).as_secs_f64()),
            _ => None,
        };
        let samples = &readings.memory_samples;
        PhaseMeasurement {
            snapshots,
            cpu_seconds,
            wall_seconds,
            average_memory_bytes: (!samples.is_empty())
                .then(|| samples.iter().sum::<u64>() / samples.len() as u64),
            latency: readings.latency,
            profile_files,
        }
    }

    /// Starts --profile's sampling for the timed run.
    fn start_profiler(&self, phase: Phase) -> Option<Profiler> {
        let directory = self
            .settings
            .profile_directory
            .clone()
            .filter(|_| phase == Phase::Run)?;
        let target = ProfileTarget {
            directory,
            test_name: self.settings.test_name,
            first_index: self.settings.share.first_index,
            sync: self.settings.sync,
        };
        match Profiler::start(target) {
            Ok(profiler) => Some(profiler),
            Err(error) => {
                self.control.fail(Failure::new(
                    self.settings.share.first_index,
                    phase,
                    error.context("--profile"),
                ));
                None
            }
        }
    }

    fn finish_profiler(&self, profiler: Option<Profiler>) -> Vec<String> {
        match profiler.map(Profiler::finish) {
            Some(Ok(paths)) => paths
                .iter()
                .map(|path| path.display().to_string())
                .collect(),
            Some(Err(error)) => {
                self.control.fail(Failure::new(
                    self.settings.share.first_index,
                    Phase::Run,
                    error.context("--profile"),
                ));
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// Cleanup and global cleanup (unless `--no-cleanup`), then close. Runs
    /// at most once, on whatever instances exist.
    pub(crate) fn cleanup(&mut self) {
        if std::mem::replace(&mut self.cleaned_up, true) {
            return;
        }
        if self.events_started {
            self.events(Phase::StopEvents);
        }
        if !self.settings.no_cleanup {
            self.hook(Phase::Cleanup, false);
            if self.global_setup_ran {
                self.hook(Phase::GlobalCleanup, false);
            }
        }
        self.hook(Phase::Close, false);
        self.instances.clear();
    }

    /// Runs hook `phase`: global hooks on the first instance of this
    /// process, the others on every instance.
    fn hook(&mut self, phase: Phase, stop_on_failure: bool) {
        let global = matches!(phase, Phase::GlobalSetup | Phase::GlobalCleanup);
        let count = if global {
            self.instances.len().min(1)
        } else {
            self.instances.len()
        };
        let first_index = self.settings.share.first_index;
        self.control.set_phase(phase);
        self.runtime.block_on(hooks::run_hook(
            &mut self.instances[..count],
            first_index,
            phase,
            &self.control,
            stop_on_failure,
        ));
    }
}

impl<D: Driver> Stages for LocalStages<D> {
    fn setup(&mut self) {
        LocalStages::setup(self);
    }

    fn timed(
        &mut self,
        phase: Phase,
        duration: Duration,
        on_status: &mut dyn FnMut(&[InstanceSnapshot]),
    ) -> PhaseMeasurement {
        LocalStages::timed(self, phase, duration, None, &mut |_tick, snapshots| {
            on_status(snapshots)
        })
    }

    fn cleanup(&mut self) {
        LocalStages::cleanup(self);
    }
}
