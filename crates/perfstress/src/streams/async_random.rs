//! `AsyncRandomStream`: the async, zero-copy counterpart of `RandomStream`,
//! shaped to be an HTTP request body.

use std::fmt;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncSeek, ReadBuf};

use super::buffer::{RANDOM_BUFFER_LEN, random_buffer_bytes};
use super::cursor::RandomCursor;

/// Exactly `len()` bytes of random-looking data as an async body: the same
/// bytes at the same positions as [`RandomStream`](super::RandomStream),
/// from the same shared buffer, in constant memory.
///
/// It is at once:
/// - a `futures::Stream<Item = io::Result<Bytes>>` whose chunks are slices
///   of the shared buffer (no copy, no allocation), which is what HTTP
///   clients take as a streamed body (see the `reqwest`, `http-body` and
///   `azure_core` features);
/// - a tokio [`AsyncRead`] + [`AsyncSeek`] + [`AsyncBufRead`], and the same
///   three traits of `futures::io`.
///
/// All of them advance one position, so reading some bytes and then
/// streaming the rest yields each byte once. [`reset`](Self::reset) rewinds
/// in O(1); a clone is an independent stream at the same position.
///
/// ```
/// use futures::StreamExt;
/// use perfstress::{AsyncRandomStream, WriteStream};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// // As a stream of chunks (what an HTTP client consumes):
/// let mut body = AsyncRandomStream::new(3 * 1024 * 1024 + 7);
/// let mut total = 0;
/// while let Some(chunk) = body.next().await {
///     total += chunk?.len() as u64;
/// }
/// assert_eq!(total, 3 * 1024 * 1024 + 7);
///
/// // As an AsyncRead:
/// body.reset();
/// let mut sink = WriteStream::new();
/// tokio::io::copy(&mut body, &mut sink).await?;
/// assert_eq!(sink.written(), body.len());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AsyncRandomStream {
    buffer: Bytes,
    cursor: RandomCursor,
    chunk_size: usize,
}

impl AsyncRandomStream {
    /// A stream of exactly `length` bytes, positioned at the start, whose
    /// chunks are up to 1 MiB.
    pub fn new(length: u64) -> Self {
        Self {
            buffer: random_buffer_bytes(),
            cursor: RandomCursor::new(length),
            chunk_size: RANDOM_BUFFER_LEN,
        }
    }

    /// Caps the size of the chunks the `Stream` yields (clamped to
    /// `1..=RANDOM_BUFFER_LEN`), for clients that want small frames.
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size.clamp(1, RANDOM_BUFFER_LEN);
        self
    }

    /// The largest chunk the `Stream` yields.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
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

    /// Seeks like a file (the synchronous core of the `AsyncSeek` impls):
    /// past the end is allowed, before the start is an `InvalidInput` error.
    pub fn seek_to(&mut self, target: SeekFrom) -> io::Result<u64> {
        self.cursor.seek(target)
    }

    /// The next chunk (up to `chunk_size()` bytes, a zero-copy slice of the
    /// shared buffer), or `None` at the end: the `Stream` without a context.
    pub fn next_chunk(&mut self) -> Option<Bytes> {
        let range = self.cursor.next_range(self.chunk_size);
        if range.is_empty() {
            return None;
        }
        self.cursor.advance(range.len());
        Some(self.buffer.slice(range))
    }

    /// Copies up to `destination.len()` bytes; the core of the `AsyncRead` impls.
    pub(crate) fn read_into(&mut self, destination: &mut [u8]) -> usize {
        self.cursor.read_into(&self.buffer, destination)
    }

    /// The rest of the current buffer run; the core of the `AsyncBufRead` impls.
    pub(crate) fn available(&self) -> &[u8] {
        &self.buffer[self.cursor.next_range(usize::MAX)]
    }

    /// Moves past `amount` bytes of `available()` (clamped to it).
    pub(crate) fn consume_available(&mut self, amount: usize) {
        let available = self.cursor.next_range(usize::MAX).len();
        self.cursor.advance(amount.min(available));
    }
}

impl fmt::Debug for AsyncRandomStream {
    // Not derived: that would print the megabyte of shared data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncRandomStream")
            .field("len", &self.len())
            .field("position", &self.position())
            .field("chunk_size", &self.chunk_size)
            .finish()
    }
}

impl Stream for AsyncRandomStream {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().next_chunk().map(Ok))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // At least this many chunks; more where a chunk ends at the buffer's end.
        let chunks = self.remaining().div_ceil(self.chunk_size as u64);
        (usize::try_from(chunks).unwrap_or(usize::MAX), None)
    }
}

impl AsyncRead for AsyncRandomStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        destination: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // `put_slice` writes into uninitialized memory directly; going
        // through `initialize_unfilled` would zero the buffer first.
        while destination.remaining() > 0 {
            let range = this.cursor.next_range(destination.remaining());
            if range.is_empty() {
                break;
            }
            this.cursor.advance(range.len());
            destination.put_slice(&this.buffer[range]);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for AsyncRandomStream {
    fn poll_fill_buf(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(Ok(self.get_mut().available()))
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        self.get_mut().consume_available(amount);
    }
}

impl AsyncSeek for AsyncRandomStream {
    fn start_seek(self: Pin<&mut Self>, target: SeekFrom) -> io::Result<()> {
        // Seeking is instant, so it completes here; `poll_complete` only
        // reports the position.
        self.get_mut().seek_to(target).map(drop)
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.position()))
    }
}
