//! Running a test as its [`Plan`] says: the lifecycle orders the stages
//! (setup, post setup, warm-up, timed run, pre cleanup, cleanup; cleanup
//! also after a failure or Ctrl-C) over one [`Stages`](lifecycle::Stages)
//! implementation: the instances of this process (`local/`), or worker
//! processes driven by this one (`process/`).

mod control;
mod lifecycle;
mod local;
mod panic;
mod process;
mod reaper;
mod signals;
mod testing;

use std::sync::Arc;

use clap::FromArgMatches;

use crate::error::{Error, ErrorKind};
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::registry::{Invocation, TestEntry};
use crate::report::Console;

use control::RunControl;
use lifecycle::Lifecycle;
pub(crate) use local::driver::{Batch, Bridged, Driver, Event, Single};
use local::{LocalStages, runtime};
pub(crate) use panic::install_panic_hook;
pub(crate) use process::host::{follow_coordinator_environment, forwarded_environment};
use process::parent::RemoteStages;
use signals::route_interrupts_to;

/// Runs test `D` as `invocation` asks: the entry point of every registered
/// test (see `__private` in lib.rs), in the parent and in worker processes.
pub(crate) fn launch<D: Driver>(entry: &'static TestEntry, invocation: Invocation) -> Outcome {
    let console = Console::new();
    let options = match D::Options::from_arg_matches(&invocation.matches) {
        Ok(options) => options,
        Err(error) => {
            console.error(error.render().to_string().trim_end());
            return Outcome::Usage;
        }
    };
    let mut plan = match Plan::new(entry, &invocation.global, &invocation.matches) {
        Ok(plan) => plan,
        Err(error) => {
            console.error(&format!("error: {error}"));
            return Outcome::Usage;
        }
    };
    if let Some(spec) = &invocation.global.perfstress_worker {
        return process::worker::run_worker::<D>(spec, plan, options);
    }
    // A joined host: the coordinator reports and writes the results.
    if invocation.global.perfstress_host.is_some() {
        return process::host::run_host(plan, &invocation.args);
    }
    if plan.shard.is_some() {
        plan.shard_arguments = invocation.args[1..]
            .iter()
            .map(|arg| crate::redact::redact_text(&arg.to_string_lossy()))
            .collect();
    }
    let (join_token, host_tls) = match plan.coordinate {
        Some(_) => match process::host::join_token(&invocation.global)
            .and_then(|token| Ok((Some(token), process::server_tls(&invocation.global)?)))
        {
            Ok(coordinator) => coordinator,
            Err(error) => {
                console.error(&format!("error: {error}"));
                return Outcome::Usage;
            }
        },
        None => (None, None),
    };
    if let Err(error) = check_latency_memory(&plan) {
        console.error(&format!("error: {error}"));
        return Outcome::Usage;
    }
    if let Err(error) = plan
        .prepare_outputs()
        .and_then(|_| crate::baseline::prepare(&plan))
    {
        console.error(&format!("error: {error}"));
        return Outcome::Usage;
    }

    let control = Arc::new(RunControl::new());
    if let Err(error) = route_interrupts_to(&control) {
        console.error(&format!(
            "warning: Ctrl-C will not clean up: cannot install its handler: {error}"
        ));
    }
    let plan = Arc::new(plan);
    let lifecycle = Lifecycle::new(&plan, &control);
    if let Some(token) = join_token {
        return match process::parent::hosts::coordinate(
            &plan,
            &invocation.args,
            &invocation.environment,
            &token,
            host_tls.as_ref(),
            control.clone(),
        ) {
            Ok(mut stages) => lifecycle.run(&mut stages),
            Err(_) if control.is_interrupted() => control.outcome(),
            Err(error) => {
                console.error(&format!("error: {error}"));
                Outcome::Failed
            }
        };
    }
    if let [share] = plan.shares[..] {
        let runtime = match runtime() {
            Ok(runtime) => runtime,
            Err(error) => {
                console.error(&format!("error: {error}"));
                return Outcome::Failed;
            }
        };
        let mut stages =
            LocalStages::<D>::new(plan.clone(), share, options, control.clone(), runtime);
        return lifecycle.run(&mut stages);
    }
    match RemoteStages::start(
        &invocation.args,
        &plan.shares,
        plan.liveness_timeout,
        control.clone(),
        None,
    ) {
        Ok(mut stages) => lifecycle.run(&mut stages),
        // Ctrl-C while the workers start: the signal's outcome.
        Err(_) if control.is_interrupted() => control.outcome(),
        Err(error) => {
            console.error(&format!(
                "error: cannot start the worker processes: {error}"
            ));
            Outcome::Failed
        }
    }
}

/// `<runner> --join ADDR`: joins the run coordinated at ADDR; the
/// arguments of this host's part of it, to run, or how it ended.
pub(crate) fn join(
    program: std::ffi::OsString,
    global: &crate::options::GlobalOptions,
) -> Result<Vec<std::ffi::OsString>, Outcome> {
    process::host::join(program, global)
}

/// Latency histograms grow with the latencies recorded; one whose largest
/// latency is 10 s holds about this much. Runs that could not hold that
/// much per instance are refused before they start.
const LATENCY_BYTES_PLANNED_NANOS: u64 = 10_000_000_000;

/// Refuses `--latency` (or `--rate`) over `parallel` instances when their
/// histograms could not fit in the memory the system has left.
fn check_latency_memory(plan: &Plan) -> Result<(), Error> {
    if !plan.timing.records_latency() {
        return Ok(());
    }
    let parallel = plan.parallel;
    let histograms = if plan.timing.rate().is_some() { 2 } else { 1 };
    let needed = parallel as u64
        * histograms
        * crate::metrics::LatencyHistogram::bytes_up_to(LATENCY_BYTES_PLANNED_NANOS);
    let Some(available) = crate::metrics::available_memory_bytes() else {
        return Ok(());
    };
    // Half of what is left: the test's own clients need memory too.
    if needed > available / 2 {
        return Err(Error::new(
            ErrorKind::Usage,
            format!(
                "--latency over {parallel} instances needs about {} MiB of histograms ({} per instance), more than half of the {} MiB this machine has available; run fewer instances, or spread them over machines",
                needed >> 20,
                if histograms == 2 {
                    "two with --rate"
                } else {
                    "one"
                },
                available >> 20
            ),
        ));
    }
    Ok(())
}
