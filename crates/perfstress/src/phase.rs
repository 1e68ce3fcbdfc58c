//! The phases of a run, in order: what failures name and what the
//! stages of a (multi-process) run are.

use std::fmt;

/// The phases of a run, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Phase {
    Create,
    GlobalSetup,
    Setup,
    StartEvents,
    PostSetup,
    Warmup,
    Run,
    PreCleanup,
    StopEvents,
    Cleanup,
    GlobalCleanup,
    Close,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Create => "new",
            Phase::GlobalSetup => "global_setup",
            Phase::Setup => "setup",
            Phase::StartEvents => "start_events",
            Phase::PostSetup => "post-setup",
            Phase::Warmup => "warm-up",
            Phase::Run => "run",
            Phase::PreCleanup => "pre-cleanup",
            Phase::StopEvents => "stop_events",
            Phase::Cleanup => "cleanup",
            Phase::GlobalCleanup => "global_cleanup",
            Phase::Close => "close",
        })
    }
}
