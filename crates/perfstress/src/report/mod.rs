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
