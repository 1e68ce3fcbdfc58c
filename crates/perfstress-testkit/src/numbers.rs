//! Comparing measured figures with their expected values, and retrying a
//! check whose figures depend on the machine's load.

/// Asserts `actual` is within `tolerance` (relative) of `expected`.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    if let Err(message) = within(actual, expected, tolerance, what) {
        panic!("{message}");
    }
}

/// `Err` unless `actual` is within `tolerance` (relative) of `expected`:
/// for figures that depend on the machine's load (see [`retry_timing`]).
pub fn within(actual: f64, expected: f64, tolerance: f64, what: &str) -> Result<(), String> {
    let relative = (actual - expected).abs() / expected.abs();
    if relative <= tolerance {
        Ok(())
    } else {
        Err(format!(
            "{what}: {actual} is not within {:.1}% of {expected} (off by {:.2}%)",
            tolerance * 100.0,
            relative * 100.0
        ))
    }
}

/// `Err(message)` unless `condition`: a timing-dependent expectation.
pub fn expect(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message()) }
}

/// Runs a timing-sensitive check; if a timing figure is off (the check
/// returns `Err`; structural failures panic at once), runs it once more, so
/// a moment of load on a busy machine does not fail the suite while a real
/// error (off both times) still does.
#[track_caller]
pub fn retry_timing(mut check: impl FnMut() -> Result<(), String>) {
    let Err(first) = check() else { return };
    eprintln!("timing off on the first attempt, retrying: {first}");
    if let Err(second) = check() {
        panic!("timing off twice:\n1: {first}\n2: {second}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_is_relative_and_inclusive() {
        assert!(within(105.0, 100.0, 0.05, "x").is_ok());
        assert!(within(94.0, 100.0, 0.05, "x").is_err());
        assert!(within(-1.0, -1.0, 0.0, "x").is_ok());
    }

    #[test]
    #[should_panic(expected = "ops/s: 2 is not within 10.0% of 1 (off by 100.00%)")]
    fn assert_close_names_the_figure() {
        assert_close(2.0, 1.0, 0.1, "ops/s");
    }

    #[test]
    fn retry_timing_runs_a_failing_check_twice() {
        let mut attempts = 0;
        retry_timing(|| {
            attempts += 1;
            expect(attempts == 2, || "first attempt".to_owned())
        });
        assert_eq!(attempts, 2);
    }
}
