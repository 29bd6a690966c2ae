//! How the PostgreSQL store connects: libpq's `sslmode` semantics on rustls (ring).
//!
//! | sslmode | TLS | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (default) | if the server offers it | only its chain, and only when a root certificate is given |
//! | `require` | always | only its chain, and only when a root certificate is given |
//! | `verify-ca` | always | chain to the root certificate (else the bundled web roots) |
//! | `verify-full` | always | chain, and the host name or IP address connected to |
//!
//! The root certificate comes from `sslrootcert` in `DATABASE_URL`, else the `PGSSLROOTCERT`
//! environment variable, as with libpq; `PGSSLMODE` is the default mode when the URL names none.
//! Everything is read and checked before the first packet, so a bad setting is refused without
//! touching the network.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::pg_url::{split, SslMode};
use crate::policy::secret::redact;
use crate::{Error, Result};

/// A parsed `DATABASE_URL` with its TLS settings resolved.
#[derive(Clone)]
pub struct ConnectTarget {
    config: tokio_postgres::Config,
    mode: SslMode,
    tls: ClientConfig,
}

impl std::fmt::Debug for ConnectTarget {
    // The tokio-postgres config holds the password: show only the mode.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectTarget")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl ConnectTarget {
    /// Reads `url`, taking `PGSSLMODE`/`PGSSLROOTCERT` from `env` when the URL names neither.
    pub fn parse(url: &str, env: impl Fn(&str) -> Option<String>) -> Result<ConnectTarget> {
        let parts = split(url)?;
        let mode = match (&parts.sslmode, env("PGSSLMODE").filter(|v| !v.is_empty())) {
            (Some(v), _) => SslMode::parse(v).ok_or_else(|| bad_mode("DATABASE_URL", v))?,
            (None, Some(v)) => SslMode::parse(&v).ok_or_else(|| bad_mode("PGSSLMODE", &v))?,
            (None, None) => SslMode::Prefer,
        };
        let root = match parts.sslrootcert {
            Some(path) => Some(("DATABASE_URL", "sslrootcert", path)),
            None => env("PGSSLROOTCERT")
                .filter(|v| !v.is_empty())
                .map(|p| ("environment", "PGSSLROOTCERT", p)),
        };
        let roots = match &root {
            Some((source, field, path)) => Some(read_roots(source, field, path)?),
            None => None,
        };
        let mut config: tokio_postgres::Config = parts.rest.parse().map_err(|e| Error::Policy {
            source_name: "DATABASE_URL".into(),
            field: "connection string".into(),
            message: format!(
                "does not parse ({}); expected postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=… or key=value pairs",
                redact(&chain(&e))
            ),
        })?;
        config.ssl_mode(match mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        Ok(ConnectTarget {
            config,
            mode,
            tls: client_config(mode, roots)?,
        })
    }

    pub fn mode(&self) -> SslMode {
        self.mode
    }

    /// A new session; its connection task runs on the current runtime until the client drops.
    pub async fn connect(&self) -> Result<Client> {
        let tls = MakeRustlsConnect::new(self.tls.clone());
        let (client, connection) = self.config.connect(tls).await.map_err(|e| {
            // The URL may hold a password: it is never part of the message, and the server's
            // words go through `redact` as well.
            Error::Postgres(format!(
                "cannot connect to DATABASE_URL (sslmode={}): {}",
                self.mode.as_str(),
                redact(&chain(&e))
            ))
        })?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }
}

/// tokio-postgres's `Display` stops at the kind ("error performing TLS handshake"); the cause
/// (which certificate check failed, what the server said) is what a person needs.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn bad_mode(source: &str, value: &str) -> Error {
    // Echo the value only when it cannot be anything but a misspelt mode.
    let shown = if value.len() <= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_')
    {
        format!("{value:?}")
    } else {
        "the value".to_string()
    };
    let (source_name, field) = match source {
        "PGSSLMODE" => ("environment", "PGSSLMODE"),
        _ => ("DATABASE_URL", "sslmode"),
    };
    Error::Policy {
        source_name: source_name.into(),
        field: field.into(),
        message: format!(
            "{shown} is not an sslmode; expected one of {}",
            SslMode::ACCEPTED
        ),
    }
}

fn read_roots(source: &str, field: &str, path: &str) -> Result<RootCertStore> {
    let refuse = |why: String| Error::Policy {
        source_name: source.into(),
        field: field.into(),
        message: format!("{why}; expected a readable PEM file of CA certificates"),
    };
    let bytes = std::fs::read(path).map_err(|e| refuse(format!("cannot read {path:?} ({e})")))?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| refuse(format!("{path:?} is not PEM ({e})")))?;
        store
            .add(cert)
            .map_err(|e| refuse(format!("{path:?} holds a certificate rustls rejects ({e})")))?;
    }
    if store.is_empty() {
        return Err(refuse(format!("{path:?} holds no certificate")));
    }
    Ok(store)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(mode: SslMode, roots: Option<RootCertStore>) -> Result<ClientConfig> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Postgres(format!("TLS setup: {e}")))?;
    let web_roots = || RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let chain_only = |roots: RootCertStore| -> Result<Arc<dyn ServerCertVerifier>> {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::Postgres(format!("TLS setup: {e}")))?;
        Ok(Arc::new(Relaxed {
            chain: Some(inner),
            provider: provider.clone(),
        }))
    };
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        (SslMode::VerifyFull, roots) => {
            return Ok(builder
                .with_root_certificates(roots.unwrap_or_else(web_roots))
                .with_no_client_auth());
        }
        (SslMode::VerifyCa, roots) => chain_only(roots.unwrap_or_else(web_roots))?,
        // libpq checks the chain in these modes too once a root certificate is named.
        (SslMode::Require | SslMode::Prefer, Some(roots)) => chain_only(roots)?,
        (SslMode::Require | SslMode::Prefer | SslMode::Disable, _) => Arc::new(Relaxed {
            chain: None,
            provider: provider.clone(),
        }),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The modes that check less than `verify-full`. With `chain` (`verify-ca`, or `require` /
/// `prefer` with a root certificate) the chain must reach a trusted root but the name in the
/// certificate is not compared. Without (`require` / `prefer` without a root certificate):
/// encrypted, but any certificate is accepted (libpq's behaviour). Either way the handshake
/// signatures are checked with the provider's algorithms (the ones `WebPkiServerVerifier` uses
/// too), so the session is bound to the certificate the server showed.
#[derive(Debug)]
struct Relaxed {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // rustls compares the name only after the chain verified, so a name mismatch means
            // the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
#[path = "pg_tls_tests.rs"]
mod tests;
