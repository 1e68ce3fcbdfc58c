//! The one random buffer every random stream reads from, and random bytes
//! on demand.

use std::sync::OnceLock;

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

/// Length of the shared random buffer: 1 MiB, as in the other perfstress
/// frameworks. Stream data repeats with this period.
pub const RANDOM_BUFFER_LEN: usize = 1 << 20;

// Leaked once on purpose: a `&'static [u8]` lets `Bytes::from_static` hand
// out slices without a reference count, so 64 streams on 64 threads never
// contend on a shared atomic counter per chunk.
static RANDOM_BUFFER: OnceLock<&'static [u8]> = OnceLock::new();

/// The shared random buffer ([`RANDOM_BUFFER_LEN`] bytes), created on first
/// use and the same for the rest of the process.
///
/// Every [`RandomStream`](super::RandomStream) and
/// [`AsyncRandomStream`](super::AsyncRandomStream) serves its byte at
/// position `p` from `random_buffer()[p % RANDOM_BUFFER_LEN]`.
pub fn random_buffer() -> &'static [u8] {
    RANDOM_BUFFER.get_or_init(|| Box::leak(get_random_bytes(RANDOM_BUFFER_LEN).into_boxed_slice()))
}

/// The shared random buffer as `Bytes`; slicing and cloning it copies nothing
/// and touches no reference count.
pub(crate) fn random_buffer_bytes() -> Bytes {
    Bytes::from_static(random_buffer())
}

/// `n` fresh random bytes (not cryptographically secure).
///
/// Filled in bulk from a fast generator (xoshiro, seeded from the thread's
/// random generator), so gigabytes take well under a second per gigabyte.
///
/// ```
/// let payload = perfstress::get_random_bytes(10_240);
/// assert_eq!(payload.len(), 10_240);
/// ```
pub fn get_random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    fill_random(&mut bytes);
    bytes
}

/// Like [`get_random_bytes`], as `Bytes` (cheap to clone and share between
/// test instances, e.g. as a request body).
pub fn get_random_bytes_shared(n: usize) -> Bytes {
    Bytes::from(get_random_bytes(n))
}

/// Overwrites `destination` with random bytes (not cryptographically secure).
pub fn fill_random(destination: &mut [u8]) {
    SmallRng::from_rng(&mut rand::rng()).fill_bytes(destination);
}
