//! The storage blob perf runner as a plain binary (`storage-blob-perf
//! UploadTest --size 1024`): what the end-to-end tests of this package
//! start. PerfAutomation builds the `perf` bench of `storage-blob-perf`
//! instead, the same runner.

fn main() {
    storage_blob_perf::main()
}
