//! `<runner> compare OLD NEW`: compares saved runs (baseline names or
//! files: baselines or `--test-results` files) with statistics, prints the
//! change of NEW relative to OLD per metric, and with
//! `--fail-on-regression` exits 3 on a regression.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::metrics::{Comparison, RunRecord};
use crate::outcome::Outcome;
use crate::report::{Console, comparison_lines, write_comparison_markdown};

/// The subcommand's name.
pub(crate) const COMMAND: &str = "compare";

/// Compares saved runs: NEW relative to OLD, per metric, with a 95%
/// confidence interval and a verdict (Welch's t-test on the iterations and
/// a noise threshold).
#[derive(Args, Debug)]
pub(crate) struct CompareArgs {
    /// The old run: a baseline name (every run saved under it) or a file (a
    /// baseline, or a --test-results file).
    #[arg(value_name = "OLD")]
    old: OsString,

    /// The new run: a baseline name or a file.
    #[arg(value_name = "NEW")]
    new: OsString,

    /// Where baselines are kept (default: `perfstress/baselines` in cargo's
    /// target directory, or `target/perfstress/baselines`).
    #[arg(long, value_name = "DIR", env = "PERFSTRESS_BASELINE_DIR")]
    baseline_dir: Option<PathBuf>,

    /// Changes smaller than this many percent are "no change", however
    /// significant.
    #[arg(long, value_name = "PERCENT", default_value_t = 2.0,
          value_parser = crate::options::parse_noise_threshold, env = "PERFSTRESS_NOISE_THRESHOLD")]
    noise_threshold: f64,

    /// Refuse runs whose options differ or that come from different
    /// machines (by default a warning names the difference).
    #[arg(long)]
    strict: bool,

    /// Exit 3 if any metric regressed.
    #[arg(long)]
    fail_on_regression: bool,

    /// Write the comparison as Markdown to PATH.
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,

    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Runs `compare` with its parsed arguments.
pub(crate) fn run(args: CompareArgs) -> Outcome {
    let console = Console::new();
    match compare(&args) {
        Ok(comparisons) => {
            let mut regressed = false;
            for comparison in &comparisons {
                for warning in comparison.warnings() {
                    console.error(&format!("warning: {warning}"));
                }
                for line in comparison_lines(comparison) {
                    console.line(&line);
                }
                console.line("");
                regressed |= comparison.regressed();
            }
            if let Some(path) = &args.markdown {
                if let Err(error) = crate::fs::prepare_output("--markdown", path)
                    .and_then(|_| write_comparison_markdown(path, &comparisons))
                {
                    console.error(&format!("error: {error}"));
                    return Outcome::Failed;
                }
                console.line(&format!("Markdown written to {}", path.display()));
            }
            if regressed && args.fail_on_regression {
                console.error("error: a metric regressed (exit code 3)");
                Outcome::GateFailed
            } else {
                Outcome::Success
            }
        }
        Err(message) => {
            console.error(&format!("error: {message}"));
            Outcome::Usage
        }
    }
}

/// A side of the comparison: its saved runs, each with a label.
fn resolve(directory: &Path, argument: &OsString) -> Result<Vec<(String, RunRecord)>, String> {
    let path = Path::new(argument);
    let text = argument.to_string_lossy();
    if path.is_file() {
        let record = crate::baseline::load(path).map_err(|error| error.to_string())?;
        return Ok(vec![(path.display().to_string(), record)]);
    }
    let name_is_valid = crate::options::parse_baseline_name(&text).is_ok();
    if name_is_valid && directory.join(&*text).is_dir() {
        let runs = crate::baseline::runs_under(directory, &text);
        if runs.is_empty() {
            return Err(format!(
                "baseline {text} in {} holds no saved run",
                directory.display()
            ));
        }
        return runs
            .iter()
            .map(|run| {
                crate::baseline::load(run)
                    .map(|record| (format!("baseline {text}"), record))
                    .map_err(|error| error.to_string())
            })
            .collect();
    }
    let names = crate::baseline::names(directory);
    Err(format!(
        "'{text}' is neither a file nor a baseline saved in {}{}",
        directory.display(),
        if names.is_empty() {
            " (none is saved there; save one with --save-baseline NAME, or give --baseline-dir)"
                .to_owned()
        } else {
            format!(" (saved: {})", names.join(", "))
        }
    ))
}

/// Pairs the runs of both sides and compares each pair.
fn compare(args: &CompareArgs) -> Result<Vec<Comparison>, String> {
    let directory = args
        .baseline_dir
        .clone()
        .unwrap_or_else(crate::plan::default_baseline_directory);
    let old = resolve(&directory, &args.old)?;
    let new = resolve(&directory, &args.new)?;
    let pairs = pair(&old, &new)?;
    let mut comparisons = Vec::new();
    for (old, new) in pairs {
        let comparison = Comparison::new((&old.0, &old.1), (&new.0, &new.1), args.noise_threshold)?;
        if args.strict && !comparison.warnings().is_empty() {
            return Err(format!(
                "--strict: {} of {} cannot be compared: {}",
                comparison.new_label,
                comparison.test_name,
                comparison.warnings().join("; ")
            ));
        }
        comparisons.push(comparison);
    }
    Ok(comparisons)
}

type Labelled = (String, RunRecord);

/// Which old run each new run is compared with: one run on each side
/// always pair (refused later if their tests differ); otherwise runs of the
/// same test and workload, then the one run of a test left on each side.
fn pair<'a>(
    old: &'a [Labelled],
    new: &'a [Labelled],
) -> Result<Vec<(&'a Labelled, &'a Labelled)>, String> {
    if let ([old], [new]) = (old, new) {
        return Ok(vec![(old, new)]);
    }
    let mut used = vec![false; old.len()];
    let mut pairs = Vec::new();
    let mut unmatched = Vec::new();
    for candidate in new {
        let same = old.iter().enumerate().position(|(index, (_, record))| {
            !used[index]
                && record.test_name == candidate.1.test_name
                && record.workload == candidate.1.workload
        });
        match same {
            Some(index) => {
                used[index] = true;
                pairs.push((&old[index], candidate));
            }
            None => unmatched.push(candidate),
        }
    }
    for candidate in unmatched {
        let left: Vec<usize> = (0..old.len())
            .filter(|&index| !used[index] && old[index].1.test_name == candidate.1.test_name)
            .collect();
        if let [index] = left[..] {
            used[index] = true;
            pairs.push((&old[index], candidate));
        }
    }
    if pairs.is_empty() {
        let tests = |side: &[Labelled]| {
            let mut tests: Vec<&str> = side.iter().map(|(_, r)| r.test_name.as_str()).collect();
            tests.dedup();
            tests.join(", ")
        };
        return Err(format!(
            "nothing to compare: OLD holds runs of {} and NEW of {}; only runs of the same test compare",
            tests(old),
            tests(new)
        ));
    }
    Ok(pairs)
}
