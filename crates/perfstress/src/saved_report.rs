//! `<runner> report FILES... -o PATH.html`: the HTML report of saved runs.
//! FILES are `--test-results` files, each followed by its run's
//! `--timeline` file if there is one; with two runs or more, each later run
//! is compared with the first (as `compare FIRST LATER` would).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::metrics::Comparison;
use crate::outcome::Outcome;
use crate::report::{Console, ReportPage, ReportRun};

/// The subcommand's name.
pub(crate) const COMMAND: &str = "report";

/// Builds one self-contained HTML page from saved runs: their results,
/// their timelines as charts, and with several runs, each compared with
/// the first.
#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// `--test-results` files, each followed by its run's `--timeline`
    /// file (optional). The first run is the one the others are compared
    /// with.
    #[arg(value_name = "FILES", required = true)]
    files: Vec<PathBuf>,

    /// Where to write the page (an earlier report there is replaced).
    #[arg(short = 'o', long, value_name = "PATH.html")]
    output: PathBuf,

    /// Changes smaller than this many percent are "no change", however
    /// significant.
    #[arg(long, value_name = "PERCENT", default_value_t = 2.0,
          value_parser = crate::options::parse_noise_threshold, env = "PERFSTRESS_NOISE_THRESHOLD")]
    noise_threshold: f64,

    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Runs `report` with its parsed arguments.
pub(crate) fn run(args: ReportArgs) -> Outcome {
    let console = Console::new();
    let page = match page(&args.files, args.noise_threshold) {
        Ok(page) => page,
        Err(message) => {
            console.error(&format!("error: {message}"));
            return Outcome::Usage;
        }
    };
    if let Err(error) = crate::fs::prepare_output("--output", &args.output) {
        console.error(&format!("error: {error}"));
        return Outcome::Usage;
    }
    if let Err(error) = page.write(&args.output) {
        console.error(&format!(
            "error: cannot write the report {}: {error}",
            args.output.display()
        ));
        return Outcome::Failed;
    }
    console.line(&format!("Report written to {}", args.output.display()));
    Outcome::Success
}

/// What a saved file is.
enum Saved {
    /// A `--test-results` file's object.
    Results(serde_json::Value),
    /// A `--timeline` file's lines.
    Timeline(Vec<serde_json::Value>),
}

/// Reads `path` as a results file or a timeline.
fn read(path: &Path) -> Result<Saved, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        if value.get("test_name").is_some() && value.get("operations_per_second").is_some() {
            return Ok(Saved::Results(value));
        }
        if value.get("format").and_then(|format| format.as_str())
            == Some(crate::metrics::BASELINE_FORMAT)
        {
            return Err(format!(
                "{} is a baseline: `report` takes the run's --test-results file (and its --timeline); `compare` takes baselines",
                path.display()
            ));
        }
    }
    let mut lines = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).map_err(|error| {
            format!(
                "{}:{}: neither a --test-results file nor a --timeline file ({error})",
                path.display(),
                number + 1
            )
        })?;
        if value.get("phase").is_none() || value.get("interval").is_none() {
            return Err(format!(
                "{}:{}: neither a --test-results file nor a --timeline file (a timeline line has `phase` and `interval`)",
                path.display(),
                number + 1
            ));
        }
        lines.push(value);
    }
    Ok(Saved::Timeline(lines))
}

/// The page of `files`: runs in order, each timeline with the results file
/// before it, each later run compared with the first.
fn page(files: &[PathBuf], noise_threshold: f64) -> Result<ReportPage, String> {
    let mut runs: Vec<(PathBuf, ReportRun)> = Vec::new();
    for path in files {
        match read(path)? {
            Saved::Results(results) => runs.push((
                path.clone(),
                ReportRun {
                    label: path.display().to_string(),
                    results,
                    timeline: Vec::new(),
                },
            )),
            Saved::Timeline(lines) => match runs.last_mut() {
                Some((_, run)) if run.timeline.is_empty() => run.timeline = lines,
                Some((results, _)) => {
                    return Err(format!(
                        "{} is a second timeline for {}: give each results file with at most one --timeline file after it",
                        path.display(),
                        results.display()
                    ));
                }
                None => {
                    return Err(format!(
                        "{} is a timeline: give the run's --test-results file before it (report RESULTS.json TIMELINE.jsonl ...)",
                        path.display()
                    ));
                }
            },
        }
    }
    let mut comparisons = Vec::new();
    if let Some(((first_path, first), later)) = runs.split_first()
        && !later.is_empty()
    {
        let load = |path: &Path| crate::baseline::load(path).map_err(|error| error.to_string());
        let reference = load(first_path)?;
        for (path, run) in later {
            let record = load(path)?;
            let comparison = Comparison::new(
                (&first.label, &reference),
                (&run.label, &record),
                noise_threshold,
            )?;
            comparisons.push(serde_json::to_value(&comparison).map_err(|error| error.to_string())?);
        }
    }
    Ok(ReportPage::new(
        runs.into_iter().map(|(_, run)| run).collect(),
        comparisons,
    ))
}
