//! The live progress line, in a real terminal (a tmux pane on a server of
//! this test's own): one line at the bottom that redraws in place while the
//! status lines scroll above it, gone when the stage ends or on Ctrl-C;
//! and a piped run's output is what it is without it.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// A tmux server of its own (its socket named after this process), killed
/// on drop with every pane in it.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(tag: &str, command: &str) -> Self {
        let tmux = Self {
            socket: format!("perfstress-test-{}-{tag}", std::process::id()),
        };
        let status = tmux
            .command()
            .args(["new-session", "-d", "-s", "run", "-x", "120", "-y", "40"])
            .arg(format!("{command}; echo EXIT=$?; sleep 60"))
            .status()
            .expect("tmux runs (/usr/bin/tmux)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket]);
        command
    }

    /// The pane's lines (with `escapes`: and its colour sequences).
    fn capture(&self, escapes: bool) -> Vec<String> {
        let mut command = self.command();
        command.args(["capture-pane", "-p", "-t", "run"]);
        if escapes {
            command.arg("-e");
        }
        let output = command.output().expect("tmux capture-pane");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Waits up to `timeout` for the pane to satisfy `done`.
    #[track_caller]
    fn wait_for(&self, timeout: Duration, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let start = Instant::now();
        loop {
            let lines = self.capture(false);
            if done(&lines) {
                return lines;
            }
            assert!(
                start.elapsed() < timeout,
                "the pane never got there:\n{}",
                lines.join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn send_keys(&self, keys: &str) {
        let status = self
            .command()
            .args(["send-keys", "-t", "run", keys])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

fn bar_lines(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|line| line.starts_with("Tests [") || line.starts_with("Warmup ["))
        .collect()
}

fn status_line_count(lines: &[String]) -> usize {
    status_lines(&lines.iter().map(String::as_str).collect::<Vec<_>>()).len()
}

fn last_non_empty(lines: &[String]) -> &str {
    lines
        .iter()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map_or("", String::as_str)
}

fn sleep_test(seconds: u32) -> String {
    format!(
        "{} SleepTest --duration {seconds} --warmup 0 --processes 1 --initial-delay-ms 100",
        env!("CARGO_BIN_EXE_systemperf")
    )
}

#[test]
fn the_progress_line_redraws_in_place_below_the_status_lines() {
    let _timing = timing_sensitive();
    let tmux = Tmux::start("redraw", &sleep_test(5));
    let first = tmux.wait_for(Duration::from_secs(20), |lines| {
        status_line_count(lines) >= 1 && !bar_lines(lines).is_empty()
    });
    let later = tmux.wait_for(Duration::from_secs(10), |lines| {
        status_line_count(lines) >= status_line_count(&first) + 2
    });
    for lines in [&first, &later] {
        // One line, the last one, whatever scrolled above it.
        assert_eq!(bar_lines(lines).len(), 1, "{}", lines.join("\n"));
        assert!(
            last_non_empty(lines).starts_with("Tests ["),
            "{}",
            lines.join("\n")
        );
        assert!(last_non_empty(lines).contains("/ 5 s"));
    }
    assert_ne!(bar_lines(&first), bar_lines(&later), "it redraws");
    let colours = tmux.capture(true);
    assert!(
        colours
            .iter()
            .any(|line| line.contains("Tests") && line.contains("\u{1b}[")),
        "the bar is in colour without NO_COLOR:\n{}",
        colours.join("\n")
    );
    let end = tmux.wait_for(Duration::from_secs(20), |lines| {
        lines.iter().any(|line| line.starts_with("EXIT="))
    });
    assert!(
        end.iter().any(|line| line == "EXIT=0"),
        "{}",
        end.join("\n")
    );
    assert!(
        bar_lines(&end).is_empty(),
        "gone at the end:\n{}",
        end.join("\n")
    );
    // The report is all there, in order.
    let text = end.join("\n");
    let finished = text.find("=== Finished ===").expect("the run finished");
    assert!(text.find("Completed ").unwrap() < finished, "{text}");
}

#[test]
fn ctrl_c_ends_the_progress_line_cleanly() {
    let _timing = timing_sensitive();
    let tmux = Tmux::start("ctrl-c", &format!("NO_COLOR=1 {}", sleep_test(30)));
    tmux.wait_for(Duration::from_secs(20), |lines| {
        status_line_count(lines) >= 1 && !bar_lines(lines).is_empty()
    });
    let colours = tmux.capture(true);
    let bar = colours
        .iter()
        .find(|line| line.contains("Tests ["))
        .expect("the bar");
    assert!(!bar.contains("\u{1b}[3"), "NO_COLOR: no colour: {bar:?}");
    tmux.send_keys("C-c");
    let end = tmux.wait_for(Duration::from_secs(20), |lines| {
        lines.iter().any(|line| line.starts_with("EXIT="))
    });
    let text = end.join("\n");
    assert!(end.iter().any(|line| line == "EXIT=130"), "{text}");
    assert!(bar_lines(&end).is_empty(), "no progress line left:\n{text}");
    for expected in [
        "Interrupted: stopping",
        "=== Cleanup ===",
        "=== Finished ===",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
}

/// Numbers masked and runs of spaces made one: two runs differ only in
/// their numbers (and how many digits those have, which moves the
/// right-aligned columns).
fn shape(text: &str) -> String {
    let mut shape = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        let digit = c.is_ascii_digit() || (in_number && (c == '.' || c == ','));
        if digit && !in_number {
            shape.push('#');
        } else if !(digit || (c == ' ' && shape.ends_with(' '))) {
            shape.push(c);
        }
        in_number = digit;
    }
    shape
}

#[test]
fn a_piped_run_prints_what_it_did_before() {
    let _timing = timing_sensitive();
    let run = || {
        systemperf("SleepTest")
            .duration(2)
            .warmup(1)
            .processes(1)
            .option("--initial-delay-ms", 100)
    };
    let piped = run().ok();
    let without = run().arg("--no-progress").ok();
    assert!(
        !piped.stdout.contains(['\r', '\u{1b}']) && !piped.stderr.contains(['\r', '\u{1b}']),
        "no terminal control on a pipe:\n{}",
        piped.dump()
    );
    assert_eq!(shape(&piped.stdout), shape(&without.stdout));
    assert_eq!(piped.stderr, without.stderr);
    // --quiet: the same output without the status lines and their header.
    let quiet = run().env("PERFSTRESS_QUIET", "1").ok();
    let without_status: String = piped
        .stdout
        .lines()
        .filter(|line| *line != STATUS_HEADER && StatusLine::parse(line).is_none())
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        status_line_count(&lines(&piped.stdout)) >= 2,
        "{}",
        piped.dump()
    );
    assert_eq!(
        shape(&quiet.stdout),
        shape(&without_status),
        "{}",
        quiet.dump()
    );
    assert_eq!(quiet.stderr, piped.stderr);
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

#[test]
fn quiet_draws_no_progress_line() {
    let _timing = timing_sensitive();
    let tmux = Tmux::start("quiet", &format!("{} --quiet", sleep_test(3)));
    let end = tmux.wait_for(Duration::from_secs(30), |lines| {
        assert!(
            bar_lines(lines).is_empty(),
            "a progress line:\n{}",
            lines.join("\n")
        );
        assert_eq!(status_line_count(lines), 0, "{}", lines.join("\n"));
        lines.iter().any(|line| line.starts_with("EXIT="))
    });
    let text = end.join("\n");
    assert!(end.iter().any(|line| line == "EXIT=0"), "{text}");
    assert!(text.contains("=== Tests ==="), "{text}");
    assert!(
        text.contains("Completed ") && text.contains("=== Finished ==="),
        "{text}"
    );
    assert!(!text.contains("Current"), "no status header:\n{text}");
}
