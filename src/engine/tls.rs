//! The rustls configuration: webpki roots, the system's certificates, those
//! of `NODE_EXTRA_CA_CERTS` and any `ca` the caller adds; verification can be
//! switched off only explicitly.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::config::ClientConfig;
use super::error::{FetchError, InvalidInput};

/// The system's roots, read once per process: reading them costs milliseconds.
fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The certificates in the PEM file `NODE_EXTRA_CA_CERTS` names, which Node
/// adds to its own roots: read once per process, and, as in Node, a file
/// that cannot be read adds nothing.
fn node_extra_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS").filter(|p| !p.is_empty()) else {
            return Vec::new();
        };
        match std::fs::read(path) {
            Ok(pem) => CertificateDer::pem_slice_iter(&pem)
                .filter_map(Result::ok)
                .collect(),
            Err(_) => Vec::new(),
        }
    })
}

pub fn client_tls_config(config: &ClientConfig) -> Result<rustls::ClientConfig, FetchError> {
    let provider = Arc::new(ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::new(super::error::ErrorKind::Tls, e.to_string()))?;
    let tls = if config.reject_unauthorized {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        roots.add_parsable_certificates(native_roots().iter().cloned());
        roots.add_parsable_certificates(node_extra_roots().iter().cloned());
        for pem in &config.ca {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| {
                    FetchError::invalid(InvalidInput::ArgValue, format!("Invalid ca: {e}"))
                })?;
                roots.add(cert).map_err(|e| {
                    FetchError::invalid(InvalidInput::ArgValue, format!("Invalid ca: {e}"))
                })?;
                added += 1;
            }
            if added == 0 {
                return Err(FetchError::invalid(
                    InvalidInput::ArgValue,
                    "Invalid ca: no PEM certificate found",
                ));
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth()
    };
    // ALPN is set by the connector builder from the HTTP versions enabled.
    Ok(tls)
}

/// `rejectUnauthorized: false`: the handshake is still checked, the chain is not.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
