//! The options every HTTP transport test takes, and the URL they parse to.

use std::fmt;

/// The largest `--size`: the embedded server keeps its response body in
/// memory, and an upload of more than this is a storage test, not a
/// transport baseline.
pub(crate) const MAX_SIZE: u64 = 1 << 30;

/// Options of the HTTP transport tests (`HttpGetTest`, `ReqwestGetTest`,
/// `UreqGetTest`, `RawTcpGetTest`, `AzureCoreGetTest`, `HttpPutTest`).
#[derive(clap::Args, Clone, Debug)]
pub struct HttpOptions {
    /// The URL to send requests to (http:// only). Without it, the test
    /// starts an embedded server on 127.0.0.1 (one per process).
    #[arg(short = 'u', long, value_name = "URL", value_parser = HttpUrl::parse)]
    pub url: Option<HttpUrl>,

    /// Body size in bytes: of the embedded server's responses (GET; with
    /// --url the server decides), and of each upload (PUT).
    #[arg(long, value_name = "BYTES", default_value_t = 16,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SIZE))]
    pub size: u64,
}

/// An `http://` URL, parsed once so that no operation parses it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    text: String,
    uri: http::Uri,
    host: String,
    port: u16,
}

impl HttpUrl {
    /// Parses `text`: an absolute `http://` URL with a host. `https` is
    /// refused with a message that says why (systemperf builds no TLS).
    pub fn parse(text: &str) -> Result<Self, String> {
        let example = "e.g. http://127.0.0.1:8080/index.html";
        let uri: http::Uri = text
            .parse()
            .map_err(|error| format!("not a URL ({error}); expected an http:// URL, {example}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "https is not supported: systemperf's transport tests are built without TLS \
                     (they measure the transport, not TLS); use an http:// URL, {example}"
                ));
            }
            _ => return Err(format!("expected an http:// URL, {example}")),
        }
        let Some(host) = uri.host().filter(|host| !host.is_empty()) else {
            return Err(format!("the URL has no host; {example}"));
        };
        let host = host.to_owned();
        let port = uri.port_u16().unwrap_or(80);
        // A bare authority ("http://host:80") has the path "/" in a request line.
        let uri = if uri.path_and_query().is_none() {
            let mut parts = uri.into_parts();
            parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
            http::Uri::from_parts(parts).map_err(|error| error.to_string())?
        } else {
            uri
        };
        Ok(HttpUrl {
            text: uri.to_string(),
            uri,
            host,
            port,
        })
    }

    /// The URL as text, e.g. `http://127.0.0.1:8080/`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL as an `http::Uri` (cheap to clone).
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// The host, without brackets for IPv6 (`::1`).
    pub fn host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The port (80 when the URL has none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The value of the `Host` header: the URL's authority.
    pub fn authority(&self) -> &str {
        self.uri
            .authority()
            .map_or("", |authority| authority.as_str())
    }

    /// The request target: path and query, at least `/`.
    pub fn path_and_query(&self) -> &str {
        self.uri
            .path_and_query()
            .map_or("/", |path_and_query| path_and_query.as_str())
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls() {
        let url = HttpUrl::parse("http://127.0.0.1:8080/a/b?c=d").unwrap();
        assert_eq!(url.host(), "127.0.0.1");
        assert_eq!(url.port(), 8080);
        assert_eq!(url.authority(), "127.0.0.1:8080");
        assert_eq!(url.path_and_query(), "/a/b?c=d");

        let bare = HttpUrl::parse("http://localhost").unwrap();
        assert_eq!(bare.port(), 80);
        assert_eq!(bare.path_and_query(), "/");
        assert_eq!(bare.as_str(), "http://localhost/");

        let ipv6 = HttpUrl::parse("http://[::1]:81/").unwrap();
        assert_eq!(ipv6.host(), "::1");
        assert_eq!(ipv6.authority(), "[::1]:81");
    }

    #[test]
    fn refuses_what_it_cannot_send() {
        assert!(
            HttpUrl::parse("https://example.com/")
                .unwrap_err()
                .contains("TLS")
        );
        assert!(HttpUrl::parse("ftp://example.com/").is_err());
        assert!(HttpUrl::parse("/relative").is_err());
        assert!(HttpUrl::parse("not a url").is_err());
    }
}
