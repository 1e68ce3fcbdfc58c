//! Reporters: they read the plain data of the run (its plan, status
//! samples, phase results and summary) and write text or files; they never
//! compute a statistic. [`Reporters`] fans every event out to all of them.

mod baseline_file;
mod comparison;
mod console;
mod end_file;
mod format;
mod html;
mod json;
mod latency;
mod markdown;
mod operations_file;
mod otlp;
mod progress;
mod reporter;
mod stress;
mod timeline;

pub(crate) use comparison::comparison_lines;
pub(crate) use console::Console;
pub(crate) use html::{ReportPage, ReportRun};
pub(crate) use json::MergeInput;
pub(crate) use markdown::write_comparison_markdown;
pub(crate) use progress::finish as end_progress;
pub(crate) use reporter::Reporters;

use crate::plan::Plan;

use baseline_file::BaselineFile;
use html::HtmlReportFile;
use json::TestResultsFile;
use markdown::MarkdownFile;
use operations_file::OperationsFile;
use reporter::Reporter;
use stress::StressConsole;
use timeline::{HistogramLogFile, TimelineFile};

/// The reporters `plan` asks for: the console always, then the
/// per-operation file and the results file when their paths are given.
pub(crate) fn reporters(plan: &Plan) -> Reporters {
    let mut reporters: Vec<Box<dyn Reporter>> = Vec::new();
    // First, so that its line is up before a stage's first line and gone
    // before the stage's end is printed.
    if plan.progress {
        reporters.push(Box::new(progress::Progress::new(plan)));
    }
    reporters.push(Box::new(Console::new()));
    // Errors (stress mode), memory and allocations, after the console's
    // results of each phase.
    reporters.push(Box::new(StressConsole::default()));
    if let Some(path) = &plan.stress.timeline {
        reporters.push(Box::new(TimelineFile::new(path.clone())));
    }
    if let Some(path) = &plan.stress.histogram_log {
        reporters.push(Box::new(HistogramLogFile::new(path.clone())));
    }
    #[cfg(feature = "otlp")]
    if let Some(url) = &plan.stress.otlp_metrics_url {
        reporters.push(Box::new(otlp::OtlpMetrics::new(
            url.clone(),
            plan.test_name(),
        )));
    }
    if let Some(path) = &plan.results_file {
        reporters.push(Box::new(OperationsFile::new(path.clone())));
    }
    if let Some(path) = &plan.test_results {
        reporters.push(Box::new(TestResultsFile::new(path.clone())));
    }
    if let Some(path) = &plan.markdown {
        reporters.push(Box::new(MarkdownFile::new(path.clone())));
    }
    if let Some(path) = &plan.stress.report {
        reporters.push(Box::new(HtmlReportFile::new(path.clone())));
    }
    if let Some(name) = &plan.baseline.save {
        reporters.push(Box::new(BaselineFile::new(
            plan.baseline.directory.clone(),
            name.clone(),
        )));
    }
    Reporters::new(reporters)
}
