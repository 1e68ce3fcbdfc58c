//! A record/playback server compatible with the Azure SDK test proxy
//! (`Azure.Sdk.Tools.TestProxy`), for perf runs (`perfstress -x URL`) and
//! SDK tests on machines without .NET.
//!
//! It implements the MUST and most SHOULD items of the project's spec
//! (`specs/test-proxy-protocol.md`, section 11): routing by
//! `x-recording-mode`; `/Record/Start|Stop`, `/Playback/Start|Stop` (in
//! memory and recording files), `/Admin/IsAlive`, `/Admin/SetMatcher`
//! (`BodilessMatcher`, `HeaderlessMatcher`, `CustomDefaultMatcher`),
//! `/Admin/Reset`; record forwarding to `http://` services (redirects
//! followed); playback with the default matcher and `x-recording-remove`;
//! the default transforms; the `Authorization` sanitizer; gzip bodies
//! stored decompressed; the error responses of the spec's section 7.
//! HTTP/1.1 only.
//!
//! ```no_run
//! let proxy = test_proxy::TestProxy::start(test_proxy::Config::loopback(0)).unwrap();
//! println!("proxy at {}", proxy.urls()[0]); // http://127.0.0.1:PORT
//! let counts = proxy.sessions(); // what is recorded / playing back now
//! # let _ = counts;
//! proxy.stop();
//! ```

#![deny(missing_docs)]

mod codec;
mod error;
mod listen;
mod matcher;
mod recording;
mod service;
mod store;
mod tls;

pub use error::ProxyError;
pub use listen::{Config, ListenUrl, TestProxy};
pub use matcher::Matcher;
pub use recording::{Entry, Headers, Recording};
pub use store::SessionCounts;
pub use tls::{Certificate, CertificateAndKey};

/// Encodings the protocol uses, for clients and tests.
pub mod encoding {
    pub use crate::codec::{base64_decode, base64_encode, gunzip, gzip};
}
