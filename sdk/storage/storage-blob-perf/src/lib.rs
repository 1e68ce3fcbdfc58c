//! Perf tests of the Azure Storage blob crates, run by perfstress: the
//! official `azure_storage_blob` (1.x, "T2") and, with the `legacy`
//! feature (on by default), the older `azure_storage_blobs` (0.21, "T1")
//! for comparison in the same run.
//!
//! The package's one executable is its `perf` bench (`cargo bench -p
//! storage-blob-perf --bench perf -- UploadTest --size 1024`), as
//! PerfAutomation builds it; `sdk/storage/perf-tests.yml` names the tests.
//! Configuration is by environment (see `sdk/storage/README.md`):
//! `AZURE_STORAGE_CONNECTION_STRING` (`UseDevelopmentStorage=true` for
//! Azurite), or `--endpoint` / `AZURE_STORAGE_ACCOUNT_NAME` with a token
//! credential.

pub mod base;
pub mod config;
pub mod download;
#[cfg(feature = "legacy")]
pub mod legacy;
pub mod list_blobs;
pub mod list_containers;
pub mod upload;

/// The perf runner: every test of this package (`perfstress::main`).
pub fn main() {
    perfstress::main()
}
