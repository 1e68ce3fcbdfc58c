//! How a run ended, and the one place that maps it to the process's exit
//! code.

use std::process::ExitCode;

/// How a run (or a command of the runner) ended. Each outcome has one exit
/// code, the same in every sibling of the family:
///
/// | outcome | exit code |
/// | --- | --- |
/// | [`Success`](Outcome::Success) | 0 |
/// | [`Failed`](Outcome::Failed): an operation, a hook, a panic, a worker process | 1 |
/// | [`Usage`](Outcome::Usage): an unknown test, a bad option | 2 |
/// | [`GateFailed`](Outcome::GateFailed): the run succeeded, but a `--threshold` failed | 3 |
/// | [`Interrupted`](Outcome::Interrupted): Ctrl-C (SIGINT) | 130 |
/// | [`Terminated`](Outcome::Terminated): SIGTERM | 143 |
/// | [`HungUp`](Outcome::HungUp): SIGHUP | 129 |
///
/// A run stopped by a signal still cleans up; the codes are 128 + the
/// signal's number, as shells report a process killed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Every stage ran and nothing failed.
    Success,
    /// The test failed: an operation or hook returned an error or panicked,
    /// or a worker process died.
    Failed,
    /// The command line (or the test's configuration) is wrong.
    Usage,
    /// The run succeeded, but a CI gate (a `--threshold`) failed.
    GateFailed,
    /// Ctrl-C (SIGINT) stopped the run; cleanup still ran.
    Interrupted,
    /// SIGTERM stopped the run; cleanup still ran.
    Terminated,
    /// SIGHUP (the terminal went away) stopped the run; cleanup still ran.
    HungUp,
}

impl Outcome {
    /// The process exit code of this outcome.
    pub const fn code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Usage => 2,
            Outcome::GateFailed => 3,
            Outcome::Interrupted => 130,
            Outcome::Terminated => 143,
            Outcome::HungUp => 129,
        }
    }

    /// The outcome of an exit code, as a parent reads its worker's; codes
    /// no outcome has are `None` (a crash).
    pub const fn from_code(code: i32) -> Option<Self> {
        match code {
            0 => Some(Outcome::Success),
            1 => Some(Outcome::Failed),
            2 => Some(Outcome::Usage),
            3 => Some(Outcome::GateFailed),
            130 => Some(Outcome::Interrupted),
            143 => Some(Outcome::Terminated),
            129 => Some(Outcome::HungUp),
            _ => None,
        }
    }

    /// Whether the run succeeded.
    pub const fn is_success(self) -> bool {
        matches!(self, Outcome::Success)
    }

    /// Whether the run measured what it was asked to (it succeeded, or only
    /// a gate failed): its results files are written.
    pub(crate) const fn has_results(self) -> bool {
        matches!(self, Outcome::Success | Outcome::GateFailed)
    }

    /// Whether a signal stopped the run.
    pub const fn is_signal(self) -> bool {
        matches!(
            self,
            Outcome::Interrupted | Outcome::Terminated | Outcome::HungUp
        )
    }

    /// Ends this process with the outcome's exit code.
    pub fn exit(self) -> ! {
        std::process::exit(self.code())
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        // Every code is in 0..=255.
        ExitCode::from(outcome.code() as u8)
    }
}

impl std::process::Termination for Outcome {
    fn report(self) -> ExitCode {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for outcome in [
            Outcome::Success,
            Outcome::Failed,
            Outcome::Usage,
            Outcome::GateFailed,
            Outcome::Interrupted,
            Outcome::Terminated,
            Outcome::HungUp,
        ] {
            assert_eq!(Outcome::from_code(outcome.code()), Some(outcome));
        }
        assert_eq!(Outcome::from_code(101), None);
        assert_eq!(Outcome::Interrupted.code(), 130);
    }
}
