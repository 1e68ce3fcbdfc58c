//! Where the server listens (`--urls`, `ASPNETCORE_URLS`) and the running
//! server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::service::{Shared, handle};
use crate::store::{SessionCounts, Store};
use crate::tls::{self, Certificate};

/// How long a client may take for its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// One listener: `http://HOST:PORT` or `https://HOST:PORT` (port 0 picks a
/// free one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenUrl {
    /// `https`: TLS with the configured [`Certificate`].
    pub https: bool,
    /// The host as given (`localhost`, `127.0.0.1`, `0.0.0.0`, `*`, `[::1]`).
    pub host: String,
    /// The port (0: any free port).
    pub port: u16,
}

impl ListenUrl {
    /// Parses `http://HOST[:PORT][/]` or `https://HOST[:PORT][/]`
    /// (ASP.NET's `--urls` entries; the default ports are 80 and 443).
    pub fn parse(text: &str) -> Result<ListenUrl, String> {
        let trimmed = text.trim().trim_end_matches('/');
        let Some((scheme, authority)) = trimmed.split_once("://") else {
            return Err(format!(
                "'{text}' is not a URL; expected e.g. http://127.0.0.1:5000"
            ));
        };
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return Err(format!("'{text}': expected an http:// or https:// URL")),
        };
        let default_port = if https { "443" } else { "80" };
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("'{text}': unclosed '['"))?;
            (
                host.to_owned(),
                after.strip_prefix(':').unwrap_or(default_port),
            )
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), port),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(format!("'{text}': no host"));
        }
        let port = port
            .parse()
            .map_err(|_| format!("'{text}': '{port}' is not a port"))?;
        Ok(ListenUrl { https, host, port })
    }

    fn address(&self) -> Result<IpAddr, String> {
        match self.host.as_str() {
            "localhost" => Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "*" | "+" => Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            other => other.parse().map_err(|_| {
                format!("cannot listen on '{other}': use an IP address, localhost or *")
            }),
        }
    }
}

/// How to run the server.
#[derive(Clone, Debug)]
pub struct Config {
    /// The listeners.
    pub urls: Vec<ListenUrl>,
    /// Where relative recording file paths are resolved
    /// (`--storage-location`; default the working directory).
    pub storage_location: PathBuf,
    /// Threads serving requests (default: the number of CPUs).
    pub threads: usize,
    /// What `https://` listeners serve (default: a self-signed certificate
    /// generated at start-up).
    pub certificate: Certificate,
    /// Record mode accepts any upstream certificate (the real proxy's
    /// `--insecure`); by default upstream certificates are checked against
    /// the system's roots.
    pub insecure_upstream: bool,
}

impl Config {
    /// One listener on `127.0.0.1:port`.
    pub fn loopback(port: u16) -> Config {
        Config {
            urls: vec![ListenUrl {
                https: false,
                host: "127.0.0.1".to_owned(),
                port,
            }],
            storage_location: std::env::current_dir().unwrap_or_default(),
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            certificate: Certificate::SelfSigned,
            insecure_upstream: false,
        }
    }

    /// Parses `--urls`' value: `;`-separated listener URLs.
    pub fn parse_urls(text: &str) -> Result<Vec<ListenUrl>, String> {
        let urls: Vec<ListenUrl> = text
            .split(';')
            .filter(|part| !part.trim().is_empty())
            .map(ListenUrl::parse)
            .collect::<Result<_, _>>()?;
        if urls.is_empty() {
            return Err("no listener URL given".to_owned());
        }
        Ok(urls)
    }
}

/// A running server; stops when dropped.
#[derive(Debug)]
pub struct TestProxy {
    urls: Vec<String>,
    addresses: Vec<SocketAddr>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
    certificate_der: Option<Vec<u8>>,
}

impl TestProxy {
    /// Binds every listener and starts serving on a runtime of its own.
    pub fn start(config: Config) -> std::io::Result<TestProxy> {
        let invalid =
            |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads.max(1))
            .thread_name("test-proxy")
            .enable_all()
            .build()?;
        let mut listeners = Vec::new();
        let mut urls = Vec::new();
        let mut addresses = Vec::new();
        let (acceptor, certificate_der) = if config.urls.iter().any(|url| url.https) {
            let (server, served) = tls::listener_config(&config.certificate)?;
            (Some(TlsAcceptor::from(server)), Some(served))
        } else {
            (None, None)
        };
        for url in &config.urls {
            let ip = url.address().map_err(invalid)?;
            let listener = std::net::TcpListener::bind((ip, url.port))?;
            listener.set_nonblocking(true)?;
            let address = listener.local_addr()?;
            let host = if url.host.contains(':') && !url.host.starts_with('[') {
                format!("[{}]", url.host)
            } else {
                url.host.clone()
            };
            let scheme = if url.https { "https" } else { "http" };
            urls.push(format!("{scheme}://{host}:{}", address.port()));
            addresses.push(address);
            listeners.push((listener, url.https.then(|| acceptor.clone()).flatten()));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls::upstream_config(config.insecure_upstream)?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let upstream = {
            let _guard = runtime.enter();
            Client::builder(TokioExecutor::new()).build(connector)
        };
        let shared = Arc::new(Shared {
            store: Store::new(config.storage_location.clone()),
            upstream,
        });
        let (shutdown, stopping) = watch::channel(false);
        for (listener, acceptor) in listeners {
            let _guard = runtime.enter();
            let listener = TcpListener::from_std(listener)?;
            runtime.spawn(accept(listener, acceptor, shared.clone(), stopping.clone()));
        }
        Ok(TestProxy {
            urls,
            addresses,
            shared,
            shutdown,
            runtime: Some(runtime),
            certificate_der,
        })
    }

    /// The certificate the `https://` listeners serve (DER), if any; e.g.
    /// the generated one, for a client that trusts exactly it.
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.certificate_der.as_deref()
    }

    /// The listeners' URLs with their real ports, e.g. `http://127.0.0.1:5000`.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The listeners' addresses.
    pub fn addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    /// How many sessions exist now.
    pub fn sessions(&self) -> SessionCounts {
        self.shared.store.counts()
    }

    /// The control calls so far, in order, e.g. `record/start ID`,
    /// `playback/start ID -> NEW`, `playback/stop NEW purge`.
    pub fn control_log(&self) -> Vec<String> {
        self.shared.store.log_entries()
    }

    /// Requests forwarded upstream (record mode) so far.
    pub fn recorded_requests(&self) -> u64 {
        self.shared.store.counters.recorded.load(Ordering::Relaxed)
    }

    /// Requests answered from a recording so far.
    pub fn played_back_requests(&self) -> u64 {
        self.shared
            .store
            .counters
            .played_back
            .load(Ordering::Relaxed)
    }

    /// Playback requests that matched no entry so far.
    pub fn mismatches(&self) -> u64 {
        self.shared
            .store
            .counters
            .mismatches
            .load(Ordering::Relaxed)
    }

    /// Blocks until Ctrl-C (or SIGTERM), then stops.
    pub fn run_until_signal(self) {
        if let Some(runtime) = &self.runtime {
            runtime.block_on(async {
                #[cfg(unix)]
                {
                    let mut terminate =
                        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                            .ok();
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        () = async {
                            match terminate.as_mut() {
                                Some(signal) => { signal.recv().await; }
                                None => std::future::pending().await,
                            }
                        } => {}
                    }
                }
                #[cfg(not(unix))]
                let _ = tokio::signal::ctrl_c().await;
            });
        }
        self.stop();
    }

    /// Stops serving: closes the listeners and drops open connections.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(runtime) = self.runtime.take() {
            // Stopped from async code (a test's runtime): no blocking there.
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                runtime.shutdown_timeout(Duration::from_secs(1));
            }
        }
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

async fn accept(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.changed() => return,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors and the like: wait a little.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let stopping = stopping.clone();
        match &acceptor {
            None => {
                tokio::spawn(serve(stream, shared, stopping));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A failed or stalled handshake closes this connection only.
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        serve(stream, shared, stopping).await;
                    }
                });
            }
        }
    }
}

/// Serves one connection (plain or TLS) until it closes or the server stops.
async fn serve<S>(stream: S, shared: Arc<Shared>, mut stopping: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| handle(shared.clone(), request));
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stopping.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(1), connection).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aspnet_urls() {
        let urls = Config::parse_urls("http://localhost:5000;http://127.0.0.1:0/").unwrap();
        assert_eq!(
            urls[0],
            ListenUrl {
                https: false,
                host: "localhost".into(),
                port: 5000
            }
        );
        assert_eq!(urls[1].port, 0);
        assert_eq!(ListenUrl::parse("http://[::1]:9000").unwrap().host, "::1");
        let https = ListenUrl::parse("https://localhost:5001").unwrap();
        assert!(https.https && https.port == 5001);
        assert_eq!(ListenUrl::parse("https://localhost").unwrap().port, 443);
        assert!(ListenUrl::parse("ftp://localhost").is_err());
        assert!(ListenUrl::parse("localhost:5000").is_err());
        assert!(ListenUrl::parse("http://h:x").is_err());
        assert!(Config::parse_urls(";").is_err());
    }
}
