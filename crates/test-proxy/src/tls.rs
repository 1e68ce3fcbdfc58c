//! TLS: the HTTPS listener's certificate (a given PEM pair, or a
//! self-signed one generated at start-up) and the record-mode client's
//! certificate checks (the system's roots, or none with `--insecure`).
//!
//! The rustls building (the ring provider, PEM files, the configurations,
//! `--insecure`'s verifier) is perfstress's (`perfstress::tls`), shared
//! with the framework's own TLS; this module adds what only the proxy
//! needs: the generated certificate, ALPN, PFX files refused with a hint.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use perfstress::tls as shared;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, ServerConfig};

/// The certificate an HTTPS listener serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// A PEM certificate chain and its private key (PKCS#8, PKCS#1 or
    /// SEC1), as Kestrel's `Certificates:Default:Path` and `:KeyPath`
    /// take them. The key may be in the certificate's file (`key` the
    /// same path).
    Pem {
        /// The certificate chain, leaf first.
        certificate: PathBuf,
        /// The private key.
        key: PathBuf,
    },
    /// A self-signed certificate for `localhost`, `127.0.0.1` and `::1`,
    /// generated when the server starts (the default).
    SelfSigned,
}

/// A certificate and key in memory, DER.
#[derive(Clone, Debug)]
pub struct CertificateAndKey {
    /// The certificate (DER).
    pub certificate_der: Vec<u8>,
    /// Its private key (PKCS#8 DER).
    pub private_key_der: Vec<u8>,
}

impl CertificateAndKey {
    /// A fresh self-signed certificate for `localhost`, `127.0.0.1` and
    /// `::1` (what a test's HTTPS service or the proxy's listener serves).
    pub fn self_signed() -> std::io::Result<CertificateAndKey> {
        let generated = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])
        .map_err(|error| {
            other(format!(
                "cannot generate a self-signed certificate: {error}"
            ))
        })?;
        Ok(CertificateAndKey {
            certificate_der: generated.cert.der().to_vec(),
            private_key_der: generated.signing_key.serialize_der(),
        })
    }

    /// The certificate as PEM text (to trust it, e.g. with `SSL_CERT_FILE`).
    pub fn certificate_pem(&self) -> String {
        let encoded = crate::codec::base64_encode(&self.certificate_der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    /// A rustls server configuration serving this certificate over
    /// HTTP/1.1.
    pub fn server_config(&self) -> std::io::Result<Arc<ServerConfig>> {
        server_config(
            vec![CertificateDer::from(self.certificate_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.private_key_der.clone())),
        )
    }
}

fn other(message: String) -> std::io::Error {
    std::io::Error::other(message)
}

fn invalid(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message)
}

/// Serves `chain` with `key` over HTTP/1.1.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> std::io::Result<Arc<ServerConfig>> {
    let mut config = shared::server_config(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The listener's configuration for `certificate`, and the certificate
/// served (DER).
pub(crate) fn listener_config(
    certificate: &Certificate,
) -> std::io::Result<(Arc<ServerConfig>, Vec<u8>)> {
    match certificate {
        Certificate::SelfSigned => {
            let generated = CertificateAndKey::self_signed()?;
            Ok((generated.server_config()?, generated.certificate_der))
        }
        Certificate::Pem { certificate, key } => {
            if is_pfx(certificate) {
                return Err(invalid(format!(
                    "{}: PFX (PKCS#12) certificates are not supported; convert it to PEM, e.g. \
                     `openssl pkcs12 -in cert.pfx -nodes -out cert.pem` (password: the PFX's), \
                     and pass the PEM file as the certificate and as the key",
                    certificate.display()
                )));
            }
            let chain = shared::read_certificates(certificate)?;
            let private_key = shared::read_private_key(key)?;
            let served = chain[0].to_vec();
            Ok((server_config(chain, private_key)?, served))
        }
    }
}

fn is_pfx(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            extension.eq_ignore_ascii_case("pfx") || extension.eq_ignore_ascii_case("p12")
        })
}

/// The record-mode client's TLS configuration: the system's roots
/// (`SSL_CERT_FILE` / `SSL_CERT_DIR` honoured), or with `insecure` no
/// certificate check at all (the real proxy's `--insecure`; the
/// handshake's signatures are still checked).
pub(crate) fn upstream_config(insecure: bool) -> std::io::Result<ClientConfig> {
    Ok(shared::client_config(insecure))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;

    #[test]
    fn generated_certificates_make_a_server_config_and_pem() {
        let generated = CertificateAndKey::self_signed().unwrap();
        generated.server_config().unwrap();
        let pem = generated.certificate_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        let parsed = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        assert_eq!(parsed.as_ref(), generated.certificate_der.as_slice());
    }

    #[test]
    fn pem_files_are_read_and_bad_ones_named() {
        let dir = std::env::temp_dir().join(format!("test-proxy-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let generated = CertificateAndKey::self_signed().unwrap();
        let cert = dir.join("cert.pem");
        std::fs::write(&cert, generated.certificate_pem()).unwrap();
        let key = dir.join("key.pem");
        let key_pem =
            rustls::pki_types::PrivatePkcs8KeyDer::from(generated.private_key_der.clone());
        let encoded = crate::codec::base64_encode(key_pem.secret_pkcs8_der());
        std::fs::write(
            &key,
            format!("-----BEGIN PRIVATE KEY-----\n{encoded}\n-----END PRIVATE KEY-----\n"),
        )
        .unwrap();
        let (_, served) = listener_config(&Certificate::Pem {
            certificate: cert.clone(),
            key: key.clone(),
        })
        .unwrap();
        assert_eq!(served, generated.certificate_der);
        let swapped = listener_config(&Certificate::Pem {
            certificate: key.clone(),
            key: cert.clone(),
        })
        .unwrap_err()
        .to_string();
        assert!(swapped.contains("key.pem"), "{swapped}");
        let pfx = listener_config(&Certificate::Pem {
            certificate: dir.join("dev.pfx"),
            key: dir.join("dev.pfx"),
        })
        .unwrap_err()
        .to_string();
        assert!(pfx.contains("PFX") && pfx.contains("openssl"), "{pfx}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
