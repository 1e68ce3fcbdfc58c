//! Multi-process runs: the parent starts worker processes (this executable
//! again, in worker mode) and drives every stage in all of them together
//! over the framed protocol.

pub(crate) mod host;
pub(crate) mod parent;
pub(crate) mod protocol;
#[cfg(feature = "tls")]
pub(crate) mod secure;
pub(crate) mod worker;

use crate::error::{Error, ErrorKind};
use crate::options::GlobalOptions;

/// The first byte of a TLS handshake record (a ClientHello, ServerHello);
/// a plain frame starts with its length's high byte, 0 for a hello.
pub(crate) const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// The coordinator's TLS (`--tls-cert`, `--tls-key`).
#[cfg(feature = "tls")]
pub(crate) type ServerTls = std::sync::Arc<rustls::ServerConfig>;
/// The coordinator's TLS: none without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub(crate) enum ServerTls {}

/// A host's TLS (`--tls-ca`, `--tls-server-name`).
#[cfg(feature = "tls")]
pub(crate) type ClientTls = (
    std::sync::Arc<rustls::ClientConfig>,
    rustls::pki_types::ServerName<'static>,
);
/// A host's TLS: none without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub(crate) enum ClientTls {}

fn usage(message: String) -> Error {
    Error::new(ErrorKind::Usage, message)
}

#[cfg(not(feature = "tls"))]
fn no_tls_feature() -> Error {
    usage(
        "--tls-cert, --tls-key, --tls-ca and --tls-server-name need perfstress's `tls` feature, \
         which this runner was built without"
            .to_owned(),
    )
}

/// The coordinator's TLS from its options (a usage error if they do not
/// go together or the files do not read), or `None` for plain TCP. A
/// host's options (--tls-ca) are ignored here, and the coordinator's on a
/// host, so one pod template may set both.
pub(crate) fn server_tls(global: &GlobalOptions) -> Result<Option<ServerTls>, Error> {
    match (&global.tls_cert, &global.tls_key) {
        (None, None) => Ok(None),
        (Some(_), None) | (None, Some(_)) => Err(usage(
            "--tls-cert and --tls-key go together: the coordinator's certificate and its private key"
                .to_owned(),
        )),
        #[cfg(feature = "tls")]
        (Some(certificate), Some(key)) => Ok(Some(secure::server(certificate, key)?)),
        #[cfg(not(feature = "tls"))]
        (Some(_), Some(_)) => Err(no_tls_feature()),
    }
}

/// A joining host's TLS from its options, or `None` for plain TCP.
pub(crate) fn client_tls(global: &GlobalOptions) -> Result<Option<ClientTls>, Error> {
    match &global.tls_ca {
        None if global.tls_server_name.is_some() => {
            Err(usage("--tls-server-name goes with --tls-ca".to_owned()))
        }
        None => Ok(None),
        #[cfg(feature = "tls")]
        Some(ca) => Ok(Some(secure::client(
            ca,
            global.tls_server_name.as_deref(),
            global.join.as_deref().unwrap_or_default(),
        )?)),
        #[cfg(not(feature = "tls"))]
        Some(_) => Err(no_tls_feature()),
    }
}
