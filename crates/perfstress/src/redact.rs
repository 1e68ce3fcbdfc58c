//! Secrets never reach output or files: option values whose names say
//! they are secret are masked, and URLs lose their query (SAS signatures,
//! tokens) and user info.

/// Whether a test option called `--{long}` holds a secret (its value is
/// shown as `***`).
pub(crate) fn is_secret(long: &str) -> bool {
    let long = long.to_ascii_lowercase();
    [
        "key",
        "secret",
        "token",
        "password",
        "connection-string",
        "sas",
        "credential",
    ]
    .iter()
    .any(|word| long.contains(word))
}

/// A URL's query (SAS signatures, tokens) and user info are secrets too:
/// `https://u:p@host/c?sig=x` is shown as `https://***@host/c?***`.
pub(crate) fn redact_url(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, _)) => (rest, "?***"),
        None => (rest, ""),
    };
    let rest = match rest.split_once('/') {
        Some((authority, path)) => (authority, format!("/{path}")),
        None => (rest, String::new()),
    };
    let authority = match rest.0.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => rest.0.to_owned(),
    };
    format!("{scheme}://{authority}{}{query}", rest.1)
}

/// `text` with every URL in it redacted by [`redact_url`] (error messages
/// of HTTP clients quote the URL they failed on).
pub(crate) fn redact_urls(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let Some(separator) = word.find("://") else {
                return word.to_owned();
            };
            let start = word[..separator]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
                .map_or(0, |index| index + 1);
            let end = word[separator + 3..]
                .find([')', '"', '\'', ',', '<', '>'])
                .map_or(word.len(), |index| separator + 3 + index);
            format!(
                "{}{}{}",
                &word[..start],
                redact_url(&word[start..end]),
                &word[end..]
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_query_and_user_info() {
        assert_eq!(
            redact_url("http://127.0.0.1:9/b?sig=SECRET&sv=1"),
            "http://127.0.0.1:9/b?***"
        );
        assert_eq!(redact_url("https://user:pw@host/c"), "https://***@host/c");
        assert_eq!(redact_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(redact_url("1024"), "1024");
        assert_eq!(
            redact_urls("error sending request for url (http://h/b?sig=S): refused"),
            "error sending request for url (http://h/b?***): refused"
        );
    }

    #[test]
    fn secrets_are_recognised() {
        assert!(is_secret("connection-string"));
        assert!(is_secret("account-key"));
        assert!(is_secret("sas-token"));
        assert!(!is_secret("size"));
        assert!(!is_secret("initial-delay-ms"));
    }
}
