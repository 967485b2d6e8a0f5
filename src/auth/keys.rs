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
    #[error("cannot use the signing key {0}: {1}")]
    SigningKey(String, String),
}

/// How the server signs the tokens it issues itself (OAuth client credentials).
struct Signer {
    key: EncodingKey,
    alg: Algorithm,
    /// With an asymmetric key: its kid, and its public part as a JWK for `/.well-known/jwks.json`.
    kid: Option<String>,
    public: Option<serde_json::Value>,
}

/// Reads a PKCS#8 PEM private key, RSA or P-256, and works out its public JWK.
fn signing_key(pem: &str, kid: &str) -> Result<(Signer, DecodingKey), String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::traits::PublicKeyParts;
    if let Ok(private) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
        let (n, e) = (B64.encode(private.n().to_bytes_be()), B64.encode(private.e().to_bytes_be()));
        let public = serde_json::json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": e});
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?;
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        return Ok((Signer { key, alg: Algorithm::RS256, kid: Some(kid.into()), public: Some(public) }, decoding));
    }
    if let Ok(private) = p256::SecretKey::from_pkcs8_pem(pem) {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let point = private.public_key().to_encoded_point(false);
        let (x, y) = match (point.x(), point.y()) {
            (Some(x), Some(y)) => (B64.encode(x), B64.encode(y)),
            _ => return Err("the P-256 public point is not available".into()),
        };
        let public =
            serde_json::json!({"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256", "x": x, "y": y});
        let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|e| e.to_string())?;
        let key = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        return Ok((Signer { key, alg: Algorithm::ES256, kid: Some(kid.into()), public: Some(public) }, decoding));
    }
    Err("not a PKCS#8 PEM RSA or P-256 private key".into())
}

pub struct Authenticator {
    signer: Option<Signer>,
    secret: Option<DecodingKey>,
    /// kid → key and the one algorithm that key may be used with.
    jwks: HashMap<String, (DecodingKey, Algorithm)>,
    issuer: String,
    audience: String,
    leeway: u64,
    /// The longest lifetime (`exp` minus `iat`, or minus now) a token may have, leeway included.
    max_ttl: i64,
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
        let mut jwks = jwks;
        let signer = match (&config.jwt_signing_key, &config.jwt_secret) {
            (Some(path), _) => {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| KeyError::SigningKey(path.display().to_string(), e.to_string()))?;
                let (signer, decoding) = signing_key(&pem, &config.jwt_signing_kid)
                    .map_err(|e| KeyError::SigningKey(path.display().to_string(), e))?;
                // The server accepts what it signs.
                jwks.insert(config.jwt_signing_kid.clone(), (decoding, signer.alg));
                Some(signer)
            }
            (None, Some(secret)) => Some(Signer {
                key: EncodingKey::from_secret(secret.as_bytes()),
                alg: Algorithm::HS256,
                kid: None,
                public: None,
            }),
            (None, None) => None,
        };
        if secret.is_none() && jwks.is_empty() {
            return Err(KeyError::NoKey);
        }
        Ok(Authenticator {
            signer,
            secret,
            jwks,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            leeway: config.jwt_leeway_secs,
            max_ttl: config.jwt_max_ttl_secs + config.jwt_leeway_secs as i64,
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
        let claims = decode::<Claims>(token, key, &validation).map(|data| data.claims).map_err(|e| {
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
        })?;
        self.check_claims(&claims)?;
        Ok(claims)
    }

    /// What the signature cannot vouch for: a subject that names nobody, and a lifetime longer
    /// than an operator allows (a stolen token signed for centuries would never expire).
    fn check_claims(&self, claims: &Claims) -> Result<(), ApiError> {
        if claims.sub.trim().is_empty() || claims.sub.len() > 255 || claims.sub.chars().any(char::is_control) {
            return Err(ApiError::unauthorized(
                "invalid_subject",
                "the token's sub must name its holder (1 to 255 characters)",
            ));
        }
        let now = chrono::Utc::now().timestamp();
        let from = claims.iat.map_or(now, |iat| iat.min(now));
        if claims.exp.saturating_sub(from) > self.max_ttl {
            return Err(ApiError::unauthorized(
                "token_lifetime_too_long",
                format!(
                    "the token lives longer than the {} s this service accepts (DVK_JWT_MAX_TTL_SECS)",
                    self.max_ttl
                ),
            ));
        }
        Ok(())
    }

    /// Signs `claims` with the server's own key; `None` when only an identity provider's public
    /// keys are configured (then the server issues no tokens).
    pub fn sign(&self, claims: &Claims) -> Option<String> {
        let signer = self.signer.as_ref()?;
        let mut header = Header::new(signer.alg);
        header.kid = signer.kid.clone();
        encode(&header, claims, &signer.key).ok()
    }

    /// The public keys of the tokens the server signs, as a JWK set (empty with HS256).
    pub fn public_jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self.signer.iter().filter_map(|s| s.public.clone()).collect();
        serde_json::json!({ "keys": keys })
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
