//! Recorded entries and the recording file format (spec section 8): UTF-8
//! JSON, indented, entry properties in a fixed order, headers sorted by
//! name, bodies encoded by their content type.

use std::fmt::Write as _;

use bytes::Bytes;

use crate::codec::{base64_decode, base64_encode};

/// Header lines of one side of an entry, in the order received: each name
/// once, with its values (several lines of one name keep their order).
pub type Headers = Vec<(String, Vec<String>)>;

/// The values of header `name` (case-insensitive).
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a [String]> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, values)| values.as_slice())
}

/// The first value of header `name` (case-insensitive).
pub fn first_header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    header(headers, name)
        .and_then(|values| values.first())
        .map(String::as_str)
}

/// One recorded request and its response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The absolute upstream URI.
    pub request_uri: String,
    /// `GET`, `PUT`, ...
    pub request_method: String,
    /// The request's headers (no `Host`, no `x-recording-*`).
    pub request_headers: Headers,
    /// The request body (decompressed); `None`: no body.
    pub request_body: Option<Bytes>,
    /// The response's status.
    pub status_code: u16,
    /// The response's headers.
    pub response_headers: Headers,
    /// The response body (decompressed); `None`: no body.
    pub response_body: Option<Bytes>,
}

/// A recording: its entries in order and its variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recording {
    /// The entries, in recorded order.
    pub entries: Vec<Entry>,
    /// `/Record/Stop`'s variables, returned by `/Playback/Start`.
    pub variables: Vec<(String, String)>,
}

/// Whether a body of content type `content_type` is written as text.
pub fn is_text_content_type(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let lower = content_type.to_ascii_lowercase();
    if lower.contains("application/vnd.docker") || lower.contains("application/vnd.oci") {
        return false;
    }
    let media = lower.split(';').next().unwrap_or_default().trim();
    media.starts_with("text/")
        || media.contains("json")
        || media.ends_with("xml")
        || media.ends_with("-urlencoded")
        || lower.replace(' ', "").contains("charset=utf-8")
}

/// A JSON value that keeps the order of object keys (what the file format
/// needs: `serde_json`'s map sorts them).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number, as JSON text.
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Json;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, value: bool) -> Result<Json, E> {
                Ok(Json::Bool(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Json, E> {
                Ok(Json::Number(value.to_string()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Json, E> {
                Ok(Json::Number(value.to_string()))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Json, E> {
                Ok(Json::Number(
                    serde_json::Number::from_f64(value)
                        .map_or_else(|| "0".to_owned(), |n| n.to_string()),
                ))
            }
            fn visit_str<E>(self, value: &str) -> Result<Json, E> {
                Ok(Json::String(value.to_owned()))
            }
            fn visit_string<E>(self, value: String) -> Result<Json, E> {
                Ok(Json::String(value))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Json>()? {
                    members.push((key, value));
                }
                Ok(Json::Object(members))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Json {
    /// Parses JSON text.
    pub(crate) fn parse(text: &[u8]) -> Option<Json> {
        serde_json::from_slice(text).ok()
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(key))
                .map(|(_, value)| value),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    /// Compact JSON text.
    pub(crate) fn compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// Indented JSON text (two spaces, as .NET writes it).
    pub(crate) fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(2), 0);
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>, depth: usize) {
        let newline = |out: &mut String, depth: usize| {
            if let Some(width) = indent {
                out.push('\n');
                out.push_str(&" ".repeat(width * depth));
            }
        };
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Json::Number(text) => out.push_str(text),
            Json::String(text) => {
                out.push_str(&serde_json::to_string(text).expect("strings serialize"))
            }
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Object(members) if members.is_empty() => out.push_str("{}"),
            Json::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    item.write(out, indent, depth + 1);
                }
                newline(out, depth);
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    let _ = write!(
                        out,
                        "{}:",
                        serde_json::to_string(key).expect("strings serialize")
                    );
                    if indent.is_some() {
                        out.push(' ');
                    }
                    value.write(out, indent, depth + 1);
                }
                newline(out, depth);
                out.push('}');
            }
        }
    }
}

/// A body as the file format writes it.
fn encode_body(body: Option<&Bytes>, headers: &Headers) -> Json {
    let Some(body) = body else {
        return Json::Null;
    };
    if body.is_empty() {
        return Json::Array(Vec::new());
    }
    if !is_text_content_type(first_header(headers, "content-type")) {
        return Json::String(base64_encode(body));
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Json::String(base64_encode(body));
    };
    if let Some(value @ (Json::Object(_) | Json::Number(_) | Json::Bool(_))) = Json::parse(body) {
        return value;
    }
    if !text.contains(['\n', '\r']) {
        return Json::String(text.to_owned());
    }
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let end = match bytes[index] {
            b'\r' if bytes.get(index + 1) == Some(&b'\n') => index + 2,
            b'\r' | b'\n' => index + 1,
            _ => {
                index += 1;
                continue;
            }
        };
        lines.push(Json::String(text[start..end].to_owned()));
        start = end;
        index = end;
    }
    if start < text.len() {
        lines.push(Json::String(text[start..].to_owned()));
    }
    Json::Array(lines)
}

/// A body as the file format reads it.
fn decode_body(value: Option<&Json>, headers: &Headers) -> Result<Option<Bytes>, String> {
    let text = is_text_content_type(first_header(headers, "content-type"));
    Ok(match value {
        None | Some(Json::Null) => None,
        Some(Json::Array(items)) if text => {
            let mut body = String::new();
            for item in items {
                body.push_str(item.as_str().ok_or("a body line that is not a string")?);
            }
            Some(Bytes::from(body))
        }
        Some(Json::Array(_)) => Some(Bytes::new()),
        Some(Json::String(body)) if text => Some(Bytes::from(body.clone())),
        Some(Json::String(body)) => Some(Bytes::from(
            base64_decode(body).ok_or("a binary body that is not base64")?,
        )),
        Some(other) => Some(Bytes::from(other.compact())),
    })
}

fn encode_headers(headers: &Headers) -> Json {
    let mut sorted: Vec<&(String, Vec<String>)> = headers.iter().collect();
    sorted.sort_by_key(|a| a.0.to_ascii_lowercase());
    Json::Object(
        sorted
            .into_iter()
            .map(|(name, values)| {
                let value = match values.as_slice() {
                    [one] => Json::String(one.clone()),
                    many => Json::Array(many.iter().cloned().map(Json::String).collect()),
                };
                (name.clone(), value)
            })
            .collect(),
    )
}

fn decode_headers(value: Option<&Json>) -> Result<Headers, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Json::Object(members) = value else {
        return Err("headers that are not an object".to_owned());
    };
    members
        .iter()
        .map(|(name, value)| {
            let values = match value {
                Json::String(one) => vec![one.clone()],
                Json::Array(many) => many
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map(str::to_owned)
                            .ok_or("a header value that is not a string")
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(format!("header {name}: a value that is not a string")),
            };
            Ok((name.clone(), values))
        })
        .collect()
}

impl Recording {
    /// The recording as the file format writes it (with the trailing newline).
    pub fn to_json(&self) -> String {
        let entries = self
            .entries
            .iter()
            .map(|entry| {
                Json::Object(vec![
                    (
                        "RequestUri".to_owned(),
                        Json::String(entry.request_uri.clone()),
                    ),
                    (
                        "RequestMethod".to_owned(),
                        Json::String(entry.request_method.clone()),
                    ),
                    (
                        "RequestHeaders".to_owned(),
                        encode_headers(&entry.request_headers),
                    ),
                    (
                        "RequestBody".to_owned(),
                        encode_body(entry.request_body.as_ref(), &entry.request_headers),
                    ),
                    (
                        "StatusCode".to_owned(),
                        Json::Number(entry.status_code.to_string()),
                    ),
                    (
                        "ResponseHeaders".to_owned(),
                        encode_headers(&entry.response_headers),
                    ),
                    (
                        "ResponseBody".to_owned(),
                        encode_body(entry.response_body.as_ref(), &entry.response_headers),
                    ),
                ])
            })
            .collect();
        let mut variables = self.variables.clone();
        variables.sort_by_key(|a| a.0.to_ascii_lowercase());
        let root = Json::Object(vec![
            ("Entries".to_owned(), Json::Array(entries)),
            (
                "Variables".to_owned(),
                Json::Object(
                    variables
                        .into_iter()
                        .map(|(name, value)| (name, Json::String(value)))
                        .collect(),
                ),
            ),
        ]);
        let mut text = root.pretty();
        text.push('\n');
        text
    }

    /// Reads a recording file's text.
    pub fn from_json(text: &[u8]) -> Result<Recording, String> {
        let root = Json::parse(text).ok_or("the recording is not valid JSON")?;
        let mut recording = Recording::default();
        if let Some(Json::Array(entries)) = root.get("Entries") {
            for entry in entries {
                let request_headers = decode_headers(entry.get("RequestHeaders"))?;
                let response_headers = decode_headers(entry.get("ResponseHeaders"))?;
                let status_code = match entry.get("StatusCode") {
                    Some(Json::Number(code)) => code
                        .parse()
                        .map_err(|_| format!("a bad StatusCode {code}"))?,
                    _ => 200,
                };
                recording.entries.push(Entry {
                    request_uri: entry
                        .get("RequestUri")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    request_method: entry
                        .get("RequestMethod")
                        .and_then(Json::as_str)
                        .unwrap_or("GET")
                        .to_owned(),
                    request_body: decode_body(entry.get("RequestBody"), &request_headers)?,
                    response_body: decode_body(entry.get("ResponseBody"), &response_headers)?,
                    request_headers,
                    status_code,
                    response_headers,
                });
            }
        }
        if let Some(Json::Object(variables)) = root.get("Variables") {
            for (name, value) in variables {
                let value = match value {
                    Json::String(text) => text.clone(),
                    other => other.compact(),
                };
                recording.variables.push((name.clone(), value));
            }
        }
        Ok(recording)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types() {
        for text in [
            "text/plain",
            "application/json",
            "application/problem+json; charset=utf-8",
            "application/xml",
            "application/x-www-form-urlencoded",
            "application/octet-stream; charset=UTF-8",
        ] {
            assert!(is_text_content_type(Some(text)), "{text}");
        }
        for binary in [
            "application/octet-stream",
            "image/png",
            "application/vnd.docker.distribution.manifest.v2+json",
        ] {
            assert!(!is_text_content_type(Some(binary)), "{binary}");
        }
        assert!(!is_text_content_type(None));
    }

    #[test]
    fn bodies_by_content_type() {
        let json = vec![(
            "Content-Type".to_owned(),
            vec!["application/json".to_owned()],
        )];
        let text = vec![("Content-Type".to_owned(), vec!["text/plain".to_owned()])];
        let none = Vec::new();
        assert_eq!(encode_body(None, &json), Json::Null);
        assert_eq!(
            encode_body(Some(&Bytes::new()), &json),
            Json::Array(Vec::new())
        );
        assert_eq!(
            encode_body(Some(&Bytes::from_static(b"{\"b\":1,\"a\":2}")), &json).compact(),
            "{\"b\":1,\"a\":2}"
        );
        assert_eq!(
            encode_body(Some(&Bytes::from_static(b"[1]")), &json),
            Json::String("[1]".to_owned())
        );
        assert_eq!(
            encode_body(Some(&Bytes::from_static(b"a\r\nb\nc")), &text),
            Json::Array(vec![
                Json::String("a\r\n".into()),
                Json::String("b\n".into()),
                Json::String("c".into())
            ])
        );
        assert_eq!(
            encode_body(Some(&Bytes::from_static(b"hello")), &none),
            Json::String("aGVsbG8=".into())
        );
        for (body, headers) in [
            (&b"a\r\nb\nc"[..], &text),
            (b"hello", &none),
            (b"{\"b\":1,\"a\":[true,null]}", &json),
        ] {
            let body = Bytes::copy_from_slice(body);
            let encoded = encode_body(Some(&body), headers);
            assert_eq!(decode_body(Some(&encoded), headers).unwrap(), Some(body));
        }
    }
}
