//! Secrets never reach output or files: option values whose names say
//! they are secret are masked, URLs keep their query but lose the values
//! of its secret parameters (SAS signatures, expiries and key ids, tokens)
//! and their user info, and every text the runner prints about an error
//! goes through [`redact_text`], which also masks `key=value` secrets
//! (connection-string keys, SAS signatures, passwords, tokens), bearer
//! tokens, and the very values of secret options and environment
//! variables this process was given.

use std::sync::Mutex;

/// Secret values seen by this process (secret-named options, secret-named
/// environment variables read through `get_from_env`): masked wherever
/// they appear in printed text.
static KNOWN_SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Values shorter than this are not remembered: masking every `1` or
/// `true` in the output would hide more than it protects.
const MIN_SECRET_LENGTH: usize = 6;

/// Remembers `value` as a secret of this process: wherever the runner
/// prints an error or usage message that quotes it, it is shown as `***`.
/// For secrets a test derives or reads itself (an account key taken out of
/// a connection string, a SAS token it signed, a token it fetched); option
/// values with secret names and secret-named environment variables read
/// through [`get_from_env`](crate::get_from_env) are remembered already.
/// Values shorter than 6 characters are ignored.
pub fn remember_secret(value: &str) {
    if value.len() >= MIN_SECRET_LENGTH {
        let mut secrets = KNOWN_SECRETS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !secrets.iter().any(|known| known == value) {
            secrets.push(value.to_owned());
        }
    }
}

/// Whether an environment variable called `name` holds a secret.
pub(crate) fn is_secret_variable(name: &str) -> bool {
    is_secret(&name.replace('_', "-"))
}

/// Keys whose `key=value` values are secrets, lower case: SAS signatures,
/// connection-string keys, passwords and tokens.
const SECRET_KEYS: [&str; 12] = [
    "sig",
    "signature",
    "accountkey",
    "sharedaccesskey",
    "sharedaccesssignature",
    "password",
    "pwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
];

/// `text` with every secret in it masked: URLs ([`redact_urls`]),
/// `key=value` secrets, `Bearer` tokens, and the known secret values.
pub(crate) fn redact_text(text: &str) -> String {
    let mut text = redact_urls(text);
    let secrets = KNOWN_SECRETS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    for secret in secrets {
        text = text.replace(&secret, "***");
    }
    redact_pairs(&text)
}

/// Masks the value of each `key=value` (or `key: value` for bearer
/// tokens) whose key is a secret one.
fn redact_pairs(text: &str) -> String {
    let is_end =
        |c: char| c.is_whitespace() || matches!(c, '&' | ';' | ',' | '"' | '\'' | '<' | '>' | ')');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find(['=', ' ']) {
        let (before, after) = rest.split_at(position);
        let separator = &after[..1];
        let after = &after[1..];
        let key_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |index| index + 1);
        let key = before[key_start..].to_ascii_lowercase();
        let secret = match separator {
            "=" => SECRET_KEYS.contains(&key.as_str()),
            _ => key == "bearer" || key == "sharedaccesssignature",
        };
        out.push_str(before);
        out.push_str(separator);
        if secret {
            let end = after.find(is_end).unwrap_or(after.len());
            if end > 0 && !after.starts_with("***") {
                out.push_str("***");
            } else {
                out.push_str(&after[..end]);
            }
            rest = &after[end..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

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

/// SAS query parameters that are secret or identify the key (the
/// signature, its validity and the user-delegation key's fields).
const SECRET_QUERY_KEYS: [&str; 12] = [
    "sig", "se", "st", "skoid", "sktid", "skt", "ske", "sks", "skv", "saoid", "suoid", "scid",
];

/// Whether query parameter `key` holds a secret: a SAS parameter of
/// [`SECRET_QUERY_KEYS`], a secret key of [`SECRET_KEYS`], or a name that
/// says so (`token`, `key`, `secret`, `password`, `signature`, `code`,
/// `credential`).
fn is_secret_query_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_QUERY_KEYS.contains(&key.as_str())
        || SECRET_KEYS.contains(&key.as_str())
        || [
            "token",
            "key",
            "secret",
            "password",
            "signature",
            "code",
            "credential",
        ]
        .iter()
        .any(|word| key.contains(word))
}

/// `query` (without `?`) with the values of its secret parameters masked:
/// `comp=list&sig=x` is shown as `comp=list&sig=***`.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if is_secret_query_key(key) && !value.is_empty() => {
                format!("{key}=***")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A URL's user info and the values of its secret query parameters (SAS
/// signatures, tokens) are secrets: `https://u:p@host/c?comp=x&sig=y` is
/// shown as `https://***@host/c?comp=x&sig=***`. The rest of the query
/// stays, so that an error (a test-proxy mismatch) shows what differed.
pub(crate) fn redact_url(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{}", redact_query(query))),
        None => (rest, String::new()),
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
    fn urls_lose_their_secret_query_values_and_user_info() {
        assert_eq!(
            redact_url("http://127.0.0.1:9/b?sig=SECRET&sv=1"),
            "http://127.0.0.1:9/b?sig=***&sv=1"
        );
        assert_eq!(
            redact_url(
                "https://a.blob.core.windows.net/c/b?sv=2026-04-06&ss=b&srt=sco&sp=rl&se=2026-12-02T00%3A00%3A00Z&st=2026-12-01&skoid=OID&sktid=TID&spr=https&sig=S%3D&comp=list&nonce=42&access_token=T&api-key=K&empty="
            ),
            "https://a.blob.core.windows.net/c/b?sv=2026-04-06&ss=b&srt=sco&sp=rl&se=***&st=***&skoid=***&sktid=***&spr=https&sig=***&comp=list&nonce=42&access_token=***&api-key=***&empty="
        );
        assert_eq!(redact_url("https://user:pw@host/c"), "https://***@host/c");
        assert_eq!(redact_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(redact_url("1024"), "1024");
        assert_eq!(
            redact_urls("error sending request for url (http://h/b?sig=S): refused"),
            "error sending request for url (http://h/b?sig=***): refused"
        );
    }

    #[test]
    fn text_loses_key_value_secrets_and_known_values() {
        assert_eq!(
            redact_text("403: <Error>sig=SECRET&sv=2024 denied</Error>"),
            "403: <Error>sig=***&sv=2024 denied</Error>"
        );
        assert_eq!(
            redact_text("DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=Eby8vdM0==;Blob"),
            "DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=***;Blob"
        );
        assert_eq!(
            redact_text("Authorization: Bearer eyJhbGciOi.x.y failed"),
            "Authorization: Bearer *** failed"
        );
        assert_eq!(
            redact_text("invalid value 'https://user:secret@h/p?sig=S' for '--url'"),
            "invalid value 'https://***@h/p?sig=***' for '--url'"
        );
        remember_secret("hunter2-password-value");
        assert_eq!(
            redact_text("login with hunter2-password-value failed"),
            "login with *** failed"
        );
        assert_eq!(redact_text("size=1024 count=3"), "size=1024 count=3");
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
