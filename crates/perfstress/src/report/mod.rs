//! Reporters: they read the plain data of the run (its plan, status
//! samples, phase results and summary) and write text or files; they never
//! compute a statistic. [`Reporters`] fans every event out to all of them.

mod console;
mod format;
mod json;
mod latency;
mod operations_file;
mod reporter;

pub(crate) use console::Console;
pub(crate) use reporter::Reporters;

use crate::plan::Plan;

use json::TestResultsFile;
use operations_file::OperationsFile;
use reporter::Reporter;

/// The reporters `plan` asks for: the console always, then the
/// per-operation file and the results file when their paths are given.
pub(crate) fn reporters(plan: &Plan) -> Reporters {
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(Console::new())];
    if let Some(path) = &plan.results_file {
        reporters.push(Box::new(OperationsFile::new(path.clone())));
    }
    if let Some(path) = &plan.test_results {
        reporters.push(Box::new(TestResultsFile::new(path.clone())));
    }
    Reporters::new(reporters)
}
