//! What every 1.x test shares (the seed's `_StorageStreamTestBase`): the
//! common options, the client, the run's container, and the tolerant
//! create and delete the hooks use.

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use azure_core::credentials::TokenCredential;
use azure_core::http::StatusCode;
use azure_storage_blob::{BlobContainerClient, BlobServiceClient, BlobServiceClientOptions};
use perfstress::test_proxy::TestProxyRoute;
use perfstress::{Error, ErrorKind, Result, ResultExt};

use crate::config::{Account, Auth};

/// The options every storage test has.
#[derive(clap::Args, Clone, Debug)]
pub struct StorageOptions {
    /// The blob service endpoint of a real account, used with a token
    /// credential (azure_identity's developer tools: `az login`, `azd auth
    /// login`); without it, AZURE_STORAGE_CONNECTION_STRING or
    /// AZURE_STORAGE_ACCOUNT_NAME.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

/// The blob service client of the configured account: with the SAS (its
/// own, or one signed with its key) in the URL, or with a token credential.
/// With `route` (the instance's test proxy, `-x`), its requests go through
/// the route's per-retry policy: recorded, then played back.
pub fn service_client(
    options: &StorageOptions,
    route: Option<&TestProxyRoute>,
) -> Result<BlobServiceClient> {
    let account = Account::from_environment(options.endpoint.as_deref())?;
    let (url, credential) = match account.auth {
        Auth::Token => {
            let credential: Arc<dyn TokenCredential> =
                azure_identity::DeveloperToolsCredential::new(None)
                    .context("creating the token credential (azure_identity)")?;
            (account.blob_endpoint.clone(), Some(credential))
        }
        Auth::Key(_) | Auth::Sas(_) => (
            account
                .sas_endpoint()?
                .expect("a key or SAS gives a SAS URL"),
            None,
        ),
    };
    let mut client_options = BlobServiceClientOptions::default();
    if let Some(route) = route {
        client_options
            .client_options
            .per_try_policies
            .push(Arc::new(route.policy()));
    }
    BlobServiceClient::new(url, credential, Some(client_options))
        .map_err(|error| Error::new(ErrorKind::Usage, format!("the blob endpoint: {error}")))
}

/// The name of this process's container: `perfstress-PID-HEX`, the same
/// for every instance of the process (each worker process has its own, so
/// `global_setup`, which runs once per process, never races another).
pub fn run_container_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.subsec_nanos() ^ since.as_secs() as u32)
            .unwrap_or_default();
        format!("perfstress-{}-{nanos:08x}", std::process::id())
    })
}

/// Creates `container`, tolerating one that exists already.
pub async fn create_container(container: &BlobContainerClient) -> Result<()> {
    match container.create(None).await {
        Ok(_) => Ok(()),
        Err(error) if error.http_status() == Some(StatusCode::Conflict) => Ok(()),
        Err(error) => Err(Error::from(error))
            .with_context(|| format!("creating container {}", container_name(container))),
    }
}

/// Deletes `container`, tolerating one that does not exist (a setup that
/// never ran or stopped half-way).
pub async fn delete_container(container: &BlobContainerClient) -> Result<()> {
    match container.delete(None).await {
        Ok(_) => Ok(()),
        Err(error) if error.http_status() == Some(StatusCode::NotFound) => Ok(()),
        Err(error) => Err(Error::from(error))
            .with_context(|| format!("deleting container {}", container_name(container))),
    }
}

fn container_name(container: &BlobContainerClient) -> String {
    container
        .url()
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or_default()
        .to_owned()
}

/// The blob test base: the options, the clients and this run's
/// container. `global_setup` creates the container, `global_cleanup`
/// deletes it (and with it every blob the test made).
///
/// The hooks and the operations use clients of their own (two HTTP
/// connection pools): under `--sync` the sync bridge drives each
/// operation on the instance's own current-thread runtime, where the
/// operation client's pooled connections then live, and a hook on the
/// framework's runtime that reused one of them would wait forever for a
/// runtime that nothing drives between operations.
pub struct ContainerBase {
    /// The service client of the operations.
    pub service: BlobServiceClient,
    /// This process's container, through the operations' client.
    pub container: BlobContainerClient,
    /// This process's container, through the hooks' client.
    pub hooks: BlobContainerClient,
}

impl ContainerBase {
    /// The clients and container for `options`; the operations' client
    /// goes through `route` (the instance's test proxy) if given, the
    /// hooks' never (setup is not recorded).
    pub fn new(options: &StorageOptions, route: Option<&TestProxyRoute>) -> Result<Self> {
        let service = service_client(options, route)?;
        let container = service.blob_container_client(run_container_name());
        let hooks = service_client(options, None)?.blob_container_client(run_container_name());
        Ok(ContainerBase {
            service,
            container,
            hooks,
        })
    }

    /// Creates the container.
    pub async fn global_setup(&self) -> Result<()> {
        create_container(&self.hooks).await
    }

    /// Deletes the container.
    pub async fn global_cleanup(&self) -> Result<()> {
        delete_container(&self.hooks).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_are_valid_and_stable_in_a_process() {
        let name = run_container_name();
        assert_eq!(name, run_container_name());
        assert!(name.len() <= 63 - 6, "{name}: room for a -NNNNN suffix");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }
}
