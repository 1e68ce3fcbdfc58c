//! The `test-proxy` binary started as the Azure SDK's scripts start the
//! real proxy: listeners from `--urls`, `-- --urls` or `ASPNETCORE_URLS`,
//! port 0 picking a free port, `Now listening on: URL` per listener.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A started proxy, killed when dropped.
struct Started {
    child: Child,
    urls: Vec<String>,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str], env: Option<(&str, &str)>, listeners: usize) -> Started {
    let mut command = Command::new(env!("CARGO_BIN_EXE_test-proxy"));
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_remove("ASPNETCORE_URLS");
    if let Some((name, value)) = env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    while urls.len() < listeners {
        let line = lines.next().expect("a line").unwrap();
        let url = line
            .strip_prefix("Now listening on: ")
            .unwrap_or_else(|| panic!("{line}"));
        urls.push(url.to_owned());
    }
    Started { child, urls }
}

fn is_alive(url: &str) -> bool {
    let address = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /Admin/IsAlive HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.starts_with("HTTP/1.1 200")
}

#[test]
fn listeners_as_the_real_proxy_takes_them() {
    let two = start(
        &["--urls", "http://127.0.0.1:0;http://127.0.0.1:0/"],
        None,
        2,
    );
    assert_ne!(two.urls[0], two.urls[1]);
    assert!(
        two.urls
            .iter()
            .all(|url| url.starts_with("http://127.0.0.1:") && is_alive(url))
    );
    let ci = start(
        &[
            "start",
            "-u",
            "--storage-location",
            ".",
            "--",
            "--urls",
            "http://127.0.0.1:0",
        ],
        None,
        1,
    );
    assert!(is_alive(&ci.urls[0]));
    let env = start(&[], Some(("ASPNETCORE_URLS", "http://127.0.0.1:0")), 1);
    assert!(is_alive(&env.urls[0]));
}

/// `--urls "http://...;https://..."`: both listeners, the https one with a
/// self-signed certificate generated at start-up; a certificate file that
/// cannot be read fails the start (exit 1) naming it.
#[test]
fn https_listeners_serve_a_generated_or_given_certificate() {
    let both = start(
        &["--urls", "http://127.0.0.1:0;https://127.0.0.1:0"],
        None,
        2,
    );
    assert!(
        both.urls[0].starts_with("http://127.0.0.1:"),
        "{:?}",
        both.urls
    );
    assert!(
        both.urls[1].starts_with("https://127.0.0.1:"),
        "{:?}",
        both.urls
    );
    assert!(is_alive(&both.urls[0]));
    let output = Command::new(env!("CARGO_BIN_EXE_test-proxy"))
        .args(["--urls", "https://127.0.0.1:0"])
        .env(
            "ASPNETCORE_Kestrel__Certificates__Default__Path",
            "/nonexistent/cert.pem",
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/cert.pem"), "{stderr}");
}

#[test]
fn bad_listeners_are_usage_errors() {
    for args in [
        &["--urls", "ftp://127.0.0.1:0"][..],
        &[
            "--urls",
            "https://127.0.0.1:0",
            "--certificate-key",
            "key.pem",
        ],
        &["--", "--bogus"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_test-proxy"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("error"),
            "{args:?}"
        );
    }
}
