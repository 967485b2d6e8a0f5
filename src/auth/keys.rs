//! Signing keys: what verifies incoming tokens and what mints development tokens.

use std::collections::HashMap;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};

use super::Claims;
use crate::config::Config;
use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no signing key is configured: set DVK_JWT_SECRET (or DVK_JWT_JWKS), or start with --dev")]
    NoKey,
    #[error("cannot read the JWKS file {0}: {1}")]
    Jwks(String, String),
}

pub struct Authenticator {
    secret: Option<DecodingKey>,
    /// kid → key and the one algorithm that key may be used with.
    jwks: HashMap<String, (DecodingKey, Algorithm)>,
    issuer: String,
    audience: String,
    leeway: u64,
}

impl Authenticator {
    pub fn from_config(config: &Config) -> Result<Authenticator, KeyError> {
        let secret = config.jwt_secret.as_deref().map(|s| DecodingKey::from_secret(s.as_bytes()));
        let jwks = match &config.jwt_jwks {
            None => HashMap::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| KeyError::Jwks(path.display().to_string(), e.to_string()))?;
                parse_jwks(&text).map_err(|e| KeyError::Jwks(path.display().to_string(), e))?
            }
        };
        if secret.is_none() && jwks.is_empty() {
            return Err(KeyError::NoKey);
        }
        Ok(Authenticator {
            secret,
            jwks,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            leeway: config.jwt_leeway_secs,
        })
    }

    /// Checks signature, algorithm, `exp`/`nbf`, `iss` and `aud`. Only the algorithm bound to the
    /// chosen key is accepted, so an HS256 token "signed" with an RSA public key fails.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid = |detail: &str| ApiError::unauthorized("invalid_token", detail.to_string());
        let header =
            decode_header(token).map_err(|_| invalid("the token is malformed or its algorithm is not supported"))?;
        let (key, alg) = match &header.kid {
            Some(kid) => match self.jwks.get(kid) {
                Some((key, alg)) => (key, *alg),
                None => return Err(ApiError::unauthorized("unknown_key", "the token's kid names no known key")),
            },
            None => match &self.secret {
                Some(secret) => (secret, Algorithm::HS256),
                None => return Err(ApiError::unauthorized("unknown_key", "the token names no key (kid)")),
            },
        };
        if header.alg != alg {
            return Err(ApiError::unauthorized(
                "unsupported_algorithm",
                "the token's algorithm is not accepted for its key",
            ));
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        decode::<Claims>(token, key, &validation).map(|data| data.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::unauthorized("token_expired", "the token has expired"),
                ErrorKind::ImmatureSignature => {
                    ApiError::unauthorized("token_not_yet_valid", "the token is not valid yet (nbf)")
                }
                ErrorKind::InvalidIssuer => {
                    ApiError::unauthorized("invalid_issuer", "the token's issuer is not accepted")
                }
                ErrorKind::InvalidAudience => {
                    ApiError::unauthorized("invalid_audience", "the token's audience is not this API")
                }
                ErrorKind::MissingRequiredClaim(c) => {
                    ApiError::unauthorized("invalid_token", format!("the token lacks the {c} claim"))
                }
                ErrorKind::InvalidAlgorithm => {
                    ApiError::unauthorized("unsupported_algorithm", "the token's algorithm is not accepted")
                }
                _ => invalid("the token's signature or claims are not valid"),
            }
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }
}

fn parse_jwks(text: &str) -> Result<HashMap<String, (DecodingKey, Algorithm)>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let kid = jwk.common.key_id.clone().ok_or("every key needs a kid")?;
        let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => return Err(format!("key {kid}: only RS256 and ES256 (P-256) keys are accepted")),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key {kid}: {e}"))?;
        keys.insert(kid, (key, alg));
    }
    Ok(keys)
}

/// Mints an HS256 token: `dvk token` in development, and the tests.
pub fn mint_hs256(secret: &str, claims: &Claims) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("HS256 signing cannot fail")
}
