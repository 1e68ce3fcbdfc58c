//! Where a transport test sends its requests: `--url`, or the process's
//! embedded server. Every transport test holds one `Target` and calls it
//! from the same three hooks.
//!
//! Global setup runs on the first instance of each process only, yet every
//! instance needs the URL: the first instance starts the embedded server
//! and takes a lease on it (`server::lease`), the server's URL is published
//! process-wide, and every instance reads it in `setup`, which the
//! framework runs after global setup. Global cleanup releases the lease and
//! so stops the server (dropping the instance would too, e.g. with
//! `--no-cleanup`).

use perfstress::{Error, ErrorKind, Result};

use super::options::{HttpOptions, HttpUrl};
use super::server::{self, ServerLease};

#[derive(Debug)]
pub(crate) struct Target {
    explicit: Option<HttpUrl>,
    size: u64,
    lease: Option<ServerLease>,
}

impl Target {
    pub(crate) fn new(options: &HttpOptions) -> Self {
        Target {
            explicit: options.url.clone(),
            size: options.size,
            lease: None,
        }
    }

    /// Global setup: starts the embedded server unless `--url` was given.
    pub(crate) fn global_setup(&mut self) -> Result<()> {
        if self.explicit.is_none() && self.lease.is_none() {
            let lease = server::lease(self.size).map_err(|error| {
                Error::with_source(ErrorKind::Test, "cannot start the embedded server", error)
            })?;
            self.lease = Some(lease);
        }
        Ok(())
    }

    /// Setup: the URL this instance sends to.
    pub(crate) fn url(&self) -> Result<HttpUrl> {
        if let Some(url) = &self.explicit {
            return Ok(url.clone());
        }
        let url = server::shared_url().ok_or_else(|| {
            Error::new(
                ErrorKind::Test,
                "the embedded server is not running (its global setup did not run); pass --url",
            )
        })?;
        HttpUrl::parse(&url).map_err(Error::msg)
    }

    /// Global cleanup: stops the embedded server if this instance started it.
    pub(crate) fn global_cleanup(&mut self) {
        self.lease = None;
    }
}
