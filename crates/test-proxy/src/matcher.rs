//! Which recorded entry answers a playback request (spec 6.3): the default
//! matcher (`RecordMatcher`) and its variants `BodilessMatcher`,
//! `HeaderlessMatcher` and `CustomDefaultMatcher`.

use std::fmt::Write as _;

use bytes::Bytes;

use crate::codec::{percent_decode, percent_encode};
use crate::recording::{Entry, Headers, first_header};

/// Headers never looked at.
const EXCLUDED: &[&str] = &["request-id", "traceparent"];
/// Headers whose values are not compared (their presence is).
const IGNORED: &[&str] = &[
    "date",
    "x-ms-date",
    "x-ms-client-request-id",
    "x-ms-client-id",
    "user-agent",
    "x-ms-useragent",
    "x-ms-version",
    "if-none-match",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "referrer",
    "referer",
    "origin",
    "content-length",
];

/// A matcher's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matcher {
    /// Whether bodies are compared (`false`: `BodilessMatcher`).
    pub compare_bodies: bool,
    /// Whether headers are compared (`false`: `HeaderlessMatcher`).
    pub compare_headers: bool,
    /// Lower-case names never looked at.
    pub excluded_headers: Vec<String>,
    /// Lower-case names whose values are not compared.
    pub ignored_headers: Vec<String>,
    /// Whether the query is compared sorted by parameter name.
    pub ignore_query_ordering: bool,
    /// Query parameters whose values are not compared.
    pub ignored_query_parameters: Vec<String>,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            compare_bodies: true,
            compare_headers: true,
            excluded_headers: EXCLUDED.iter().map(|name| (*name).to_owned()).collect(),
            ignored_headers: IGNORED.iter().map(|name| (*name).to_owned()).collect(),
            ignore_query_ordering: false,
            ignored_query_parameters: Vec::new(),
        }
    }
}

/// A matcher's arguments that are not valid (the 400 of `/Admin/SetMatcher`).
pub type MatcherError = String;

impl Matcher {
    /// The matcher `/Admin/SetMatcher` names (`x-abstraction-identifier`),
    /// with its JSON arguments.
    pub fn named(
        name: &str,
        arguments: Option<&serde_json::Value>,
    ) -> Result<Matcher, MatcherError> {
        let mut matcher = Matcher::default();
        match name {
            "BodilessMatcher" => {
                matcher.compare_bodies = false;
                matcher.excluded_headers.push("content-length".to_owned());
            }
            "HeaderlessMatcher" => matcher.compare_headers = false,
            "CustomDefaultMatcher" => {
                let Some(serde_json::Value::Object(arguments)) = arguments else {
                    return Ok(matcher);
                };
                for (key, value) in arguments {
                    let text = match value {
                        serde_json::Value::Number(_) => {
                            return Err("Number parameters are not supported".to_owned());
                        }
                        serde_json::Value::String(text) if text.is_empty() => {
                            return Err(format!("Parameter {key} must not be an empty string"));
                        }
                        serde_json::Value::String(text) => text.clone(),
                        serde_json::Value::Bool(flag) => flag.to_string(),
                        _ => continue,
                    };
                    let list = || -> Vec<String> {
                        text.split(',')
                            .map(|part| part.trim().to_ascii_lowercase())
                            .filter(|part| !part.is_empty())
                            .collect()
                    };
                    let flag = || text.eq_ignore_ascii_case("true");
                    match key.as_str() {
                        "compareBodies" => matcher.compare_bodies = flag(),
                        "excludedHeaders" => matcher.excluded_headers.extend(list()),
                        "ignoredHeaders" => matcher.ignored_headers.extend(list()),
                        "ignoreQueryOrdering" => matcher.ignore_query_ordering = flag(),
                        "ignoredQueryParameters" => {
                            matcher.ignored_query_parameters =
                                text.split(',').map(|part| part.trim().to_owned()).collect();
                        }
                        _ => {}
                    }
                }
            }
            other => {
                return Err(format!(
                    "Requested type Azure.Sdk.Tools.TestProxy.Matchers.{other} is not not recognized."
                ));
            }
        }
        Ok(matcher)
    }

    /// Whether this is the default matcher (whose normalized URIs entries cache).
    pub fn is_default(&self) -> bool {
        *self == Matcher::default()
    }

    /// `uri` normalized for comparison: scheme and host lower-cased,
    /// default port dropped, the query re-built from its decoded parameters.
    pub fn normalize_uri(&self, uri: &str) -> String {
        let (scheme, rest) = uri.split_once("://").unwrap_or(("", uri));
        let scheme = scheme.to_ascii_lowercase();
        let rest = rest.split('#').next().unwrap_or_default();
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let mut authority = rest[..authority_end].to_ascii_lowercase();
        for (default_scheme, port) in [("http", ":80"), ("https", ":443")] {
            if scheme == default_scheme && authority.ends_with(port) {
                authority.truncate(authority.len() - port.len());
            }
        }
        let after = &rest[authority_end..];
        let (path, query) = match after.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (after, None),
        };
        let path = if path.is_empty() { "/" } else { path };
        let mut out = format!("{scheme}://{authority}{path}");
        let Some(query) = query else {
            return out;
        };
        let mut parameters: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (percent_decode(name, true), percent_decode(value, true));
            match parameters
                .iter_mut()
                .find(|(existing, _)| *existing == name)
            {
                Some((_, values)) => {
                    values.push(',');
                    values.push_str(&value);
                }
                None => parameters.push((name, value)),
            }
        }
        if self.ignore_query_ordering {
            parameters.sort_by(|a, b| a.0.cmp(&b.0));
        }
        for (index, (name, value)) in parameters.iter().enumerate() {
            out.push(if index == 0 { '?' } else { '&' });
            let value = if self
                .ignored_query_parameters
                .iter()
                .any(|ignored| ignored == name)
            {
                "Volatile"
            } else {
                value
            };
            let _ = write!(out, "{}={}", percent_encode(name), percent_encode(value));
        }
        out
    }
}

/// A recorded entry ready for matching: what every request would compute
/// again, computed once.
#[derive(Debug)]
pub struct Prepared {
    /// The entry.
    pub entry: Entry,
    /// Its URI normalized by the default matcher.
    pub default_uri: String,
    /// Its request headers, names lower-cased.
    pub headers: Headers,
}

impl Prepared {
    /// Prepares `entry`.
    pub fn new(entry: Entry) -> Prepared {
        let default_uri = Matcher::default().normalize_uri(&entry.request_uri);
        let headers = lower(&entry.request_headers);
        Prepared {
            entry,
            default_uri,
            headers,
        }
    }
}

impl AsRef<Prepared> for Prepared {
    fn as_ref(&self) -> &Prepared {
        self
    }
}

/// Header names lower-cased (several lines of one name merged, in order).
pub fn lower(headers: &Headers) -> Headers {
    let mut out: Headers = Vec::with_capacity(headers.len());
    for (name, values) in headers {
        let name = name.to_ascii_lowercase();
        match out.iter_mut().find(|(existing, _)| *existing == name) {
            Some((_, existing)) => existing.extend(values.iter().cloned()),
            None => out.push((name, values.clone())),
        }
    }
    out
}

/// A playback request, as matching sees it.
#[derive(Debug)]
pub struct Incoming {
    /// Its absolute upstream URI.
    pub uri: String,
    /// Its method.
    pub method: String,
    /// Its headers, names lower-cased (no `Host`, no `x-recording-*`, `Authorization` sanitized).
    pub headers: Headers,
    /// Its body (`None` when empty).
    pub body: Option<Bytes>,
}

/// Why the lowest-scoring entry did not match.
struct Differences {
    score: usize,
    text: String,
}

impl Matcher {
    /// The index of the first entry that matches `request`, or the
    /// mismatch message (spec section 7).
    pub fn find<T: AsRef<Prepared>>(
        &self,
        request: &Incoming,
        entries: &[std::sync::Arc<T>],
    ) -> Result<usize, String> {
        let default = self.is_default();
        let request_uri = self.normalize_uri(&request.uri);
        let mut best: Option<(usize, Differences)> = None;
        for (index, prepared) in entries.iter().enumerate() {
            let prepared = (**prepared).as_ref();
            let differences =
                self.compare(request, &request_uri, prepared, default, best.is_none());
            if differences.score == 0 {
                return Ok(index);
            }
            if best
                .as_ref()
                .is_none_or(|(_, current)| differences.score < current.score)
            {
                // Describe it (only the best one is described in the end).
                let described = self.compare(request, &request_uri, prepared, default, true);
                best = Some((index, described));
            }
        }
        let mut message = format!(
            "Unable to find a record for the request {} {}\n",
            request.method, request.uri
        );
        match best {
            None => message.push_str("No records to match.\n"),
            Some((_, differences)) => message.push_str(&differences.text),
        }
        message.push_str("Remaining Entries:\n");
        for (index, prepared) in entries.iter().enumerate() {
            let _ = writeln!(
                message,
                "{index}: {}",
                (**prepared).as_ref().entry.request_uri
            );
        }
        Err(message)
    }

    fn compare(
        &self,
        request: &Incoming,
        request_uri: &str,
        prepared: &Prepared,
        default: bool,
        describe: bool,
    ) -> Differences {
        let mut score = 0;
        let mut text = String::new();
        let entry = &prepared.entry;
        if !request.method.eq_ignore_ascii_case(&entry.request_method) {
            score += 1;
            if describe {
                let _ = writeln!(
                    text,
                    "Method doesn't match, request <{}> record <{}>",
                    request.method, entry.request_method
                );
            }
        }
        let record_uri;
        let record_uri = if default {
            &prepared.default_uri
        } else {
            record_uri = self.normalize_uri(&entry.request_uri);
            &record_uri
        };
        if request_uri != record_uri {
            score += 1;
            if describe {
                let _ = write!(
                    text,
                    "Uri doesn't match:\n    request <{}>\n    record  <{}>\n",
                    request.uri, entry.request_uri
                );
            }
        }
        if self.compare_headers {
            let mut header_text = String::new();
            let excluded = |name: &str| {
                self.excluded_headers
                    .iter()
                    .any(|excluded| excluded == name)
            };
            let ignored = |name: &str| self.ignored_headers.iter().any(|ignored| ignored == name);
            for (name, values) in &request.headers {
                if excluded(name) {
                    continue;
                }
                match prepared
                    .headers
                    .iter()
                    .find(|(recorded, _)| recorded == name)
                {
                    None => {
                        score += 1;
                        if describe {
                            let _ = writeln!(
                                header_text,
                                "    <{name}> is absent in record, value <{}>",
                                values.join(",")
                            );
                        }
                    }
                    Some(_) if ignored(name) => {}
                    Some((_, recorded)) => {
                        if !values_equal(name, values, recorded) {
                            score += 1;
                            if describe {
                                let _ = writeln!(
                                    header_text,
                                    "    <{name}> values differ, request <{}>, record <{}>",
                                    values.join(","),
                                    recorded.join(",")
                                );
                            }
                        }
                    }
                }
            }
            for (name, values) in &prepared.headers {
                if excluded(name)
                    || request
                        .headers
                        .iter()
                        .any(|(requested, _)| requested == name)
                {
                    continue;
                }
                score += 1;
                if describe {
                    let _ = writeln!(
                        header_text,
                        "    <{name}> is absent in request, value <{}>",
                        values.join(",")
                    );
                }
            }
            if !header_text.is_empty() {
                text.push_str("Header differences:\n");
                text.push_str(&header_text);
            }
        }
        if self.compare_bodies {
            let recorded = entry.request_body.as_ref().filter(|body| !body.is_empty());
            let equal = match (&request.body, recorded) {
                (None, None) => true,
                (Some(a), Some(b)) if a == b => true,
                (Some(a), Some(b)) => {
                    let json = first_header(&request.headers, "content-type")
                        .is_some_and(|t| t.to_ascii_lowercase().contains("json"));
                    json && matches!(
                        (serde_json::from_slice::<serde_json::Value>(a), serde_json::from_slice::<serde_json::Value>(b)),
                        (Ok(x), Ok(y)) if x == y
                    )
                }
                _ => false,
            };
            if !equal {
                score += 1;
                if describe {
                    text.push_str("Body differences:\n");
                    let (a, b) = (
                        request.body.clone().unwrap_or_default(),
                        recorded.cloned().unwrap_or_default(),
                    );
                    let at = a
                        .iter()
                        .zip(b.iter())
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.len().min(b.len()));
                    let _ = write!(
                        text,
                        "Request and record bodies do not match at index {at}:\n     request: \"{}\"\n     record:  \"{}\"\n",
                        snippet(&a, at),
                        snippet(&b, at)
                    );
                }
            }
        }
        Differences { score, text }
    }
}

fn snippet(body: &[u8], at: usize) -> String {
    let start = at.saturating_sub(10);
    let end = (at + 20).min(body.len());
    String::from_utf8_lossy(body.get(start..end).unwrap_or_default()).into_owned()
}

/// Header values compared as the ordered list of lines; `Accept` and
/// `Content-Type` re-normalized first.
fn values_equal(name: &str, request: &[String], record: &[String]) -> bool {
    if request == record {
        return true;
    }
    if name != "accept" && name != "content-type" {
        return false;
    }
    let normalize = |values: &[String]| -> Vec<String> {
        values
            .iter()
            .map(|value| {
                let mut value = value.clone();
                if name == "content-type" && value.to_ascii_lowercase().starts_with("multipart/") {
                    value = value
                        .split(';')
                        .filter(|part| !part.trim().to_ascii_lowercase().starts_with("boundary="))
                        .collect::<Vec<_>>()
                        .join(";");
                }
                value
                    .split(',')
                    .map(|part| {
                        part.split(';')
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect()
    };
    normalize(request) == normalize(record)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn entry(uri: &str, headers: &[(&str, &str)], body: Option<&str>) -> Arc<Prepared> {
        Arc::new(Prepared::new(Entry {
            request_uri: uri.to_owned(),
            request_method: "GET".to_owned(),
            request_headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), vec![(*v).to_owned()]))
                .collect(),
            request_body: body.map(|b| Bytes::from(b.to_owned())),
            status_code: 200,
            response_headers: Vec::new(),
            response_body: None,
        }))
    }

    fn request(uri: &str, headers: &[(&str, &str)], body: Option<&str>) -> Incoming {
        Incoming {
            uri: uri.to_owned(),
            method: "GET".to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), vec![(*v).to_owned()]))
                .collect(),
            body: body.map(|b| Bytes::from(b.to_owned())),
        }
    }

    #[test]
    fn normalizes_uris() {
        let m = Matcher::default();
        assert_eq!(
            m.normalize_uri("HTTP://Host:80/a?b=1+2&c=%41"),
            "http://host/a?b=1%202&c=A"
        );
        assert_eq!(m.normalize_uri("https://h:443"), "https://h/");
        assert_eq!(m.normalize_uri("http://h/?a=1&a=2"), "http://h/?a=1%2C2");
        assert_ne!(
            m.normalize_uri("http://h/?a=1&b=2"),
            m.normalize_uri("http://h/?b=2&a=1")
        );
        let sorted = Matcher {
            ignore_query_ordering: true,
            ..Matcher::default()
        };
        assert_eq!(
            sorted.normalize_uri("http://h/?a=1&b=2"),
            sorted.normalize_uri("http://h/?b=2&a=1")
        );
        let volatile = Matcher::named(
            "CustomDefaultMatcher",
            Some(&serde_json::json!({"ignoredQueryParameters": "sig"})),
        )
        .unwrap();
        assert_eq!(
            volatile.normalize_uri("http://h/?sig=1"),
            volatile.normalize_uri("http://h/?sig=2")
        );
        assert_ne!(
            volatile.normalize_uri("http://h/?sig=1"),
            volatile.normalize_uri("http://h/")
        );
    }

    #[test]
    fn ignored_headers_need_presence_excluded_never_matter() {
        let m = Matcher::default();
        let entries = [entry(
            "http://h/",
            &[("date", "1"), ("user-agent", "a"), ("traceparent", "x")],
            None,
        )];
        assert_eq!(
            m.find(
                &request("http://h/", &[("date", "2"), ("user-agent", "b")], None),
                &entries
            ),
            Ok(0)
        );
        let missing = m
            .find(&request("http://h/", &[("date", "2")], None), &entries)
            .unwrap_err();
        assert!(
            missing.contains("<user-agent> is absent in request"),
            "{missing}"
        );
        let extra = m
            .find(
                &request(
                    "http://h/",
                    &[("date", "2"), ("user-agent", "b"), ("x-ms-foo", "1")],
                    None,
                ),
                &entries,
            )
            .unwrap_err();
        assert!(extra.contains("<x-ms-foo> is absent in record"), "{extra}");
        assert!(extra.starts_with("Unable to find a record for the request GET http://h/\n"));
        assert!(extra.contains("Remaining Entries:\n0: http://h/\n"));
        let headerless = Matcher::named("HeaderlessMatcher", None).unwrap();
        assert_eq!(
            headerless.find(&request("http://h/", &[("x-ms-foo", "1")], None), &entries),
            Ok(0)
        );
        let custom = Matcher::named(
            "CustomDefaultMatcher",
            Some(&serde_json::json!({"excludedHeaders": "x-ms-foo,user-agent"})),
        )
        .unwrap();
        assert_eq!(
            custom.find(
                &request("http://h/", &[("date", "2"), ("x-ms-foo", "1")], None),
                &entries
            ),
            Ok(0)
        );
    }

    #[test]
    fn bodies_json_aware_and_bodiless() {
        let m = Matcher::default();
        let json = [("content-type", "application/json")];
        let entries = [entry("http://h/", &json, Some("{\"a\":1,\"b\":[1,2]}"))];
        assert_eq!(
            m.find(
                &request("http://h/", &json, Some("{\"b\":[1,2],\"a\":1}")),
                &entries
            ),
            Ok(0)
        );
        let differs = m
            .find(
                &request("http://h/", &json, Some("{\"b\":[2,1],\"a\":1}")),
                &entries,
            )
            .unwrap_err();
        assert!(differs.contains("Body differences:"), "{differs}");
        assert!(
            m.find(&request("http://h/", &json, None), &entries)
                .is_err()
        );
        let bodiless = Matcher::named("BodilessMatcher", None).unwrap();
        assert_eq!(
            bodiless.find(&request("http://h/", &json, Some("anything")), &entries),
            Ok(0)
        );
    }

    #[test]
    fn first_match_wins_and_no_records() {
        let m = Matcher::default();
        let entries = [
            entry("http://h/a", &[], None),
            entry("http://h/b", &[], None),
            entry("http://h/b", &[], None),
        ];
        assert_eq!(m.find(&request("http://h/b", &[], None), &entries), Ok(1));
        let none = m
            .find::<Prepared>(&request("http://h/b", &[], None), &[])
            .unwrap_err();
        assert!(none.contains("No records to match."));
        assert!(
            Matcher::named("NoSuchMatcher", None)
                .unwrap_err()
                .contains("not not recognized")
        );
        assert_eq!(
            Matcher::named(
                "CustomDefaultMatcher",
                Some(&serde_json::json!({"compareBodies": 1}))
            )
            .unwrap_err(),
            "Number parameters are not supported"
        );
    }

    #[test]
    fn accept_and_content_type_normalized() {
        assert!(values_equal(
            "accept",
            &["a/b;q=1,c/d".into()],
            &["a/b; q=1, c/d".into()]
        ));
        assert!(!values_equal("x-other", &["a,b".into()], &["a, b".into()]));
    }
}
