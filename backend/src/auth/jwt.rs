//! Access tokens: HS256 JWTs signed with the server's secret, valid for 15 minutes.
//!
//! `jsonwebtoken` is used with a crypto provider of our own that knows HS256 and nothing
//! else: no RSA or elliptic-curve crates are compiled, and a token whose header names any
//! other algorithm (`none` included) fails before any signature is computed. The
//! [`Validation`] also pins HS256, so the refusal does not depend on the provider alone.

use std::sync::Once;

use hmac::{Hmac, Mac as _};
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The issuer every token names.
pub const ISSUER: &str = "vibariant";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// The session id; the session must still be live for the token to work.
    pub sid: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
    /// Always [`ISSUER`].
    pub iss: String,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// The token has expired.
    #[error("the access token has expired")]
    Expired,
    /// The token is malformed, forged, signed with another key or another algorithm.
    #[error("the access token is not valid")]
    Invalid,
}

struct Hs256(Hmac<Sha256>);

impl Hs256 {
    fn new(secret: &[u8]) -> jsonwebtoken::errors::Result<Self> {
        Hmac::new_from_slice(secret).map(Hs256).map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        // `verify_slice` compares in constant time.
        mac.verify_slice(tag).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn hs256_signer(
    algorithm: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if *algorithm != Algorithm::HS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(Hs256::new(key.try_get_hmac_secret()?)?))
}

fn hs256_verifier(
    algorithm: &Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    if *algorithm != Algorithm::HS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(Hs256::new(key.try_get_hmac_secret()?)?))
}

static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: hs256_signer,
    verifier_factory: hs256_verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

/// Installs the HS256-only provider as jsonwebtoken's process-wide default (once).
fn install_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only if another provider was installed first; nothing else here installs one.
        let _ = HS256_ONLY.install_default();
    });
}

/// Signs an access token for `user_id` in session `sid`, issued at `now_secs`.
pub fn issue(secret: &[u8], user_id: &str, sid: &str, now_secs: i64) -> String {
    install_provider();
    let ttl = i64::try_from(super::sign_in::ACCESS_TTL.as_secs()).unwrap_or(900);
    let claims = AccessClaims {
        sub: user_id.to_owned(),
        sid: sid.to_owned(),
        iat: now_secs,
        exp: now_secs + ttl,
        iss: ISSUER.to_owned(),
    };
    // HMAC over a serialisable struct cannot fail with a valid key; an empty key is refused
    // by the configuration before we get here.
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret))
        .expect("HS256 signing with a configured key")
}

/// Checks a token's algorithm, signature, issuer and expiry (no leeway) and returns its claims.
pub fn verify(secret: &[u8], token: &str) -> Result<AccessClaims, JwtError> {
    install_provider();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.leeway = 0;
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    match jsonwebtoken::decode::<AccessClaims>(
        token,
        &DecodingKey::from_secret(secret),
        &validation,
    ) {
        Ok(data) => Ok(data.claims),
        Err(error) if *error.kind() == ErrorKind::ExpiredSignature => Err(JwtError::Expired),
        Err(_) => Err(JwtError::Invalid),
    }
}

/// True when a bearer credential looks like a JWT (three base64url parts), not a `vv_` key.
pub fn looks_like_jwt(credential: &str) -> bool {
    credential.starts_with("eyJ") && credential.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const SECRET: &[u8] = b"a test secret that is long enough";

    fn now() -> i64 {
        crate::secrets::now_ms() / 1000
    }

    #[test]
    fn a_fresh_token_verifies_and_names_its_session() {
        let token = issue(SECRET, "user-1", "session-1", now());
        assert!(looks_like_jwt(&token));
        let claims = verify(SECRET, &token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("user-1", "session-1"));
    }

    #[test]
    fn expired_tokens_are_refused_as_expired() {
        let token = issue(SECRET, "user-1", "session-1", now() - 3600);
        assert!(matches!(verify(SECRET, &token), Err(JwtError::Expired)));
    }

    #[test]
    fn another_secret_an_altered_signature_and_alg_none_are_refused() {
        let token = issue(SECRET, "user-1", "session-1", now());
        assert!(matches!(verify(b"another secret", &token), Err(JwtError::Invalid)));

        let (unsigned, signature) = token.rsplit_once('.').unwrap();
        let mut altered = signature.as_bytes().to_vec();
        altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{unsigned}.{}", String::from_utf8(altered).unwrap());
        assert!(matches!(verify(SECRET, &tampered), Err(JwtError::Invalid)));

        let payload = unsigned.split('.').nth(1).unwrap();
        for alg in ["none", "None", "HS512", "RS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            for forged in
                [format!("{header}.{payload}."), format!("{header}.{payload}.{signature}")]
            {
                assert!(matches!(verify(SECRET, &forged), Err(JwtError::Invalid)), "{alg}");
            }
        }
    }
}
