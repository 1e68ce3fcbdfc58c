//! Runs across hosts over TLS (`--tls-cert`/`--tls-key` on the
//! coordinator, `--tls-ca` on hosts; perfstress's `tls` feature, which
//! systemperf's `http` feature brings): the same runs as `hosts.rs`, the
//! bytes on the wire, and the mismatches named on both sides.

use std::net::TcpListener;
use std::time::Duration;

use super::hosts::*;
use crate::common::*;

/// Certificates for the TLS tests: the coordinator's (for 127.0.0.1 and
/// localhost) and an unrelated one, as PEM files in `dir`.
fn certificates(dir: &std::path::Path) -> (String, String, String) {
    fn pem(label: &str, der: &[u8]) -> String {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(der);
        let mut text = format!("-----BEGIN {label}-----\n");
        for line in encoded.as_bytes().chunks(64) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push('\n');
        }
        text.push_str(&format!("-----END {label}-----\n"));
        text
    }
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let coordinator = rcgen::generate_simple_self_signed(names.clone()).unwrap();
    let other = rcgen::generate_simple_self_signed(names).unwrap();
    (
        write("cert.pem", pem("CERTIFICATE", coordinator.cert.der())),
        write(
            "key.pem",
            pem("PRIVATE KEY", &coordinator.signing_key.serialize_der()),
        ),
        write("other.pem", pem("CERTIFICATE", other.cert.der())),
    )
}

/// Relays connections from a listener of its own to `target`, keeping
/// every byte that passes each way (what a capture on the network sees).
fn recording_relay(target: String) -> (String, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = seen.clone();
    std::thread::spawn(move || {
        let Ok((client, _)) = listener.accept() else {
            return;
        };
        // The coordinator may not listen yet (it is started just before):
        // retry, as a host joining directly does.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let server = loop {
            match std::net::TcpStream::connect(&target) {
                Ok(server) => break server,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => panic!("the coordinator at {target} never listened: {error}"),
            }
        };
        let pump = |mut from: std::net::TcpStream,
                    mut to: std::net::TcpStream,
                    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>| {
            std::thread::spawn(move || {
                let mut buffer = [0u8; 16384];
                while let Ok(read) = from.read(&mut buffer) {
                    if read == 0 || to.write_all(&buffer[..read]).is_err() {
                        break;
                    }
                    seen.lock().unwrap().extend_from_slice(&buffer[..read]);
                }
                let _ = to.shutdown(std::net::Shutdown::Both);
            })
        };
        let first = pump(
            client.try_clone().unwrap(),
            server.try_clone().unwrap(),
            recorded.clone(),
        );
        let second = pump(server, client, recorded);
        let _ = first.join();
        let _ = second.join();
    });
    (address, seen)
}

/// Two hosts over TLS (`--tls-cert`/`--tls-key`, `--tls-ca`), one of them
/// through a relay that records the bytes: the same results math as a plain
/// run (every instance once, the hosts adding up), and neither the join
/// token nor the test's command line ever crosses in clear (the host's
/// first bytes are a TLS handshake record).
#[test]
fn hosts_over_tls_run_as_plain_ones_and_nothing_crosses_in_clear() {
    let _timing = timing_sensitive();
    let dir = TempDir::new("hosts-tls");
    let (cert, key, _) = certificates(dir.path());
    let address = free_address();
    let results = TempPath::new("hosts-tls");
    let coordinating = coordinator("SleepTest", &address, 2)
        .option("--initial-delay-ms", 100)
        .option("--tls-cert", &cert)
        .env("PERFSTRESS_TLS_KEY", &key)
        .env("PERFSTRESS_DURATION", "1")
        .parallel(4)
        .processes(1)
        .warmup(0)
        .results(&results)
        .start();
    let (relayed, seen) = recording_relay(address.clone());
    let direct = host(&address, 2, TOKEN).option("--tls-ca", &cert).start();
    let through_relay = runner()
        .arg("--join")
        .arg(&relayed)
        .arg("--host-id")
        .arg("h3")
        .arg("--tls-server-name")
        .arg("localhost")
        .processes(2)
        .env("PERFSTRESS_JOIN_TOKEN", TOKEN)
        .env("PERFSTRESS_TLS_CA", &cert)
        .timeout(Duration::from_secs(60))
        .start();
    let output = coordinating.finish();
    output.assert_outcome(Outcome::Success);
    for joined in [direct.finish(), through_relay.finish()] {
        joined.assert_outcome(Outcome::Success);
        assert!(
            joined.stderr.contains("over TLS as host"),
            "{}",
            joined.dump()
        );
    }
    let json = results.json();
    assert_one_second_of_sleeps(&json, 4);
    let hosts = json["hosts"].as_array().unwrap();
    let host_total: u64 = hosts
        .iter()
        .map(|host| host["total_operations"].as_u64().unwrap())
        .sum();
    assert_eq!(host_total, json["total_operations"].as_u64().unwrap());

    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() > 1000, "the relay saw {} bytes", seen.len());
    assert_eq!(seen[0], 0x16, "not a TLS handshake record first");
    let contains = |needle: &[u8]| seen.windows(needle.len()).any(|window| window == needle);
    for clear in [
        TOKEN.as_bytes(),
        b"SleepTest",
        b"initial-delay-ms",
        b"PERFSTRESS_DURATION",
        b"HostHello",
    ] {
        assert!(
            !contains(clear),
            "{} crossed in clear",
            String::from_utf8_lossy(clear)
        );
    }
}

/// TLS on one side only, or a certificate the host does not trust: the
/// host is refused at once with the reason, the coordinator says what it
/// saw and ends when its hosts do not come, and nothing is left running.
#[test]
fn tls_mismatches_and_untrusted_certificates_are_named_on_both_sides() {
    let dir = TempDir::new("hosts-tls-mismatch");
    let (cert, key, other) = certificates(dir.path());
    let tls_address = free_address();
    let plain_address = free_address();
    let with_tls = coordinator("SleepTest", &tls_address, 1)
        .option("--join-timeout", 5)
        .option("--tls-cert", &cert)
        .option("--tls-key", &key)
        .start();
    let without_tls = coordinator("SleepTest", &plain_address, 1)
        .option("--join-timeout", 5)
        .start();
    let untrusting = host(&tls_address, 2, TOKEN)
        .option("--tls-ca", &other)
        .run();
    let plain = host(&tls_address, 3, TOKEN).run();
    let tls_to_plain = host(&plain_address, 4, TOKEN)
        .option("--tls-ca", &cert)
        .run();

    untrusting.assert_outcome(Outcome::Failed);
    assert!(
        untrusting.stderr.contains("invalid peer certificate")
            && untrusting.stderr.contains("--tls-ca"),
        "{}",
        untrusting.dump()
    );
    plain.assert_outcome(Outcome::Failed);
    assert!(
        plain.stderr.contains("this coordinator uses TLS") && plain.stderr.contains("--tls-ca"),
        "{}",
        plain.dump()
    );
    tls_to_plain.assert_outcome(Outcome::Failed);
    assert!(
        tls_to_plain.stderr.contains("during the TLS handshake")
            && tls_to_plain.stderr.contains("without --tls-cert"),
        "{}",
        tls_to_plain.dump()
    );

    let pid = with_tls.pid();
    let output = with_tls.finish();
    output.assert_outcome(Outcome::Failed);
    assert!(
        output.stderr.contains("TLS handshake with a host")
            && output.stderr.contains("joined without TLS"),
        "{}",
        output.dump()
    );
    assert!(
        output.stderr.contains("0 of 1 hosts joined"),
        "{}",
        output.dump()
    );
    assert!(children_of(pid).is_empty());
    let output = without_tls.finish();
    output.assert_outcome(Outcome::Failed);
    assert!(
        output
            .stderr
            .contains("started a TLS handshake, but this coordinator has no --tls-cert"),
        "{}",
        output.dump()
    );
}
