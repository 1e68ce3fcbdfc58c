//! TLS between the hosts of a run and their coordinator (`--tls-cert`,
//! `--tls-key` on the coordinator, `--tls-ca` on hosts; feature `tls`).
//!
//! The coordinator's side is driven without blocking, inside its accept
//! loop ([`super::parent::handshake`]), so a silent connection holds up no
//! other host. Once a connection's handshake is done, [`relay`] turns it
//! into a plain loopback [`TcpStream`] whose far end two threads encrypt
//! and decrypt: the protocol code above (framed messages, a reader thread
//! and a writer per connection, shutdown and peek) is the same for TLS and
//! plain connections. Only the coordinator's hello, the clock probes and
//! the few messages of a stage go through it; the status of a tick is one
//! message per host per interval, so the extra copy costs nothing that
//! matters (BENCHMARKS.md, "Hosts over TLS").

use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig};

use super::TLS_HANDSHAKE_RECORD;
use crate::error::{Error, ErrorKind};
use crate::tls::{client_config_trusting, read_certificates, read_private_key, server_config};

/// The coordinator's TLS configuration from `--tls-cert` and `--tls-key`.
pub(crate) fn server(certificate: &Path, key: &Path) -> Result<Arc<ServerConfig>, Error> {
    let usage = |error: std::io::Error| {
        Error::new(ErrorKind::Usage, format!("--tls-cert/--tls-key: {error}"))
    };
    let chain = read_certificates(certificate).map_err(usage)?;
    let key = read_private_key(key).map_err(usage)?;
    Ok(Arc::new(server_config(chain, key).map_err(usage)?))
}

/// A host's TLS configuration from `--tls-ca`, and the name the
/// coordinator's certificate must carry: `--tls-server-name`, else the
/// host part of `--join` (an IP address or a DNS name).
pub(crate) fn client(
    ca: &Path,
    server_name: Option<&str>,
    join: &str,
) -> Result<(Arc<ClientConfig>, ServerName<'static>), Error> {
    let config = client_config_trusting(ca)
        .map_err(|error| Error::new(ErrorKind::Usage, format!("--tls-ca: {error}")))?;
    let name = match server_name {
        Some(name) => name.to_owned(),
        None => {
            let host = join.rsplit_once(':').map_or(join, |(host, _)| host);
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        }
    };
    let name = ServerName::try_from(name.clone()).map_err(|_| {
        Error::new(
            ErrorKind::Usage,
            format!("--tls-server-name: '{name}' is neither a DNS name nor an IP address"),
        )
    })?;
    Ok((Arc::new(config), name))
}

/// A host's side of the handshake, blocking until `deadline`. The errors
/// say what went wrong in terms of the options: an untrusted certificate
/// (--tls-ca, --tls-server-name), a coordinator that does not speak TLS.
pub(crate) fn connect(
    mut stream: TcpStream,
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    address: &str,
    deadline: Instant,
) -> Result<TcpStream, Error> {
    let shown_name = name.to_str().into_owned();
    let mut connection =
        ClientConnection::new(config, name).map_err(|error| Error::msg(format!("TLS: {error}")))?;
    let io = |error: std::io::Error| {
        Error::with_source(
            ErrorKind::Io,
            format!("TLS handshake with the coordinator at {address} (--join)"),
            error,
        )
    };
    let mut first_byte = None;
    let mut buffer = [0u8; 16 * 1024];
    while connection.is_handshaking() {
        while connection.wants_write() {
            connection.write_tls(&mut stream).map_err(io)?;
        }
        if !connection.is_handshaking() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::msg(format!(
                "the coordinator at {address} did not complete the TLS handshake in time"
            )));
        }
        stream.set_read_timeout(Some(left)).map_err(io)?;
        let read = match stream.read(&mut buffer) {
            Ok(read) => read,
            Err(error) if error.kind() == IoErrorKind::Interrupted => continue,
            Err(error)
                if matches!(
                    error.kind(),
                    IoErrorKind::ConnectionReset | IoErrorKind::BrokenPipe
                ) =>
            {
                0
            }
            Err(error) => return Err(io(error)),
        };
        if read == 0 {
            return Err(Error::msg(format!(
                "the coordinator at {address} closed the connection during the TLS handshake: it was \
                 started without --tls-cert (then start this host without --tls-ca), or no run is \
                 waiting there"
            )));
        }
        let first = *first_byte.get_or_insert(buffer[0]);
        let mut received = &buffer[..read];
        while !received.is_empty() {
            connection.read_tls(&mut received).map_err(io)?;
            if let Err(error) = connection.process_new_packets() {
                // Tell the coordinator why (the alert), as far as it listens.
                let _ = connection.write_tls(&mut stream);
                if first != TLS_HANDSHAKE_RECORD && first != 0x15 {
                    return Err(Error::msg(format!(
                        "the coordinator at {address} does not speak TLS (it was started without \
                         --tls-cert), but this host has --tls-ca: use TLS on both sides or on neither"
                    )));
                }
                return Err(Error::msg(format!(
                    "TLS with the coordinator at {address} failed: {error} (--tls-ca must hold the \
                     coordinator's --tls-cert or the CA that signed it, and that certificate must \
                     name '{shown_name}', the host of --join or --tls-server-name)"
                )));
            }
        }
    }
    while connection.wants_write() {
        connection.write_tls(&mut stream).map_err(io)?;
    }
    stream.set_read_timeout(None).map_err(io)?;
    relay(stream, connection.into()).map_err(io)
}

/// Turns `stream`, whose TLS handshake is done, into a plain loopback
/// stream: what is written to it goes out encrypted, what comes in
/// decrypted can be read from it, and either side closing closes the
/// other (a lost host reads as end of stream, as without TLS).
pub(crate) fn relay(network: TcpStream, connection: Connection) -> std::io::Result<TcpStream> {
    network.set_nonblocking(false)?;
    let _ = network.set_nodelay(true);
    let (inner, outer) = loopback_pair()?;
    let connection = Arc::new(Mutex::new(connection));

    // In: network -> decrypt -> outer. This thread never writes to the
    // network, so it never waits on a peer that is not reading.
    {
        let connection = connection.clone();
        let mut network = network.try_clone()?;
        let mut outer = outer.try_clone()?;
        std::thread::Builder::new()
            .name("perfstress-tls-in".to_owned())
            .spawn(move || {
                let mut buffer = vec![0u8; 64 * 1024];
                let mut plain = Vec::new();
                'run: loop {
                    let read = match network.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(read) => read,
                        Err(error) if error.kind() == IoErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    let mut closed = false;
                    {
                        let mut connection = lock(&connection);
                        let mut received = &buffer[..read];
                        while !received.is_empty() {
                            if connection.read_tls(&mut received).is_err() {
                                break 'run;
                            }
                            let Ok(state) = connection.process_new_packets() else {
                                break 'run;
                            };
                            if state.plaintext_bytes_to_read() > 0 {
                                let start = plain.len();
                                plain.resize(start + state.plaintext_bytes_to_read(), 0);
                                if connection.reader().read_exact(&mut plain[start..]).is_err() {
                                    break 'run;
                                }
                            }
                            closed |= state.peer_has_closed();
                        }
                    }
                    if outer.write_all(&plain).is_err() {
                        break;
                    }
                    plain.clear();
                    if closed {
                        break;
                    }
                }
                let _ = outer.shutdown(Shutdown::Write);
            })?;
    }

    // Out: outer -> encrypt -> network. The records are taken out under
    // the lock and written after it, so the reading thread goes on.
    {
        let mut network = network;
        let mut outer = outer;
        std::thread::Builder::new()
            .name("perfstress-tls-out".to_owned())
            .spawn(move || {
                let mut buffer = vec![0u8; 64 * 1024];
                let mut records = Vec::new();
                loop {
                    let read = match outer.read(&mut buffer) {
                        Ok(read) => read,
                        Err(error) if error.kind() == IoErrorKind::Interrupted => continue,
                        Err(_) => 0,
                    };
                    {
                        let mut connection = lock(&connection);
                        if read == 0 {
                            connection.send_close_notify();
                        } else if connection.writer().write_all(&buffer[..read]).is_err() {
                            break;
                        }
                        while connection.wants_write() {
                            if connection.write_tls(&mut records).is_err() {
                                break;
                            }
                        }
                    }
                    if network.write_all(&records).is_err() || read == 0 {
                        break;
                    }
                    records.clear();
                }
                // Both ways: the reading thread's read ends too.
                let _ = network.shutdown(Shutdown::Both);
                let _ = outer.shutdown(Shutdown::Both);
            })?;
    }
    Ok(inner)
}

fn lock(connection: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    connection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Two connected loopback streams. The listener lives only until its one
/// connection is accepted, and a connection from anyone else is refused.
fn loopback_pair() -> std::io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let inner = TcpStream::connect(listener.local_addr()?)?;
    let expected = inner.local_addr()?;
    loop {
        let (outer, from) = listener.accept()?;
        if from == expected {
            let _ = inner.set_nodelay(true);
            let _ = outer.set_nodelay(true);
            return Ok((inner, outer));
        }
    }
}
