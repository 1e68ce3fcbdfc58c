//! `ListBlobsTest`: lists the `--count` blobs of a container, made in
//! global setup.

use futures::{StreamExt, TryStreamExt, stream};
use perfstress::{Error, PerfTest, Result, ResultExt, TestContext};

use crate::base::{ContainerBase, StorageOptions};

/// `ListBlobsTest`'s options.
#[derive(clap::Args, Clone, Debug)]
pub struct ListBlobsOptions {
    #[command(flatten)]
    storage: StorageOptions,
    /// Number of blobs in the container (each empty).
    #[arg(long, default_value_t = 100)]
    count: usize,
}

/// How many blobs global setup creates at once.
pub(crate) const SETUP_CONCURRENCY: usize = 16;

/// One instance: a client of the run's container.
pub struct ListBlobsTest {
    base: ContainerBase,
    count: usize,
}

/// Lists all blobs of a container of --count blobs (azure_storage_blob 1.x), page after page.
#[perfstress::test(sync_bridge, alias = "list_blob", alias = "ListBlob")]
impl PerfTest for ListBlobsTest {
    type Options = ListBlobsOptions;

    async fn new(ctx: &TestContext<ListBlobsOptions>) -> Result<Self> {
        Ok(ListBlobsTest {
            base: ContainerBase::new(&ctx.options().storage, ctx.test_proxy())?,
            count: ctx.options().count,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.base.global_setup().await?;
        let container = &self.base.hooks;
        stream::iter(0..self.count)
            .map(|index| async move {
                container
                    .blob_client(&format!("list-{index:06}"))
                    .upload(bytes::Bytes::new().into(), None)
                    .await
                    .with_context(|| format!("uploading blob {index} of the list"))
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_for_each(|_| async { Ok(()) })
            .await
    }

    async fn run_async(&mut self) -> Result<()> {
        let mut blobs = self.base.container.list_blobs(None)?;
        let mut listed = 0;
        while blobs.try_next().await?.is_some() {
            listed += 1;
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
        self.base.global_cleanup().await
    }
}
