//! Ctrl-C (and SIGTERM): the process has one handler, installed once, and
//! it stops the run in progress.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::control::RunControl;
use crate::error::{Error, ErrorKind};
use crate::outcome::Outcome;

/// The run that Ctrl-C stops: the process has one handler, installed once,
/// and it signals the run in progress.
static CURRENT_RUN: Mutex<Option<Weak<RunControl>>> = Mutex::new(None);

/// Makes Ctrl-C (and SIGTERM) stop `control`'s run from now on.
pub(crate) fn route_interrupts_to(control: &Arc<RunControl>) -> Result<(), Error> {
    // The handler's error is kept as text: the first call's outcome is
    // every later call's, and `ctrlc::Error` is not `Clone`.
    static HANDLER: OnceLock<Result<(), String>> = OnceLock::new();
    *CURRENT_RUN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::downgrade(control));
    HANDLER
        .get_or_init(|| {
            ctrlc::set_handler(|| {
                let current = CURRENT_RUN
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .as_ref()
                    .and_then(Weak::upgrade);
                match current {
                    Some(control) => control.interrupt(),
                    None => {
                        super::reaper::kill_all();
                        crate::fs::remove_temporary_files();
                        Outcome::Interrupted.exit()
                    }
                }
            })
            .map_err(|error| error.to_string())
        })
        .clone()
        .map_err(|message| Error::new(ErrorKind::Unsupported, message))
}
