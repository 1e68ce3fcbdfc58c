//! The seam between running and reporting: the lifecycle tells every
//! reporter what happens, in order, through one fan-out; each reporter
//! reads the plain data it is given and writes text or files. A new
//! reporter (a timeline, a baseline, an HTML page) is a new implementation
//! added in `report::reporters`, not an edit of the lifecycle.

use crate::error::Error;
use crate::failure::Failure;
use crate::metrics::{IntervalRecord, PhaseResults, RunSummary, StatusSample};
use crate::phase::Phase;
use crate::plan::Plan;

/// What a reporter is told about a run. Every hook but `run_summary` is
/// optional; they come in this order: `options`, then per stage
/// `stage_start`, `status`... and `phase_results` (timed stages), `failure`s,
/// `stage_end`; last `run_summary`.
pub(crate) trait Reporter {
    /// The run's plan, before any stage.
    fn options(&mut self, _plan: &Plan) {}
    /// A stage starts.
    fn stage_start(&mut self, _stage: Phase) {}
    /// Status interval `tick` (1, 2, ...) of a timed stage ended.
    fn status(&mut self, _stage: Phase, _tick: u32, _sample: &StatusSample) {}
    /// A status interval of a timed stage ended (told right before its
    /// `status`), or its last, partial interval (after the last `status`,
    /// before `phase_results`).
    fn interval(&mut self, _record: &IntervalRecord) {}
    /// A timed stage ended with these results.
    fn phase_results(&mut self, _results: &PhaseResults) {}
    /// A failure was reported during the stage.
    fn failure(&mut self, _plan: &Plan, _failure: &Failure) {}
    /// The stage ended (after its failures).
    fn stage_end(&mut self, _stage: Phase) {}
    /// The run is over: its summary. An error (e.g. a results file that
    /// cannot be written) fails the run.
    fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error>;
    /// The run ended badly after `run_summary` (a signal while the files
    /// were written): remove what this reporter wrote.
    fn discard(&mut self) {}
}

/// Every reporter of a run, told everything in the order they were added.
pub(crate) struct Reporters {
    reporters: Vec<Box<dyn Reporter>>,
}

impl Reporters {
    /// A fan-out to `reporters`, in this order.
    pub(crate) fn new(reporters: Vec<Box<dyn Reporter>>) -> Self {
        Self { reporters }
    }

    fn each(&mut self, mut tell: impl FnMut(&mut dyn Reporter)) {
        for reporter in &mut self.reporters {
            tell(reporter.as_mut());
        }
    }

    /// See [`Reporter::options`].
    pub(crate) fn options(&mut self, plan: &Plan) {
        self.each(|reporter| reporter.options(plan));
    }

    /// See [`Reporter::stage_start`].
    pub(crate) fn stage_start(&mut self, stage: Phase) {
        self.each(|reporter| reporter.stage_start(stage));
    }

    /// See [`Reporter::status`].
    pub(crate) fn status(&mut self, stage: Phase, tick: u32, sample: &StatusSample) {
        self.each(|reporter| reporter.status(stage, tick, sample));
    }

    /// See [`Reporter::interval`].
    pub(crate) fn interval(&mut self, record: &IntervalRecord) {
        self.each(|reporter| reporter.interval(record));
    }

    /// See [`Reporter::phase_results`].
    pub(crate) fn phase_results(&mut self, results: &PhaseResults) {
        self.each(|reporter| reporter.phase_results(results));
    }

    /// See [`Reporter::failure`].
    pub(crate) fn failure(&mut self, plan: &Plan, failure: &Failure) {
        self.each(|reporter| reporter.failure(plan, failure));
    }

    /// See [`Reporter::stage_end`].
    pub(crate) fn stage_end(&mut self, stage: Phase) {
        self.each(|reporter| reporter.stage_end(stage));
    }

    /// See [`Reporter::discard`].
    pub(crate) fn discard(&mut self) {
        self.each(|reporter| reporter.discard());
    }

    /// See [`Reporter::run_summary`]; stops at the first reporter that
    /// fails, so no file is written after one could not be.
    pub(crate) fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error> {
        self.reporters
            .iter_mut()
            .try_for_each(|reporter| reporter.run_summary(summary))
    }
}
