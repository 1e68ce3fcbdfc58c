//! What failed where: failure records as plain data, read by the runner
//! (to stop the run and pick the outcome) and by the reporters.

use std::fmt;

use crate::error::Error;
use crate::phase::Phase;

/// Who failed: a test instance, or a whole worker process.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub(crate) enum Who {
    /// The instance with this parallel index.
    Instance(usize),
    /// The worker process with this index (it died or misbehaved).
    Process(usize),
    /// The framework itself (a bug: a panic outside test code).
    Runner,
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::Instance(index) => write!(f, "parallel index {index}"),
            Who::Process(index) => write!(f, "worker process {index}"),
            Who::Runner => f.write_str("the runner"),
        }
    }
}

/// A failure of one instance (or worker process) in one phase.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) who: Who,
    pub(crate) phase: Phase,
    pub(crate) error: Error,
}

impl Failure {
    pub(crate) fn new(parallel_index: usize, phase: Phase, error: Error) -> Self {
        Self {
            who: Who::Instance(parallel_index),
            phase,
            error,
        }
    }
}
