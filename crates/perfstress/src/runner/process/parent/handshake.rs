//! Accepting the workers' connections: each one's hello (token, index, pid)
//! is read side by side with the others, with a deadline of its own, so a
//! silent or stray connection never holds up the workers.

use super::*;

/// A connection to the worker or host listener that has not said its
/// first message yet; on a coordinator with `--tls-cert`, also the TLS
/// handshake under way.
pub(in crate::runner::process) struct Handshake {
    pub(in crate::runner::process) stream: TcpStream,
    received: Vec<u8>,
    pub(in crate::runner::process) deadline: Instant,
    /// The first byte that came: a TLS record (0x16) or a plain frame.
    first_byte: Option<u8>,
    /// The listener speaks TLS.
    expects_tls: bool,
    #[cfg(feature = "tls")]
    pub(in crate::runner::process) tls: Option<rustls::ServerConnection>,
}

/// Where a [`Handshake`] stands.
pub(in crate::runner::process) enum Said {
    /// Not all of it has arrived.
    Nothing,
    /// A whole first message.
    Message(ToParent),
    /// Nothing a worker says: a stray connection (or one that closed).
    Garbage,
    /// A whole first message in clear to a listener that wants TLS.
    PlainToTls(ToParent),
    /// A TLS handshake to a listener without TLS.
    TlsToPlain,
    /// The TLS handshake failed (an alert from the peer, e.g. it does
    /// not trust the certificate, or a corrupt record).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    TlsFailed(String),
}

impl Handshake {
    /// A connection (not blocking) that has until `deadline` to say its
    /// first message.
    pub(in crate::runner::process) fn new(stream: TcpStream, deadline: Instant) -> Self {
        Self {
            stream,
            received: Vec::new(),
            deadline,
            first_byte: None,
            expects_tls: false,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// A connection to a TLS listener: the handshake, then the message.
    #[cfg(feature = "tls")]
    pub(in crate::runner::process) fn with_tls(
        stream: TcpStream,
        deadline: Instant,
        config: &std::sync::Arc<rustls::ServerConfig>,
    ) -> Self {
        let mut handshake = Self::new(stream, deadline);
        handshake.expects_tls = true;
        handshake.tls = rustls::ServerConnection::new(config.clone()).ok();
        handshake
    }

    /// Reads what has arrived (the stream does not block).
    pub(in crate::runner::process) fn advance(&mut self) -> Said {
        let mut buffer = [0u8; 4096];
        loop {
            #[cfg(feature = "tls")]
            if let Some(failure) = self.flush_tls() {
                return failure;
            }
            match std::io::Read::read(&mut self.stream, &mut buffer) {
                Ok(0) => return Said::Garbage,
                Ok(read) => {
                    let first = *self.first_byte.get_or_insert(buffer[0]);
                    let tls_record = first == crate::runner::process::TLS_HANDSHAKE_RECORD;
                    if !self.expects_tls && tls_record {
                        return Said::TlsToPlain;
                    }
                    if self.expects_tls && tls_record {
                        #[cfg(feature = "tls")]
                        if let Some(failure) = self.decrypt(&buffer[..read]) {
                            return failure;
                        }
                    } else {
                        self.received.extend_from_slice(&buffer[..read]);
                    }
                }
                Err(error) if error.kind() == IoErrorKind::WouldBlock => break,
                Err(error) if error.kind() == IoErrorKind::Interrupted => continue,
                Err(_) => return Said::Garbage,
            }
            if self.received.len() > MAX_HELLO_BYTES + 4 {
                return Said::Garbage;
            }
        }
        let Some(length) = self.received.get(..4) else {
            return Said::Nothing;
        };
        let length = u32::from_be_bytes(length.try_into().expect("4 bytes")) as usize;
        if length > MAX_HELLO_BYTES {
            return Said::Garbage;
        }
        if self.received.len() < 4 + length {
            return Said::Nothing;
        }
        let in_clear = self.expects_tls
            && self.first_byte != Some(crate::runner::process::TLS_HANDSHAKE_RECORD);
        match read_message::<ToParent>(&mut &self.received[..]) {
            Ok(Some(message)) if in_clear => Said::PlainToTls(message),
            Ok(Some(message)) => Said::Message(message),
            _ => Said::Garbage,
        }
    }

    /// Sends what the TLS handshake has to say, as far as the socket takes
    /// it now; the rest stays queued.
    #[cfg(feature = "tls")]
    fn flush_tls(&mut self) -> Option<Said> {
        let connection = self.tls.as_mut()?;
        while connection.wants_write() {
            match connection.write_tls(&mut self.stream) {
                Ok(_) => {}
                Err(error) if error.kind() == IoErrorKind::WouldBlock => break,
                Err(error) if error.kind() == IoErrorKind::Interrupted => {}
                Err(_) => return Some(Said::Garbage),
            }
        }
        None
    }

    /// Feeds TLS records to the handshake; the plaintext goes to `received`.
    #[cfg(feature = "tls")]
    fn decrypt(&mut self, mut records: &[u8]) -> Option<Said> {
        let Some(connection) = self.tls.as_mut() else {
            return Some(Said::Garbage);
        };
        while !records.is_empty() {
            if connection.read_tls(&mut records).is_err() {
                return Some(Said::Garbage);
            }
            match connection.process_new_packets() {
                Ok(state) => {
                    let start = self.received.len();
                    let available = state.plaintext_bytes_to_read();
                    if start + available > MAX_HELLO_BYTES + 4 {
                        return Some(Said::Garbage);
                    }
                    self.received.resize(start + available, 0);
                    if std::io::Read::read_exact(
                        &mut connection.reader(),
                        &mut self.received[start..],
                    )
                    .is_err()
                    {
                        return Some(Said::Garbage);
                    }
                }
                Err(error) => {
                    // The alert, so the host knows why.
                    let _ = connection.write_tls(&mut self.stream);
                    return Some(Said::TlsFailed(error.to_string()));
                }
            }
        }
        self.flush_tls()
    }

    /// The connection, once its first message is in: the plain stream, or
    /// a plain loopback stream relaying to and from its TLS session.
    pub(in crate::runner::process) fn into_stream(self) -> std::io::Result<TcpStream> {
        #[cfg(feature = "tls")]
        if let Some(connection) = self.tls {
            return crate::runner::process::secure::relay(self.stream, connection.into());
        }
        Ok(self.stream)
    }
}

/// Accepts one connection per worker, checking each one's token. Every
/// connection has [`HANDSHAKE_TIMEOUT`] to say its `Hello`, read side by
/// side without blocking, so silent connections delay no worker; all must
/// connect within [`CONNECT_TIMEOUT`].
pub(super) fn accept_workers(
    listener: &TcpListener,
    token: &str,
    pending: &mut [Option<(ProcessShare, Child)>],
    streams: &mut [Option<TcpStream>],
    control: &RunControl,
) -> Result<(), Error> {
    let io_error = |what: &str, error: std::io::Error| {
        Error::with_source(ErrorKind::Io, what.to_owned(), error)
    };
    listener
        .set_nonblocking(true)
        .map_err(|error| io_error("cannot configure the worker listener", error))?;
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let mut handshakes: std::collections::VecDeque<Handshake> = Default::default();
    while streams.iter().any(Option::is_none) {
        if control.is_cancelled() {
            return Err(Error::msg("interrupted while starting worker processes"));
        }
        let mut busy = false;
        // A burst of connections is taken a bounded number at a time, so
        // the handshakes under way keep being read.
        for _ in 0..MAX_HANDSHAKES {
            match listener.accept() {
                Ok((stream, _)) => {
                    busy = true;
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    if handshakes.len() == MAX_HANDSHAKES {
                        handshakes.pop_front();
                    }
                    handshakes
                        .push_back(Handshake::new(stream, Instant::now() + HANDSHAKE_TIMEOUT));
                }
                Err(error) if error.kind() == IoErrorKind::WouldBlock => break,
                // A connection reset before it was accepted, a signal, or
                // no descriptor left for now (stray connections come and
                // go): not fatal.
                Err(error)
                    if matches!(
                        error.kind(),
                        IoErrorKind::ConnectionAborted
                            | IoErrorKind::ConnectionReset
                            | IoErrorKind::Interrupted
                    ) || is_out_of_descriptors(&error) =>
                {
                    break;
                }
                Err(error) => return Err(io_error("cannot accept worker connections", error)),
            }
        }
        let now = Instant::now();
        let mut index = 0;
        while index < handshakes.len() {
            let (said, process_index, pid) = match handshakes[index].advance() {
                Said::Nothing if now < handshakes[index].deadline => {
                    index += 1;
                    continue;
                }
                Said::Nothing
                | Said::Garbage
                | Said::PlainToTls(_)
                | Said::TlsToPlain
                | Said::TlsFailed(_) => {
                    handshakes.remove(index);
                    continue;
                }
                Said::Message(ToParent::Hello {
                    token,
                    process_index,
                    pid,
                }) => (token, process_index, pid),
                Said::Message(_) => {
                    handshakes.remove(index);
                    continue;
                }
            };
            busy = true;
            let Some(Handshake { mut stream, .. }) = handshakes.remove(index) else {
                break;
            };
            // The token, and the pid of the child started for that index: a
            // connection is bound to the process it names. Anything else is
            // not ours: dropped.
            let started = pending
                .get(process_index)
                .and_then(Option::as_ref)
                .filter(|(_, child)| child.id() == pid);
            if let Some((share, _)) =
                started.filter(|_| said == token && streams[process_index].is_none())
            {
                let configured = stream
                    .set_nonblocking(false)
                    .and_then(|()| stream.set_nodelay(true));
                if configured.is_ok()
                    && write_message(&mut stream, &ToWorker::Assign { share: *share }).is_ok()
                {
                    streams[process_index] = Some(stream);
                }
            }
        }
        for (index, slot) in pending.iter_mut().enumerate() {
            if let Some((_, child)) = slot
                && streams[index].is_none()
                && let Ok(Some(status)) = child.try_wait()
            {
                children::forget(child.id());
                *slot = None;
                return Err(Error::msg(format!(
                    "worker process {index} {} before it connected",
                    describe_exit(Some(status))
                )));
            }
        }
        if streams.iter().all(Option::is_some) {
            break;
        }
        if Instant::now() > deadline {
            return Err(Error::msg(format!(
                "worker processes did not connect within {} s",
                CONNECT_TIMEOUT.as_secs()
            )));
        }
        if !busy {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Ok(())
}

pub(in crate::runner::process) fn is_out_of_descriptors(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    return matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
    #[cfg(not(unix))]
    return {
        let _ = error;
        false
    };
}
