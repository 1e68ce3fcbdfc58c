//! `UploadTest`: uploads a block blob of `--size` bytes per operation.

use azure_storage_blob::BlobClient;
use perfstress::{AsyncRandomStream, PerfTest, Result, TestContext};

use crate::base::{ContainerBase, StorageOptions};

/// `UploadTest`'s options.
#[derive(clap::Args, Clone, Debug)]
pub struct UploadOptions {
    #[command(flatten)]
    storage: StorageOptions,
    /// Size of the blob in bytes.
    #[arg(long, default_value_t = 10240)]
    size: u64,
}

/// One instance: its own blob in the run's container, overwritten by
/// each operation.
pub struct UploadTest {
    base: ContainerBase,
    blob: BlobClient,
    size: u64,
}

/// Uploads a block blob of --size bytes (azure_storage_blob 1.x), its body streamed from the framework's random stream.
#[perfstress::test(sync_bridge, alias = "upload_blob", alias = "UploadBlob")]
impl PerfTest for UploadTest {
    type Options = UploadOptions;

    async fn new(ctx: &TestContext<UploadOptions>) -> Result<Self> {
        let base = ContainerBase::new(&ctx.options().storage, ctx.test_proxy())?;
        let blob = base
            .container
            .blob_client(&format!("upload-{}", ctx.parallel_index()));
        Ok(UploadTest {
            base,
            blob,
            size: ctx.options().size,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.base.global_setup().await
    }

    async fn run_async(&mut self) -> Result<()> {
        // A stream costs a few bytes whatever its length: the body is
        // served from the framework's shared random buffer, not a buffer
        // of --size bytes.
        let body = AsyncRandomStream::new(self.size);
        self.blob.upload(body.into(), None).await?;
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.base.global_cleanup().await
    }
}
