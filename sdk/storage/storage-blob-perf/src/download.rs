//! `DownloadTest` (body drained into the framework's write sink) and
//! `DownloadIntoTest` (into a preallocated buffer): one blob of `--size`
//! bytes, uploaded in global setup.

use azure_storage_blob::BlobClient;
use perfstress::{AsyncRandomStream, Error, PerfTest, Result, ResultExt, TestContext, WriteStream};

use crate::base::{ContainerBase, StorageOptions};

/// The download tests' options.
#[derive(clap::Args, Clone, Debug)]
pub struct DownloadOptions {
    #[command(flatten)]
    storage: StorageOptions,
    /// Size of the blob in bytes.
    #[arg(long, default_value_t = 10240)]
    size: u64,
}

/// The blob every instance of a process downloads.
const BLOB_NAME: &str = "download";

/// What both download tests share: the container and the blob.
struct DownloadBase {
    base: ContainerBase,
    blob: BlobClient,
    size: u64,
}

impl DownloadBase {
    fn new(ctx: &TestContext<DownloadOptions>) -> Result<Self> {
        let options = ctx.options();
        let base = ContainerBase::new(&options.storage, ctx.test_proxy())?;
        let blob = base.container.blob_client(BLOB_NAME);
        Ok(DownloadBase {
            base,
            blob,
            size: options.size,
        })
    }

    async fn global_setup(&self) -> Result<()> {
        self.base.global_setup().await?;
        self.base
            .hooks
            .blob_client(BLOB_NAME)
            .upload(AsyncRandomStream::new(self.size).into(), None)
            .await
            .context("uploading the blob to download")?;
        Ok(())
    }

    fn check(&self, downloaded: u64) -> Result<()> {
        if downloaded == self.size {
            Ok(())
        } else {
            Err(Error::msg(format!(
                "downloaded {downloaded} bytes of a {}-byte blob",
                self.size
            )))
        }
    }
}

/// One instance: a client and a write sink that counts and discards.
pub struct DownloadTest {
    download: DownloadBase,
    sink: WriteStream,
}

/// Downloads a blob of --size bytes (azure_storage_blob 1.x), the body drained into the framework's write sink.
#[perfstress::test(sync_bridge, alias = "download_blob", alias = "DownloadBlob")]
impl PerfTest for DownloadTest {
    type Options = DownloadOptions;

    async fn new(ctx: &TestContext<DownloadOptions>) -> Result<Self> {
        Ok(DownloadTest {
            download: DownloadBase::new(ctx)?,
            sink: WriteStream::new(),
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.download.global_setup().await
    }

    async fn run_async(&mut self) -> Result<()> {
        let response = self.download.blob.download(None).await?;
        self.sink.reset();
        let downloaded = self.sink.drain(response.body).await?;
        self.download.check(downloaded)
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.download.base.global_cleanup().await
    }
}

/// One instance: a client and a buffer of --size bytes, allocated once.
pub struct DownloadIntoTest {
    download: DownloadBase,
    buffer: Vec<u8>,
}

/// Downloads a blob of --size bytes (azure_storage_blob 1.x) into a preallocated buffer (download_into).
#[perfstress::test(sync_bridge, alias = "download_into_blob", alias = "DownloadIntoBlob")]
impl PerfTest for DownloadIntoTest {
    type Options = DownloadOptions;

    async fn new(ctx: &TestContext<DownloadOptions>) -> Result<Self> {
        let size = usize::try_from(ctx.options().size).map_err(|_| {
            Error::new(
                perfstress::ErrorKind::Usage,
                "--size does not fit in memory",
            )
        })?;
        Ok(DownloadIntoTest {
            download: DownloadBase::new(ctx)?,
            buffer: vec![0; size],
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.download.global_setup().await
    }

    async fn run_async(&mut self) -> Result<()> {
        let result = self
            .download
            .blob
            .download_into(&mut self.buffer, None)
            .await?;
        self.download.check(result.len as u64)
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.download.base.global_cleanup().await
    }
}
