//! Ctrl-C, SIGTERM and SIGHUP: the process has one handler, installed
//! once, and it stops the run in progress with the signal's outcome.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::control::{RunControl, StopSignal};
use crate::error::{Error, ErrorKind};

/// The run that Ctrl-C stops: the process has one handler, installed once,
/// and it signals the run in progress.
static CURRENT_RUN: Mutex<Option<Weak<RunControl>>> = Mutex::new(None);

/// Makes Ctrl-C, SIGTERM and SIGHUP stop `control`'s run from now on.
pub(crate) fn route_interrupts_to(control: &Arc<RunControl>) -> Result<(), Error> {
    // The handler's error is kept as text: the first call's outcome is
    // every later call's, and the handlers' errors are not `Clone`.
    static HANDLER: OnceLock<Result<(), String>> = OnceLock::new();
    *CURRENT_RUN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::downgrade(control));
    HANDLER
        .get_or_init(install)
        .clone()
        .map_err(|message| Error::new(ErrorKind::Unsupported, message))
}

/// Tells the run in progress; with none, exits at once.
fn deliver(signal: StopSignal) {
    let current = CURRENT_RUN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .and_then(Weak::upgrade);
    match current {
        Some(control) => control.interrupt(signal),
        None => {
            super::reaper::kill_all();
            crate::fs::remove_temporary_files();
            signal.outcome().exit()
        }
    }
}

/// Waits for the signals on a thread of its own (signal-hook's self-pipe:
/// nothing runs in the signal handler itself).
#[cfg(unix)]
fn install() -> Result<(), String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|error| error.to_string())?;
    std::thread::Builder::new()
        .name("perfstress-signals".to_owned())
        .spawn(move || {
            for signal in signals.forever() {
                deliver(match signal {
                    SIGTERM => StopSignal::Terminate,
                    SIGHUP => StopSignal::HangUp,
                    _ => StopSignal::Interrupt,
                });
            }
        })
        .map(drop)
        .map_err(|error| error.to_string())
}

#[cfg(not(unix))]
fn install() -> Result<(), String> {
    ctrlc::set_handler(|| deliver(StopSignal::Interrupt)).map_err(|error| error.to_string())
}
