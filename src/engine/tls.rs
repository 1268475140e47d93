//! The rustls configuration: webpki roots, the system's certificates, those
//! of `NODE_EXTRA_CA_CERTS` and any `ca` the caller adds; verification can be
//! switched off only explicitly. A server certificate that is itself one of
//! the certificates given in `ca` (a self-signed one) is trusted as such.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::config::ClientConfig;
use super::error::{FetchError, InvalidInput};

/// Origins whose TLS sessions are kept for resumption. rustls counts its
/// cache in tickets, at most eight an origin, and keeps 256 by default: 32
/// origins. A crawl that goes round more origins than that finds each one's
/// session gone by the time it comes back to it, so every re-opened
/// connection made a full handshake. A ticket is a few hundred bytes, so
/// even full this holds a few MB.
const RESUMED_ORIGINS: usize = 2048;
const TICKETS_PER_ORIGIN: usize = 8;

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
    let mut tls = if config.reject_unauthorized {
        let (roots, pinned) = trusted_roots(config)?;
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| FetchError::new(super::error::ErrorKind::Tls, e.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedOrWebPki {
                webpki,
                pinned,
                provider,
            }))
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth()
    };
    tls.resumption =
        rustls::client::Resumption::in_memory_sessions(RESUMED_ORIGINS * TICKETS_PER_ORIGIN);
    // ALPN is set by the connector builder from the HTTP versions enabled.
    Ok(tls)
}

/// Every root the client trusts, and the certificates given by the caller
/// (`ca`, `NODE_EXTRA_CA_CERTS`), which a server may also present as
/// itself.
fn trusted_roots(
    config: &ClientConfig,
) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), FetchError> {
    let invalid = |e: &dyn std::fmt::Display| {
        FetchError::invalid(InvalidInput::ArgValue, format!("Invalid ca: {e}"))
    };
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots.add_parsable_certificates(native_roots().iter().cloned());
    roots.add_parsable_certificates(node_extra_roots().iter().cloned());
    let mut pinned: Vec<CertificateDer<'static>> = node_extra_roots().to_vec();
    for pem in &config.ca {
        let before = pinned.len();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| invalid(&e))?;
            roots.add(cert.clone()).map_err(|e| invalid(&e))?;
            pinned.push(cert);
        }
        if pinned.len() == before {
            return Err(invalid(&"no PEM certificate found"));
        }
    }
    Ok((roots, pinned))
}

/// rustls's webpki verifier, and one more way to trust a server: its
/// certificate is byte for byte one the caller gave. `openssl req -x509`
/// marks the certificates it makes `CA:TRUE`, which webpki refuses as a
/// server's own ("CaUsedAsEndEntity"), while Node's https and
/// `curl --cacert` take such a certificate as its own anchor. Such a
/// certificate must still be in its validity period and name the host; a
/// chain, a revocation list and the other checks are not involved, since
/// the caller named this very certificate.
#[derive(Debug)]
struct PinnedOrWebPki {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl PinnedOrWebPki {
    /// Checks a certificate the caller gave, as its own anchor.
    fn verify_pinned(
        &self,
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
        refused: rustls::Error,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|_| refused.clone())?;
        let anchors = [webpki::anchor_from_trusted_cert(end_entity).map_err(|_| refused.clone())?];
        // webpki checks an end entity's dates before its basic constraints,
        // so `CaUsedAsEndEntity` here means the dates are good (a test holds
        // an expired certificate to that).
        let chained = cert.verify_for_usage(
            self.provider.signature_verification_algorithms.all,
            &anchors,
            &[],
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        );
        match chained {
            Ok(_) | Err(webpki::Error::CaUsedAsEndEntity) => {}
            Err(webpki::Error::CertExpired { .. }) => return Err(CertificateError::Expired.into()),
            Err(webpki::Error::CertNotValidYet { .. }) => {
                return Err(CertificateError::NotValidYet.into())
            }
            Err(_) => return Err(refused),
        }
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(|_| rustls::Error::from(CertificateError::NotValidForName))?;
        Ok(ServerCertVerified::assertion())
    }
}

impl ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(refused)
                if self
                    .pinned
                    .iter()
                    .any(|c| c.as_ref() == end_entity.as_ref()) =>
            {
                self.verify_pinned(end_entity, server_name, now, refused)
            }
            verified => verified,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
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
