//! Azurite, started per test: the pinned npm install in `.ci/.azurite`
//! (`bash scripts/install-azurite.sh`), or `AZURITE_BLOB`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub use perfstress_testkit::*;
use storage_blob_perf::config::{DEVELOPMENT_ACCOUNT, DEVELOPMENT_KEY, account_sas};

/// The variables the suite reads, removed from every run's environment
/// (a developer's real account must never be used by a test).
pub const SUITE_VARIABLES: [&str; 2] = [
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_NAME",
];

/// The repository's root.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// A run of the suite's runner, no arguments yet, with none of the
/// suite's variables set.
pub fn runner() -> Run {
    let mut run = Run::new(env!("CARGO_BIN_EXE_storage-blob-perf"));
    for name in SUITE_VARIABLES {
        run = run.env_remove(name);
    }
    run
}

/// A run of `test` (see [`runner`]).
pub fn perf(test: &str) -> Run {
    runner().arg(test)
}

/// The `azurite-blob` executable.
fn azurite_blob() -> PathBuf {
    if let Some(path) = std::env::var_os("AZURITE_BLOB") {
        return path.into();
    }
    let path = repository().join(".ci/.azurite/node_modules/.bin/azurite-blob");
    assert!(
        path.exists(),
        "Azurite is not installed at {}: run `bash scripts/install-azurite.sh` (npm install of the \
         pinned version; scripts/test.sh and .ci/run do it), or set AZURITE_BLOB to an \
         azurite-blob executable",
        path.display()
    );
    path
}

/// A running Azurite blob service on 127.0.0.1, in memory; killed on drop
/// (and by the kernel if the test process dies first).
pub struct Azurite {
    child: Child,
    port: u16,
    _directory: TempDir,
}

impl Azurite {
    /// Starts Azurite on a free port and waits until it listens.
    pub fn start() -> Azurite {
        let directory = TempDir::new("azurite");
        let mut command = Command::new(azurite_blob());
        command
            .args(["--blobHost", "127.0.0.1", "--blobPort", "0"])
            .args(["--inMemoryPersistence", "--disableTelemetry"])
            .current_dir(directory.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command.spawn().unwrap_or_else(|error| {
            panic!("starting Azurite ({}): {error}", azurite_blob().display())
        });
        let (lines, received) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = lines.send(line);
            }
        });
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        const READY: &str = "successfully listens on http://127.0.0.1:";
        let mut seen = String::new();
        let port = loop {
            match received.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(rest) = line.split(READY).nth(1) {
                        break rest.trim().parse::<u16>().expect("Azurite's port");
                    }
                    seen.push_str(&line);
                    seen.push('\n');
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "Azurite did not start within 30 s\n--- stdout ---\n{seen}--- stderr ---\n{}",
                        stderr.join().unwrap_or_default()
                    );
                }
            }
        };
        let azurite = Azurite {
            child,
            port,
            _directory: directory,
        };
        // It listens; it also answers (the containers of a new one: none).
        assert_eq!(azurite.containers(), Vec::<String>::new());
        azurite
    }

    /// The blob endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{DEVELOPMENT_ACCOUNT}", self.port)
    }

    /// A connection string for this Azurite (its well-known account).
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={DEVELOPMENT_ACCOUNT};AccountKey={DEVELOPMENT_KEY};BlobEndpoint={};",
            self.endpoint()
        )
    }

    /// A run of `test` against this Azurite.
    pub fn perf(&self, test: &str) -> Run {
        perf(test).env("AZURE_STORAGE_CONNECTION_STRING", self.connection_string())
    }

    /// One request with an account SAS; the status code and body.
    fn request(&self, method: &str, path: &str, query: &str) -> (u16, String) {
        let sas =
            account_sas(DEVELOPMENT_ACCOUNT, DEVELOPMENT_KEY, "2099-01-01T00:00:00Z").expect("SAS");
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to Azurite");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "{method} /{DEVELOPMENT_ACCOUNT}{path}?{query}{sas} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             x-ms-version: 2025-11-05\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .expect("send");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read the response");
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("an HTTP response: {response}"));
        (status, response)
    }

    /// The names of every container of the account.
    pub fn containers(&self) -> Vec<String> {
        let (status, body) = self.request("GET", "", "comp=list&");
        assert_eq!(status, 200, "listing containers: {body}");
        body.split("<Name>")
            .skip(1)
            .filter_map(|part| part.split("</Name>").next())
            .map(str::to_owned)
            .collect()
    }

    /// Deletes one blob (to make a running download fail).
    pub fn delete_blob(&self, container: &str, blob: &str) {
        let (status, body) = self.request("DELETE", &format!("/{container}/{blob}"), "");
        assert_eq!(status, 202, "deleting {container}/{blob}: {body}");
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
