//! A single-operation test ([`PerfTest`]): every run is one operation.
//!
//! `UploadTest` "uploads" a body of `--size` random bytes per operation into
//! a [`WriteStream`], which stands in for the service, so it runs against
//! nothing external. It shows every hook and what each one is for.
//!
//! ```sh
//! cargo run -p perfstress --example single                   # lists the test
//! cargo run -p perfstress --example single -- UploadTest --size 1048576 -p 2 -d 5
//! cargo run -p perfstress --example single -- UploadTest --sync -d 5
//! cargo run -p perfstress --example single -- UploadTest --help
//! ```

use perfstress::{
    AsyncRandomStream, Error, ErrorKind, PerfTest, RandomStream, Result, ResultExt, TestContext,
    WriteStream,
};

/// Options of [`UploadTest`]: a `clap::Args` type; each field is an option
/// shown by `UploadTest --help`.
#[derive(clap::Args, Clone, Debug)]
pub struct UploadOptions {
    /// Size of each upload in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10240)]
    size: u64,
}

/// One instance per parallel index. Hooks get no context, so `new` copies
/// what they need (the parallel index, the options) into the instance.
pub struct UploadTest {
    parallel_index: usize,
    size: u64,
    /// The body of `run_async`, rewound per operation; never held in memory.
    body: AsyncRandomStream,
    /// The body of `run_sync`.
    sync_body: RandomStream,
    /// Stands in for the service: counts and discards what it receives.
    service: WriteStream,
}

/// Uploads --size random bytes per operation into an in-memory sink.
#[perfstress::test]
impl PerfTest for UploadTest {
    type Options = UploadOptions;

    /// Creates the instance (build clients here). A `Usage` error is a bad
    /// command line: the run exits 2.
    async fn new(ctx: &TestContext<UploadOptions>) -> Result<Self> {
        let size = ctx.options().size;
        if size == 0 {
            return Err(Error::new(ErrorKind::Usage, "--size must be at least 1"));
        }
        Ok(UploadTest {
            parallel_index: ctx.parallel_index(),
            size,
            body: AsyncRandomStream::new(size),
            sync_body: RandomStream::new(size),
            service: WriteStream::new(),
        })
    }

    /// Once per process, on its first instance, after every instance of the
    /// process was created: create what all instances share (a container).
    async fn global_setup(&mut self) -> Result<()> {
        eprintln!("global_setup on parallel index {}", self.parallel_index);
        Ok(())
    }

    /// On every instance, after `global_setup`.
    async fn setup(&mut self) -> Result<()> {
        self.service.reset();
        Ok(())
    }

    /// With `--sync`: one operation on the instance's own OS thread.
    fn run_sync(&mut self) -> Result<()> {
        self.sync_body.reset();
        let sent =
            std::io::copy(&mut self.sync_body, &mut self.service).context("uploading the body")?;
        check_length(sent, self.size)
    }

    /// Without `--sync`: one operation as a tokio task.
    async fn run_async(&mut self) -> Result<()> {
        self.body.reset();
        let sent = tokio::io::copy(&mut self.body, &mut self.service)
            .await
            .context("uploading the body")?;
        check_length(sent, self.size)
    }

    /// On every instance after the timed run, also after a failure or
    /// Ctrl-C, so it must tolerate a setup that did not run or finish.
    /// Skipped with `--no-cleanup`.
    async fn cleanup(&mut self) -> Result<()> {
        Ok(())
    }

    /// Once per process, on its first instance, after every `cleanup`
    /// (delete the container). Skipped with `--no-cleanup`.
    async fn global_cleanup(&mut self) -> Result<()> {
        eprintln!(
            "global_cleanup on parallel index {}: {} bytes uploaded by this instance",
            self.parallel_index,
            self.service.written()
        );
        Ok(())
    }

    /// Last, on every instance, even with `--no-cleanup`: release clients.
    async fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

fn check_length(sent: u64, size: u64) -> Result<()> {
    if sent != size {
        return Err(Error::msg(format!("sent {sent} bytes instead of {size}")));
    }
    Ok(())
}

fn main() {
    perfstress::main()
}
