//! The phases of a run, in order: what failures name and what the
//! stages of a (multi-process) run are.

use std::fmt;

/// The phases of a run, in order. Six of them are also the *stages* every
/// process goes through together, behind a barrier ([`Phase::STAGES`]):
/// the stage `Setup` covers creating the instances, global setup, setup
/// and starting an event test's sources; the stage `Cleanup` covers
/// stopping them, cleanup, global cleanup and close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Phase {
    /// Creating the instances (`new`).
    Create,
    /// `global_setup`, once per process.
    GlobalSetup,
    /// `setup`, per instance.
    Setup,
    /// An event test's sources start.
    StartEvents,
    /// The framework's post-setup stage (test-proxy recording).
    PostSetup,
    /// The warm-up.
    Warmup,
    /// The timed run.
    Run,
    /// The framework's pre-cleanup stage (test-proxy playback stops).
    PreCleanup,
    /// An event test's sources stop.
    StopEvents,
    /// `cleanup`, per instance.
    Cleanup,
    /// `global_cleanup`, once per process.
    GlobalCleanup,
    /// `close`, per instance.
    Close,
}

impl Phase {
    /// The stages of a run, in order.
    pub(crate) const STAGES: [Phase; 6] = [
        Phase::Setup,
        Phase::PostSetup,
        Phase::Warmup,
        Phase::Run,
        Phase::PreCleanup,
        Phase::Cleanup,
    ];

    /// Whether this is a timed stage (warm-up or the timed run).
    pub(crate) fn is_timed(self) -> bool {
        matches!(self, Phase::Warmup | Phase::Run)
    }

    /// The stage's header, as in `=== Tests ===` (the family's names).
    pub(crate) fn header(self) -> &'static str {
        match self {
            Phase::Setup => "Setup",
            Phase::PostSetup => "Post Setup",
            Phase::Warmup => "Warmup",
            Phase::Run => "Tests",
            Phase::PreCleanup => "Pre Cleanup",
            Phase::Cleanup => "Cleanup",
            Phase::Create => "Create",
            Phase::GlobalSetup => "Global Setup",
            Phase::StartEvents => "Start Events",
            Phase::StopEvents => "Stop Events",
            Phase::GlobalCleanup => "Global Cleanup",
            Phase::Close => "Close",
        }
    }
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
