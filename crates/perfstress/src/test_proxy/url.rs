//! A test proxy's address as `-x/--test-proxies` and `--test-proxy` give it.

use std::fmt;

/// A test proxy's base URL, parsed once: `http://HOST[:PORT]` with an
/// optional trailing `/` (what a .NET `Uri` prints, and so what
/// PerfAutomation passes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProxyUrl {
    /// `http` (or `https`).
    scheme: String,
    /// `host:port` as given (`127.0.0.1:5000`, `[::1]:5000`, `localhost`).
    authority: String,
    /// The host to connect to, without IPv6 brackets.
    host: String,
    /// The port (80 or 443 when the URL names none).
    port: u16,
}

impl ProxyUrl {
    /// Parses a proxy URL; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let example = "e.g. http://127.0.0.1:5000 or http://localhost:5000/";
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(format!("empty test-proxy URL; expected {example}"));
        }
        let Some((scheme, rest)) = trimmed.split_once("://") else {
            return Err(format!("'{text}' is not a URL; expected {example}"));
        };
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => {
                return Err(format!(
                    "'{text}': a test proxy URL is http:// or https://, {example}"
                ));
            }
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        if !path.is_empty() && path != "/" {
            return Err(format!(
                "'{text}': a test proxy URL has no path, query or fragment (the proxy's endpoints are at its root); {example}"
            ));
        }
        if authority.is_empty() || authority.contains('@') {
            return Err(format!(
                "'{text}': the URL has no host (or has user info); {example}"
            ));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let Some((host, after)) = bracketed.split_once(']') else {
                return Err(format!("'{text}': unclosed '[' in the host; {example}"));
            };
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let valid_host = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !valid_host {
            return Err(format!(
                "'{text}': '{host}' is not a host name or address; {example}"
            ));
        }
        let port = match port {
            None => default_port,
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| {
                    format!("'{text}': the port must be a number from 1 to 65535; {example}")
                })?,
        };
        Ok(ProxyUrl {
            scheme,
            authority: authority.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// `host[:port]` as given, e.g. `127.0.0.1:5000`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The host, without brackets for IPv6.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (the scheme's default when the URL has none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `scheme://authority`, no trailing `/`: what a request's scheme and
    /// authority are replaced with.
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}://{}", self.scheme, self.authority)
    }
}

/// `-x/--test-proxies`' parser: one URL of the `;`-separated list.
pub(crate) fn parse_proxy_url(text: &str) -> Result<ProxyUrl, String> {
    ProxyUrl::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_perf_automation_sends() {
        let url = ProxyUrl::parse("http://127.0.0.1:5000/").unwrap();
        assert_eq!(url.base(), "http://127.0.0.1:5000");
        assert_eq!((url.host(), url.port()), ("127.0.0.1", 5000));
        let bare = ProxyUrl::parse("http://localhost").unwrap();
        assert_eq!(bare.port(), 80);
        assert_eq!(bare.to_string(), "http://localhost");
        let upper = ProxyUrl::parse("HTTP://LocalHost:5000").unwrap();
        assert_eq!(upper.base(), "http://localhost:5000");
        let v6 = ProxyUrl::parse("http://[::1]:5001/").unwrap();
        assert_eq!(
            (v6.host(), v6.port(), v6.authority()),
            ("::1", 5001, "[::1]:5001")
        );
        assert_eq!(
            ProxyUrl::parse("https://localhost:5001").unwrap().scheme(),
            "https"
        );
    }

    #[test]
    fn refuses_malformed_urls_and_names_them() {
        for bad in [
            "",
            "127.0.0.1:5000",
            "ftp://127.0.0.1:5000",
            "http://",
            "http://:5000",
            "http://127.0.0.1:abc",
            "http://127.0.0.1:0",
            "http://127.0.0.1:70000",
            "http://127.0.0.1:5000/record",
            "http://user@host:5000",
            "http://bad host:5000",
            "http://[::1:5000",
        ] {
            let error = ProxyUrl::parse(bad).expect_err(bad);
            if !bad.is_empty() {
                assert!(error.contains(bad), "{error} names {bad}");
            }
        }
    }
}
