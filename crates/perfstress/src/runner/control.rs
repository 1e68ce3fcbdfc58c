//! How a run is stopped: at a phase's deadline, by a failing instance, by
//! Ctrl-C, or by the parent process. Workers poll one flag; the coordinator
//! waits on a condition variable; async code awaits a watch channel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

use futures::future::AbortHandle;

use crate::failure::Failure;
use crate::outcome::Outcome;
use crate::phase::Phase;

#[derive(Default)]
struct State {
    /// Failures not yet reported.
    failures: Vec<Failure>,
    /// Whether any failure was recorded (stays set once reported).
    failed: bool,
    /// Whether a failure was a usage error (bad test options: exit 2).
    usage_error: bool,
    /// The signal that interrupted the run (here or in a worker process).
    interrupted: Option<StopSignal>,
    /// Ctrl-C signals this process itself received: the second exits at once.
    signals: u32,
    /// Cancelled from outside: the parent process said so, or it is gone.
    cancelled_remotely: bool,
    /// In a worker process: when the parent was found gone.
    orphaned_at: Option<Instant>,
    /// When the run was interrupted.
    interrupted_at: Option<Instant>,
    /// Aborts the async workers of the phase in progress.
    abort_handles: Vec<AbortHandle>,
}

/// What happened to a run, for whoever must be told (the parent process,
/// the other worker processes).
#[derive(Debug)]
pub(crate) enum ControlEvent<'a> {
    Failed(&'a Failure),
    Interrupted(StopSignal),
}

type Listener = Box<dyn Fn(ControlEvent<'_>) + Send + Sync>;

/// A signal that stops a run (cleanup still runs); each ends the run with
/// its own outcome, as shells report a process the signal killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum StopSignal {
    /// SIGINT, Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP.
    HangUp,
}

impl StopSignal {
    /// The outcome of a run this signal stopped.
    pub(crate) fn outcome(self) -> Outcome {
        match self {
            StopSignal::Interrupt => Outcome::Interrupted,
            StopSignal::Terminate => Outcome::Terminated,
            StopSignal::HangUp => Outcome::HungUp,
        }
    }

    fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "Interrupted",
            StopSignal::Terminate => "Terminated (SIGTERM)",
            StopSignal::HangUp => "Hung up (SIGHUP)",
        }
    }
}

/// The stop signals of one run, shared by the coordinator, the workers and
/// the Ctrl-C handler.
pub(crate) struct RunControl {
    /// Set when the current phase must end; read by every worker after every
    /// operation, written only outside the loop.
    stop: AtomicBool,
    state: Mutex<State>,
    changed: Condvar,
    cancelled: tokio::sync::watch::Sender<bool>,
    listener: OnceLock<Listener>,
    /// A worker process leaves messages about Ctrl-C to its parent.
    quiet: bool,
    /// The phase in progress, for failures reported from outside the
    /// framework's own calls (an event test's `error_raised`).
    current_phase: Mutex<Phase>,
}

impl RunControl {
    pub(crate) fn new() -> Self {
        Self::with_quiet(false)
    }

    /// A control that prints nothing itself (in a worker process).
    pub(crate) fn with_quiet(quiet: bool) -> Self {
        Self {
            stop: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            cancelled: tokio::sync::watch::Sender::new(false),
            listener: OnceLock::new(),
            quiet,
            current_phase: Mutex::new(Phase::Create),
        }
    }

    /// Tells `listener` about every failure and Ctrl-C from now on.
    pub(crate) fn set_listener(&self, listener: impl Fn(ControlEvent<'_>) + Send + Sync + 'static) {
        let _ = self.listener.set(Box::new(listener));
    }

    fn notify(&self, event: ControlEvent<'_>) {
        if let Some(listener) = self.listener.get() {
            listener(event);
        }
    }

    /// Records the phase in progress.
    pub(crate) fn set_phase(&self, phase: Phase) {
        *self
            .current_phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = phase;
    }

    /// The phase in progress.
    pub(crate) fn current_phase(&self) -> Phase {
        *self
            .current_phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The flag workers poll.
    #[inline(always)]
    pub(crate) fn stop_flag(&self) -> &AtomicBool {
        &self.stop
    }

    /// Arms the flag for a new phase, unless the run is already cancelled.
    pub(crate) fn begin_phase(&self, abort_handles: Vec<AbortHandle>) {
        let mut state = self.lock();
        state.abort_handles = abort_handles;
        self.stop
            .store(Self::is_cancelled_locked(&state), Ordering::Relaxed);
    }

    /// Ends the current phase (its deadline passed). The async workers of
    /// the phase stay abortable until they are collected
    /// ([`tasks_collected`](Self::tasks_collected)): an operation still in
    /// flight is given the grace period, and Ctrl-C must still stop it.
    pub(crate) fn end_phase(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Every async worker of the phase has returned (or was abandoned).
    pub(crate) fn tasks_collected(&self) {
        self.lock().abort_handles.clear();
    }

    /// Records a failure and stops the run promptly: the phase flag is set
    /// and the async workers of the phase are aborted.
    pub(crate) fn fail(&self, failure: Failure) {
        {
            let mut state = self.lock();
            state.usage_error |= failure.error.kind() == crate::error::ErrorKind::Usage;
            state.failed = true;
            self.cancel_locked(&mut state);
        }
        self.notify(ControlEvent::Failed(&failure));
        self.lock().failures.push(failure);
    }

    /// A stop signal (Ctrl-C, SIGTERM, SIGHUP): the first stops the run
    /// (cleanup still runs); the second this process receives exits at
    /// once, for a cleanup that hangs (killing worker processes and
    /// removing temporary files first). The run ends with the first
    /// signal's outcome. A worker process never exits on a second signal:
    /// its parent kills it on its own second Ctrl-C, and a parent that dies
    /// sends it SIGTERM once per exiting thread (Linux's parent-death
    /// signal), which must not cut its cleanup short (a worker bounds that
    /// cleanup itself).
    pub(crate) fn interrupt(&self, signal: StopSignal) {
        {
            let mut state = self.lock();
            state.signals += 1;
            if state.signals > 1 && self.quiet {
                return;
            }
            if state.signals > 1 {
                crate::report::end_progress();
                if !self.quiet {
                    eprintln!(
                        "\n{} again: exiting without waiting for cleanup.",
                        signal.name()
                    );
                }
                super::reaper::kill_all();
                crate::fs::remove_temporary_files();
                state.interrupted.unwrap_or(signal).outcome().exit();
            }
            state.interrupted_at.get_or_insert_with(Instant::now);
            if state.interrupted.is_some() {
                // A worker reported this signal first: already stopping.
                return;
            }
            state.interrupted = Some(signal);
            self.announce_interrupt(signal);
            self.cancel_locked(&mut state);
        }
        self.notify(ControlEvent::Interrupted(signal));
    }

    /// A signal reached a worker process: the run is interrupted, but this
    /// is not a signal of this process (a terminal sends Ctrl-C to both, in
    /// either order), so it never counts towards the second one.
    pub(crate) fn interrupt_from_worker(&self, signal: StopSignal) {
        {
            let mut state = self.lock();
            state.interrupted_at.get_or_insert_with(Instant::now);
            if state.interrupted.is_some() {
                return;
            }
            state.interrupted = Some(signal);
            self.announce_interrupt(signal);
            self.cancel_locked(&mut state);
        }
        self.notify(ControlEvent::Interrupted(signal));
    }

    fn announce_interrupt(&self, signal: StopSignal) {
        // The progress line goes: the phase is stopping.
        crate::report::end_progress();
        if !self.quiet {
            eprintln!(
                "\n{}: stopping, then cleaning up (press Ctrl-C again to exit at once).",
                signal.name()
            );
        }
    }

    /// Stops the run because the parent process said so (or is gone). Not a
    /// failure of this process, and nobody else needs to be told.
    pub(crate) fn cancel_remotely(&self) {
        let mut state = self.lock();
        state.cancelled_remotely = true;
        self.cancel_locked(&mut state);
    }

    /// A worker process whose parent is gone: stops the run like
    /// [`cancel_remotely`](Self::cancel_remotely), and nobody waits for its
    /// operations any more (see [`hurried_at`](Self::hurried_at)).
    pub(crate) fn orphan(&self) {
        let mut state = self.lock();
        state.orphaned_at.get_or_insert_with(Instant::now);
        state.cancelled_remotely = true;
        self.cancel_locked(&mut state);
    }

    /// When the run was interrupted (Ctrl-C here or in a worker), and when
    /// this worker process found its parent gone, if they happened.
    pub(crate) fn hurried_at(&self) -> (Option<Instant>, Option<Instant>) {
        let state = self.lock();
        (state.interrupted_at, state.orphaned_at)
    }

    fn cancel_locked(&self, state: &mut State) {
        self.stop.store(true, Ordering::Relaxed);
        for handle in state.abort_handles.drain(..) {
            handle.abort();
        }
        self.cancelled.send_replace(true);
        self.changed.notify_all();
    }

    fn is_cancelled_locked(state: &State) -> bool {
        state.failed || state.interrupted.is_some() || state.cancelled_remotely
    }

    /// Whether the run was stopped early (failure, Ctrl-C or the parent).
    pub(crate) fn is_cancelled(&self) -> bool {
        Self::is_cancelled_locked(&self.lock())
    }

    /// Whether a signal stopped the run.
    pub(crate) fn is_interrupted(&self) -> bool {
        self.lock().interrupted.is_some()
    }

    /// Waits until `deadline`; returns `false` early if the run was cancelled.
    pub(crate) fn wait_until(&self, deadline: Instant) -> bool {
        let mut state = self.lock();
        loop {
            if Self::is_cancelled_locked(&state) {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// Completes when the run is cancelled.
    pub(crate) async fn cancelled(&self) {
        let mut receiver = self.cancelled.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = receiver.wait_for(|cancelled| *cancelled).await;
    }

    /// Takes the failures not yet reported, in the order of who failed.
    pub(crate) fn take_failures(&self) -> Vec<Failure> {
        let mut failures = std::mem::take(&mut self.lock().failures);
        failures.sort_by_key(|failure| failure.who);
        failures
    }

    /// Whether any failure was recorded.
    pub(crate) fn has_failed(&self) -> bool {
        self.lock().failed
    }

    /// The outcome of this run, as far as this control knows.
    pub(crate) fn outcome(&self) -> Outcome {
        let state = self.lock();
        if let Some(signal) = state.interrupted {
            signal.outcome()
        } else if state.usage_error {
            Outcome::Usage
        } else if state.failed {
            Outcome::Failed
        } else {
            Outcome::Success
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
