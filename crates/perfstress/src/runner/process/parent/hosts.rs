//! The coordinator of a run across hosts (`--listen ADDR --hosts N`):
//! accepts the hosts that join (`--join`), checks each one's token in
//! constant time and its name (duplicates are refused), measures each
//! one's clock offset, and gives each its share of the plan. The stages
//! then run over the hosts as over worker processes ([`RemoteStages`]).

use std::net::SocketAddr;

use subtle::ConstantTimeEq;

use super::handshake::{Handshake, Said, is_out_of_descriptors};
use super::*;
use crate::metrics::ClockOffset;
use crate::plan::Plan;
use crate::runner::process::ServerTls;

/// Round trips per host for its clock offset; the shortest one counts.
const CLOCK_PROBES: usize = 8;
/// How long a host has to answer a clock probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits for `plan`'s hosts to join at `--listen`, then returns the
/// stages run over them.
pub(crate) fn coordinate(
    plan: &Plan,
    args: &[OsString],
    env: &[(String, String)],
    token: &str,
    tls: Option<&ServerTls>,
    control: Arc<RunControl>,
) -> Result<RemoteStages, Error> {
    let coordinate = plan
        .coordinate
        .as_ref()
        .expect("a coordinated run has --listen");
    let started = Instant::now();
    let io_error =
        |what: String, error: std::io::Error| Error::with_source(ErrorKind::Io, what, error);
    let listener = TcpListener::bind(coordinate.listen.as_str()).map_err(|error| {
        io_error(
            format!("cannot listen on {} (--listen)", coordinate.listen),
            error,
        )
    })?;
    let address = listener
        .local_addr()
        .map_err(|error| io_error("no local address".to_owned(), error))?;
    let hosts = plan.shares.len();
    Console::new().error(&format!(
        "Waiting for {hosts} host{} to join at {address} (`--join {address}`{}), for up to {} s",
        if hosts == 1 { "" } else { "s" },
        if tls.is_some() { " --tls-ca PEM" } else { "" },
        coordinate.join_timeout.as_secs_f64()
    ));
    let mut joined = accept_hosts(
        &listener,
        token,
        tls,
        hosts,
        coordinate.join_timeout,
        &control,
    )?;
    drop(listener);
    let join_seconds = started.elapsed().as_secs_f64();

    // In order of their names: the same hosts get the same shares.
    joined.sort_by(|a, b| a.0.identity.cmp(&b.0.identity));
    let probing = Instant::now();
    for (host, stream) in &mut joined {
        host.clock = measure_clock(stream).map_err(|error| {
            io_error(
                format!(
                    "host {} (pid {}) did not answer its clock probes",
                    host.identity, host.pid
                ),
                error,
            )
        })?;
    }
    let probe_seconds = probing.elapsed().as_secs_f64();
    let args: Vec<String> = args[1..]
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let mut assigned = Vec::with_capacity(hosts);
    for (host_index, ((host, mut stream), share)) in
        joined.into_iter().zip(&plan.shares).enumerate()
    {
        let join = ToWorker::Join {
            args: args.clone(),
            share: *share,
            host_index,
            env: env.to_vec(),
        };
        write_message(&mut stream, &join).map_err(|error| {
            io_error(
                format!("cannot send host {} its share", host.identity),
                error,
            )
        })?;
        assigned.push((host, *share, stream));
    }
    let worst = assigned
        .iter()
        .map(|(host, _, _)| host.clock.uncertainty())
        .max()
        .unwrap_or_default();
    let coordination = vec![
        ("join".to_owned(), join_seconds),
        ("clock_probes".to_owned(), probe_seconds),
        (
            "clock_offset_uncertainty_max".to_owned(),
            worst.as_secs_f64(),
        ),
    ];
    RemoteStages::over_hosts(
        assigned,
        plan.liveness_timeout,
        plan.stress.continue_on_error,
        control,
        coordination,
    )
}

/// Accepts connections until `hosts` hosts with the right token and
/// distinct names have joined, or `timeout` passes (an error naming who
/// joined and how many are missing). A wrong token is answered by closing
/// the connection, as a port with no run would be: nothing says whether a
/// run is waiting there.
fn accept_hosts(
    listener: &TcpListener,
    token: &str,
    tls: Option<&ServerTls>,
    hosts: usize,
    timeout: Duration,
    control: &RunControl,
) -> Result<Vec<(JoinedHost, TcpStream)>, Error> {
    let io_error = |what: &str, error: std::io::Error| {
        Error::with_source(ErrorKind::Io, what.to_owned(), error)
    };
    listener
        .set_nonblocking(true)
        .map_err(|error| io_error("cannot configure the host listener", error))?;
    let deadline = Instant::now() + timeout;
    let mut handshakes: std::collections::VecDeque<(Handshake, SocketAddr)> = Default::default();
    let mut joined: Vec<(JoinedHost, TcpStream)> = Vec::new();
    while joined.len() < hosts {
        if control.is_cancelled() {
            return Err(Error::msg("interrupted while waiting for hosts to join"));
        }
        let mut busy = false;
        for _ in 0..MAX_HANDSHAKES {
            match listener.accept() {
                Ok((stream, from)) => {
                    busy = true;
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    if handshakes.len() == MAX_HANDSHAKES {
                        handshakes.pop_front();
                    }
                    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
                    let handshake = match tls {
                        None => Handshake::new(stream, deadline),
                        #[cfg(feature = "tls")]
                        Some(config) => Handshake::with_tls(stream, deadline, config),
                        #[cfg(not(feature = "tls"))]
                        Some(tls) => match *tls {},
                    };
                    handshakes.push_back((handshake, from));
                }
                Err(error) if error.kind() == IoErrorKind::WouldBlock => break,
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
                Err(error) => return Err(io_error("cannot accept host connections", error)),
            }
        }
        let now = Instant::now();
        let mut index = 0;
        while index < handshakes.len() {
            let said = handshakes[index].0.advance();
            let (token_given, identity, pid) = match said {
                Said::Nothing if now < handshakes[index].0.deadline => {
                    index += 1;
                    continue;
                }
                Said::Message(ToParent::HostHello {
                    token,
                    identity,
                    pid,
                }) => (token, identity, pid),
                Said::PlainToTls(ToParent::HostHello {
                    token: token_given,
                    identity,
                    pid,
                }) => {
                    let Some((handshake, from)) = handshakes.remove(index) else {
                        break;
                    };
                    busy = true;
                    refuse_plain_host(handshake, from, &token_given, token, &identity, pid);
                    continue;
                }
                Said::TlsToPlain => {
                    let from = handshakes[index].1;
                    Console::new().error(&format!(
                        "warning: a host at {from} started a TLS handshake, but this coordinator has no --tls-cert: start the hosts without --tls-ca, or this coordinator with --tls-cert and --tls-key"
                    ));
                    handshakes.remove(index);
                    continue;
                }
                Said::TlsFailed(reason) => {
                    let from = handshakes[index].1;
                    Console::new().error(&format!(
                        "warning: the TLS handshake with a host at {from} failed: {reason} (a host that does not trust this coordinator's --tls-cert says so: check its --tls-ca and --tls-server-name)"
                    ));
                    handshakes.remove(index);
                    continue;
                }
                _ => {
                    handshakes.remove(index);
                    continue;
                }
            };
            busy = true;
            let Some((handshake, from)) = handshakes.remove(index) else {
                break;
            };
            if !bool::from(token_given.as_bytes().ct_eq(token.as_bytes())) {
                // Closed unanswered, like a port with no run behind it.
                continue;
            }
            let Ok(mut stream) = handshake.into_stream() else {
                continue;
            };
            if stream
                .set_nonblocking(false)
                .and_then(|()| stream.set_nodelay(true))
                .is_err()
            {
                continue;
            }
            if let Some((other, _)) = joined.iter().find(|(host, _)| host.identity == identity) {
                let reason = format!(
                    "a host named '{identity}' has joined already (pid {} at {}): give each host a name of its own (--host-id)",
                    other.pid, other.address
                );
                Console::new().error(&format!(
                    "warning: refused host '{identity}' (pid {pid} at {from}): {reason}"
                ));
                let _ = write_message(&mut stream, &ToWorker::Refused { reason });
                continue;
            }
            Console::new().error(&format!(
                "Host '{identity}' (pid {pid} at {from}) joined ({} of {hosts})",
                joined.len() + 1
            ));
            joined.push((
                JoinedHost {
                    identity,
                    pid,
                    address: from,
                    clock: ClockOffset::default(),
                },
                stream,
            ));
        }
        // A host that joined and went away before the run started.
        joined.retain(|(host, stream)| {
            let mut probe = [0u8; 1];
            let _ = stream.set_nonblocking(true);
            let gone = matches!(stream.peek(&mut probe), Ok(0));
            let _ = stream.set_nonblocking(false);
            if gone {
                Console::new().error(&format!(
                    "warning: host '{}' (pid {} at {}) left before the run started",
                    host.identity, host.pid, host.address
                ));
            }
            !gone
        });
        if joined.len() >= hosts {
            break;
        }
        if Instant::now() > deadline {
            let names: Vec<String> = joined
                .iter()
                .map(|(host, _)| {
                    format!("'{}' (pid {} at {})", host.identity, host.pid, host.address)
                })
                .collect();
            let missing = hosts - joined.len();
            return Err(Error::msg(format!(
                "{} of {hosts} hosts joined within {} s (--join-timeout){}; missing: {missing} host{} (start each with `--join ADDR` and the same join token)",
                joined.len(),
                timeout.as_secs_f64(),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(": {}", names.join(", "))
                },
                if missing == 1 { "" } else { "s" },
            )));
        }
        if !busy {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Ok(joined)
}

/// The host's clock offset: [`CLOCK_PROBES`] round trips, the shortest kept.
fn measure_clock(stream: &mut TcpStream) -> std::io::Result<ClockOffset> {
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    let mut best: Option<ClockOffset> = None;
    for _ in 0..CLOCK_PROBES {
        let sent = unix_nanos_now();
        write_message(stream, &ToWorker::ClockProbe)?;
        let reply = read_message::<ToParent>(stream)?;
        let received = unix_nanos_now();
        let Some(ToParent::ClockReply { unix_nanos }) = reply else {
            return Err(std::io::Error::new(
                IoErrorKind::InvalidData,
                "expected its clock",
            ));
        };
        let sample = ClockOffset::from_round_trip(sent, unix_nanos, received);
        if best.is_none_or(|best| sample.round_trip < best.round_trip) {
            best = Some(sample);
        }
    }
    stream.set_read_timeout(None)?;
    Ok(best.unwrap_or_default())
}

/// A host that said its hello in clear to a coordinator with TLS: with the
/// right token it is told why (its token crossed the network in clear, so
/// both sides say to replace it); with a wrong one the connection is
/// closed unanswered, as any wrong token is.
fn refuse_plain_host(
    handshake: Handshake,
    from: SocketAddr,
    token_given: &str,
    token: &str,
    identity: &str,
    pid: u32,
) {
    if !bool::from(token_given.as_bytes().ct_eq(token.as_bytes())) {
        return;
    }
    let reason = "this coordinator uses TLS (--tls-cert), and this host joined without it: start it with --tls-ca PEM (the coordinator's certificate or its CA); the join token went over the network in clear, so replace it".to_owned();
    Console::new().error(&format!(
        "warning: refused host '{identity}' (pid {pid} at {from}): it joined without TLS (no --tls-ca), and this coordinator has --tls-cert; its join token went over the network in clear: replace it"
    ));
    let mut stream = handshake.stream;
    if stream.set_nonblocking(false).is_ok() {
        let _ = write_message(&mut stream, &ToWorker::Refused { reason });
    }
}
