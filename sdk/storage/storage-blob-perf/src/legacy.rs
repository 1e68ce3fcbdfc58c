//! Legacy ("T1") tests on the older community crate `azure_storage_blobs`
//! (0.21, with its own `azure_core` 0.21), for a side-by-side comparison
//! with the 1.x tests in the same run: `LegacyUploadTest`,
//! `LegacyDownloadTest`, `LegacyListBlobsTest`. They take the same
//! connection string (`AZURE_STORAGE_CONNECTION_STRING`, an account key
//! or a SAS; the legacy crate signs shared-key requests itself); a token
//! credential is not offered for them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use azure_core_legacy::{Body, SeekableStream, StatusCode};
use azure_storage::{CloudLocation, StorageCredentials};
use azure_storage_blobs::prelude::{BlobClient, ClientBuilder, ContainerClient};
use futures::{StreamExt, TryStreamExt, stream};
use perfstress::{
    AsyncRandomStream, Error, ErrorKind, PerfTest, Result, ResultExt, TestContext, WriteStream,
};

use crate::base::{StorageOptions, run_container_name};
use crate::config::{Account, Auth};
use crate::list_blobs::SETUP_CONCURRENCY;

/// The container client of this process's container (the same name the
/// 1.x tests use), through the legacy crate.
fn container_client(options: &StorageOptions) -> Result<ContainerClient> {
    let account = Account::from_environment(options.endpoint.as_deref())?;
    let credentials = match &account.auth {
        Auth::Key(key) => StorageCredentials::access_key(account.name.clone(), key.clone()),
        Auth::Sas(sas) => StorageCredentials::sas_token(sas.as_str()).map_err(|_| {
            Error::new(
                ErrorKind::Usage,
                "the connection string's SharedAccessSignature is not a SAS",
            )
        })?,
        Auth::Token => {
            return Err(Error::new(
                ErrorKind::Usage,
                "the legacy tests need AZURE_STORAGE_CONNECTION_STRING (an account key or SAS); \
                 --endpoint and AZURE_STORAGE_ACCOUNT_NAME are for the 1.x tests",
            ));
        }
    };
    let location = CloudLocation::Custom {
        account: account.name.clone(),
        uri: account
            .blob_endpoint
            .as_str()
            .trim_end_matches('/')
            .to_owned(),
    };
    Ok(ClientBuilder::with_location(location, credentials).container_client(run_container_name()))
}

fn status(error: &azure_core_legacy::Error) -> Option<StatusCode> {
    error.as_http_error().map(|http| http.status())
}

async fn create_container(container: &ContainerClient) -> Result<()> {
    match container.create().await {
        Ok(()) => Ok(()),
        Err(error) if status(&error) == Some(StatusCode::Conflict) => Ok(()),
        Err(error) => Err(Error::from(error))
            .with_context(|| format!("creating container {}", container.container_name())),
    }
}

async fn delete_container(container: &ContainerClient) -> Result<()> {
    match container.delete().await {
        Ok(()) => Ok(()),
        Err(error) if status(&error) == Some(StatusCode::NotFound) => Ok(()),
        Err(error) => Err(Error::from(error))
            .with_context(|| format!("deleting container {}", container.container_name())),
    }
}

/// The framework's random stream as the legacy crate's seekable request
/// body (its own `SeekableStream` trait, of azure_core 0.21).
#[derive(Clone, Debug)]
struct LegacyBody(AsyncRandomStream);

impl futures::io::AsyncRead for LegacyBody {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        futures::io::AsyncRead::poll_read(Pin::new(&mut self.get_mut().0), cx, buf)
    }
}

#[async_trait::async_trait]
impl SeekableStream for LegacyBody {
    async fn reset(&mut self) -> azure_core_legacy::Result<()> {
        self.0.reset();
        Ok(())
    }

    fn len(&self) -> usize {
        self.0.len() as usize
    }
}

fn random_body(size: u64) -> Body {
    Body::from(Box::new(LegacyBody(AsyncRandomStream::new(size))) as Box<dyn SeekableStream>)
}

/// The legacy tests' options (as the 1.x tests').
#[derive(clap::Args, Clone, Debug)]
pub struct LegacySizeOptions {
    #[command(flatten)]
    storage: StorageOptions,
    /// Size of the blob in bytes.
    #[arg(long, default_value_t = 10240)]
    size: u64,
}

/// One instance: its own blob, overwritten by each operation. (As in the
/// 1.x tests, the hooks' container client is not the operations' one:
/// see [`ContainerBase`](crate::base::ContainerBase).)
pub struct LegacyUploadTest {
    hooks: ContainerClient,
    blob: BlobClient,
    size: u64,
}

/// Uploads a block blob of --size bytes with the legacy azure_storage_blobs 0.21 (T1), streamed from the framework's random stream.
#[perfstress::test(sync_bridge)]
impl PerfTest for LegacyUploadTest {
    type Options = LegacySizeOptions;

    async fn new(ctx: &TestContext<LegacySizeOptions>) -> Result<Self> {
        let hooks = container_client(&ctx.options().storage)?;
        let blob = container_client(&ctx.options().storage)?
            .blob_client(format!("upload-{}", ctx.parallel_index()));
        Ok(LegacyUploadTest {
            hooks,
            blob,
            size: ctx.options().size,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        create_container(&self.hooks).await
    }

    async fn run_async(&mut self) -> Result<()> {
        self.blob.put_block_blob(random_body(self.size)).await?;
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        delete_container(&self.hooks).await
    }
}

/// One instance: a client and a write sink that counts and discards.
pub struct LegacyDownloadTest {
    hooks: ContainerClient,
    blob: BlobClient,
    size: u64,
    sink: WriteStream,
}

/// Downloads a blob of --size bytes with the legacy azure_storage_blobs 0.21 (T1), the body drained into the framework's write sink.
#[perfstress::test(sync_bridge)]
impl PerfTest for LegacyDownloadTest {
    type Options = LegacySizeOptions;

    async fn new(ctx: &TestContext<LegacySizeOptions>) -> Result<Self> {
        let hooks = container_client(&ctx.options().storage)?;
        let blob = container_client(&ctx.options().storage)?.blob_client("download");
        Ok(LegacyDownloadTest {
            hooks,
            blob,
            size: ctx.options().size,
            sink: WriteStream::new(),
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        create_container(&self.hooks).await?;
        self.hooks
            .blob_client("download")
            .put_block_blob(random_body(self.size))
            .await
            .context("uploading the blob to download")?;
        Ok(())
    }

    async fn run_async(&mut self) -> Result<()> {
        self.sink.reset();
        // Range requests of 16 MiB each (the crate's default chunk).
        let mut chunks = self.blob.get().into_stream();
        let mut downloaded = 0;
        while let Some(chunk) = chunks.try_next().await? {
            downloaded += self.sink.drain(chunk.data).await?;
        }
        if downloaded != self.size {
            return Err(Error::msg(format!(
                "downloaded {downloaded} bytes of a {}-byte blob",
                self.size
            )));
        }
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        delete_container(&self.hooks).await
    }
}

/// `LegacyListBlobsTest`'s options.
#[derive(clap::Args, Clone, Debug)]
pub struct LegacyListOptions {
    #[command(flatten)]
    storage: StorageOptions,
    /// Number of blobs in the container (each empty).
    #[arg(long, default_value_t = 100)]
    count: usize,
}

/// One instance: a client of the run's container.
pub struct LegacyListBlobsTest {
    container: ContainerClient,
    hooks: ContainerClient,
    count: usize,
}

/// Lists all blobs of a container of --count blobs with the legacy azure_storage_blobs 0.21 (T1).
#[perfstress::test(sync_bridge)]
impl PerfTest for LegacyListBlobsTest {
    type Options = LegacyListOptions;

    async fn new(ctx: &TestContext<LegacyListOptions>) -> Result<Self> {
        Ok(LegacyListBlobsTest {
            container: container_client(&ctx.options().storage)?,
            hooks: container_client(&ctx.options().storage)?,
            count: ctx.options().count,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        create_container(&self.hooks).await?;
        let container = &self.hooks;
        stream::iter(0..self.count)
            .map(|index| async move {
                container
                    .blob_client(format!("list-{index:06}"))
                    .put_block_blob(bytes::Bytes::new())
                    .await
                    .with_context(|| format!("uploading blob {index} of the list"))
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_for_each(|_| async { Ok(()) })
            .await
    }

    async fn run_async(&mut self) -> Result<()> {
        let mut pages = self.container.list_blobs().into_stream();
        let mut listed = 0;
        while let Some(page) = pages.try_next().await? {
            listed += page.blobs.blobs().count();
        }
        if listed != self.count {
            return Err(Error::msg(format!(
                "listed {listed} blobs, expected {}",
                self.count
            )));
        }
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        delete_container(&self.hooks).await
    }
}
