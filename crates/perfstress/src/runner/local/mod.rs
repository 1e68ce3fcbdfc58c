//! The instances of this process and the stages run on them: what a
//! single-process run does, and what each worker process of a
//! multi-process run does when its parent says so.

pub(crate) mod driver;
mod hooks;
mod op_loop;
mod proxy;
mod timed;
pub(crate) mod timing;

use std::mem::ManuallyDrop;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::failure::Failure;
use crate::metrics::{InstanceCounters, PhaseMeasurement, process_cpu_time};
use crate::phase::Phase;
use crate::plan::{Plan, ProcessShare};
use crate::profile::{ProfileTarget, Profiler};
use crate::runner::control::RunControl;
use crate::runner::lifecycle::{OnStatus, Stages};
use crate::test::TestContext;
use crate::test_proxy::TestProxyRoute;

use self::driver::Driver;
use self::timed::TimedPhase;
use self::timing::{TimingPlan, clock_resolution_ns};

/// The tokio runtime that runs the hooks and async instances.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("perfstress-runtime")
        .build()
        .map_err(|error| Error::with_source(ErrorKind::Io, "cannot start the tokio runtime", error))
}

/// The instances of this process and everything needed to run them.
pub(crate) struct LocalStages<D: Driver> {
    plan: Arc<Plan>,
    /// The instances of this process.
    share: ProcessShare,
    options: D::Options,
    instances: Vec<Option<D>>,
    /// Each instance's route to its test proxy (`-x`), if any.
    routes: Vec<Option<TestProxyRoute>>,
    counters: Arc<[InstanceCounters]>,
    control: Arc<RunControl>,
    /// Taken only on drop.
    runtime: ManuallyDrop<tokio::runtime::Runtime>,
    /// A task of a timed phase never returned: it holds a runtime thread.
    abandoned_tasks: bool,
    /// The latency clock, calibrated when the stages are made (the first
    /// calibration of a process takes a while: not between a stage's
    /// header and its start).
    clock: quanta::Clock,
    /// Its real resolution in nanoseconds, measured once, with latency
    /// recording (0 without).
    clock_resolution_ns: f64,
    global_setup_ran: bool,
    events_started: bool,
    cleaned_up: bool,
}

impl<D: Driver> LocalStages<D> {
    /// The instances `share` of `plan`'s run, with the test's `options`.
    pub(crate) fn new(
        plan: Arc<Plan>,
        share: ProcessShare,
        options: D::Options,
        control: Arc<RunControl>,
        runtime: tokio::runtime::Runtime,
    ) -> Self {
        let counters = (0..share.count)
            .map(|_| InstanceCounters::default())
            .collect();
        let clock = quanta::Clock::new();
        let clock_resolution_ns = if plan.timing.records_latency() {
            clock_resolution_ns(&clock)
        } else {
            0.0
        };
        Self {
            plan,
            share,
            options,
            instances: Vec::new(),
            routes: Vec::new(),
            counters,
            control,
            runtime: ManuallyDrop::new(runtime),
            abandoned_tasks: false,
            clock,
            clock_resolution_ns,
            global_setup_ran: false,
            events_started: false,
            cleaned_up: false,
        }
    }

    /// Creates the instances, then global setup (first instance), then setup.
    pub(crate) fn setup(&mut self) {
        let (plan, share) = (&self.plan, self.share);
        self.routes = (share.first_index..share.first_index + share.count)
            .map(|parallel_index| {
                plan.test_proxy_for(parallel_index)
                    .cloned()
                    .map(|proxy| TestProxyRoute::new(proxy).with_insecure(plan.insecure))
            })
            .collect();
        let contexts = (share.first_index..share.first_index + share.count)
            .zip(&self.routes)
            .map(|(parallel_index, route)| {
                TestContext::new(
                    plan.test_name(),
                    self.options.clone(),
                    parallel_index,
                    plan.parallel,
                )
                .with_flags(plan.insecure, plan.sync)
                .with_test_proxy(route.clone())
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
        if self.plan.sync {
            self.control.set_phase(phase);
            let first_index = self.share.first_index;
            hooks::run_sync_events(&mut self.instances, first_index, phase, &self.control);
        } else {
            self.hook(phase, phase == Phase::StartEvents);
        }
    }

    /// The framework's post setup: with test proxies, each instance records
    /// one operation and starts its playback.
    pub(crate) fn post_setup(&mut self) {
        if self.routes.iter().all(Option::is_none) {
            return;
        }
        self.control.set_phase(Phase::PostSetup);
        proxy::post_setup(
            &mut self.instances,
            &self.routes,
            self.share.first_index,
            self.plan.sync,
            &self.runtime,
            &self.control,
        );
    }

    /// The framework's pre cleanup: with test proxies, each instance stops
    /// its playback (purging the recording). Runs after failures too.
    pub(crate) fn pre_cleanup(&mut self) {
        if self.routes.iter().all(Option::is_none) {
            return;
        }
        self.control.set_phase(Phase::PreCleanup);
        proxy::pre_cleanup(
            &self.routes,
            self.share.first_index,
            &self.runtime,
            &self.control,
        );
    }

    /// Runs a timed phase; `agree_start` (with several processes) reports
    /// this process ready and returns the start all processes agreed on.
    pub(crate) fn timed(
        &mut self,
        phase: Phase,
        duration: Duration,
        agree_start: Option<&dyn Fn() -> Instant>,
        on_tick: OnStatus<'_>,
    ) -> PhaseMeasurement {
        let timed = TimedPhase {
            phase,
            duration,
            sync: self.plan.sync,
            first_index: self.share.first_index,
            counters: &self.counters,
            control: &self.control,
            runtime: &self.runtime,
            agree_start,
            timing: TimingPlan {
                record: self.plan.timing.records_latency() && phase == Phase::Run,
                rate: self.plan.timing.rate(),
                parallel: self.plan.parallel,
            },
            clock: &self.clock,
            clock_resolution_ns: self.clock_resolution_ns,
            grace: self.plan.grace,
            continue_on_error: self.plan.stress.continue_on_error,
            status_interval: self.plan.stress.status_interval,
            interval_latency: self.plan.stress.interval_latency() && phase == Phase::Run,
        };
        self.control.set_phase(phase);
        let profiler = self.start_profiler(phase);
        let cpu_before = process_cpu_time();
        let allocations_before = crate::alloc::counts();
        let wall_start = Instant::now();
        let (snapshots, readings) = timed.run(&mut self.instances, on_tick);
        let allocations = allocations_before
            .zip(crate::alloc::counts())
            .map(|(before, after)| after.since(before));
        self.abandoned_tasks |= readings.abandoned_tasks;
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
            errors: readings.errors,
            memory_samples: Vec::new(),
            allocations,
            process_operations: Vec::new(),
        }
    }

    /// Starts --profile's sampling for the timed run.
    fn start_profiler(&self, phase: Phase) -> Option<Profiler> {
        let directory = self
            .plan
            .profile_directory
            .clone()
            .filter(|_| phase == Phase::Run)?;
        let target = ProfileTarget {
            directory,
            test_name: self.plan.test_name(),
            first_index: self.share.first_index,
            sync: self.plan.sync,
        };
        match Profiler::start(target) {
            Ok(profiler) => Some(profiler),
            Err(error) => {
                self.control.fail(Failure::new(
                    self.share.first_index,
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
                    self.share.first_index,
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
        if !self.plan.no_cleanup {
            self.hook(Phase::Cleanup, false);
            if self.global_setup_ran {
                self.hook(Phase::GlobalCleanup, false);
            }
        }
        self.hook(Phase::Close, false);
        self.instances.clear();
    }

    /// Runs hook `phase`: global hooks on the first instance of this
    /// process (the first one left, if an abandoned operation took it), the
    /// others on every instance.
    fn hook(&mut self, phase: Phase, stop_on_failure: bool) {
        let global = matches!(phase, Phase::GlobalSetup | Phase::GlobalCleanup);
        let range = if global {
            let first = self
                .instances
                .iter()
                .position(Option::is_some)
                .unwrap_or(self.instances.len());
            first..(first + 1).min(self.instances.len())
        } else {
            0..self.instances.len()
        };
        let first_index = self.share.first_index + range.start;
        self.control.set_phase(phase);
        self.runtime.block_on(hooks::run_hook(
            &mut self.instances[range],
            first_index,
            phase,
            &self.control,
            stop_on_failure,
        ));
    }
}

impl<D: Driver> Drop for LocalStages<D> {
    fn drop(&mut self) {
        // The instances go first, as they did before the runtime was wrapped.
        self.instances.clear();
        // SAFETY: the runtime is taken once, here, and never used again.
        let runtime = unsafe { ManuallyDrop::take(&mut self.runtime) };
        if self.abandoned_tasks {
            // Dropping it would wait for the thread that never returns.
            runtime.shutdown_background();
        }
    }
}

impl<D: Driver> Stages for LocalStages<D> {
    fn setup(&mut self) {
        LocalStages::setup(self);
    }

    fn post_setup(&mut self) {
        LocalStages::post_setup(self);
    }

    fn pre_cleanup(&mut self) {
        LocalStages::pre_cleanup(self);
    }

    fn timed(
        &mut self,
        stage: Phase,
        duration: Duration,
        on_status: OnStatus<'_>,
    ) -> PhaseMeasurement {
        LocalStages::timed(self, stage, duration, None, on_status)
    }

    fn cleanup(&mut self) {
        LocalStages::cleanup(self);
    }
}
