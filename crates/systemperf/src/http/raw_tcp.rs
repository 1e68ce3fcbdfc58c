//! `RawTcpGetTest`: the lower bound of any HTTP client. A fixed HTTP/1.1
//! keep-alive GET written on a TCP stream, the response read by its
//! `Content-Length`; nothing else (no pool, no header map, no URL parsing
//! per request).

use std::io::{ErrorKind as IoErrorKind, Read, Write};

use perfstress::{Error, ErrorKind, PerfTest, Result, TestContext};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::options::{HttpOptions, HttpUrl};
use super::target::Target;

/// The largest response head it reads.
const BUFFER_LEN: usize = 64 * 1024;

/// GETs the URL over one raw keep-alive TCP connection per instance: the
/// floor that the client tests can be compared with. Async (tokio
/// `TcpStream`) and sync (`std::net::TcpStream`). It understands only
/// responses with `Content-Length` (not chunked ones), and reconnects when
/// the server closes the connection.
pub struct RawTcpGetTest {
    target: Target,
    url: Option<HttpUrl>,
    request: Vec<u8>,
    buffer: Box<[u8]>,
    connection: Option<tokio::net::TcpStream>,
    sync_connection: Option<std::net::TcpStream>,
}

/// GET written on a raw TCP stream, read by Content-Length: the lower bound; embedded server unless --url.
#[perfstress::test]
impl PerfTest for RawTcpGetTest {
    type Options = HttpOptions;

    async fn new(ctx: &TestContext<HttpOptions>) -> Result<Self> {
        Ok(RawTcpGetTest {
            target: Target::new(ctx.options()),
            url: None,
            request: Vec::new(),
            buffer: vec![0; BUFFER_LEN].into_boxed_slice(),
            connection: None,
            sync_connection: None,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.target.global_setup()
    }

    async fn setup(&mut self) -> Result<()> {
        let url = self.target.url()?;
        self.request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
            url.path_and_query(),
            url.authority()
        )
        .into_bytes();
        self.url = Some(url);
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.target.global_cleanup();
        Ok(())
    }

    fn run_sync(&mut self) -> Result<()> {
        let url = self.url.as_ref().ok_or_else(not_set_up)?;
        // A kept-alive connection the server has closed fails before any
        // byte of the response: send once more on a new connection.
        let reused = self.sync_connection.is_some();
        match sync_exchange(
            &mut self.sync_connection,
            url,
            &self.request,
            &mut self.buffer,
        ) {
            Err(Exchange::ClosedBeforeResponse(_)) if reused => sync_exchange(
                &mut self.sync_connection,
                url,
                &self.request,
                &mut self.buffer,
            )
            .map_err(|failure| failure.into_error(url)),
            other => other.map_err(|failure| failure.into_error(url)),
        }
    }

    async fn run_async(&mut self) -> Result<()> {
        let url = self.url.as_ref().ok_or_else(not_set_up)?;
        let reused = self.connection.is_some();
        match async_exchange(&mut self.connection, url, &self.request, &mut self.buffer).await {
            Err(Exchange::ClosedBeforeResponse(_)) if reused => {
                async_exchange(&mut self.connection, url, &self.request, &mut self.buffer)
                    .await
                    .map_err(|failure| failure.into_error(url))
            }
            other => other.map_err(|failure| failure.into_error(url)),
        }
    }
}

fn not_set_up() -> Error {
    Error::msg("the instance has no URL: its setup did not run")
}

/// How one request-response exchange failed.
#[derive(Debug)]
enum Exchange {
    /// The connection failed or closed before the first byte of the
    /// response: on a reused connection, worth one retry.
    ClosedBeforeResponse(std::io::Error),
    /// Any other failure.
    Failed(Error),
}

impl Exchange {
    fn into_error(self, url: &HttpUrl) -> Error {
        match self {
            Exchange::ClosedBeforeResponse(error) => Error::with_source(
                ErrorKind::Test,
                format!("GET {url}: the connection closed before the response"),
                error,
            ),
            Exchange::Failed(error) => error.context(format!("GET {url}")),
        }
    }
}

fn io_failure(error: std::io::Error) -> Exchange {
    Exchange::Failed(Error::from(error))
}

fn closed() -> std::io::Error {
    std::io::Error::new(IoErrorKind::UnexpectedEof, "connection closed")
}

/// One request and its response on `connection` (connected first if
/// `None`); the connection is dropped on any failure and when the server
/// says `Connection: close`.
fn sync_exchange(
    connection: &mut Option<std::net::TcpStream>,
    url: &HttpUrl,
    request: &[u8],
    buffer: &mut [u8],
) -> std::result::Result<(), Exchange> {
    let stream = match connection {
        Some(stream) => stream,
        None => {
            let stream =
                std::net::TcpStream::connect((url.host(), url.port())).map_err(io_failure)?;
            stream.set_nodelay(true).map_err(io_failure)?;
            connection.insert(stream)
        }
    };
    let result = (|| {
        stream
            .write_all(request)
            .map_err(Exchange::ClosedBeforeResponse)?;
        let mut filled = 0;
        let head = loop {
            let read = match stream.read(&mut buffer[filled..]) {
                Ok(0) if filled == 0 => return Err(Exchange::ClosedBeforeResponse(closed())),
                Ok(0) => return Err(io_failure(closed())),
                Ok(read) => read,
                Err(error) if error.kind() == IoErrorKind::Interrupted => continue,
                Err(error) if filled == 0 => return Err(Exchange::ClosedBeforeResponse(error)),
                Err(error) => return Err(io_failure(error)),
            };
            filled += read;
            if let Some(head) = parse_head(&buffer[..filled]).map_err(Exchange::Failed)? {
                break head;
            }
            if filled == buffer.len() {
                return Err(Exchange::Failed(head_too_large()));
            }
        };
        let mut remaining = head.body_remaining(filled).map_err(Exchange::Failed)?;
        while remaining > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            match stream.read(&mut buffer[..want]) {
                Ok(0) => return Err(io_failure(closed())),
                Ok(read) => remaining -= read as u64,
                Err(error) if error.kind() == IoErrorKind::Interrupted => {}
                Err(error) => return Err(io_failure(error)),
            }
        }
        Ok(head.close)
    })();
    match result {
        Ok(false) => Ok(()),
        Ok(true) => {
            *connection = None;
            Ok(())
        }
        Err(failure) => {
            *connection = None;
            Err(failure)
        }
    }
}

/// [`sync_exchange`] on a tokio stream.
async fn async_exchange(
    connection: &mut Option<tokio::net::TcpStream>,
    url: &HttpUrl,
    request: &[u8],
    buffer: &mut [u8],
) -> std::result::Result<(), Exchange> {
    let stream = match connection {
        Some(stream) => stream,
        None => {
            let stream = tokio::net::TcpStream::connect((url.host(), url.port()))
                .await
                .map_err(io_failure)?;
            stream.set_nodelay(true).map_err(io_failure)?;
            connection.insert(stream)
        }
    };
    let result = async {
        stream
            .write_all(request)
            .await
            .map_err(Exchange::ClosedBeforeResponse)?;
        let mut filled = 0;
        let head = loop {
            let read = match stream.read(&mut buffer[filled..]).await {
                Ok(0) if filled == 0 => return Err(Exchange::ClosedBeforeResponse(closed())),
                Ok(0) => return Err(io_failure(closed())),
                Ok(read) => read,
                Err(error) if filled == 0 => return Err(Exchange::ClosedBeforeResponse(error)),
                Err(error) => return Err(io_failure(error)),
            };
            filled += read;
            if let Some(head) = parse_head(&buffer[..filled]).map_err(Exchange::Failed)? {
                break head;
            }
            if filled == buffer.len() {
                return Err(Exchange::Failed(head_too_large()));
            }
        };
        let mut remaining = head.body_remaining(filled).map_err(Exchange::Failed)?;
        while remaining > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            match stream.read(&mut buffer[..want]).await {
                Ok(0) => return Err(io_failure(closed())),
                Ok(read) => remaining -= read as u64,
                Err(error) => return Err(io_failure(error)),
            }
        }
        Ok(head.close)
    }
    .await;
    match result {
        Ok(false) => Ok(()),
        Ok(true) => {
            *connection = None;
            Ok(())
        }
        Err(failure) => {
            *connection = None;
            Err(failure)
        }
    }
}

fn head_too_large() -> Error {
    Error::msg(format!(
        "the response head is larger than {BUFFER_LEN} bytes"
    ))
}

/// What the response head says about the rest of the response.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    /// Bytes of the head, including the blank line.
    length: usize,
    content_length: u64,
    /// `Connection: close`, or HTTP/1.0 without keep-alive.
    close: bool,
}

impl Head {
    /// Body bytes still to read when `filled` bytes of the response are in.
    fn body_remaining(&self, filled: usize) -> Result<u64> {
        let body_read = (filled - self.length) as u64;
        if body_read > self.content_length {
            return Err(Error::msg(
                "the server sent more than Content-Length bytes (a response nobody asked for)",
            ));
        }
        Ok(self.content_length - body_read)
    }
}

/// Parses a response head once it is complete (`Ok(None)`: not yet).
fn parse_head(bytes: &[u8]) -> Result<Option<Head>> {
    let Some(end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes[..end])
        .map_err(|_| Error::msg("the response head is not valid UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status: u16 = parts
        .next()
        .and_then(|code| code.parse().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| Error::msg(format!("not an HTTP/1.x status line: {status_line:?}")))?;
    if !(200..300).contains(&status) {
        return Err(Error::msg(format!("the server answered {status_line:?}")));
    }
    let mut content_length = None;
    let mut close = version == "HTTP/1.0";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| Error::msg(format!("bad Content-Length {value:?}")))?,
            );
        } else if name.eq_ignore_ascii_case("connection") {
            let has = |token: &str| {
                value
                    .split(',')
                    .any(|item| item.trim().eq_ignore_ascii_case(token))
            };
            close = has("close") || (close && !has("keep-alive"));
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Error::msg(format!(
                "the response uses Transfer-Encoding: {value}; RawTcpGetTest reads only responses with Content-Length"
            )));
        }
    }
    let content_length = match (content_length, status) {
        (Some(length), _) => length,
        (None, 204) => 0,
        (None, _) => {
            return Err(Error::msg(
                "the response has no Content-Length; RawTcpGetTest reads only responses with one",
            ));
        }
    };
    Ok(Some(Head {
        length: end + 4,
        content_length,
        close,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heads() {
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 5").unwrap(),
            None
        );
        let head =
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: x\r\n\r\nhel").unwrap();
        assert_eq!(
            head,
            Some(Head {
                length: 47,
                content_length: 5,
                close: false
            })
        );
        assert_eq!(head.unwrap().body_remaining(50).unwrap(), 2);
        let closing =
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(closing.close);
        let old = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(old.close);
        let old_kept =
            parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: Keep-Alive\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(!old_kept.close);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse_head(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
        let head = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(head.body_remaining(head.length + 2).is_err());
    }
}
