//! How a run ended, as its exit code says.

/// How a run of the perf runner ended; its exit code is [`Outcome::code`].
///
/// A stand-in for `perfstress::Outcome` until the library exports it, with
/// the same names and codes: the kit then re-exports that one instead (one
/// line in `lib.rs`), and nothing else changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0: the run succeeded (or only listed the tests or printed help).
    Success,
    /// Exit 1: the test failed (an error or panic, a crashed worker process).
    Failed,
    /// Exit 2: bad usage (unknown test, bad option, missing variant).
    Usage,
    /// Exit 130: interrupted by Ctrl-C (SIGINT).
    Interrupted,
}

impl Outcome {
    /// The process exit code of this outcome.
    pub const fn code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Usage => 2,
            Outcome::Interrupted => 130,
        }
    }
}
