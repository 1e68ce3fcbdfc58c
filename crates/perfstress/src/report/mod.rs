//! Reporters: they read the plain data of the run (its plan, status
//! samples, phase results and summary) and write text or files; they never
//! compute a statistic. [`Reporters`] fans every event out to all of them.

mod baseline_file;
mod comparison;
mod console;
mod format;
mod json;
mod latency;
mod markdown;
mod operations_file;
mod reporter;

pub(crate) use comparison::comparison_lines;
pub(crate) use console::Console;
pub(crate) use markdown::write_comparison_markdown;
pub(crate) use reporter::Reporters;

use crate::plan::Plan;

use baseline_file::BaselineFile;
use json::TestResultsFile;
use markdown::MarkdownFile;
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
    if let Some(path) = &plan.markdown {
        reporters.push(Box::new(MarkdownFile::new(path.clone())));
    }
    if let Some(name) = &plan.baseline.save {
        reporters.push(Box::new(BaselineFile::new(
            plan.baseline.directory.clone(),
            name.clone(),
        )));
    }
    Reporters::new(reporters)
}
