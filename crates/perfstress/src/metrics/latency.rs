//! Latency as HdrHistograms: constant memory however long the run,
//! mergeable across instances and processes, nanosecond precision with
//! three significant digits.

use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// The percentiles reported, as in the family.
pub const PERCENTILES: [f64; 7] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0];

/// The percentiles of the spectrum (the HTML report's chart on a "nines"
/// axis): the tail in finer steps than [`PERCENTILES`].
pub(crate) const SPECTRUM: [f64; 12] = [
    50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 100.0,
];

/// Longest latency recorded exactly: an hour (longer ones are clamped).
const HIGHEST_TRACKABLE_NANOS: u64 = 3_600_000_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram in nanoseconds.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram (1 ns to 1 h, 3 significant digits). It starts
    /// small and grows to the largest latency recorded, so an instance
    /// whose operations take microseconds holds tens of kilobytes, not the
    /// ~270 KB the whole range to an hour needs.
    pub fn new() -> Self {
        let mut histogram =
            Histogram::new_with_bounds(1, 2, SIGNIFICANT_DIGITS).expect("the bounds are valid");
        histogram.auto(true);
        Self { histogram }
    }

    /// Records one latency (clamped to 1 ns .. 1 h).
    #[inline]
    pub fn record_nanos(&mut self, nanos: u64) {
        // `record`, not `saturating_record`: the latter clamps to the
        // current size instead of growing. Growing fails only if memory is
        // exhausted, and then the sample is dropped rather than the run.
        let _ = self
            .histogram
            .record(nanos.clamp(1, HIGHEST_TRACKABLE_NANOS));
    }

    /// The bytes a histogram holds when its largest latency is `nanos`: the
    /// counts of 3 significant digits up to that magnitude.
    pub(crate) fn bytes_up_to(nanos: u64) -> u64 {
        // 2048 sub-buckets, half of them per power of two past the first.
        let magnitudes = u64::from(64 - (nanos.max(2048) / 2048).leading_zeros());
        (magnitudes + 1) * 1024 * 8
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // This one grows to hold the other's samples.
        let _ = self.histogram.add(&other.histogram);
    }

    /// Removes `other`'s samples (a part of this histogram's, e.g. the
    /// intervals before the last one of a phase).
    pub(crate) fn subtract(&mut self, other: &LatencyHistogram) {
        // Fails only if `other` is not a part of this one: then nothing is
        // taken away rather than a part of it.
        let _ = self.histogram.subtract(&other.histogram);
    }

    /// The underlying HdrHistogram (for the interval log).
    pub(crate) fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The latency at percentile `percentile` (0-100), nearest rank.
    pub fn percentile(&self, percentile: f64) -> Duration {
        Duration::from_nanos(self.histogram.value_at_percentile(percentile))
    }

    /// Smallest, largest and mean latency; zero without samples.
    pub fn min_max_mean(&self) -> (Duration, Duration, Duration) {
        if self.histogram.is_empty() {
            return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        }
        (
            Duration::from_nanos(self.histogram.min()),
            Duration::from_nanos(self.histogram.max()),
            Duration::from_secs_f64(self.histogram.mean() / 1e9),
        )
    }

    /// Every recorded value (the middle of its bucket) with its count, in
    /// increasing order: the samples, reconstructed to the histogram's
    /// precision.
    pub fn values(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        self.histogram.iter_recorded().map(|value| {
            let nanos = self.histogram.median_equivalent(value.value_iterated_to());
            (Duration::from_nanos(nanos), value.count_at_value())
        })
    }

    /// The summary figures of this histogram.
    pub fn summary(&self) -> LatencySummary {
        let (min, max, mean) = self.min_max_mean();
        LatencySummary {
            count: self.count(),
            percentiles: PERCENTILES
                .iter()
                .map(|&percentile| (percentile, self.percentile(percentile)))
                .collect(),
            spectrum: SPECTRUM
                .iter()
                .map(|&percentile| (percentile, self.percentile(percentile)))
                .collect(),
            min,
            max,
            mean,
        }
    }
}

/// What a latency histogram says, as plain data for reporters.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencySummary {
    /// Samples recorded.
    pub count: u64,
    /// `(percentile, latency)` for each of [`PERCENTILES`].
    pub percentiles: Vec<(f64, Duration)>,
    /// `(percentile, latency)` for each of [`SPECTRUM`].
    pub spectrum: Vec<(f64, Duration)>,
    /// The smallest sample.
    pub min: Duration,
    /// The largest sample.
    pub max: Duration,
    /// The mean of the samples.
    pub mean: Duration,
}

impl LatencyHistogram {
    /// The histogram in HdrHistogram's compressed V2 encoding.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let _ = V2DeflateSerializer::new().serialize(&self.histogram, &mut bytes);
        bytes
    }

    /// A histogram from its V2 encoding; `None` if the bytes are not one.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let histogram: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).ok()?;
        let mut decoded = LatencyHistogram::new();
        decoded.histogram.add(&histogram).ok()?;
        Some(decoded)
    }
}

// Histograms cross process boundaries in the compact, compressed V2 format.
impl Serialize for LatencyHistogram {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.histogram, &mut bytes)
            .map_err(|error| serde::ser::Error::custom(format!("{error:?}")))?;
        serializer.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes: Vec<u8> = Vec::deserialize(deserializer)?;
        let histogram: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|error| serde::de::Error::custom(format!("{error:?}")))?;
        let mut merged = LatencyHistogram::new();
        let _ = merged.histogram.add(&histogram);
        Ok(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_precision() {
        let mut histogram = LatencyHistogram::new();
        for micros in 1..=1000u64 {
            histogram.record_nanos(micros * 1000);
        }
        let p50 = histogram.percentile(50.0).as_nanos() as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.001, "{p50}");
        let p99 = histogram.percentile(99.0).as_nanos() as f64;
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.001, "{p99}");
        assert_eq!(histogram.count(), 1000);
        let total: u64 = histogram.values().map(|(_, count)| count).sum();
        assert_eq!(total, 1000);
    }

    #[test]
    fn histograms_grow_with_what_they_record() {
        let mut small = LatencyHistogram::new();
        small.record_nanos(5_000);
        let mut large = LatencyHistogram::new();
        large.record_nanos(3_000_000_000_000);
        let largest = large.percentile(100.0).as_secs_f64();
        assert!((largest - 3000.0).abs() < 3.0, "{largest}");
        let bytes = |histogram: &LatencyHistogram| histogram.histogram.distinct_values() as u64 * 8;
        assert!(bytes(&small) < 64 * 1024, "{}", bytes(&small));
        assert!(bytes(&large) > 200 * 1024, "{}", bytes(&large));
        assert!(LatencyHistogram::bytes_up_to(HIGHEST_TRACKABLE_NANOS) > 200 * 1024);
        // Merging a large one into a small one grows it: nothing is lost.
        small.merge(&large);
        assert_eq!(small.count(), 2);
        assert!(small.percentile(100.0) >= Duration::from_secs(2990));
    }

    #[test]
    fn merge_and_serialize_keep_every_sample() {
        let mut first = LatencyHistogram::new();
        let mut second = LatencyHistogram::new();
        for nanos in 0..10_000 {
            first.record_nanos(100 + nanos);
            second.record_nanos(5_000_000 + nanos);
        }
        let json = serde_json::to_string(&second).unwrap();
        let second: LatencyHistogram = serde_json::from_str(&json).unwrap();
        first.merge(&second);
        assert_eq!(first.count(), 20_000);
        assert!(first.percentile(100.0) >= Duration::from_nanos(5_009_000));
        assert!(first.percentile(25.0) < Duration::from_micros(11));
    }
}
