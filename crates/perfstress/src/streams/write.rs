//! `WriteStream`: a sink that counts and discards, for download tests.

use std::io::{self, IoSlice, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::io::AsyncWrite;

/// A sink that discards what is written and counts it: where a download
/// test sends the body, so the measurement includes receiving the bytes
/// but no storing them.
///
/// Implements [`std::io::Write`], tokio's [`AsyncWrite`] and
/// `futures::io::AsyncWrite`; [`drain`](Self::drain) consumes a
/// `Stream` of chunks (e.g. `reqwest::Response::bytes_stream()` or an
/// `azure_core` response body). Writes never fail and never block.
///
/// ```
/// use perfstress::{AsyncRandomStream, WriteStream};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut sink = WriteStream::new();
/// // A downloaded body as a stream of chunks (here a stand-in):
/// let body = AsyncRandomStream::new(10_240);
/// sink.drain(body).await?;
/// assert_eq!(sink.written(), 10_240);
/// sink.reset();
/// assert_eq!(sink.written(), 0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStream {
    written: u64,
}

impl WriteStream {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes written since creation or the last [`reset`](Self::reset).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Sets the count back to 0.
    pub fn reset(&mut self) {
        self.written = 0;
    }

    /// Counts `bytes` as written; what every write impl does.
    pub(crate) fn record(&mut self, bytes: usize) {
        self.written += bytes as u64;
    }

    /// Consumes a stream of chunks, counting their bytes, and returns how
    /// many this call consumed; stops at the first error and returns it.
    pub async fn drain<S, B, E>(&mut self, stream: S) -> Result<u64, E>
    where
        S: Stream<Item = Result<B, E>>,
        B: AsRef<[u8]>,
    {
        let mut stream = std::pin::pin!(stream);
        let mut drained = 0;
        while let Some(chunk) = stream.next().await {
            drained += chunk?.as_ref().len() as u64;
        }
        self.written += drained;
        Ok(drained)
    }
}

/// The total length of vectored buffers; what a vectored write consumes.
pub(crate) fn total_len(buffers: &[IoSlice<'_>]) -> usize {
    buffers.iter().map(|buffer| buffer.len()).sum()
}

impl Write for WriteStream {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.record(buffer.len());
        Ok(buffer.len())
    }

    fn write_vectored(&mut self, buffers: &[IoSlice<'_>]) -> io::Result<usize> {
        let len = total_len(buffers);
        self.record(len);
        Ok(len)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncWrite for WriteStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().record(buffer.len());
        Poll::Ready(Ok(buffer.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buffers: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = total_len(buffers);
        self.get_mut().record(len);
        Poll::Ready(Ok(len))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
