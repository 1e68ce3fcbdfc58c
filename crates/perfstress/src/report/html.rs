//! The HTML report (`--report PATH`, `<runner> report FILES... -o PATH`):
//! one self-contained page with the run's options, environment, results and
//! charts of the run over time, or several runs compared.
//!
//! The page is a fixed template (`html/template.html`, `html/report.css`,
//! `html/report.js`) with the vendored chart library (uPlot, see
//! `html/vendor/README.md`) and one JSON document embedded: the runs'
//! results exactly as the results file holds them (`TestResults`) and their
//! timelines exactly as `--timeline` writes them (`TimelineLine`), plus the
//! comparisons. The page's script builds every table and chart from that
//! document with `textContent` and the chart library, so nothing from the
//! user (test names, options, error messages) is ever parsed as HTML, and
//! the figures on the page are the results file's. No figure is computed
//! here.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::metrics::{IntervalRecord, RunSummary};

use super::end_file::EndOfRunFile;
use super::json::TestResults;
use super::reporter::Reporter;
use super::timeline::TimelineLine;

/// The vendored uPlot's version (`html/vendor/`).
pub(crate) const UPLOT_VERSION: &str = "1.6.32";

const TEMPLATE: &str = include_str!("html/template.html");
const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");
const UPLOT_JS: &str = include_str!("html/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("html/vendor/uPlot.min.css");

/// What a report page shows: one run, or several compared.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ReportPage {
    /// The perfstress version that built the page.
    pub(crate) perfstress_version: String,
    /// The chart library's version.
    pub(crate) chart_library: String,
    /// The runs, the reference (compared with) first.
    pub(crate) runs: Vec<ReportRun>,
    /// Each later run compared with the first (a saved report), or the
    /// run with its `--baseline`.
    pub(crate) comparisons: Vec<serde_json::Value>,
}

/// One run on the page.
#[derive(Debug, Serialize)]
pub(crate) struct ReportRun {
    /// What the run is (the results file, or the test's name).
    pub(crate) label: String,
    /// The results file's object (`--test-results`).
    pub(crate) results: serde_json::Value,
    /// The timeline's lines (`--timeline`), empty when there is none.
    pub(crate) timeline: Vec<serde_json::Value>,
}

impl ReportPage {
    /// A page of `runs` and `comparisons`. The timelines' error groups
    /// are masked as the results file's are (a `--timeline` file keeps
    /// them as the run named them).
    pub(crate) fn new(mut runs: Vec<ReportRun>, comparisons: Vec<serde_json::Value>) -> Self {
        for run in &mut runs {
            run.timeline.iter_mut().for_each(redact_error_groups);
        }
        Self {
            perfstress_version: env!("CARGO_PKG_VERSION").to_owned(),
            chart_library: format!("uPlot {UPLOT_VERSION}"),
            runs,
            comparisons,
        }
    }

    /// The page's HTML: the template with its style, scripts and data.
    pub(crate) fn render(&self) -> String {
        let data = script_json(&serde_json::to_string(self).expect("the page's data serializes"));
        let mut html = String::with_capacity(TEMPLATE.len() + UPLOT_JS.len() + data.len() + 8192);
        let mut rest = TEMPLATE;
        while let Some(start) = rest.find("{{") {
            let end = start
                + rest[start..]
                    .find("}}")
                    .expect("the template's markers close");
            html.push_str(&rest[..start]);
            html.push_str(match &rest[start + 2..end] {
                "STYLE" => STYLE,
                "UPLOT_CSS" => UPLOT_CSS,
                "UPLOT_JS" => UPLOT_JS,
                "SCRIPT" => SCRIPT,
                "DATA" => &data,
                other => unreachable!("unknown template marker {other}"),
            });
            rest = &rest[end + 2..];
        }
        html.push_str(rest);
        html
    }

    /// Writes the page to `path` atomically.
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        let html = self.render();
        crate::fs::write_atomically(path, |out| out.write_all(html.as_bytes()))
    }
}

/// A timeline line with its error groups' names masked (secrets), the
/// counts of two names that mask alike added.
fn redact_error_groups(line: &mut serde_json::Value) {
    let Some(errors) = line
        .get_mut("errors")
        .and_then(|errors| errors.as_object_mut())
    else {
        return;
    };
    let mut masked = serde_json::Map::new();
    for (key, count) in std::mem::take(errors) {
        let key = crate::redact::redact_text(&key);
        let count =
            count.as_u64().unwrap_or(0) + masked.get(&key).and_then(|c| c.as_u64()).unwrap_or(0);
        masked.insert(key, count.into());
    }
    *errors = masked;
}

/// JSON made safe inside a `<script>` element: `<`, `>` and `&` (which
/// JSON has only inside strings) as `\u` escapes, so no text of the data
/// can end the element or open a comment.
fn script_json(json: &str) -> String {
    let mut safe = String::with_capacity(json.len() + json.len() / 16);
    for character in json.chars() {
        match character {
            '<' => safe.push_str("\\u003c"),
            '>' => safe.push_str("\\u003e"),
            '&' => safe.push_str("\\u0026"),
            '\u{2028}' => safe.push_str("\\u2028"),
            '\u{2029}' => safe.push_str("\\u2029"),
            other => safe.push(other),
        }
    }
    safe
}

/// `--report PATH`: keeps the run's timeline as it goes and writes the page
/// at the end of a run that has results (as `--test-results` does).
pub(crate) struct HtmlReportFile {
    file: EndOfRunFile,
    timeline: Vec<serde_json::Value>,
    /// The timed run's iteration (`--iterations`), as the timeline has it.
    iteration: Option<usize>,
}

impl HtmlReportFile {
    /// The reporter writing `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            file: EndOfRunFile::new(path, "Report"),
            timeline: Vec::new(),
            iteration: None,
        }
    }
}

impl Reporter for HtmlReportFile {
    fn iteration_start(&mut self, index: usize, _count: usize) {
        self.iteration = Some(index);
    }

    fn interval(&mut self, record: &IntervalRecord) {
        if let Ok(line) = serde_json::to_value(TimelineLine::new(record, self.iteration)) {
            self.timeline.push(line);
        }
    }

    fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error> {
        let timeline = &mut self.timeline;
        self.file.write(summary, |path| {
            let Some(results) = TestResults::new(summary) else {
                return Ok(false);
            };
            let comparisons = results
                .comparison
                .iter()
                .filter_map(|comparison| serde_json::to_value(comparison).ok())
                .collect();
            let run = ReportRun {
                label: results.test_name.clone(),
                results: serde_json::to_value(&results).expect("the results serialize"),
                timeline: std::mem::take(timeline),
            };
            ReportPage::new(vec![run], comparisons)
                .write(path)
                .map_err(|error| write_error(path, error))?;
            Ok(true)
        })
    }

    fn discard(&mut self) {
        self.file.discard();
    }
}

/// The error of a report that cannot be written.
pub(crate) fn write_error(path: &Path, error: std::io::Error) -> Error {
    Error::with_source(
        ErrorKind::Io,
        format!("cannot write the report {}", path.display()),
        error,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_with(test_name: &str, option: &str) -> ReportPage {
        ReportPage::new(
            vec![ReportRun {
                label: test_name.to_owned(),
                results: serde_json::json!({
                    "test_name": test_name,
                    "operations_per_second": 20.0,
                    "test_options": [option],
                }),
                timeline: vec![serde_json::json!({"phase": "run", "interval": 0})],
            }],
            vec![],
        )
    }

    #[test]
    fn user_text_cannot_leave_the_data_element() {
        let html = page_with("</script><img src=x onerror=alert(1)>", "--x <!-- &amp;").render();
        let data_start = html.find("id=\"report-data\"").unwrap();
        let data = &html[data_start..];
        let data = &data[data.find('>').unwrap() + 1..data.find("</script>").unwrap()];
        assert!(!data.contains('<') && !data.contains('>') && !data.contains('&'));
        let value: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            value["runs"][0]["results"]["test_name"],
            "</script><img src=x onerror=alert(1)>"
        );
        assert_eq!(
            value["runs"][0]["results"]["test_options"][0],
            "--x <!-- &amp;"
        );
        assert!(!html.contains("<img"));
    }

    #[test]
    fn timeline_error_groups_are_masked() {
        let mut line = serde_json::json!({
            "errors": {"GET https://account.blob.core.windows.net/c?sig=SECRET failed": 2, "timeout": 1}
        });
        redact_error_groups(&mut line);
        let text = line.to_string();
        assert!(!text.contains("SECRET"), "{text}");
        assert_eq!(line["errors"]["timeout"], 1);
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = page_with("SleepTest", "--a 1").render();
        assert!(!html.contains("{{"), "every template marker is filled");
        for external in ["<script src", "<link", "@import", "url(http", "src=\"http"] {
            assert!(!html.contains(external), "{external}");
        }
        // The vendored library and the page's script are inline, once.
        assert_eq!(html.matches("uPlot (v1.6.32)").count(), 1);
        assert!(!UPLOT_JS.contains("</script") && !SCRIPT.contains("</script"));
    }
}
