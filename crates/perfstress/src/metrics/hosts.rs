//! The hosts of a run coordinated across machines (`--listen`, `--join`):
//! who each one is, its clock, and what it measured, as plain data.

use std::net::SocketAddr;
use std::time::Duration;

use crate::plan::ProcessShare;

use super::{PhaseMeasurement, PhaseResults};

/// A host's clock as the coordinator measured it (NTP-style: the round trip
/// with the shortest time of several).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClockOffset {
    /// The host's wall clock less the coordinator's, in nanoseconds.
    pub(crate) offset_nanos: i128,
    /// The best round trip: the offset is exact to within half of it.
    pub(crate) round_trip: Duration,
}

impl ClockOffset {
    /// The offset estimated from one round trip: sent at `sent` and
    /// answered at `received` (coordinator's clock), the host's clock read
    /// `host` in between.
    pub(crate) fn from_round_trip(sent: u128, host: u128, received: u128) -> Self {
        let midpoint = (sent as i128 + received as i128) / 2;
        Self {
            offset_nanos: host as i128 - midpoint,
            round_trip: Duration::from_nanos(
                u64::try_from(received.saturating_sub(sent)).unwrap_or(u64::MAX),
            ),
        }
    }

    /// How far the offset may be off: half the round trip.
    pub(crate) fn uncertainty(&self) -> Duration {
        self.round_trip / 2
    }
}

/// A host that joined the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JoinedHost {
    /// The name it goes by (`--host-id`, or its host name and pid).
    pub(crate) identity: String,
    /// Its process id, on its machine.
    pub(crate) pid: u32,
    /// Where its connection came from.
    pub(crate) address: SocketAddr,
    /// Its clock.
    pub(crate) clock: ClockOffset,
}

/// A host and its measurement of the timed run, from the coordinator.
#[derive(Clone, Debug)]
pub(crate) struct HostPart {
    /// Who.
    pub(crate) host: JoinedHost,
    /// The instances it ran.
    pub(crate) share: ProcessShare,
    /// Its instances' measurement of the (last) timed run.
    pub(crate) run: Option<PhaseMeasurement>,
    /// It was lost (died or disconnected), after this status interval.
    pub(crate) lost: Option<u32>,
}

/// A host's figures in the results.
#[derive(Clone, Debug)]
pub(crate) struct HostResults {
    /// Who, and which instances.
    pub(crate) part: HostPart,
    /// Its timed run's results, as those of a run of its instances alone.
    pub(crate) run: Option<PhaseResults>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_the_host_clock_less_the_round_trip_midpoint() {
        // Sent at 1000, answered at 1400 (coordinator); the host read 5200:
        // its clock is 4000 ahead, give or take 200.
        let clock = ClockOffset::from_round_trip(1000, 5200, 1400);
        assert_eq!(clock.offset_nanos, 4000);
        assert_eq!(clock.round_trip, Duration::from_nanos(400));
        assert_eq!(clock.uncertainty(), Duration::from_nanos(200));
        // A host behind the coordinator.
        let clock = ClockOffset::from_round_trip(10_000, 3_100, 10_200);
        assert_eq!(clock.offset_nanos, -7_000);
    }
}
