//! Subresource Integrity strings (`sha256-…`, `sha384-…`, `sha512-…`, as npm
//! and browsers write them) and the digest computed while a body streams.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::digest::DynDigest;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::error::{ErrorKind, FetchError, InvalidInput};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Algorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha384" => Some(Algorithm::Sha384),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    fn len(self) -> usize {
        match self {
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    fn hasher(self) -> Box<dyn DynDigest + Send> {
        match self {
            Algorithm::Sha256 => Box::new(Sha256::new()),
            Algorithm::Sha384 => Box::new(Sha384::new()),
            Algorithm::Sha512 => Box::new(Sha512::new()),
        }
    }
}

/// The digests a body may have. As SRI says, only the strongest algorithm
/// listed counts, and any of its digests matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integrity {
    algorithm: Algorithm,
    digests: Vec<Vec<u8>>,
}

fn bad_integrity(value: &str) -> FetchError {
    FetchError::invalid(
        InvalidInput::ArgValue,
        format!("integrity must be sha256-, sha384- or sha512- and a base64 digest, got {value:?}"),
    )
}

impl Integrity {
    /// Parses space-separated `alg-base64[?options]` entries. Every entry
    /// must be well-formed: a typo fails before anything is sent rather
    /// than leaving a download unchecked.
    pub fn parse(value: &str) -> Result<Self, FetchError> {
        let mut entries = Vec::new();
        for entry in value.split_ascii_whitespace() {
            let entry = entry.split('?').next().unwrap_or_default();
            let (name, b64) = entry.split_once('-').ok_or_else(|| bad_integrity(value))?;
            let algorithm = Algorithm::parse(name).ok_or_else(|| bad_integrity(value))?;
            let digest = STANDARD.decode(b64).map_err(|_| bad_integrity(value))?;
            if digest.len() != algorithm.len() {
                return Err(bad_integrity(value));
            }
            entries.push((algorithm, digest));
        }
        let strongest = entries
            .iter()
            .map(|(a, _)| *a)
            .max()
            .ok_or_else(|| bad_integrity(value))?;
        let digests = entries
            .into_iter()
            .filter(|(a, _)| *a == strongest)
            .map(|(_, d)| d)
            .collect();
        Ok(Integrity {
            algorithm: strongest,
            digests,
        })
    }

    pub fn checker(&self) -> Checker {
        Checker {
            hasher: self.algorithm.hasher(),
        }
    }

    fn expected(&self) -> String {
        let name = match self.algorithm {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        };
        format!("{name}-{}", STANDARD.encode(&self.digests[0]))
    }
}

/// The running digest of one body.
pub struct Checker {
    hasher: Box<dyn DynDigest + Send>,
}

impl Checker {
    pub fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    /// Whether the bytes seen match; the error says what was found.
    pub fn finish(self, integrity: &Integrity) -> Result<(), FetchError> {
        let found = self.hasher.finalize();
        if integrity.digests.iter().any(|d| d[..] == found[..]) {
            return Ok(());
        }
        Err(FetchError::new(
            ErrorKind::Integrity,
            format!(
                "The body does not match its integrity: expected {}, got {}",
                integrity.expected(),
                STANDARD.encode(&found)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sri(alg: &str, digest: &[u8]) -> String {
        format!("{alg}-{}", STANDARD.encode(digest))
    }

    #[test]
    fn checks_each_algorithm() {
        let body = b"hello";
        for (alg, digest) in [
            ("sha256", Sha256::digest(body).to_vec()),
            ("sha384", Sha384::digest(body).to_vec()),
            ("sha512", Sha512::digest(body).to_vec()),
        ] {
            let integrity = Integrity::parse(&sri(alg, &digest)).unwrap();
            let mut ok = integrity.checker();
            ok.update(b"hel");
            ok.update(b"lo");
            assert!(ok.finish(&integrity).is_ok(), "{alg}");
            let mut bad = integrity.checker();
            bad.update(b"hellO");
            let err = bad.finish(&integrity).unwrap_err();
            assert_eq!(err.code(), "EINTEGRITY");
        }
    }

    #[test]
    fn the_strongest_algorithm_decides() {
        let body = b"x";
        let good512 = sri("sha512", &Sha512::digest(body));
        let wrong256 = sri("sha256", &[0u8; 32]);
        let integrity = Integrity::parse(&format!("{wrong256} {good512}?opt")).unwrap();
        let mut checker = integrity.checker();
        checker.update(body);
        assert!(checker.finish(&integrity).is_ok());
    }

    #[test]
    fn refuses_malformed_strings() {
        for bad in [
            "",
            "  ",
            "sha1-AAAA",
            "md5-AAAA",
            "sha256",
            "sha256-!!!",
            "sha256-AAAA",
            &sri("sha256", &[0u8; 64]),
        ] {
            let err = Integrity::parse(bad).unwrap_err();
            assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE", "{bad:?}");
        }
    }
}
