//! Position arithmetic shared by the sync and async random streams, so both
//! agree byte for byte on what a read, a seek and a reset do.

use std::io::{self, SeekFrom};
use std::ops::Range;

use super::buffer::RANDOM_BUFFER_LEN;

/// A position in a stream of `length` bytes that repeats the shared buffer.
/// The position may lie past the end (after a seek), like a file's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RandomCursor {
    length: u64,
    position: u64,
}

impl RandomCursor {
    pub(crate) fn new(length: u64) -> Self {
        Self {
            length,
            position: 0,
        }
    }

    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// Bytes left to read: 0 at or past the end.
    pub(crate) fn remaining(&self) -> u64 {
        self.length.saturating_sub(self.position)
    }

    pub(crate) fn reset(&mut self) {
        self.position = 0;
    }

    /// The next contiguous run of the stream inside the shared buffer, at
    /// most `max` bytes long; empty at or past the end.
    pub(crate) fn next_range(&self, max: usize) -> Range<usize> {
        let start = (self.position % RANDOM_BUFFER_LEN as u64) as usize;
        // `remaining` may exceed usize on 32-bit targets; the min keeps it small.
        let remaining = self.remaining().min(RANDOM_BUFFER_LEN as u64) as usize;
        let len = (RANDOM_BUFFER_LEN - start).min(max).min(remaining);
        start..start + len
    }

    /// Moves forward by `n` bytes just handed out by `next_range`.
    pub(crate) fn advance(&mut self, n: usize) {
        self.position += n as u64;
    }

    /// Fills as much of `destination` as the stream has left, wrapping
    /// around the buffer, in as few copies as possible (one per MiB).
    pub(crate) fn read_into(&mut self, buffer: &[u8], destination: &mut [u8]) -> usize {
        let mut copied = 0;
        while copied < destination.len() {
            let range = self.next_range(destination.len() - copied);
            if range.is_empty() {
                break;
            }
            let len = range.len();
            destination[copied..copied + len].copy_from_slice(&buffer[range]);
            self.advance(len);
            copied += len;
        }
        copied
    }

    /// Seeks like a file: past the end is allowed (reads then return 0),
    /// before the start is an `InvalidInput` error that leaves the position
    /// unchanged. `SeekFrom::End` is relative to the stream's length.
    pub(crate) fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        let new_position = match target {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
            SeekFrom::End(delta) => self.length.checked_add_signed(delta),
        };
        match new_position {
            Some(position) => {
                self.position = position;
                Ok(position)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "invalid seek to {target:?} from position {} in a stream of {} bytes: \
                     the result is before the start (or overflows)",
                    self.position, self.length
                ),
            )),
        }
    }
}
