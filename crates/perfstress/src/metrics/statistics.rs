//! Statistics over a run's iterations: the mean, the standard deviation and
//! a 95% confidence interval of a figure (Student's t), and Welch's t-test
//! of two samples, used by `--iterations`, `--baseline` and `compare`.
//!
//! The t distribution's quantiles and CDF come from `statrs`; everything
//! else is arithmetic.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval.
pub(crate) const CONFIDENCE: f64 = 0.95;

/// The significance level of the test: a change whose p-value is below it
/// is significant.
pub(crate) const SIGNIFICANCE: f64 = 1.0 - CONFIDENCE;

/// What a sample of one figure says: its mean, spread and a 95%
/// confidence interval of the mean.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Estimate {
    /// Values in the sample (iterations).
    pub(crate) count: usize,
    /// Their mean.
    pub(crate) mean: f64,
    /// Their sample standard deviation (n - 1 in the denominator); 0 for
    /// one value.
    pub(crate) standard_deviation: f64,
    /// The 95% confidence interval of the mean (Student's t with n - 1
    /// degrees of freedom); the mean itself for one value.
    pub(crate) ci_low: f64,
    /// Upper end of the interval.
    pub(crate) ci_high: f64,
}

impl Estimate {
    /// The estimate of `values`; `None` for none (or a value that is not
    /// finite).
    pub(crate) fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() || values.iter().any(|value| !value.is_finite()) {
            return None;
        }
        let count = values.len();
        let mean = mean(values);
        let standard_deviation = variance(values, mean).sqrt();
        let half_width = if count > 1 {
            t_quantile((count - 1) as f64) * standard_deviation / (count as f64).sqrt()
        } else {
            0.0
        };
        Some(Self {
            count,
            mean,
            standard_deviation,
            ci_low: mean - half_width,
            ci_high: mean + half_width,
        })
    }

    /// The coefficient of variation (standard deviation over mean), a
    /// fraction; `None` for a mean of 0.
    pub(crate) fn coefficient_of_variation(&self) -> Option<f64> {
        (self.mean != 0.0).then(|| self.standard_deviation / self.mean.abs())
    }
}

/// Welch's t-test of `new` against `old`: the difference of the means with
/// its 95% confidence interval and the two-sided p-value, without assuming
/// equal variances.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Welch {
    /// `mean(new) - mean(old)`.
    pub(crate) difference: f64,
    /// The 95% confidence interval of the difference.
    pub(crate) ci_low: f64,
    /// Upper end of the interval.
    pub(crate) ci_high: f64,
    /// The two-sided p-value of "the means are equal".
    pub(crate) p_value: f64,
    /// Welch-Satterthwaite degrees of freedom.
    pub(crate) degrees_of_freedom: f64,
}

impl Welch {
    /// The test of two samples of at least two values each; `None`
    /// otherwise.
    pub(crate) fn test(old: &[f64], new: &[f64]) -> Option<Self> {
        let (n_old, n_new) = (old.len() as f64, new.len() as f64);
        if old.len() < 2 || new.len() < 2 || old.iter().chain(new).any(|v| !v.is_finite()) {
            return None;
        }
        let (mean_old, mean_new) = (mean(old), mean(new));
        let (var_old, var_new) = (
            variance(old, mean_old) / n_old,
            variance(new, mean_new) / n_new,
        );
        let difference = mean_new - mean_old;
        let standard_error = (var_old + var_new).sqrt();
        if standard_error == 0.0 || !standard_error.is_normal() {
            // No spread at all: the difference is exact.
            return Some(Self {
                difference,
                ci_low: difference,
                ci_high: difference,
                p_value: if difference == 0.0 { 1.0 } else { 0.0 },
                degrees_of_freedom: n_old + n_new - 2.0,
            });
        }
        let degrees_of_freedom = (var_old + var_new).powi(2)
            / (var_old.powi(2) / (n_old - 1.0) + var_new.powi(2) / (n_new - 1.0));
        let t = difference / standard_error;
        let distribution = StudentsT::new(0.0, 1.0, degrees_of_freedom).ok()?;
        let p_value = (2.0 * distribution.cdf(-t.abs())).clamp(0.0, 1.0);
        let half_width = t_quantile(degrees_of_freedom) * standard_error;
        Some(Self {
            difference,
            ci_low: difference - half_width,
            ci_high: difference + half_width,
            p_value,
            degrees_of_freedom,
        })
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample variance (n - 1); 0 for one value.
fn variance(values: &[f64], mean: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    values
        .iter()
        .map(|value| (value - mean).powi(2))
        .sum::<f64>()
        / (values.len() - 1) as f64
}

/// The two-sided 95% quantile of Student's t with `degrees_of_freedom`.
fn t_quantile(degrees_of_freedom: f64) -> f64 {
    StudentsT::new(0.0, 1.0, degrees_of_freedom)
        .map(|distribution| distribution.inverse_cdf(1.0 - SIGNIFICANCE / 2.0))
        .unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn estimate_of_a_known_sample() {
        // mean 5, sd 2 (sample), n = 4: t(0.975, 3) = 3.182446
        let estimate = Estimate::of(&[3.0, 5.0, 7.0, 5.0]).unwrap();
        assert_eq!(estimate.count, 4);
        assert_eq!(estimate.mean, 5.0);
        assert!(close(
            estimate.standard_deviation,
            (8.0f64 / 3.0).sqrt(),
            1e-12
        ));
        let half = 3.182_446 * (8.0f64 / 3.0).sqrt() / 2.0;
        assert!(close(estimate.ci_high - 5.0, half, 1e-5), "{estimate:?}");
        assert!(close(5.0 - estimate.ci_low, half, 1e-5));
        assert!(close(
            estimate.coefficient_of_variation().unwrap(),
            (8.0f64 / 3.0).sqrt() / 5.0,
            1e-12
        ));
    }

    #[test]
    fn one_value_has_no_spread() {
        let estimate = Estimate::of(&[42.0]).unwrap();
        assert_eq!(
            (
                estimate.ci_low,
                estimate.ci_high,
                estimate.standard_deviation
            ),
            (42.0, 42.0, 0.0)
        );
        assert_eq!(Estimate::of(&[]), None);
        assert_eq!(Estimate::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn welch_matches_a_worked_example() {
        // Welch-Satterthwaite: df = 10.209, t = 2.0740 (computed
        // independently; the p-value by numerical integration of the t
        // density: 0.06428).
        let old = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0];
        let new = [28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7];
        let welch = Welch::test(&old, &new).unwrap();
        assert!(close(welch.difference, 22.51 - 19.37, 1e-9), "{welch:?}");
        assert!(close(welch.degrees_of_freedom, 10.2092, 1e-4), "{welch:?}");
        assert!(close(welch.p_value, 0.06428, 1e-4), "{welch:?}");
        // Not significant at 5%: the interval holds 0.
        assert!(welch.ci_low < 0.0 && welch.ci_high > 6.0, "{welch:?}");
    }

    #[test]
    fn welch_of_identical_samples_finds_nothing() {
        let sample = [10.0, 10.1, 9.9, 10.0];
        let welch = Welch::test(&sample, &sample).unwrap();
        assert_eq!(welch.difference, 0.0);
        assert!(close(welch.p_value, 1.0, 1e-12));
        assert!(welch.ci_low < 0.0 && welch.ci_high > 0.0);
        let exact = Welch::test(&[5.0, 5.0], &[6.0, 6.0]).unwrap();
        assert_eq!((exact.p_value, exact.ci_low), (0.0, 1.0));
        assert_eq!(Welch::test(&[1.0], &[1.0, 2.0]), None);
    }
}
