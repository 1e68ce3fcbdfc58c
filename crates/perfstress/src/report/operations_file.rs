//! The `--results-file`: PerfAutomation's per-operation latency file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::metrics::{LatencyHistogram, RunSummary};

use super::end_file::EndOfRunFile;
use super::json::file_error;
use super::reporter::Reporter;

/// Writes `--results-file` at the end of a successful run with latency.
pub(crate) struct OperationsFile(EndOfRunFile);

impl OperationsFile {
    /// The reporter writing `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self(EndOfRunFile::new(path, "Per-operation results"))
    }
}

impl Reporter for OperationsFile {
    fn discard(&mut self) {
        self.0.discard();
    }

    fn run_summary(&mut self, summary: &RunSummary<'_>) -> Result<(), Error> {
        self.0.write(summary, |path| {
            let Some(latency) = summary.run.as_ref().and_then(|run| run.latency.as_ref()) else {
                return Ok(false);
            };
            let size = summary
                .plan
                .operation_size
                .and_then(|size| i64::try_from(size).ok())
                .unwrap_or(-1);
            write_operations_file(path, &latency.record.service, size)
                .map_err(|error| file_error(path, error))?;
            Ok(true)
        })
    }
}

/// Writes `--results-file`: PerfAutomation's per-operation JSON array,
/// `[{"Time": <ms>, "Size": <bytes or -1>}, ...]`, one entry per recorded
/// operation. The entries come from the latency histogram (each value to
/// its three significant digits, in increasing order), so memory stays
/// constant however many operations there were; PerfAutomation sorts them
/// for its percentiles anyway.
pub(crate) fn write_operations_file(
    path: &Path,
    latency: &LatencyHistogram,
    size: i64,
) -> std::io::Result<()> {
    crate::fs::write_atomically(path, |out| {
        out.write_all(b"[")?;
        let mut first = true;
        for (latency, count) in latency.values() {
            // Nanoseconds divided by 1e6 (one correctly rounded division)
            // print as their shortest decimal, e.g. `0.000131` for 131 ns;
            // seconds times 1e3 would print `0.00013099999999999999`.
            let entry = format!(
                "{{\"Time\":{},\"Size\":{size}}}",
                latency.as_nanos() as f64 / 1e6
            );
            for _ in 0..count {
                if !first {
                    out.write_all(b",")?;
                }
                first = false;
                out.write_all(entry.as_bytes())?;
            }
        }
        out.write_all(b"]\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_operation() {
        let mut latency = LatencyHistogram::new();
        for micros in [100u64, 100, 250, 1_000_000] {
            latency.record_nanos(micros * 1000);
        }
        let path = std::env::temp_dir().join(format!("perfstress-ops-{}.json", std::process::id()));
        write_operations_file(&path, &latency, 1024).unwrap();
        let entries: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(entries.len(), 4);
        assert!(entries.iter().all(|entry| entry["Size"] == 1024));
        let times: Vec<f64> = entries
            .iter()
            .map(|entry| entry["Time"].as_f64().unwrap())
            .collect();
        assert!((times[0] - 0.1).abs() < 0.0001, "{times:?}");
        assert!((times[3] - 1000.0).abs() / 1000.0 < 0.001, "{times:?}");
    }

    #[test]
    fn times_print_as_their_shortest_decimal() {
        let mut latency = LatencyHistogram::new();
        latency.record_nanos(131);
        latency.record_nanos(1_999);
        let path =
            std::env::temp_dir().join(format!("perfstress-ops-text-{}.json", std::process::id()));
        write_operations_file(&path, &latency, -1).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            text,
            "[{\"Time\":0.000131,\"Size\":-1},{\"Time\":0.001999,\"Size\":-1}]\n"
        );
    }
}
