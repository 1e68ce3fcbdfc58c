//! `--otlp-endpoint URL`: whether this build exports, and the URL exports
//! go to (decided in `Plan::new`); the exporter is `report/otlp.rs`.

use crate::redact::redact_url;

/// Whether this build can export (`otlp` feature).
pub(crate) const AVAILABLE: bool = cfg!(feature = "otlp");

/// The path the OTLP/HTTP metrics receiver listens on.
const METRICS_PATH: &str = "/v1/metrics";

/// The URL exports are sent to for `--otlp-endpoint endpoint`: an
/// `http://` or `https://` URL with a host; with no path (or `/`), the
/// OTLP/HTTP metrics path `/v1/metrics` is appended, as
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is read; a URL with a path is used as is.
pub(crate) fn metrics_url(endpoint: &str) -> Result<String, String> {
    let invalid = |why: &str| {
        Err(format!(
            "--otlp-endpoint: {why}; got '{}' (expected e.g. http://localhost:4318, the collector's OTLP/HTTP address)",
            redact_url(endpoint)
        ))
    };
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return invalid("not a URL");
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return invalid("the scheme must be http or https (OTLP/HTTP; gRPC is not supported)");
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() || host.starts_with(':') || authority.chars().any(char::is_whitespace) {
        return invalid("the URL has no host");
    }
    if let Some((_, port)) = host.rsplit_once(':').filter(|_| !host.ends_with(']'))
        && port.parse::<u16>().is_err()
    {
        return invalid("the port is not a number from 0 to 65535");
    }
    Ok(if path.is_empty() || path == "/" {
        format!("{scheme}://{authority}{METRICS_PATH}")
    } else {
        endpoint.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::metrics_url;

    #[test]
    fn the_metrics_path_is_added_to_a_bare_endpoint() {
        for (endpoint, url) in [
            ("http://localhost:4318", "http://localhost:4318/v1/metrics"),
            ("http://localhost:4318/", "http://localhost:4318/v1/metrics"),
            ("https://collector", "https://collector/v1/metrics"),
            ("http://[::1]:4318", "http://[::1]:4318/v1/metrics"),
            (
                "http://c:4318/otlp/v1/metrics",
                "http://c:4318/otlp/v1/metrics",
            ),
        ] {
            assert_eq!(metrics_url(endpoint).as_deref(), Ok(url), "{endpoint}");
        }
    }

    #[test]
    fn a_bad_endpoint_is_refused() {
        for endpoint in [
            "localhost:4318",
            "grpc://c:4317",
            "http://",
            "http://:4318",
            "http://c:port",
        ] {
            let error = metrics_url(endpoint).unwrap_err();
            assert!(error.starts_with("--otlp-endpoint: "), "{error}");
        }
    }
}
