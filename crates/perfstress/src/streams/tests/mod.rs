//! Tests of the stream utilities: model-based property tests of every way
//! to move a stream's position, exact lengths at the edges (up to 5 GiB,
//! never allocated), the zero-copy chunk path, and the feature adapters.

mod adapters;
mod edges;
mod model;

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::buffer::{RANDOM_BUFFER_LEN, random_buffer};

/// Drives a future that must complete without waiting (everything in the
/// streams module does), failing the test if it would wait.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a stream operation returned Pending"),
    }
}

/// What a stream must yield for positions `start..start + len`: the
/// definition, byte by byte.
fn expected_bytes(start: u64, len: usize) -> Vec<u8> {
    let buffer = random_buffer();
    (0..len as u64)
        .map(|offset| buffer[((start + offset) % RANDOM_BUFFER_LEN as u64) as usize])
        .collect()
}
