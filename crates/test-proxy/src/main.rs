//! `test-proxy`: the record/playback server, started as the Azure SDK's CI
//! scripts start the real one:
//!
//! ```text
//! test-proxy                                   # http://localhost:5000
//! test-proxy --urls "http://127.0.0.1:0"       # a free port
//! test-proxy start -u --storage-location . -- --urls "http://localhost:5000"
//! ASPNETCORE_URLS=http://127.0.0.1:9000 test-proxy
//! test-proxy --urls "http://127.0.0.1:5000;https://127.0.0.1:5001"   # self-signed
//! test-proxy --urls https://localhost:5001 --certificate cert.pem --certificate-key key.pem
//! ```
//!
//! Prints `Now listening on: URL` per listener, then serves until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use test_proxy::{Certificate, Config, TestProxy};

/// Kestrel's certificate settings, as the real proxy is given its
/// certificate (`ASPNETCORE_Kestrel__Certificates__Default__Path`, with
/// `__KeyPath` for PEM or `__Password` for PFX).
const KESTREL_CERTIFICATE: &str = "ASPNETCORE_Kestrel__Certificates__Default__Path";
const KESTREL_KEY: &str = "ASPNETCORE_Kestrel__Certificates__Default__KeyPath";

/// A record/playback server compatible with the Azure SDK test proxy.
#[derive(Parser, Debug)]
#[command(name = "test-proxy", version, about)]
struct Cli {
    /// `start` (the real proxy's verb; optional here).
    #[arg(value_parser = ["start"])]
    verb: Option<String>,

    /// Listeners, `;`-separated (default `http://localhost:5000`, or
    /// `ASPNETCORE_URLS`).
    #[arg(long, value_name = "URLS")]
    urls: Option<String>,

    /// Where relative recording file paths are resolved (default: the
    /// working directory).
    #[arg(short = 'l', long, value_name = "PATH")]
    storage_location: Option<PathBuf>,

    /// Accepted for compatibility (the real proxy's "universal" output).
    #[arg(short = 'u', long)]
    universal: bool,

    /// Allow insecure upstream SSL certs: record mode accepts any
    /// certificate of an https:// service (the real proxy's `--insecure`).
    #[arg(short = 'i', long)]
    insecure: bool,

    /// The PEM certificate (chain) the https:// listeners serve (default:
    /// ASPNETCORE_Kestrel__Certificates__Default__Path, else a self-signed
    /// certificate for localhost generated at start-up).
    #[arg(long, value_name = "PEM")]
    certificate: Option<PathBuf>,

    /// The PEM private key of --certificate (default:
    /// ASPNETCORE_Kestrel__Certificates__Default__KeyPath, else the
    /// certificate's own file).
    #[arg(long, value_name = "PEM")]
    certificate_key: Option<PathBuf>,

    /// Threads serving requests (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// ASP.NET arguments after `--` (`-- --urls "..."`).
    #[arg(last = true)]
    aspnet: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut urls = cli.urls.clone();
    let mut rest = cli.aspnet.iter();
    while let Some(arg) = rest.next() {
        if let Some(value) = arg.strip_prefix("--urls=") {
            urls = Some(value.to_owned());
        } else if arg == "--urls" {
            match rest.next() {
                Some(value) => urls = Some(value.clone()),
                None => {
                    return usage("--urls needs a value, e.g. --urls \"http://127.0.0.1:5000\"");
                }
            }
        } else {
            return usage(&format!(
                "unknown argument after --: '{arg}' (only --urls is understood)"
            ));
        }
    }
    let urls = urls
        .or_else(|| std::env::var("ASPNETCORE_URLS").ok())
        .unwrap_or_else(|| "http://localhost:5000".to_owned());
    let mut config = Config::loopback(0);
    config.urls = match Config::parse_urls(&urls) {
        Ok(urls) => urls,
        Err(error) => return usage(&error),
    };
    if let Some(path) = cli.storage_location {
        config.storage_location = path;
    }
    if let Some(threads) = cli.threads {
        config.threads = threads.max(1);
    }
    config.insecure_upstream = cli.insecure;
    let env_path = |name: &str| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    let certificate = cli.certificate.or_else(|| env_path(KESTREL_CERTIFICATE));
    let key = cli.certificate_key.or_else(|| env_path(KESTREL_KEY));
    config.certificate = match (certificate, key) {
        (Some(certificate), key) => Certificate::Pem {
            key: key.unwrap_or_else(|| certificate.clone()),
            certificate,
        },
        (None, Some(_)) => {
            return usage(
                "--certificate-key needs --certificate (the PEM certificate it belongs to)",
            );
        }
        (None, None) => Certificate::SelfSigned,
    };
    let proxy = match TestProxy::start(config) {
        Ok(proxy) => proxy,
        Err(error) => {
            eprintln!("error: cannot start the test proxy on {urls}: {error}");
            return ExitCode::FAILURE;
        }
    };
    for url in proxy.urls() {
        println!("Now listening on: {url}");
    }
    println!("Application started. Press Ctrl+C to shut down.");
    proxy.run_until_signal();
    ExitCode::SUCCESS
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
