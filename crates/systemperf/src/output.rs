//! The system tests' own lines on stdout. A closed stdout (`| head -1`)
//! must never fail a test or discard a measurement, so write errors are
//! ignored here, as the framework's console does (`println!` would panic).

use std::io::Write;

/// Writes one line to stdout, ignoring a closed or full pipe.
pub(crate) fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}
