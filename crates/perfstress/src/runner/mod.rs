//! Phases and orchestration: create, global setup, setup, post setup,
//! warm-up, timed run, pre cleanup, cleanup, global cleanup, close; with
//! cleanup also after a failure or Ctrl-C; in this process or spread over
//! worker processes.

mod control;
mod lifecycle;
mod local;
mod panic;
mod plan;
mod process;
mod signals;

use std::ffi::OsString;
use std::sync::Arc;

use clap::FromArgMatches;

use crate::cli::{EXIT_USAGE, describe_test_options};
use crate::options::GlobalOptions;
use crate::registry::{Invocation, TestEntry};
use crate::report::Console;

use control::RunControl;
use lifecycle::Coordinator;
pub(crate) use local::driver::{Batch, Driver, Event, Single};
use local::{LocalSettings, LocalStages};
pub(crate) use panic::{install_panic_hook, panic_error};
pub use plan::{ProcessShare, split};
use process::parent::RemoteStages;
pub(crate) use process::parent::WORKER_OPTION;
pub(crate) use signals::route_interrupts_to;

/// Exit code of a failed run.
pub(crate) const EXIT_FAILED: i32 = 1;

/// What every kind of run needs from the command line.
pub(crate) struct RunSettings {
    pub(crate) entry: &'static TestEntry,
    pub(crate) global: GlobalOptions,
    pub(crate) test_options: Vec<String>,
    pub(crate) args: Vec<OsString>,
}

impl RunSettings {
    /// The tokio runtime that runs the hooks and async instances.
    pub(crate) fn runtime(&self) -> Result<tokio::runtime::Runtime, String> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("perfstress-runtime")
            .build()
            .map_err(|error| format!("cannot start the tokio runtime: {error}"))
    }
}

/// Runs test `D` as `invocation` asks; returns the exit code.
pub(crate) fn launch<D: Driver>(entry: &'static TestEntry, invocation: Invocation) -> i32 {
    let options = match D::Options::from_arg_matches(&invocation.matches) {
        Ok(options) => options,
        Err(error) => {
            let _ = error.print();
            return EXIT_USAGE;
        }
    };
    let settings = RunSettings {
        entry,
        test_options: describe_test_options(entry, &invocation.matches),
        global: invocation.global,
        args: invocation.args,
    };
    if let Some(spec) = settings.global.perfstress_worker.clone() {
        return process::worker::run_worker::<D>(&spec, settings, options);
    }

    let console = Console::new();
    let control = Arc::new(RunControl::new());
    if let Err(error) = route_interrupts_to(&control) {
        console.error(&format!(
            "warning: Ctrl-C will not clean up: cannot install its handler: {error}"
        ));
    }
    let shares = split(settings.global.parallel, settings.global.processes);
    let coordinator = Coordinator {
        entry,
        global: &settings.global,
        test_options: &settings.test_options,
        processes: shares.len(),
        control: &control,
        console,
    };
    if let [share] = shares[..] {
        let runtime = match settings.runtime() {
            Ok(runtime) => runtime,
            Err(error) => {
                coordinator.console.error(&format!("error: {error}"));
                return EXIT_FAILED;
            }
        };
        let local_settings = LocalSettings::new(&settings, share);
        let mut stages = LocalStages::<D>::new(local_settings, options, control.clone(), runtime);
        return coordinator.run(&mut stages);
    }
    match RemoteStages::start(&settings.args, &shares, control.clone()) {
        Ok(mut stages) => coordinator.run(&mut stages),
        Err(error) => {
            coordinator.console.error(&format!(
                "error: cannot start the worker processes: {error}"
            ));
            EXIT_FAILED
        }
    }
}
