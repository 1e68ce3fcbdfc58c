//! The live progress line: when stdout is a terminal, one line at the
//! bottom during each timed stage (phase, elapsed / total, current ops/s,
//! errors) that redraws in place while the report's lines scroll above it
//! (`indicatif`'s bar; every line of the console goes through
//! [`print_line`], which prints above it). Not on a pipe or a file (CI,
//! PerfAutomation): there the output is exactly what it is without it.
//! `--no-progress`, `--quiet` (no line, and no status lines either) and
//! `NO_COLOR` (no colour, the line stays) are respected.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use crate::metrics::{IntervalRecord, StatusSample};
use crate::phase::Phase;
use crate::plan::Plan;

use super::reporter::Reporter;

/// The bar of the timed stage running, if any: the console prints its
/// lines above it.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn bar() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    BAR.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes `text` and a newline to stdout, above the progress line when one
/// is shown.
pub(crate) fn print_line(text: &str) {
    let guard = bar();
    let write = || {
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not abort the run and skip cleanup.
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    };
    match guard.as_ref() {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Runs `write` (e.g. a line to stderr) with the progress line, if any,
/// taken away meanwhile.
pub(crate) fn suspend(write: impl FnOnce()) {
    let guard = bar();
    match guard.as_ref() {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Whether `NO_COLOR` asks for no colour (set and not empty).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// The terminal on stdout, as indicatif draws on it, but a few columns
/// narrower than it is: indicatif pads its line to the width, and the `^C`
/// a terminal echoes at the right edge would wrap to a new line and leave
/// the bar behind when it is cleared.
#[derive(Debug)]
struct Stdout;

impl Stdout {
    fn write(text: &str) -> std::io::Result<()> {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())
    }
}

impl TermLike for Stdout {
    fn width(&self) -> u16 {
        terminal_width().saturating_sub(4).max(20)
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            Self::write(&format!("\x1b[{n}A"))
        }
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            Self::write(&format!("\x1b[{n}B"))
        }
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            Self::write(&format!("\x1b[{n}C"))
        }
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            Self::write(&format!("\x1b[{n}D"))
        }
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        Self::write(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        Self::write(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        Self::write("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stdout().lock().flush()
    }
}

/// The columns of the terminal on stdout (80 if it cannot be told).
fn terminal_width() -> u16 {
    #[cfg(unix)]
    {
        // SAFETY: TIOCGWINSZ writes a `winsize` into the one given.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0
            && size.ws_col > 0
        {
            return size.ws_col;
        }
    }
    80
}

/// The progress line's reporter (added only when the plan says so:
/// stdout is a terminal and no `--no-progress` or `--quiet`).
#[derive(Debug, Default)]
pub(crate) struct Progress {
    warmup: Duration,
    duration: Duration,
    interval: Duration,
    stage: Option<Phase>,
    iteration: Option<(usize, usize)>,
    /// The last interval's ops/s and the phase's errors so far.
    rate: Option<f64>,
    errors: u64,
}

impl Progress {
    /// A progress line for the timed stages of `plan`.
    pub(crate) fn new(plan: &Plan) -> Self {
        Self {
            warmup: plan.warmup,
            duration: plan.duration,
            interval: plan.stress.status_interval,
            ..Self::default()
        }
    }

    fn start(&mut self, stage: Phase) {
        let total = match stage {
            Phase::Warmup => self.warmup,
            _ => self.duration,
        };
        let template = if no_color() {
            "{prefix} [{bar:30}] {elapsed_precise} / {msg}"
        } else {
            "{prefix:.bold} [{bar:30.cyan/blue}] {elapsed_precise} / {msg}"
        };
        let style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(
            Some(total.as_millis() as u64),
            ProgressDrawTarget::term_like_with_hz(Box::new(Stdout), 10),
        )
        .with_style(style)
        .with_prefix(self.label(stage));
        self.errors = 0;
        self.rate = None;
        bar.set_message(format!("{} s", total.as_secs_f64()));
        bar.enable_steady_tick(Duration::from_millis(250));
        self.stage = Some(stage);
        *self::bar() = Some(bar);
    }

    fn label(&self, stage: Phase) -> String {
        match (stage, self.iteration) {
            (Phase::Warmup, _) => "Warmup".to_owned(),
            (_, Some((index, count))) => format!("Tests {index}/{count}"),
            _ => "Tests".to_owned(),
        }
    }
}

/// Removes the progress line, if one is shown (its stage ended, or the run
/// is stopping: Ctrl-C).
pub(crate) fn finish() {
    if let Some(bar) = bar().take() {
        bar.finish_and_clear();
    }
}

impl Reporter for Progress {
    fn stage_start(&mut self, stage: Phase) {
        if matches!(stage, Phase::Warmup | Phase::Run) {
            self.start(stage);
        }
    }

    fn iteration_start(&mut self, index: usize, count: usize) {
        self.iteration = Some((index, count));
        if index > 1 {
            finish();
            self.start(Phase::Run);
        } else if let Some(bar) = self::bar().as_ref() {
            bar.set_prefix(self.label(Phase::Run));
        }
    }

    fn interval(&mut self, record: &IntervalRecord) {
        self.rate = record.operations_per_second;
        self.errors = record.total_errors;
    }

    fn status(&mut self, _stage: Phase, tick: u32, sample: &StatusSample) {
        let guard = self::bar();
        let Some(bar) = guard.as_ref() else {
            return;
        };
        let total = bar.length().unwrap_or(0);
        let elapsed = (self.interval.as_millis() as u64).saturating_mul(u64::from(tick));
        bar.set_position(elapsed.min(total));
        let rate = self.rate.unwrap_or(sample.average);
        let mut message = format!(
            "{} s  {} ops/s",
            Duration::from_millis(total).as_secs_f64(),
            super::format::format_significant(rate)
        );
        if self.errors > 0 {
            message.push_str(&format!("  {} errors", self.errors));
        }
        bar.set_message(message);
    }

    fn stage_end(&mut self, stage: Phase) {
        if self.stage == Some(stage) {
            self.stage = None;
            finish();
        }
    }

    fn run_summary(
        &mut self,
        _summary: &crate::metrics::RunSummary<'_>,
    ) -> Result<(), crate::error::Error> {
        finish();
        Ok(())
    }

    fn discard(&mut self) {
        finish();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        finish();
    }
}
