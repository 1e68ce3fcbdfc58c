//! Bodies and sinks for upload and download tests that must not hold the
//! payload in memory, and must cost far less than any network.
//!
//! - [`RandomStream`] (sync `Read` + `Seek` + `BufRead`) and
//!   [`AsyncRandomStream`] (tokio and `futures` `AsyncRead` + `AsyncSeek` +
//!   `AsyncBufRead`, and a zero-copy `Stream` of `Bytes`): exactly `length`
//!   random-looking bytes, all served from one shared 1 MiB buffer
//!   ([`random_buffer`]), so 64 streams of 1 GiB cost a few bytes each.
//!   The byte at position `p` is `random_buffer()[p % RANDOM_BUFFER_LEN]`.
//! - [`WriteStream`]: discards and counts what is written.
//! - [`get_random_bytes`] / [`get_random_bytes_shared`]: a payload in memory,
//!   for small bodies that are cheaper to send from one buffer.
//!
//! Cargo features (off by default) turn an [`AsyncRandomStream`] into a
//! client's body type: `reqwest` (`reqwest::Body`, with `Content-Length`),
//! `http-body` (`http_body::Body`, for hyper), `azure_core` (a
//! `SeekableStream`, `azure_core::http::Body` and `RequestContent`).
//!
//! # An upload test
//!
//! Each instance keeps its body and rewinds it per operation; here a
//! [`WriteStream`] stands in for the service (with `reqwest`:
//! `client.put(url).body(reqwest::Body::from(self.body.clone()))`; with an
//! Azure SDK client: `RequestContent::from(self.body.clone())`).
//!
//! ```
//! use perfstress::{AsyncRandomStream, NoOptions, PerfTest, RandomStream, Result, TestContext, WriteStream};
//!
//! /// Uploads 10 MiB per operation.
//! pub struct UploadTest {
//!     body: AsyncRandomStream,
//!     sync_body: RandomStream,
//!     service: WriteStream,
//! }
//!
//! impl PerfTest for UploadTest {
//!     type Options = NoOptions;
//!
//!     async fn new(_: &TestContext<NoOptions>) -> Result<Self> {
//!         Ok(UploadTest {
//!             body: AsyncRandomStream::new(10 * 1024 * 1024),
//!             sync_body: RandomStream::new(10 * 1024 * 1024),
//!             service: WriteStream::new(),
//!         })
//!     }
//!
//!     fn run_sync(&mut self) -> Result<()> {
//!         self.sync_body.reset();
//!         std::io::copy(&mut self.sync_body, &mut self.service)?;
//!         Ok(())
//!     }
//!
//!     async fn run_async(&mut self) -> Result<()> {
//!         self.body.reset();
//!         tokio::io::copy(&mut self.body, &mut self.service).await?;
//!         Ok(())
//!     }
//! }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! # let mut test = UploadTest::new(&TestContext::new("UploadTest", NoOptions {}, 0, 1)).await?;
//! # test.run_async().await?;
//! # test.run_async().await?;
//! # test.run_sync()?;
//! # assert_eq!(test.service.written(), 30 * 1024 * 1024);
//! # Ok(())
//! # }
//! ```
//!
//! # A download test
//!
//! The response body goes into a [`WriteStream`]: the bytes are received and
//! counted, never stored. With reqwest,
//! `self.sink.drain(response.bytes_stream()).await?`; with an Azure SDK
//! client, `self.sink.drain(response.into_body()).await?`. Here an
//! [`AsyncRandomStream`] stands in for the response body.
//!
//! ```
//! use perfstress::{AsyncRandomStream, Error, NoOptions, PerfTest, Result, TestContext, WriteStream};
//!
//! /// Downloads 1 MiB per operation.
//! pub struct DownloadTest {
//!     sink: WriteStream,
//! }
//!
//! impl PerfTest for DownloadTest {
//!     type Options = NoOptions;
//!
//!     async fn new(_: &TestContext<NoOptions>) -> Result<Self> {
//!         Ok(DownloadTest { sink: WriteStream::new() })
//!     }
//!
//!     async fn run_async(&mut self) -> Result<()> {
//!         let response_body = AsyncRandomStream::new(1024 * 1024); // client.get(..).send().await?
//!         self.sink.reset();
//!         self.sink.drain(response_body).await?;
//!         if self.sink.written() != 1024 * 1024 {
//!             return Err(Error::msg("short download"));
//!         }
//!         Ok(())
//!     }
//! }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! # let mut test = DownloadTest::new(&TestContext::new("DownloadTest", NoOptions {}, 0, 1)).await?;
//! # test.run_async().await?;
//! # Ok(())
//! # }
//! ```

mod adapters;
mod async_random;
mod buffer;
mod cursor;
mod futures_io;
mod random;
#[cfg(test)]
mod tests;
mod write;

pub use async_random::AsyncRandomStream;
pub use buffer::{
    RANDOM_BUFFER_LEN, fill_random, get_random_bytes, get_random_bytes_shared, random_buffer,
};
pub use random::RandomStream;
pub use write::WriteStream;
