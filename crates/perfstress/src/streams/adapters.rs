//! Conversions of `AsyncRandomStream` into the request body types of HTTP
//! client libraries, each behind its own cargo feature (all off by default).

#[cfg(feature = "http-body")]
mod http_body_impl {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use http_body::{Frame, SizeHint};

    use crate::streams::AsyncRandomStream;

    /// Feature `http-body`: a body of exactly `remaining()` bytes whose
    /// frames are zero-copy slices of the shared buffer. The exact size hint
    /// lets hyper send `Content-Length` instead of chunked encoding (which
    /// Azure Storage's Put Blob, for one, rejects).
    #[cfg_attr(docsrs, doc(cfg(feature = "http-body")))]
    impl http_body::Body for AsyncRandomStream {
        type Data = Bytes;
        type Error = io::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
            Poll::Ready(
                self.get_mut()
                    .next_chunk()
                    .map(|chunk| Ok(Frame::data(chunk))),
            )
        }

        fn is_end_stream(&self) -> bool {
            self.remaining() == 0
        }

        fn size_hint(&self) -> SizeHint {
            SizeHint::with_exact(self.remaining())
        }
    }
}

/// Feature `reqwest`: the stream as a `reqwest::Body`.
///
/// Wraps the stream as an `http_body::Body` (`reqwest::Body::wrap`) rather
/// than `wrap_stream`: the exact length makes the request carry
/// `Content-Length` (a plain `Stream` body is sent chunked), and the
/// chunks are still the shared buffer's, uncopied. Like every streamed
/// reqwest body it cannot be replayed by reqwest itself: build a new body
/// (or `reset()` a clone) per request.
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
impl From<crate::streams::AsyncRandomStream> for reqwest::Body {
    fn from(stream: crate::streams::AsyncRandomStream) -> Self {
        reqwest::Body::wrap(stream)
    }
}

#[cfg(feature = "azure_core")]
mod azure_core_impl {
    use azure_core::http::{Body, RequestContent};
    use azure_core::stream::SeekableStream;

    use crate::streams::AsyncRandomStream;

    /// Feature `azure_core`: a seekable request body for the Azure SDK.
    /// The pipeline resets it before each retry and sends `len()` as
    /// `Content-Length`. (azure_core reads it through `futures::io::AsyncRead`
    /// into buffers of its own, so this path copies once per chunk.)
    #[async_trait::async_trait]
    #[cfg_attr(docsrs, doc(cfg(feature = "azure_core")))]
    impl SeekableStream for AsyncRandomStream {
        async fn reset(&mut self) -> azure_core::Result<()> {
            AsyncRandomStream::reset(self);
            Ok(())
        }

        fn len(&self) -> Option<u64> {
            Some(AsyncRandomStream::len(self))
        }
    }

    /// Feature `azure_core`: `Body::SeekableStream` of the stream.
    #[cfg_attr(docsrs, doc(cfg(feature = "azure_core")))]
    impl From<AsyncRandomStream> for Body {
        fn from(stream: AsyncRandomStream) -> Self {
            Body::SeekableStream(Box::new(stream))
        }
    }

    /// Feature `azure_core`: the stream as any client method's
    /// `RequestContent` (e.g. a blob upload's `RequestContent<Bytes>`).
    #[cfg_attr(docsrs, doc(cfg(feature = "azure_core")))]
    impl<T, F> From<AsyncRandomStream> for RequestContent<T, F> {
        fn from(stream: AsyncRandomStream) -> Self {
            Body::from(stream).into()
        }
    }
}
