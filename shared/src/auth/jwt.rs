//! Verification of the Auth Service's access tokens.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::config::JwtConfig;
use crate::domain::ids::is_valid_user_id;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Clock skew tolerated on `exp`, `nbf` and `iat` (the contract allows at most 30 s).
const LEEWAY_SECONDS: u64 = 10;

/// What a valid access token says about its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    user_id: Value,
    #[serde(default)]
    sub: Value,
    #[serde(default)]
    email: Value,
    #[serde(default)]
    name: Value,
    #[serde(default, rename = "type")]
    kind: Value,
    #[serde(default)]
    token_type: Value,
    #[serde(default)]
    iat: Value,
}

pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier").finish_non_exhaustive()
    }
}

impl JwtVerifier {
    pub fn new(config: &JwtConfig) -> Self {
        // Only HS256: a token whose header names another algorithm (`none`, RS*, HS384,
        // HS512) fails before its signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        // jsonwebtoken checks `aud` only when the token has one: a configured audience
        // must also make it required.
        match &config.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.required_spec_claims.insert("aud".to_owned());
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".to_owned());
        }
        Self {
            key: DecodingKey::from_secret(config.secret.expose().as_bytes()),
            validation,
        }
    }

    pub fn verify(&self, token: &str) -> Result<VerifiedToken> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|err| {
                match err.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                        Error::Unauthorized("Token has expired")
                    }
                    _ => Error::Unauthorized("Invalid token"),
                }
            })?;
        // A `crit` header names extensions the verifier must understand (RFC 7515 §4.1.11):
        // this one understands none.
        if data.header.crit.is_some() {
            return Err(Error::Unauthorized("Invalid token"));
        }
        let claims = data.claims;
        // A NumericDate may have a fraction (RFC 7519 §2), as `exp` and `nbf` may.
        if let Some(iat) = claims.iat.as_f64() {
            if iat > (Utc::now().timestamp() + LEEWAY_SECONDS as i64) as f64 {
                return Err(Error::Unauthorized("Invalid token"));
            }
        } else if !claims.iat.is_null() {
            return Err(Error::Unauthorized("Invalid token"));
        }
        for kind in [&claims.kind, &claims.token_type] {
            if !kind.is_null() && kind.as_str() != Some("access") {
                return Err(Error::Unauthorized("Not an access token"));
            }
        }
        let user_id = id_claim(&claims.user_id)
            .or_else(|| id_claim(&claims.sub))
            .filter(|id| is_valid_user_id(id))
            .ok_or(Error::Unauthorized("Invalid token"))?;
        Ok(VerifiedToken {
            user_id,
            email: text_claim(&claims.email),
            name: text_claim(&claims.name),
        })
    }
}

/// The Auth Service issues ids as strings; a numeric id is taken as its decimal text.
pub fn id_claim(value: &Value) -> Option<String> {
    match value {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) if id.is_u64() => Some(id.to_string()),
        _ => None,
    }
}

fn text_claim(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// Signs `claims` with HS256, as the Auth Service does: for `make token` and for tests.
pub fn sign_token(secret: &Secret, claims: &Value) -> Result<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
    .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config() -> JwtConfig {
        JwtConfig {
            secret: Secret::new("test-secret"),
            issuer: None,
            audience: None,
        }
    }

    fn token(claims: Value) -> String {
        sign_token(&config().secret, &claims).unwrap()
    }

    fn in_one_hour() -> i64 {
        Utc::now().timestamp() + 3600
    }

    fn reason(result: Result<VerifiedToken>) -> &'static str {
        match result {
            Err(Error::Unauthorized(reason)) => reason,
            other => panic!("expected 401, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_access_token_names_its_user() {
        let verifier = JwtVerifier::new(&config());
        let verified = verifier
            .verify(&token(json!({"user_id": "u-1", "sub": "other", "email": "a@b.c", "name": " Ann ", "exp": in_one_hour(), "type": "access"})))
            .unwrap();
        assert_eq!(verified.user_id, "u-1");
        assert_eq!(verified.email.as_deref(), Some("a@b.c"));
        assert_eq!(verified.name.as_deref(), Some("Ann"));

        let by_sub = verifier
            .verify(&token(json!({"sub": 42, "exp": in_one_hour()})))
            .unwrap();
        assert_eq!(by_sub.user_id, "42");
    }

    #[test]
    fn expired_and_future_tokens_are_refused() {
        let verifier = JwtVerifier::new(&config());
        let now = Utc::now().timestamp();
        assert_eq!(
            reason(verifier.verify(&token(json!({"user_id": "u", "exp": now - 60})))),
            "Token has expired"
        );
        // Within the leeway an expired token still passes.
        assert!(
            verifier
                .verify(&token(json!({"user_id": "u", "exp": now - 2})))
                .is_ok()
        );
        assert!(
            verifier
                .verify(&token(
                    json!({"user_id": "u", "exp": now + 600, "nbf": now + 300})
                ))
                .is_err()
        );
        assert!(
            verifier
                .verify(&token(
                    json!({"user_id": "u", "exp": now + 600, "iat": now + 300})
                ))
                .is_err()
        );
        assert!(
            verifier
                .verify(&token(
                    json!({"user_id": "u", "exp": now + 600, "iat": now - 5, "nbf": now - 5})
                ))
                .is_ok()
        );
        // NumericDates may have fractions, `iat` as much as the others.
        let now = now as f64;
        assert!(
            verifier
                .verify(&token(
                    json!({"user_id": "u", "exp": now + 600.5, "iat": now - 0.5, "nbf": now - 0.5})
                ))
                .is_ok()
        );
        assert!(
            verifier
                .verify(&token(
                    json!({"user_id": "u", "exp": now + 600.5, "iat": now + 300.5})
                ))
                .is_err()
        );
    }

    #[test]
    fn exp_is_required() {
        let verifier = JwtVerifier::new(&config());
        assert!(verifier.verify(&token(json!({"user_id": "u"}))).is_err());
    }

    #[test]
    fn refresh_tokens_are_refused() {
        let verifier = JwtVerifier::new(&config());
        for claims in [
            json!({"user_id": "u", "exp": in_one_hour(), "type": "refresh"}),
            json!({"user_id": "u", "exp": in_one_hour(), "token_type": "refresh"}),
            json!({"user_id": "u", "exp": in_one_hour(), "type": 1}),
        ] {
            assert!(verifier.verify(&token(claims)).is_err());
        }
        assert!(
            verifier
                .verify(&token(
                    json!({"user_id": "u", "exp": in_one_hour(), "token_type": "access"})
                ))
                .is_ok()
        );
    }

    #[test]
    fn other_algorithms_and_keys_are_refused() {
        let verifier = JwtVerifier::new(&config());
        let claims = json!({"user_id": "u", "exp": in_one_hour()});
        let key = EncodingKey::from_secret(b"test-secret");
        for algorithm in [Algorithm::HS384, Algorithm::HS512] {
            let other = jsonwebtoken::encode(&Header::new(algorithm), &claims, &key).unwrap();
            assert!(verifier.verify(&other).is_err(), "{algorithm:?}");
        }
        let wrong_key = sign_token(&Secret::new("another-secret"), &claims).unwrap();
        assert!(verifier.verify(&wrong_key).is_err());

        // An unsigned token ({"alg":"none"}) with the same claims.
        let unsigned = format!(
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
            jwt_segment(&claims)
        );
        assert!(verifier.verify(&unsigned).is_err());
        assert!(verifier.verify("not-a-token").is_err());
        assert!(verifier.verify("").is_err());
    }

    #[test]
    fn a_header_with_critical_extensions_is_refused() {
        let verifier = JwtVerifier::new(&config());
        let claims = json!({"user_id": "u", "exp": in_one_hour()});
        let key = EncodingKey::from_secret(b"test-secret");
        for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()], Vec::new()] {
            let header = Header {
                crit: Some(crit.clone()),
                ..Header::new(Algorithm::HS256)
            };
            let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
            assert!(verifier.verify(&token).is_err(), "{crit:?}");
        }
        assert!(verifier.verify(&token(claims)).is_ok());
    }

    fn jwt_segment(claims: &Value) -> String {
        // The token's own encoding of the claims: reuse a signed token's middle part.
        let signed = token(claims.clone());
        signed.split('.').nth(1).unwrap().to_owned()
    }

    #[test]
    fn ids_that_are_not_path_safe_are_refused() {
        let verifier = JwtVerifier::new(&config());
        for id in [
            json!("../x"),
            json!(""),
            json!("a".repeat(37)),
            json!(-1),
            json!(1.5),
            json!(null),
        ] {
            assert!(
                verifier
                    .verify(&token(json!({"user_id": id, "exp": in_one_hour()})))
                    .is_err(),
                "{id}"
            );
        }
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let verifier = JwtVerifier::new(&JwtConfig {
            issuer: Some("auth-service".into()),
            audience: Some("food-app".into()),
            ..config()
        });
        let good =
            json!({"user_id": "u", "exp": in_one_hour(), "iss": "auth-service", "aud": "food-app"});
        assert!(verifier.verify(&token(good)).is_ok());
        for bad in [
            json!({"user_id": "u", "exp": in_one_hour(), "iss": "someone-else", "aud": "food-app"}),
            json!({"user_id": "u", "exp": in_one_hour(), "aud": "food-app"}),
            json!({"user_id": "u", "exp": in_one_hour(), "iss": "auth-service", "aud": "other"}),
            json!({"user_id": "u", "exp": in_one_hour(), "iss": "auth-service"}),
        ] {
            assert!(verifier.verify(&token(bad)).is_err());
        }
        // Without a configured audience, a token's `aud` is not a reason to refuse it.
        let open = JwtVerifier::new(&config());
        assert!(
            open.verify(&token(
                json!({"user_id": "u", "exp": in_one_hour(), "aud": "x"})
            ))
            .is_ok()
        );
    }
}
