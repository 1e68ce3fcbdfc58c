//! The one error type of perfstress and of the tests written with it.

use std::error::Error as StdError;
use std::fmt;

/// What went wrong, in categories the runner acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The command line or a test's configuration is wrong (exit code 2).
    Usage,
    /// A required environment variable is missing or not valid UTF-8.
    Environment,
    /// The test asked for a variant (sync or async) it does not implement.
    Unsupported,
    /// Test code failed: an operation, a lifecycle hook or a client.
    Test,
    /// Test code panicked; the message holds the panic payload and location.
    Panic,
    /// An I/O error of the framework itself (e.g. writing a results file).
    Io,
}

/// An error raised by test code or by the framework.
///
/// Test code usually creates it with `?` from any `std::error::Error`
/// (`reqwest::Error`, `std::io::Error`, an SDK error ...), or with
/// [`Error::msg`]. Like `anyhow::Error` it deliberately does not implement
/// `std::error::Error` itself, which is what makes that blanket conversion
/// possible; [`Error::chain`] walks the causes.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

/// `Result` with [`Error`] as its error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message; the message should name the fix.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A test failure with a message.
    pub fn msg(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Test, message)
    }

    /// Wraps `source` with a message that says what was being done.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Adds a message in front of this error, keeping it as the cause.
    pub fn context(self, message: impl Into<String>) -> Self {
        if self.message.is_empty() {
            // Converted from a library error: that error is already the cause.
            return Self {
                kind: self.kind,
                message: message.into(),
                source: self.source,
            };
        }
        Self {
            kind: self.kind,
            message: message.into(),
            source: Some(Box::new(Wrapped(self))),
        }
    }

    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// This error's own message, without its causes.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// This error and every cause, outermost first, as the messages a
    /// report prints (one per "caused by" line).
    pub fn causes(&self) -> impl Iterator<Item = String> + '_ {
        let own = (!self.message.is_empty()).then(|| self.message.clone());
        let mut next: Option<&(dyn StdError + 'static)> = self
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static));
        own.into_iter().chain(std::iter::from_fn(move || {
            let error = next?;
            next = error.source();
            Some(error.to_string())
        }))
    }

    /// The messages of this error and of every cause, outermost first.
    pub fn chain(&self) -> Vec<String> {
        self.causes().collect()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chain = self.chain();
        f.write_str(&chain.join(": "))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("chain", &self.chain())
            .finish()
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for Error {
    fn from(error: E) -> Self {
        // The message is empty: `chain` starts with the cause itself, so the
        // printed error is exactly what the library said.
        Self {
            kind: ErrorKind::Test,
            message: String::new(),
            source: Some(Box::new(error)),
        }
    }
}

/// Lets an [`Error`] be the cause of another one.
struct Wrapped(Error);

impl fmt::Display for Wrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for Wrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl StdError for Wrapped {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.0.source {
            Some(source) => Some(source.as_ref()),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_lists_context_then_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such blob");
        let error = Error::from(io).context("downloading blob");
        assert_eq!(error.chain(), vec!["downloading blob", "no such blob"]);
        assert_eq!(error.to_string(), "downloading blob: no such blob");
        assert_eq!(error.kind(), ErrorKind::Test);
        assert_eq!(error.causes().count(), 2);
    }

    #[test]
    fn kinds_cross_processes_as_data() {
        let json = serde_json::to_string(&ErrorKind::Environment).unwrap();
        assert_eq!(
            serde_json::from_str::<ErrorKind>(&json).unwrap(),
            ErrorKind::Environment
        );
    }

    #[test]
    fn message_only() {
        let error = Error::new(ErrorKind::Environment, "variable X is not set");
        assert_eq!(error.chain(), vec!["variable X is not set"]);
    }
}
