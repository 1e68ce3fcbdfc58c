//! Where the tests find the storage account and how they authenticate:
//! `--endpoint` (or `AZURE_STORAGE_ACCOUNT_NAME`) with a token credential,
//! or `AZURE_STORAGE_CONNECTION_STRING` (an account key or a SAS; also
//! `UseDevelopmentStorage=true`, Azurite's well-known account).
//!
//! The 1.x crate takes a token credential (https only) or a URL that
//! carries a SAS, and has no shared-key support; a connection string's
//! account key is therefore turned into an account SAS here, signed with
//! the key (HMAC-SHA256, by `azure_core::hmac`), and appended to the blob
//! endpoint. Every key, SAS and connection string is remembered as a
//! secret (`perfstress::remember_secret`), so no error message prints it.

use std::time::{SystemTime, UNIX_EPOCH};

use azure_core::credentials::Secret;
use azure_core::http::Url;
use perfstress::{Error, ErrorKind, Result};

/// The environment variable that holds the connection string.
pub const CONNECTION_STRING_VARIABLE: &str = "AZURE_STORAGE_CONNECTION_STRING";
/// The environment variable that names the account (token credential).
pub const ACCOUNT_NAME_VARIABLE: &str = "AZURE_STORAGE_ACCOUNT_NAME";

/// Azurite's (and the old storage emulator's) well-known account.
pub const DEVELOPMENT_ACCOUNT: &str = "devstoreaccount1";
/// The well-known key of [`DEVELOPMENT_ACCOUNT`] (public, documented by
/// Azurite; not a secret).
pub const DEVELOPMENT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// Azurite's default blob endpoint for `UseDevelopmentStorage=true`.
pub const DEVELOPMENT_BLOB_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";

/// The service version the account SAS is signed for.
const SAS_VERSION: &str = "2022-11-02";
/// How long a generated account SAS is valid.
const SAS_LIFETIME_SECONDS: u64 = 24 * 60 * 60;

/// How requests are authorized.
#[derive(Clone)]
pub enum Auth {
    /// A shared key (base64), from a connection string's `AccountKey`.
    Key(String),
    /// A SAS (the query string, without `?`), from `SharedAccessSignature`.
    Sas(String),
    /// A token credential (azure_identity), for `--endpoint` or
    /// `AZURE_STORAGE_ACCOUNT_NAME`.
    Token,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::Key(_) => "Key(***)",
            Auth::Sas(_) => "Sas(***)",
            Auth::Token => "Token",
        })
    }
}

/// A storage account: its blob endpoint and how to authorize.
#[derive(Clone, Debug)]
pub struct Account {
    /// The account name (`devstoreaccount1` for Azurite).
    pub name: String,
    /// The blob service endpoint, without query (for Azurite
    /// `http://127.0.0.1:10000/devstoreaccount1`, no trailing slash).
    pub blob_endpoint: Url,
    /// How requests are authorized.
    pub auth: Auth,
}

fn usage(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Usage, message.into())
}

impl Account {
    /// The account the tests use: `--endpoint` (token credential) when
    /// given, else `AZURE_STORAGE_CONNECTION_STRING`, else
    /// `AZURE_STORAGE_ACCOUNT_NAME` (token credential on
    /// `https://NAME.blob.core.windows.net`). A usage error (exit 2) says
    /// what to set when none is.
    pub fn from_environment(endpoint: Option<&str>) -> Result<Account> {
        if let Some(endpoint) = endpoint {
            return Account::from_endpoint(endpoint);
        }
        if let Some(connection_string) = variable(CONNECTION_STRING_VARIABLE)? {
            return Account::from_connection_string(&connection_string)
                .map_err(|error| usage(format!("{CONNECTION_STRING_VARIABLE}: {error}")));
        }
        if let Some(name) = variable(ACCOUNT_NAME_VARIABLE)? {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(usage(format!(
                    "{ACCOUNT_NAME_VARIABLE} must be a storage account name (letters and digits)"
                )));
            }
            return Account::from_endpoint(&format!("https://{name}.blob.core.windows.net"));
        }
        Err(usage(format!(
            "no storage account configured: set {CONNECTION_STRING_VARIABLE} (for Azurite: \
             {CONNECTION_STRING_VARIABLE}=UseDevelopmentStorage=true), or pass --endpoint \
             https://ACCOUNT.blob.core.windows.net or set {ACCOUNT_NAME_VARIABLE} to use a token \
             credential (az login)"
        )))
    }

    /// An account reached with a token credential at `endpoint`.
    pub fn from_endpoint(endpoint: &str) -> Result<Account> {
        let url = Url::parse(endpoint.trim_end_matches('/'))
            .map_err(|error| usage(format!("--endpoint is not a URL: {error}")))?;
        if url.scheme() != "https" {
            return Err(usage(format!(
                "--endpoint {url} must use https: a token credential is never sent over http \
                 (for Azurite, set {CONNECTION_STRING_VARIABLE}=UseDevelopmentStorage=true instead)"
            )));
        }
        if url.query().is_some() || url.cannot_be_a_base() {
            return Err(usage(
                "--endpoint must be the blob service URL, without query (for a SAS use a connection \
                 string with SharedAccessSignature=...)",
            ));
        }
        let name = url
            .host_str()
            .and_then(|host| host.split('.').next())
            .unwrap_or_default()
            .to_owned();
        Ok(Account {
            name,
            blob_endpoint: url,
            auth: Auth::Token,
        })
    }

    /// Parses a connection string: `UseDevelopmentStorage=true`, or
    /// `AccountName`, `AccountKey` or `SharedAccessSignature`, and
    /// `BlobEndpoint` or `DefaultEndpointsProtocol` + `EndpointSuffix`.
    /// Keys are case-insensitive; the values of `AccountKey` and
    /// `SharedAccessSignature` are remembered as secrets. Errors never
    /// quote a value.
    pub fn from_connection_string(text: &str) -> Result<Account> {
        perfstress::remember_secret(text);
        let mut name = None;
        let mut key = None;
        let mut sas = None;
        let mut blob_endpoint = None;
        let mut protocol = None;
        let mut suffix = None;
        let mut development = false;
        for part in text
            .split(';')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let Some((field, value)) = part.split_once('=') else {
                return Err(usage(
                    "a connection string is `Key=Value` pairs separated by `;` (a part has no `=`)",
                ));
            };
            let value = value.trim();
            match field.trim().to_ascii_lowercase().as_str() {
                "usedevelopmentstorage" => match value.to_ascii_lowercase().as_str() {
                    "true" => development = true,
                    "false" => {}
                    _ => return Err(usage("UseDevelopmentStorage must be true or false")),
                },
                "accountname" => name = Some(value.to_owned()),
                "accountkey" => {
                    perfstress::remember_secret(value);
                    key = Some(value.to_owned());
                }
                "sharedaccesssignature" => {
                    perfstress::remember_secret(value);
                    sas = Some(value.trim_start_matches('?').to_owned());
                }
                "blobendpoint" => blob_endpoint = Some(value.to_owned()),
                "defaultendpointsprotocol" => match value.to_ascii_lowercase().as_str() {
                    "http" | "https" => protocol = Some(value.to_ascii_lowercase()),
                    _ => return Err(usage("DefaultEndpointsProtocol must be http or https")),
                },
                "endpointsuffix" => suffix = Some(value.to_owned()),
                // Other services' endpoints and emulator details: not ours.
                "queueendpoint"
                | "tableendpoint"
                | "fileendpoint"
                | "blobsecondaryendpoint"
                | "queuesecondaryendpoint"
                | "tablesecondaryendpoint"
                | "filesecondaryendpoint"
                | "developmentstorageproxyuri" => {}
                "" => return Err(usage("a connection string part has an empty key")),
                other => {
                    return Err(usage(format!(
                        "unknown connection string key `{other}` (known: AccountName, AccountKey, \
                         SharedAccessSignature, BlobEndpoint, DefaultEndpointsProtocol, \
                         EndpointSuffix, UseDevelopmentStorage)"
                    )));
                }
            }
        }
        if development {
            name = name.or_else(|| Some(DEVELOPMENT_ACCOUNT.to_owned()));
            if key.is_none() && sas.is_none() {
                key = Some(DEVELOPMENT_KEY.to_owned());
            }
            blob_endpoint = blob_endpoint.or_else(|| Some(DEVELOPMENT_BLOB_ENDPOINT.to_owned()));
        }
        let endpoint = match blob_endpoint {
            Some(endpoint) => endpoint,
            None => {
                let Some(name) = &name else {
                    return Err(usage(
                        "the connection string has neither AccountName nor BlobEndpoint",
                    ));
                };
                format!(
                    "{}://{name}.blob.{}",
                    protocol.as_deref().unwrap_or("https"),
                    suffix.as_deref().unwrap_or("core.windows.net")
                )
            }
        };
        let blob_endpoint = Url::parse(endpoint.trim_end_matches('/'))
            .map_err(|error| usage(format!("its blob endpoint is not a URL: {error}")))?;
        if !matches!(blob_endpoint.scheme(), "http" | "https")
            || blob_endpoint.cannot_be_a_base()
            || blob_endpoint.query().is_some()
        {
            return Err(usage(
                "its BlobEndpoint must be an http or https URL without query",
            ));
        }
        let name = match name {
            Some(name) => name,
            None => blob_endpoint
                .host_str()
                .and_then(|host| host.split('.').next())
                .unwrap_or_default()
                .to_owned(),
        };
        let auth = match (sas, key) {
            (Some(sas), _) => Auth::Sas(sas),
            (None, Some(key)) => {
                if azure_core::base64::decode(&key).is_err() {
                    return Err(usage("its AccountKey is not valid base64"));
                }
                if name.is_empty() {
                    return Err(usage("an AccountKey needs AccountName"));
                }
                Auth::Key(key)
            }
            (None, None) => {
                return Err(usage(
                    "the connection string has neither AccountKey nor SharedAccessSignature",
                ));
            }
        };
        Ok(Account {
            name,
            blob_endpoint,
            auth,
        })
    }

    /// The blob endpoint with a SAS appended: the connection string's own,
    /// or an account SAS signed with its key, valid for 24 hours. `None`
    /// for a token credential.
    pub fn sas_endpoint(&self) -> Result<Option<Url>> {
        let query = match &self.auth {
            Auth::Token => return Ok(None),
            Auth::Sas(sas) => sas.clone(),
            Auth::Key(key) => {
                let expiry = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|since| since.as_secs())
                    .unwrap_or_default()
                    + SAS_LIFETIME_SECONDS;
                account_sas(&self.name, key, &format_utc(expiry))?
            }
        };
        perfstress::remember_secret(&query);
        let mut url = self.blob_endpoint.clone();
        url.set_query(Some(&query));
        Ok(Some(url))
    }
}

/// An environment variable's value, `None` when unset or empty.
fn variable(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(_) => perfstress::get_from_env(name).map(Some),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(usage(format!("{name} is not valid UTF-8"))),
    }
}

/// An account SAS for the blob service (all resource types, every
/// permission the tests need, http and https) expiring at `expiry`
/// (`YYYY-MM-DDThh:mm:ssZ`), signed with `key`: its query string.
pub fn account_sas(account: &str, key: &str, expiry: &str) -> Result<String> {
    let permissions = "rwdlacup";
    let (services, resource_types, protocols) = ("b", "sco", "https,http");
    // The string-to-sign of an account SAS since version 2020-12-06:
    // account, permissions, services, resource types, start, expiry, IP,
    // protocol, version, encryption scope, each followed by a newline.
    let string_to_sign = format!(
        "{account}\n{permissions}\n{services}\n{resource_types}\n\n{expiry}\n\n{protocols}\n{SAS_VERSION}\n\n"
    );
    let signature = azure_core::hmac::hmac_sha256(&string_to_sign, &Secret::new(key.to_owned()))
        .map_err(|_| usage("the AccountKey cannot sign a SAS (is it the base64 key?)"))?;
    perfstress::remember_secret(&signature);
    let mut query = Url::parse("http://sas.invalid/").expect("a constant URL");
    query
        .query_pairs_mut()
        .append_pair("sv", SAS_VERSION)
        .append_pair("ss", services)
        .append_pair("srt", resource_types)
        .append_pair("sp", permissions)
        .append_pair("se", expiry)
        .append_pair("spr", protocols)
        .append_pair("sig", &signature);
    Ok(query.query().unwrap_or_default().to_owned())
}

/// `seconds` since the Unix epoch as `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_storage_is_azurite_well_known_account() {
        let account = Account::from_connection_string("UseDevelopmentStorage=true").unwrap();
        assert_eq!(account.name, DEVELOPMENT_ACCOUNT);
        assert_eq!(account.blob_endpoint.as_str(), DEVELOPMENT_BLOB_ENDPOINT);
        assert!(matches!(&account.auth, Auth::Key(key) if key == DEVELOPMENT_KEY));
    }

    #[test]
    fn azurite_on_another_port_through_blob_endpoint() {
        let text = format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEVELOPMENT_KEY};\
             BlobEndpoint=http://127.0.0.1:41234/devstoreaccount1/;"
        );
        let account = Account::from_connection_string(&text).unwrap();
        assert_eq!(
            account.blob_endpoint.as_str(),
            "http://127.0.0.1:41234/devstoreaccount1"
        );
        let url = account.sas_endpoint().unwrap().unwrap();
        assert!(url.as_str().starts_with(
            "http://127.0.0.1:41234/devstoreaccount1?sv=2022-11-02&ss=b&srt=sco&sp=rwdlacup&se="
        ));
        assert!(url.query().unwrap().contains("&sig="));
    }

    #[test]
    fn account_endpoint_from_name_protocol_and_suffix() {
        let account = Account::from_connection_string(
            "defaultendpointsprotocol=https;accountname=myacct;accountkey=a2V5;endpointsuffix=core.chinacloudapi.cn",
        )
        .unwrap();
        assert_eq!(
            account.blob_endpoint.as_str(),
            "https://myacct.blob.core.chinacloudapi.cn/"
        );
        let sas = Account::from_connection_string(
            "BlobEndpoint=https://h.example/;SharedAccessSignature=?sv=1&sig=abc%2Bdef",
        )
        .unwrap();
        assert_eq!(sas.name, "h");
        assert_eq!(
            sas.sas_endpoint().unwrap().unwrap().as_str(),
            "https://h.example/?sv=1&sig=abc%2Bdef"
        );
    }

    #[test]
    fn malformed_connection_strings_are_usage_errors_that_quote_no_value() {
        for (text, says) in [
            ("AccountName=a;AccountKey", "has no `=`"),
            (
                "AccountName=a",
                "neither AccountKey nor SharedAccessSignature",
            ),
            ("AccountName=a;AccountKey=not*base64!", "not valid base64"),
            ("AccountKey=a2V5", "neither AccountName nor BlobEndpoint"),
            (
                "Foo=bar;AccountName=a;AccountKey=a2V5",
                "unknown connection string key `foo`",
            ),
            ("UseDevelopmentStorage=maybe", "true or false"),
            (
                "BlobEndpoint=ftp://x/;AccountName=a;AccountKey=a2V5",
                "http or https",
            ),
        ] {
            let error = Account::from_connection_string(text).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Usage, "{text}");
            assert!(error.to_string().contains(says), "{text}: {error}");
            assert!(!error.to_string().contains("base64!"), "{error}");
        }
    }

    #[test]
    fn endpoints_for_token_credentials_must_be_https() {
        let account = Account::from_endpoint("https://myacct.blob.core.windows.net/").unwrap();
        assert_eq!(account.name, "myacct");
        assert!(matches!(account.auth, Auth::Token));
        assert!(account.sas_endpoint().unwrap().is_none());
        let error = Account::from_endpoint("http://127.0.0.1:10000/devstoreaccount1").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Usage);
        assert!(error.to_string().contains("must use https"), "{error}");
        assert!(Account::from_endpoint("not a url").is_err());
    }

    #[test]
    fn account_sas_signs_the_documented_string() {
        // HMAC-SHA256 of the string-to-sign with the decoded key, checked
        // against an independent computation (Python's hmac module):
        // hmac.new(b64decode(DEVELOPMENT_KEY), sts.encode(), sha256).
        let query =
            account_sas(DEVELOPMENT_ACCOUNT, DEVELOPMENT_KEY, "2030-01-01T00:00:00Z").unwrap();
        assert_eq!(
            query,
            "sv=2022-11-02&ss=b&srt=sco&sp=rwdlacup&se=2030-01-01T00%3A00%3A00Z&spr=https%2Chttp&sig=mHRcfQkD%2B5mCwWUkRcaLSEWtemmqRtXYfv6bXhIlmVk%3D"
        );
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_893_456_000), "2030-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }

    #[test]
    fn auth_debug_hides_secrets() {
        assert_eq!(format!("{:?}", Auth::Key("k3y-value".into())), "Key(***)");
        assert_eq!(format!("{:?}", Auth::Sas("sig=x".into())), "Sas(***)");
    }
}
