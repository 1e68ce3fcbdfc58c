//! `ListContainersTest`: lists `--num-containers` containers of the
//! account, made in global setup and deleted in global cleanup.

use azure_storage_blob::BlobServiceClient;
use azure_storage_blob::models::BlobServiceClientListContainersOptions;
use futures::{StreamExt, TryStreamExt, stream};
use perfstress::{Error, PerfTest, Result, ResultExt, TestContext};

use crate::base::{
    StorageOptions, create_container, delete_container, run_container_name, service_client,
};
use crate::list_blobs::SETUP_CONCURRENCY;

/// `ListContainersTest`'s options.
#[derive(clap::Args, Clone, Debug)]
pub struct ListContainersOptions {
    #[command(flatten)]
    storage: StorageOptions,
    /// Number of containers to create and list.
    #[arg(long, default_value_t = 100)]
    num_containers: usize,
}

/// One instance: a service client for the operations and one for the
/// hooks (see [`ContainerBase`](crate::base::ContainerBase) for why).
pub struct ListContainersTest {
    service: BlobServiceClient,
    hooks: BlobServiceClient,
    count: usize,
}

impl ListContainersTest {
    /// This process's containers share this prefix, so the listing sees
    /// them and no other (a real account has containers of its own).
    fn prefix() -> String {
        format!("{}-", run_container_name())
    }

    /// The names of the existing containers of this process.
    async fn listed(&self) -> Result<Vec<String>> {
        let options = BlobServiceClientListContainersOptions {
            prefix: Some(Self::prefix()),
            ..Default::default()
        };
        let mut containers = self.hooks.list_containers(Some(options))?;
        let mut names = Vec::new();
        while let Some(container) = containers.try_next().await? {
            names.push(container.name.unwrap_or_default());
        }
        Ok(names)
    }
}

/// Lists --num-containers containers of the account (azure_storage_blob 1.x), page after page.
#[perfstress::test(sync_bridge, alias = "list_containers")]
impl PerfTest for ListContainersTest {
    type Options = ListContainersOptions;

    async fn new(ctx: &TestContext<ListContainersOptions>) -> Result<Self> {
        Ok(ListContainersTest {
            service: service_client(&ctx.options().storage, ctx.test_proxy())?,
            hooks: service_client(&ctx.options().storage, None)?,
            count: ctx.options().num_containers,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        let prefix = Self::prefix();
        let service = &self.hooks;
        stream::iter(0..self.count)
            .map(|index| {
                let name = format!("{prefix}{index:05}");
                async move { create_container(&service.blob_container_client(&name)).await }
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_for_each(|_| async { Ok(()) })
            .await
    }

    async fn run_async(&mut self) -> Result<()> {
        let options = BlobServiceClientListContainersOptions {
            prefix: Some(Self::prefix()),
            ..Default::default()
        };
        let mut containers = self.service.list_containers(Some(options))?;
        let mut listed = 0;
        while containers.try_next().await?.is_some() {
            listed += 1;
        }
        if listed != self.count {
            return Err(Error::msg(format!(
                "listed {listed} containers, expected {}",
                self.count
            )));
        }
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        // What exists (a setup may have stopped half-way), not 0..count.
        let names = self
            .listed()
            .await
            .context("listing the containers to delete")?;
        let service = &self.hooks;
        stream::iter(names)
            .map(
                |name| async move { delete_container(&service.blob_container_client(&name)).await },
            )
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_for_each(|_| async { Ok(()) })
            .await
    }
}
