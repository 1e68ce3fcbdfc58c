//! HTTP transport tests: the cost of each HTTP client Rust SDKs build on,
//! before an SDK adds anything. Each GETs (or PUTs) `--url`, or, without
//! one, an embedded loopback server that the test starts in its global
//! setup and stops in its global cleanup, so they run anywhere with no
//! setup.
//!
//! | test | client | variants |
//! |---|---|---|
//! | [`HttpGetTest`] | hyper's pooled client (`hyper-util` `legacy::Client`) | async |
//! | [`ReqwestGetTest`] | `reqwest::Client` / `reqwest::blocking::Client` | async, sync |
//! | [`UreqGetTest`] | `ureq::Agent` | sync |
//! | [`RawTcpGetTest`] | a fixed request on a raw TCP stream: the lower bound | async, sync |
//! | `AzureCoreGetTest` (feature `azure-core`) | the `azure_core` HTTP pipeline (default policies, reqwest) | async |
//! | [`HttpPutTest`] | hyper's pooled client, streamed [`perfstress::AsyncRandomStream`] body | async |

#[cfg(feature = "azure-core")]
mod azure_core_pipeline;
mod hyper_client;
mod options;
mod raw_tcp;
mod reqwest_client;
mod server;
mod target;
mod upload;
mod ureq_client;

#[cfg(feature = "azure-core")]
pub use azure_core_pipeline::AzureCoreGetTest;
pub use hyper_client::{HttpGetOptions, HttpGetTest};
pub use options::{HttpOptions, HttpUrl};
pub use raw_tcp::RawTcpGetTest;
pub use reqwest_client::ReqwestGetTest;
pub use server::{EmbeddedServer, ServedTotals};
pub use upload::HttpPutTest;
pub use ureq_client::UreqGetTest;
