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
    /// The stress-mode error group the test named (see [`Error::with_group`]).
    group: Option<Box<str>>,
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
            group: None,
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
            group: None,
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
                group: self.group,
            };
        }
        let group = self.group.clone();
        Self {
            kind: self.kind,
            message: message.into(),
            source: Some(Box::new(Wrapped(self))),
            group,
        }
    }

    /// Names the group this error is counted in under
    /// `--continue-on-error` (e.g. `"HTTP 503"`), instead of the group its
    /// kind and masked message would give. Kept through [`context`](Self::context).
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into().into_boxed_str());
        self
    }

    /// The group named with [`with_group`](Self::with_group), if any.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
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
            group: None,
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

/// `.context(..)` and `.with_context(..)` on results and options, as
/// `anyhow::Context` offers them: the error becomes a [`perfstress::Error`](Error)
/// whose message says what was being done, with the original error as its
/// cause (the "caused by" lines of a failure).
///
/// Implemented for `Result<T, E>` where `E` converts into [`Error`] (any
/// `std::error::Error + Send + Sync + 'static`, and [`Error`] itself, whose
/// [`ErrorKind`] is kept), and for `Option<T>` (`None` becomes a test
/// failure with the message).
///
/// ```
/// use perfstress::{ErrorKind, ResultExt};
///
/// fn read_config(path: &str) -> perfstress::Result<String> {
///     std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
/// }
///
/// let error = read_config("/surely/not/there.toml").unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::Test);
/// assert_eq!(error.chain()[0], "reading /surely/not/there.toml");
/// assert_eq!(error.chain().len(), 2); // then the io::Error's own message
///
/// let port: Option<u16> = None;
/// let error = port.context("no port in the URL").unwrap_err();
/// assert_eq!(error.to_string(), "no port in the URL");
/// ```
pub trait ResultExt<T>: sealed::Sealed {
    /// Wraps the error (or `None`) with `message`, which says what was
    /// being done.
    fn context(self, message: impl Into<String>) -> Result<T>;

    /// Like [`context`](Self::context), but builds the message only on
    /// failure (for a `format!` on the success path of a hot loop).
    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, message: impl Into<String>) -> Result<T> {
        self.map_err(|error| error.into().context(message))
    }

    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T> {
        self.map_err(|error| error.into().context(message()))
    }
}

impl<T> ResultExt<T> for Option<T> {
    fn context(self, message: impl Into<String>) -> Result<T> {
        self.ok_or_else(|| Error::msg(message))
    }

    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T> {
        self.ok_or_else(|| Error::msg(message()))
    }
}

mod sealed {
    /// Keeps [`ResultExt`](super::ResultExt) implementable only here, so
    /// methods can be added without breaking anyone.
    pub trait Sealed {}

    impl<T, E: Into<super::Error>> Sealed for std::result::Result<T, E> {}
    impl<T> Sealed for Option<T> {}
}

#[cfg(test)]
mod result_ext_tests {
    use super::*;

    fn not_found() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no such blob")
    }

    #[test]
    fn std_error_becomes_the_cause() {
        let result: std::result::Result<(), _> = Err(not_found());
        let error = result.context("downloading blob").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Test);
        assert_eq!(error.message(), "downloading blob");
        assert_eq!(error.chain(), vec!["downloading blob", "no such blob"]);
    }

    #[test]
    fn perfstress_error_keeps_its_kind_and_message() {
        let result: Result<()> = Err(Error::new(ErrorKind::Usage, "--size must be positive"));
        let error = result.context("parsing options").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Usage);
        assert_eq!(
            error.chain(),
            vec!["parsing options", "--size must be positive"]
        );
    }

    #[test]
    fn contexts_stack_outermost_first() {
        let result: std::result::Result<(), _> = Err(not_found());
        let error = result
            .context("downloading blob")
            .context("in global_setup")
            .unwrap_err();
        assert_eq!(
            error.chain(),
            vec!["in global_setup", "downloading blob", "no such blob"]
        );
        assert_eq!(
            error.to_string(),
            "in global_setup: downloading blob: no such blob"
        );
    }

    #[test]
    fn with_context_builds_the_message_only_on_failure() {
        let ok: std::result::Result<u8, std::io::Error> = Ok(7);
        let value = ok
            .with_context(|| -> String { unreachable!("built on success") })
            .unwrap();
        assert_eq!(value, 7);
        let failed: std::result::Result<u8, _> = Err(not_found());
        let error = failed.with_context(|| format!("blob {}", 3)).unwrap_err();
        assert_eq!(error.chain(), vec!["blob 3", "no such blob"]);
    }

    #[test]
    fn options() {
        assert_eq!(Some(1).context("missing").unwrap(), 1);
        let error = None::<u8>.with_context(|| "no port").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Test);
        assert_eq!(error.chain(), vec!["no port"]);
    }

    #[test]
    fn question_mark_after_context() {
        fn parse(text: &str) -> Result<u32> {
            let value = text.parse::<u32>().context("parsing --count")?;
            Ok(value)
        }
        assert_eq!(parse("12").unwrap(), 12);
        let error = parse("x").unwrap_err();
        assert_eq!(error.chain()[0], "parsing --count");
        assert_eq!(error.chain().len(), 2);
    }
}
