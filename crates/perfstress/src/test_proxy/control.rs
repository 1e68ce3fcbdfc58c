//! The framework's calls to a test proxy's control endpoints
//! (`/record/start`, `/record/stop`, `/playback/start`, `/playback/stop`):
//! a minimal HTTP/1.1 client over one TCP (or, feature `tls`, TLS)
//! connection per call, so that the framework needs no HTTP stack of its
//! own.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{Error, ErrorKind, Result};

use super::url::ProxyUrl;

/// How long one control call may take before the run fails.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The most a control response may hold (they are a few headers and `{}`).
const MAX_RESPONSE: usize = 1 << 20;

/// A control call's answer.
#[derive(Debug)]
pub(crate) struct ControlResponse {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl ControlResponse {
    /// The value of header `name` (case-insensitive), if present once or more.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// `POST {proxy}{path}` with `headers` and no body; any 2xx is success,
/// anything else (or no answer) an error naming the proxy, the call and
/// the status. `insecure` (`--insecure`): an https proxy's certificate is
/// not checked.
pub(crate) async fn post(
    proxy: &ProxyUrl,
    insecure: bool,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<ControlResponse> {
    let call = format!("POST {proxy}{path}");
    let response = tokio::time::timeout(CALL_TIMEOUT, send(proxy, insecure, path, headers))
        .await
        .map_err(|_| {
            Error::new(
                ErrorKind::Test,
                format!(
                    "test proxy call {call} got no answer in {} s",
                    CALL_TIMEOUT.as_secs()
                ),
            )
        })?
        .map_err(|error| {
            let hint = if proxy.scheme() == "https" && !insecure && is_certificate_error(&error) {
                " (the proxy's certificate is not trusted: trust it, e.g. with SSL_CERT_FILE, or pass --insecure)"
            } else {
                ""
            };
            Error::with_source(
                ErrorKind::Io,
                format!("test proxy call {call} failed{hint}"),
                error,
            )
        })?;
    if !(200..300).contains(&response.status) {
        let detail = response
            .header("x-request-known-exception-error")
            .or_else(|| response.header("x-request-exception-error"))
            .and_then(decode_base64)
            .unwrap_or_else(|| response.body.trim().chars().take(500).collect());
        return Err(Error::new(
            ErrorKind::Test,
            format!(
                "test proxy call {call} answered {}{}",
                response.status,
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            ),
        ));
    }
    Ok(response)
}

/// Whether `error` is a failed certificate check.
fn is_certificate_error(error: &std::io::Error) -> bool {
    let text = error.to_string();
    text.contains("certificate") || text.contains("Certificate")
}

async fn send(
    proxy: &ProxyUrl,
    insecure: bool,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<ControlResponse> {
    let stream = TcpStream::connect((proxy.host(), proxy.port())).await?;
    stream.set_nodelay(true)?;
    if proxy.scheme() == "https" {
        #[cfg(feature = "tls")]
        {
            let name = rustls::pki_types::ServerName::try_from(proxy.host().to_owned())
                .map_err(|error| invalid(&format!("'{}': {error}", proxy.host())))?;
            let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(
                crate::tls::client_config(insecure),
            ));
            let stream = connector.connect(name, stream).await?;
            return exchange(stream, proxy, path, headers).await;
        }
        #[cfg(not(feature = "tls"))]
        {
            let _ = insecure;
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "https test proxies need perfstress's feature `tls`",
            ));
        }
    }
    exchange(stream, proxy, path, headers).await
}

/// Sends the request on `stream` and reads the whole response.
async fn exchange<S>(
    mut stream: S,
    proxy: &ProxyUrl,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<ControlResponse>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n",
        proxy.authority()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..read]);
        if received.len() > MAX_RESPONSE {
            return Err(invalid("the response is too large"));
        }
        // Stop as soon as the whole response is there (a server may keep
        // the connection open despite `Connection: close`).
        if let Some(parsed) = parse(&received, false)? {
            return Ok(parsed);
        }
    }
    parse(&received, true)?.ok_or_else(|| invalid("the connection closed before a whole response"))
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

/// Parses a whole response from `data`, or `None` if more is needed
/// (`at_end`: the connection closed, the body is what there is).
fn parse(data: &[u8], at_end: bool) -> std::io::Result<Option<ControlResponse>> {
    let Some(head_end) = data.windows(4).position(|window| window == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&data[..head_end])
        .map_err(|_| invalid("a response head that is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| invalid("a bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let body = &data[head_end + 4..];
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok());
    let chunked = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
    });
    let body = match length {
        Some(length) if body.len() >= length => &body[..length],
        Some(_) => return Ok(None),
        None if chunked => match dechunk(body) {
            Some(decoded) => {
                return Ok(Some(ControlResponse {
                    status,
                    headers,
                    body: String::from_utf8_lossy(&decoded).into_owned(),
                }));
            }
            None if at_end => body,
            None => return Ok(None),
        },
        None if at_end || status == 204 || status == 304 => body,
        None => return Ok(None),
    };
    Ok(Some(ControlResponse {
        status,
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    }))
}

/// A whole chunked body, decoded; `None` if it is not complete yet.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut decoded = Vec::new();
    loop {
        let line_end = data.windows(2).position(|window| window == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(decoded);
        }
        if data.len() < size + 2 {
            return None;
        }
        decoded.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Decodes standard base64 (the proxy's error headers), if it is valid UTF-8 text.
pub(crate) fn decode_base64(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.trim().bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_chunked_and_close_delimited_responses() {
        let whole = parse(
            b"HTTP/1.1 200 OK\r\nx-recording-id: abc\r\nContent-Length: 2\r\n\r\n{}",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (
                whole.status,
                whole.header("X-Recording-Id"),
                whole.body.as_str()
            ),
            (200, Some("abc"), "{}")
        );
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", false)
                .unwrap()
                .is_none()
        );
        let chunked = parse(
            b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!((chunked.status, chunked.body.as_str()), (400, "{}"));
        assert!(
            parse(b"HTTP/1.1 200 OK\r\n\r\nabc", false)
                .unwrap()
                .is_none()
        );
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\n\r\nabc", true)
                .unwrap()
                .unwrap()
                .body,
            "abc"
        );
        assert!(parse(b"garbage\r\n\r\n", true).is_err());
    }

    #[test]
    fn decodes_base64_error_headers() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some("hello"));
        assert_eq!(decode_base64("aGk").as_deref(), Some("hi"));
        assert_eq!(decode_base64("!!"), None);
    }
}
