//! The embedded HTTP/1.1 server the transport tests use when no `--url` is
//! given: loopback only, on a free port, on a runtime and thread of its own
//! so that serving does not take workers from the measured runtime.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long a stop waits for open connections to finish their request
/// before it drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the server counts; written by its connections, read by anyone.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    bytes_received: AtomicU64,
}

/// A running embedded server: `GET` (and `HEAD`) answer `200` with the
/// same `size`-byte body (one shared [`Bytes`], so serving copies nothing);
/// `PUT`/`POST` read the request body, count and discard it, and answer
/// `200` with an empty body; other methods get `405`. HTTP/1.1 with
/// keep-alive. Every request is counted as it arrives.
///
/// The tests start one per process through their global setup; it is public
/// so that other perf suites can measure a client against it too.
///
/// ```
/// let server = systemperf::EmbeddedServer::start(16).unwrap();
/// let url = server.url().to_owned(); // http://127.0.0.1:PORT/
/// assert!(url.starts_with("http://127.0.0.1:"));
/// let totals = server.stop();
/// assert_eq!(totals.requests, 0);
/// ```
#[derive(Debug)]
pub struct EmbeddedServer {
    address: SocketAddr,
    url: String,
    counters: Arc<Counters>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What an [`EmbeddedServer`] served over its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServedTotals {
    /// Requests answered (counted as each request arrives).
    pub requests: u64,
    /// Request body bytes received and discarded (uploads).
    pub bytes_received: u64,
}

impl EmbeddedServer {
    /// Starts a server on `127.0.0.1`, on a free port, whose responses to
    /// `GET` carry `size` bytes.
    pub fn start(size: u64) -> io::Result<Self> {
        let size = usize::try_from(size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "body size too large"))?;
        let body = perfstress::streams::get_random_bytes_shared(size);
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let (shutdown, shutdown_requested) = oneshot::channel();
        // One thread and a current-thread runtime, like a web server with
        // one worker: it never competes with the measured runtime's workers
        // for a tokio queue, only (unavoidably) for the CPU.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("embedded-http-server".to_owned())
            .spawn({
                let counters = counters.clone();
                move || {
                    runtime.block_on(async move {
                        match TcpListener::from_std(listener) {
                            Ok(listener) => {
                                serve(listener, body, counters, shutdown_requested).await
                            }
                            Err(error) => eprintln!("embedded server: cannot listen: {error}"),
                        }
                    });
                    // Dropping the runtime here cancels whatever connection
                    // outlived the grace period.
                }
            })?;
        Ok(EmbeddedServer {
            address,
            url: format!("http://{address}/"),
            counters,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The server's URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Requests served so far.
    pub fn requests_served(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets open requests finish (for up to 5 s), closes
    /// every connection, joins the server's thread and returns the totals.
    pub fn stop(mut self) -> ServedTotals {
        self.shut_down();
        self.totals()
    }

    fn totals(&self) -> ServedTotals {
        ServedTotals {
            requests: self.counters.requests.load(Ordering::Relaxed),
            bytes_received: self.counters.bytes_received.load(Ordering::Relaxed),
        }
    }

    fn shut_down(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The accept loop, until a shutdown is requested; then the graceful end.
async fn serve(
    listener: TcpListener,
    body: Bytes,
    counters: Arc<Counters>,
    mut shutdown_requested: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let http = hyper::server::conn::http1::Builder::new();
    loop {
        let stream = tokio::select! {
            biased;
            _ = &mut shutdown_requested => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: keep serving the
                // connections there are, try again shortly.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = {
            let (body, counters) = (body.clone(), counters.clone());
            hyper::service::service_fn(move |request| {
                respond(request, body.clone(), counters.clone())
            })
        };
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that resets its connection is not the server's failure.
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

async fn respond(
    request: Request<Incoming>,
    body: Bytes,
    counters: Arc<Counters>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    counters.requests.fetch_add(1, Ordering::Relaxed);
    if matches!(*request.method(), Method::PUT | Method::POST) {
        let mut incoming = request.into_body();
        let mut received = 0u64;
        while let Some(frame) = incoming.frame().await {
            if let Ok(data) = frame?.into_data() {
                received += data.len() as u64;
            }
        }
        counters
            .bytes_received
            .fetch_add(received, Ordering::Relaxed);
        return Ok(Response::new(Full::new(Bytes::new())));
    }
    if *request.method() == Method::HEAD || *request.method() == Method::GET {
        return Ok(Response::new(Full::new(body)));
    }
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    Ok(response)
}

/// The server the tests of this process share: started by the first global
/// setup, stopped when the last lease is released.
struct Shared {
    server: Option<EmbeddedServer>,
    size: u64,
    leases: usize,
}

static SHARED: Mutex<Shared> = Mutex::new(Shared {
    server: None,
    size: 0,
    leases: 0,
});

fn shared() -> MutexGuard<'static, Shared> {
    // A panic while holding the lock leaves consistent data (plain fields).
    SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A hold on the process's embedded server; the server stops, and prints
/// what it served, when the last lease is dropped.
#[derive(Debug)]
pub(crate) struct ServerLease(());

/// Starts the process's embedded server (or joins the running one) and
/// returns a lease on it.
pub(crate) fn lease(size: u64) -> io::Result<ServerLease> {
    let mut shared = shared();
    if shared.server.is_none() {
        let server = EmbeddedServer::start(size)?;
        crate::output::line(&format!(
            "embedded server listening on {} ({size}-byte responses)",
            server.url()
        ));
        shared.server = Some(server);
        shared.size = size;
    } else if shared.size != size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the embedded server already serves {} bytes, not {size}",
                shared.size
            ),
        ));
    }
    shared.leases += 1;
    Ok(ServerLease(()))
}

/// The URL of the process's embedded server, if one runs.
pub(crate) fn shared_url() -> Option<String> {
    shared()
        .server
        .as_ref()
        .map(|server| server.url().to_owned())
}

impl Drop for ServerLease {
    fn drop(&mut self) {
        let server = {
            let mut shared = shared();
            shared.leases -= 1;
            if shared.leases > 0 {
                return;
            }
            shared.server.take()
        };
        // Stopped outside the lock: the stop waits for connections.
        if let Some(server) = server {
            let totals = server.stop();
            // Integration tests compare this count with the reported operations.
            crate::output::line(&format!(
                "embedded server served {} requests ({} request body bytes received)",
                totals.requests, totals.bytes_received
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn get(address: SocketAddr, connection: &mut Option<std::net::TcpStream>) -> Vec<u8> {
        let stream =
            connection.get_or_insert_with(|| std::net::TcpStream::connect(address).unwrap());
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        let mut response = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = stream.read(&mut buffer).unwrap();
            assert!(read > 0, "connection closed");
            response.extend_from_slice(&buffer[..read]);
            if let Some(end) = response.windows(4).position(|window| window == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length: "))
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                if response.len() >= end + 4 + length {
                    return response[end + 4..].to_vec();
                }
            }
        }
    }

    #[test]
    fn serves_the_body_on_one_connection_and_counts() {
        let server = EmbeddedServer::start(100).unwrap();
        assert!(server.address().ip().is_loopback());
        let mut connection = None;
        for _ in 0..3 {
            assert_eq!(get(server.address(), &mut connection).len(), 100);
        }
        assert_eq!(server.requests_served(), 3);
        assert_eq!(
            server.stop(),
            ServedTotals {
                requests: 3,
                bytes_received: 0
            }
        );
    }

    #[test]
    fn stops_with_an_idle_connection_open() {
        let server = EmbeddedServer::start(1).unwrap();
        let mut connection = None;
        get(server.address(), &mut connection);
        let started = std::time::Instant::now();
        server.stop();
        assert!(
            started.elapsed() < SHUTDOWN_GRACE,
            "idle connections close at once"
        );
    }

    #[test]
    fn leases_share_one_server() {
        let first = lease(8).unwrap();
        let url = shared_url().unwrap();
        let second = lease(8).unwrap();
        assert_eq!(shared_url().unwrap(), url);
        assert!(lease(9).is_err());
        drop(first);
        assert_eq!(shared_url(), Some(url));
        drop(second);
        assert_eq!(shared_url(), None);
    }
}
