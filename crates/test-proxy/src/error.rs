//! The error responses of spec section 7: playback mismatch (404), known
//! errors (mostly 400) and unexpected errors (500), each with its headers
//! and a JSON body with PascalCase names.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::codec::base64_encode;

/// Why a request failed.
#[derive(Debug)]
pub enum ProxyError {
    /// A bad request: its status (mostly 400) and message.
    Known(StatusCode, String),
    /// No recorded entry matches a playback request (or the recording file
    /// does not exist): 404 with `x-request-mismatch`.
    Mismatch(String),
    /// Anything else: 500.
    Unexpected(String),
}

impl ProxyError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ProxyError::Known(StatusCode::BAD_REQUEST, message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            ProxyError::Known(_, message)
            | ProxyError::Mismatch(message)
            | ProxyError::Unexpected(message) => message,
        }
    }

    /// The response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let (status, flag, detail_header, detail, body) = match &self {
            ProxyError::Mismatch(message) => {
                let head = message
                    .split("Remaining Entries:")
                    .next()
                    .unwrap_or(message);
                (
                    StatusCode::NOT_FOUND,
                    "x-request-mismatch",
                    "x-request-mismatch-error",
                    base64_encode(head.as_bytes()),
                    serde_json::json!({"Message": message, "Status": "NotFound"}),
                )
            }
            ProxyError::Known(status, message) => (
                *status,
                "x-request-known-exception",
                "x-request-known-exception-error",
                base64_encode(message.as_bytes()),
                serde_json::json!({"Message": message, "Status": status_name(*status)}),
            ),
            ProxyError::Unexpected(message) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "x-request-exception",
                "x-request-exception-error",
                base64_encode(message.as_bytes()),
                serde_json::json!({"Message": message, "Status": "500", "StackTrace": ""}),
            ),
        };
        let content_type = if matches!(self, ProxyError::Unexpected(_)) {
            "application/json"
        } else {
            "application/json;"
        };
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        headers.insert(flag, HeaderValue::from_static("true"));
        if let Ok(value) = HeaderValue::from_str(&detail) {
            headers.insert(detail_header, value);
        }
        response
    }
}

/// The .NET `HttpStatusCode` enum name of `status`.
fn status_name(status: StatusCode) -> String {
    match status.as_u16() {
        400 => "BadRequest".to_owned(),
        404 => "NotFound".to_owned(),
        405 => "MethodNotAllowed".to_owned(),
        409 => "Conflict".to_owned(),
        other => other.to_string(),
    }
}
