//! The `futures::io` traits (what `azure_core` and other runtime-agnostic
//! clients take), mirroring the tokio impls beside each type.

use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};

use super::async_random::AsyncRandomStream;
use super::write::{WriteStream, total_len};

impl AsyncRead for AsyncRandomStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        destination: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.get_mut().read_into(destination)))
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
    fn poll_seek(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        target: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Poll::Ready(self.get_mut().seek_to(target))
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

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
