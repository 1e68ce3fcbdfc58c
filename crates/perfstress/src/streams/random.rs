//! `RandomStream`: a readable, seekable body of any length in constant memory.

use std::fmt;
use std::io::{self, BufRead, Read, Seek, SeekFrom};

use super::buffer::random_buffer;
use super::cursor::RandomCursor;

/// Exactly `len()` bytes of random-looking data for upload tests, served
/// from the process's one shared random buffer
/// ([`random_buffer`](super::random_buffer)), so a stream costs a few bytes
/// of memory whatever its length and however many there are.
///
/// The byte at position `p` is `random_buffer()[p % RANDOM_BUFFER_LEN]`, so
/// the data is the same every time a position is read. Implements
/// [`Read`], [`Seek`] (like a file: past the end reads return 0, before the
/// start is an error) and [`BufRead`] (`fill_buf` lends up to 1 MiB of the
/// shared buffer without copying). [`reset`](Self::reset) rewinds for the
/// next operation in O(1).
///
/// ```
/// use std::io::Read;
///
/// use perfstress::{RandomStream, WriteStream};
///
/// let mut body = RandomStream::new(5 * 1024 * 1024);
/// let mut sink = WriteStream::new();
/// std::io::copy(&mut body, &mut sink)?; // what a client's upload would do
/// assert_eq!(sink.written(), 5 * 1024 * 1024);
/// assert_eq!(body.read(&mut [0; 16])?, 0); // at the end
///
/// body.reset(); // ready for the next operation
/// assert_eq!(body.remaining(), 5 * 1024 * 1024);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct RandomStream {
    buffer: &'static [u8],
    cursor: RandomCursor,
}

impl RandomStream {
    /// A stream of exactly `length` bytes, positioned at the start.
    pub fn new(length: u64) -> Self {
        Self {
            buffer: random_buffer(),
            cursor: RandomCursor::new(length),
        }
    }

    /// Rewinds to the start, so the same stream can be sent again.
    pub fn reset(&mut self) {
        self.cursor.reset();
    }

    /// The current position; may be past `len()` after a seek.
    pub fn position(&self) -> u64 {
        self.cursor.position()
    }

    /// Bytes left to read from the current position (0 at or past the end).
    pub fn remaining(&self) -> u64 {
        self.cursor.remaining()
    }

    /// The stream's total length in bytes.
    pub fn len(&self) -> u64 {
        self.cursor.length()
    }

    /// Whether the stream's total length is 0.
    pub fn is_empty(&self) -> bool {
        self.cursor.length() == 0
    }
}

impl fmt::Debug for RandomStream {
    // Not derived: that would print the megabyte of shared data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RandomStream")
            .field("len", &self.len())
            .field("position", &self.position())
            .finish()
    }
}

impl Read for RandomStream {
    fn read(&mut self, destination: &mut [u8]) -> io::Result<usize> {
        Ok(self.cursor.read_into(self.buffer, destination))
    }
}

impl BufRead for RandomStream {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(&self.buffer[self.cursor.next_range(usize::MAX)])
    }

    fn consume(&mut self, amount: usize) {
        // Clamped so a caller's over-consume cannot move past what
        // `fill_buf` offered (and so past the end).
        let available = self.cursor.next_range(usize::MAX).len();
        self.cursor.advance(amount.min(available));
    }
}

impl Seek for RandomStream {
    fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        self.cursor.seek(target)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.cursor.position())
    }
}
