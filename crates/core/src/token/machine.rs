//! Machine tokens (SPEC 3.6): type detection by prefix and JWT shape, local verification of M2M and OAuth JWTs,
//! and Backend API verification of opaque `mt_` / `oat_` / `ak_` tokens with Clerk's error mapping.

use serde_json::{Map, Value};

use super::options::{non_empty, VerifyOptions};
use super::verify::{check_audience, verify_jwt, Verifier};
use crate::cache::token_key::Scope;
use crate::codec::jsfmt;
use crate::jwks::rate_limit::retry_after_ms;
use crate::jwt::error::{MachineErrorCode, MachineTokenError, Reason, TokenVerificationError};
use crate::jwt::{self, category, Jwt, JwtPayload};
use crate::transport::{self, SUPPORTED_BAPI_VERSION, USER_AGENT};

/// Prefix of opaque M2M tokens.
pub const M2M_TOKEN_PREFIX: &str = "mt_";
/// Prefix of opaque OAuth access tokens.
pub const OAUTH_TOKEN_PREFIX: &str = "oat_";
/// Prefix of API keys.
pub const API_KEY_PREFIX: &str = "ak_";
/// `sub` prefix of M2M JWTs.
pub const M2M_SUBJECT_PREFIX: &str = "mch_";
/// `typ` values of OAuth access-token JWTs (RFC 9068).
pub const OAUTH_ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

/// Clerk's token types (`acceptsToken` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// `session_token`
    SessionToken,
    /// `m2m_token`
    M2mToken,
    /// `oauth_token`
    OAuthToken,
    /// `api_key`
    ApiKey,
}

impl TokenType {
    /// Clerk's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenType::SessionToken => "session_token",
            TokenType::M2mToken => "m2m_token",
            TokenType::OAuthToken => "oauth_token",
            TokenType::ApiKey => "api_key",
        }
    }

    /// Parse Clerk's string.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "session_token" => Some(Self::SessionToken),
            "m2m_token" => Some(Self::M2mToken),
            "oauth_token" => Some(Self::OAuthToken),
            "api_key" => Some(Self::ApiKey),
            _ => None,
        }
    }
}

/// Whether the token starts with a machine prefix (`mt_`, `oat_`, `ak_`).
pub fn is_machine_token_by_prefix(token: &str) -> bool {
    [M2M_TOKEN_PREFIX, OAUTH_TOKEN_PREFIX, API_KEY_PREFIX]
        .iter()
        .any(|p| token.starts_with(p))
}

/// A decoded JWT whose `sub` starts with `mch_`.
pub fn is_m2m_jwt(jwt: &Jwt<'_>) -> bool {
    jwt.sub().is_some_and(|s| s.starts_with(M2M_SUBJECT_PREFIX))
}

/// A decoded JWT whose `typ` is an OAuth access-token type.
pub fn is_oauth_jwt(jwt: &Jwt<'_>) -> bool {
    jwt.typ()
        .is_some_and(|t| OAUTH_ACCESS_TOKEN_TYPES.contains(&t))
}

fn decode_if_jwt(token: &str) -> Option<Jwt<'_>> {
    if jwt::is_jwt_format(token) {
        jwt::decode(token).ok()
    } else {
        None
    }
}

/// Clerk's `getMachineTokenType`, first match wins: `mt_` or an M2M JWT → m2m; `oat_` or an OAuth JWT → oauth;
/// `ak_` → api key; otherwise `None` (Clerk throws "Unknown machine token type").
pub fn machine_token_type(token: &str) -> Option<TokenType> {
    let jwt = decode_if_jwt(token);
    if token.starts_with(M2M_TOKEN_PREFIX) || jwt.as_ref().is_some_and(is_m2m_jwt) {
        Some(TokenType::M2mToken)
    } else if token.starts_with(OAUTH_TOKEN_PREFIX) || jwt.as_ref().is_some_and(is_oauth_jwt) {
        Some(TokenType::OAuthToken)
    } else if token.starts_with(API_KEY_PREFIX) {
        Some(TokenType::ApiKey)
    } else {
        None
    }
}

/// The session-path category check of `authenticateRequest` (SPEC 3.5): a session token must not be a machine JWT,
/// and its `cat`, when present, must be the session or the "ignore" category. We apply it on every session path
/// (Clerk skips it under `acceptsToken: 'any'`). Returns `false` → signed out with `token-type-mismatch`.
pub fn session_category_allowed(jwt: &Jwt<'_>) -> bool {
    if is_m2m_jwt(jwt) || is_oauth_jwt(jwt) {
        return false;
    }
    match jwt.header.get("cat") {
        None => true,
        Some(Value::String(c)) => c == category::SESSION || c == category::IGNORE,
        Some(_) => false,
    }
}

/// A verified machine token: its type and the resource Clerk returns (camelCase fields, e.g. `M2MToken`,
/// `IdPOAuthAccessToken`, `APIKey`).
#[derive(Debug, Clone, PartialEq)]
pub struct MachineAuth {
    /// Which kind of machine token.
    pub token_type: TokenType,
    /// The resource object.
    pub data: Value,
}

fn failed(message: impl Into<String>) -> MachineTokenError {
    MachineTokenError::new(MachineErrorCode::TokenVerificationFailed, message)
}

/// Clerk's `verifyMachineAuthToken`: JWT-shaped tokens are verified locally (M2M by `sub`, OAuth by `typ`), opaque
/// ones against the Backend API.
pub async fn verify_machine_token(
    verifier: &Verifier,
    token: &str,
) -> Result<MachineAuth, MachineTokenError> {
    if jwt::is_jwt_format(token) {
        let jwt = jwt::decode(token)
            .map_err(|e| MachineTokenError::new(MachineErrorCode::TokenInvalid, e.message))?;
        if is_m2m_jwt(&jwt) {
            return verify_m2m_jwt(verifier, &jwt).await;
        }
        if is_oauth_jwt(&jwt) {
            return verify_oauth_jwt(verifier, &jwt).await;
        }
        let typ = match jwt.header.get("typ") {
            None | Some(Value::Null) => "missing".to_owned(),
            other => jsfmt::to_js_string_capped(other),
        };
        return Err(failed(format!(
            "Invalid JWT type: {typ}. Expected one of: {} for OAuth, or sub starting with 'mch_' for M2M",
            OAUTH_ACCESS_TOKEN_TYPES.join(", ")
        )));
    }
    if token.starts_with(M2M_TOKEN_PREFIX) {
        return verify_opaque(verifier, token, TokenType::M2mToken).await;
    }
    if token.starts_with(OAUTH_TOKEN_PREFIX) {
        return verify_opaque(verifier, token, TokenType::OAuthToken).await;
    }
    if token.starts_with(API_KEY_PREFIX) {
        return verify_opaque(verifier, token, TokenType::ApiKey).await;
    }
    Err(MachineTokenError::new(
        MachineErrorCode::TokenInvalid,
        "Unknown machine token type",
    ))
}

/// Key resolution + `verifyJwt` for a machine JWT; every failure becomes `token-verification-failed`.
async fn resolve_and_verify(
    verifier: &Verifier,
    jwt: &Jwt<'_>,
    header_type: Option<&[&str]>,
) -> Result<JwtPayload, MachineTokenError> {
    let to_machine = |e: TokenVerificationError| {
        let mut m = failed(e.message);
        // Key-resolution failures (no key configured, an unusable jwtKey) keep their action, as Clerk keeps
        // SetClerkJWTKey on "Failed to resolve JWK during verification.".
        if e.reason == Reason::JwkFailedToResolve {
            m.action = e.action;
        }
        m
    };
    let kid = jwt.kid();
    let key = match verifier.cached_key(&kid).map_err(to_machine)? {
        Some(k) => k,
        None => verifier.fetch_key(&kid).await.map_err(to_machine)?,
    };
    // Clerk's resolveKeyAndVerifyJwt passes only `audience` (not for OAuth JWTs, whose audience is checked
    // afterwards by its own rule) and `clockSkewInMs` to verifyJwt: no authorizedParties, issuer or headerType
    // option applies to machine JWTs.
    let o = verifier.options();
    let options = VerifyOptions {
        audience: if header_type.is_some() {
            Vec::new()
        } else {
            o.audience.clone()
        },
        authorized_parties: Vec::new(),
        issuer: Vec::new(),
        header_type: None,
        ..o.clone()
    };
    verify_jwt(jwt, &key, &options, header_type, verifier.now_ms()).map_err(to_machine)
}

fn millis(v: Option<&Value>) -> Value {
    v.and_then(Value::as_f64)
        .map(|s| s * 1000.0)
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, |n| {
            // Integral values as integers (JSON `1700000000000`, not `1.7e12`).
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map_or(Value::Number(n.clone()), |f| Value::from(f as i64))
        })
}

fn expired(payload: &JwtPayload, verifier: &Verifier) -> bool {
    payload.get("exp").and_then(Value::as_f64).is_some_and(|e| {
        e * 1000.0 <= (verifier.now_ms() - verifier.options().clock_skew_ms) as f64
    })
}

/// Claim `name` of `payload`, or `default` when absent.
fn claim_or(payload: &JwtPayload, name: &str, default: impl Into<Value>) -> Value {
    payload.get(name).cloned().unwrap_or_else(|| default.into())
}

/// A machine resource as Clerk's `M2MToken` / `IdpOAuthAccessToken` JSON: the kind's own fields (`head`), then
/// the tail both share: never revoked (a JWT is not looked up), `expired` under the verifier's clock and skew,
/// and `exp`/`iat` in ms as `expiration`/`createdAt`/`updatedAt`.
fn resource<const N: usize>(
    head: [(&str, Value); N],
    payload: &JwtPayload,
    verifier: &Verifier,
) -> Value {
    let mut data: Map<String, Value> = head.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let tail = [
        ("revoked", Value::Bool(false)),
        ("revocationReason", Value::Null),
        ("expired", Value::Bool(expired(payload, verifier))),
        ("expiration", millis(payload.get("exp"))),
        ("createdAt", millis(payload.get("iat"))),
        ("updatedAt", millis(payload.get("iat"))),
    ];
    data.extend(tail.into_iter().map(|(k, v)| (k.to_owned(), v)));
    Value::Object(data)
}

async fn verify_m2m_jwt(
    verifier: &Verifier,
    jwt: &Jwt<'_>,
) -> Result<MachineAuth, MachineTokenError> {
    // Absent `cat` is accepted during Clerk's rollout; any other category is rejected.
    if let Some(cat) = jwt.header.get("cat") {
        if cat.as_str() != Some(category::M2M) {
            return Err(MachineTokenError::new(
                MachineErrorCode::TokenInvalid,
                "Invalid M2M JWT category.",
            ));
        }
    }
    let payload = resolve_and_verify(verifier, jwt, None).await?;
    const RESERVED: [&str; 6] = ["iss", "sub", "exp", "nbf", "iat", "jti"];
    let claims: Map<String, Value> = payload
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let scopes = match payload.get("scopes").and_then(Value::as_str) {
        Some(s) => Value::from(s.split(' ').collect::<Vec<_>>()),
        None => payload
            .get("aud")
            .cloned()
            .unwrap_or_else(|| Value::Array(vec![])),
    };
    let data = resource(
        [
            ("id", claim_or(&payload, "jti", "")),
            ("subject", claim_or(&payload, "sub", Value::Null)),
            ("scopes", scopes),
            (
                "claims",
                if claims.is_empty() {
                    Value::Null
                } else {
                    Value::Object(claims)
                },
            ),
        ],
        &payload,
        verifier,
    );
    Ok(MachineAuth {
        token_type: TokenType::M2mToken,
        data,
    })
}

/// Clerk's `assertOAuthAudienceClaim`: with an audience configured, `aud` must be a non-empty string or a
/// non-empty array of non-empty strings, and then match.
fn check_oauth_audience(aud: Option<&Value>, audience: &[String]) -> Result<(), MachineTokenError> {
    if !audience.iter().any(|a| !a.is_empty()) {
        return Ok(());
    }
    let has_audience = match aud {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => {
            !a.is_empty() && a.iter().all(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        }
        _ => false,
    };
    if !has_audience {
        return Err(failed(format!(
            "Invalid OAuth audience claim (aud) {}. Expected a non-empty string or a non-empty array of non-empty strings.",
            jsfmt::stringify_capped(aud)
        )));
    }
    check_audience(aud, audience, false).map_err(|e| failed(e.message))
}

async fn verify_oauth_jwt(
    verifier: &Verifier,
    jwt: &Jwt<'_>,
) -> Result<MachineAuth, MachineTokenError> {
    let payload = resolve_and_verify(verifier, jwt, Some(&OAUTH_ACCESS_TOKEN_TYPES)).await?;
    check_oauth_audience(payload.get("aud"), &verifier.options().audience)?;
    let scopes = match payload.get("scp") {
        Some(scp @ Value::Array(_)) => scp.clone(),
        _ => match payload.get("scope").and_then(Value::as_str) {
            Some(s) => Value::from(s.split(' ').collect::<Vec<_>>()),
            None => Value::Array(vec![]),
        },
    };
    let data = resource(
        [
            ("id", claim_or(&payload, "jti", "")),
            ("clientId", claim_or(&payload, "client_id", "")),
            ("type", Value::from("oauth_access_token")),
            ("subject", claim_or(&payload, "sub", Value::Null)),
            ("scopes", scopes),
        ],
        &payload,
        verifier,
    );
    Ok(MachineAuth {
        token_type: TokenType::OAuthToken,
        data,
    })
}

/// Clerk's message for an unknown OAuth token (a live 404; a cached rejection answers the same).
pub const OAUTH_NOT_FOUND_MESSAGE: &str = "OAuth token not found";

/// The Backend API request for an opaque token: (path after `apiUrl`, body field, not-found message).
fn bapi_route(kind: TokenType) -> (&'static str, &'static str, &'static str) {
    match kind {
        TokenType::M2mToken => ("m2m_tokens/verify", "token", "Machine token not found"),
        TokenType::OAuthToken => (
            "oauth_applications/access_tokens/verify",
            "access_token",
            OAUTH_NOT_FOUND_MESSAGE,
        ),
        // No version segment, as @clerk/backend 3.25.0 (`skipApiVersionInUrl`).
        _ => ("api_keys/verify", "secret", "API key not found"),
    }
}

/// The URL `{apiUrl}/{path}` with slashes collapsed at the join.
fn bapi_url(api_url: &str, path: &str) -> String {
    format!("{}/{}", api_url.trim_end_matches('/'), path)
}

/// snake_case → camelCase for the top-level keys of a Backend API resource (`client_id` → `clientId`).
fn camel_case_keys(v: Value) -> Value {
    let Value::Object(map) = v else {
        return v;
    };
    let converted = map
        .into_iter()
        .map(|(k, v)| {
            let mut out = String::with_capacity(k.len());
            let mut upper = false;
            for c in k.chars() {
                if c == '_' && !out.is_empty() {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            (out, v)
        })
        .collect();
    Value::Object(converted)
}

/// The answer while an instance is rate limited ([`RateLimits`](crate::jwks::rate_limit::RateLimits)):
/// `unexpected-error`, status 429, and when to retry (seconds rounded up, and the time as
/// `Date.prototype.toUTCString()` shows it). No request is sent.
pub fn rate_limited(until_ms: i64, now_ms: i64) -> MachineTokenError {
    let secs = until_ms.saturating_sub(now_ms).max(0).saturating_add(999) / 1000;
    let mut e = MachineTokenError::new(
        MachineErrorCode::UnexpectedError,
        format!(
            "Rate limited by the Clerk Backend API: retry after {secs} s (at {}).",
            jsfmt::utc_string(Some(until_ms as f64))
        ),
    )
    .with_status(429);
    e.cause = Some("no request sent: an earlier 429 asked to wait (Retry-After)".to_owned());
    e
}

fn unexpected(cause: impl Into<String>) -> MachineTokenError {
    let mut e = MachineTokenError::new(MachineErrorCode::UnexpectedError, "Unexpected error");
    e.cause = Some(cause.into());
    e
}

async fn verify_opaque(
    verifier: &Verifier,
    token: &str,
    kind: TokenType,
) -> Result<MachineAuth, MachineTokenError> {
    let options = verifier.options();
    let (path, field, not_found) = bapi_route(kind);
    let secret = match kind {
        TokenType::M2mToken => {
            non_empty(&options.machine_secret_key).or(non_empty(&options.secret_key))
        }
        _ => non_empty(&options.secret_key),
    };
    let Some(secret) = secret else {
        return Err(unexpected(
            "Missing Clerk Secret Key. Go to https://dashboard.clerk.com and get your key for your instance.",
        ));
    };
    let auth =
        reqwest::header::HeaderValue::from_str(&format!("Bearer {secret}")).map_err(|_| {
            unexpected("the secret key contains characters that are not valid in a header")
        })?;
    // Rate limited by an earlier 429 with Retry-After: fail fast, no request.
    let scope = Scope::instance(&options.api_url, secret);
    let limits = verifier.client().rate_limits();
    if let Some(until) = limits.blocked_until(&scope, verifier.now_ms()) {
        return Err(rate_limited(until, verifier.now_ms()));
    }
    let http = verifier.client().machine_http().map_err(unexpected)?;
    let config = verifier.client().config();
    let body = serde_json::to_vec(&serde_json::json!({ field: token }))
        .map_err(|e| unexpected(e.to_string()))?;

    let request = http
        .post(bapi_url(&options.api_url, path))
        .header(reqwest::header::AUTHORIZATION, auth)
        .header("Clerk-API-Version", SUPPORTED_BAPI_VERSION)
        .header("Content-Type", "application/json")
        .header("User-Agent", USER_AGENT)
        .body(body);
    let timeout = std::time::Duration::from_millis(config.fetch_timeout_ms.max(1));
    let _bapi = crate::metrics::backend_api_call();
    let exchange = async {
        let response = request
            .send()
            .await
            .map_err(|e| unexpected(transport::describe(&e)))?;
        let status = response.status().as_u16();
        let retry_after = (status == 429)
            .then(|| response.headers().get(reqwest::header::RETRY_AFTER))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after_ms(v, verifier.now_ms()));
        let body = transport::read_capped(response, config.max_response_bytes)
            .await
            .map_err(|e| unexpected(e).with_status(status))?;
        Ok::<_, MachineTokenError>((status, retry_after, body))
    };
    let (status, retry_after, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| unexpected(format!("timed out after {} ms", config.fetch_timeout_ms)))??;
    if let Some(wait) = retry_after {
        let now = verifier.now_ms();
        limits.note(scope, now.saturating_add(wait), now);
    }
    let json: Option<Value> = serde_json::from_slice(&body).ok();

    if !(200..300).contains(&status) {
        let (code, message) = match status {
            401 => (
                MachineErrorCode::SecretKeyInvalid,
                json.as_ref()
                    .and_then(|j| j.pointer("/errors/0/message"))
                    .and_then(Value::as_str)
                    .filter(|m| !m.is_empty())
                    .unwrap_or("Invalid secret key")
                    .to_owned(),
            ),
            404 => (MachineErrorCode::TokenInvalid, not_found.to_owned()),
            _ => (
                MachineErrorCode::UnexpectedError,
                "Unexpected error".to_owned(),
            ),
        };
        let mut error = MachineTokenError::new(code, message).with_status(status);
        if (300..400).contains(&status) {
            error.cause = Some(format!(
                "the Backend API answered {status} (a redirect); redirects are never followed"
            ));
        } else if let Some(wait) = retry_after {
            error.cause = Some(format!(
                "rate limited: Retry-After {} ms; calls for this instance fail fast until then",
                wait
            ));
        }
        return Err(error);
    }
    let Some(data @ Value::Object(_)) = json else {
        return Err(unexpected("the Backend API answer is not a JSON object").with_status(status));
    };
    if kind == TokenType::OAuthToken {
        check_oauth_audience(data.get("aud"), &options.audience)?;
    }
    Ok(MachineAuth {
        token_type: kind,
        data: camel_case_keys(data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::base64url;
    use serde_json::json;

    fn fake_jwt(header: Value, payload: Value) -> String {
        let h = base64url::encode(header.to_string().as_bytes());
        let p = base64url::encode(payload.to_string().as_bytes());
        format!("{h}.{p}.c2ln")
    }

    #[test]
    fn detection() {
        assert_eq!(machine_token_type("mt_abc"), Some(TokenType::M2mToken));
        assert_eq!(machine_token_type("oat_abc"), Some(TokenType::OAuthToken));
        assert_eq!(machine_token_type("ak_abc"), Some(TokenType::ApiKey));
        assert_eq!(machine_token_type("sk_abc"), None);
        let m2m = fake_jwt(json!({"alg": "RS256"}), json!({"sub": "mch_1"}));
        assert_eq!(machine_token_type(&m2m), Some(TokenType::M2mToken));
        let oauth = fake_jwt(
            json!({"alg": "RS256", "typ": "at+jwt"}),
            json!({"sub": "user_1"}),
        );
        assert_eq!(machine_token_type(&oauth), Some(TokenType::OAuthToken));
        let oauth2 = fake_jwt(json!({"typ": "application/at+jwt"}), json!({"sub": "u"}));
        assert!(machine_token_type(&oauth2).is_some());
        let session = fake_jwt(
            json!({"alg": "RS256", "typ": "JWT"}),
            json!({"sub": "user_1"}),
        );
        assert_eq!(machine_token_type(&session), None);
        assert!(!is_machine_token_by_prefix(&session));
        assert_eq!(TokenType::parse("api_key"), Some(TokenType::ApiKey));
        assert_eq!(TokenType::M2mToken.as_str(), "m2m_token");
    }

    #[test]
    fn session_categories() {
        let with_cat = |cat: Value| {
            let t = fake_jwt(
                json!({"alg": "RS256", "cat": cat}),
                json!({"sub": "user_1"}),
            );
            session_category_allowed(&jwt::decode(&t).unwrap())
        };
        assert!(with_cat(json!(category::SESSION)));
        assert!(with_cat(json!(category::IGNORE)));
        assert!(!with_cat(json!(category::JWT_TEMPLATE)));
        assert!(!with_cat(json!(category::M2M)));
        assert!(!with_cat(json!(5)));
        let none = fake_jwt(json!({"alg": "RS256"}), json!({"sub": "user_1"}));
        assert!(session_category_allowed(&jwt::decode(&none).unwrap()));
        let m2m = fake_jwt(json!({"alg": "RS256"}), json!({"sub": "mch_1"}));
        assert!(!session_category_allowed(&jwt::decode(&m2m).unwrap()));
    }

    #[test]
    fn camel_case_conversion() {
        let v = camel_case_keys(
            json!({"client_id": 1, "revocation_reason": null, "id": "x", "claims": {"a_b": 1}}),
        );
        assert_eq!(
            v,
            json!({"clientId": 1, "revocationReason": null, "id": "x", "claims": {"a_b": 1}})
        );
    }

    #[test]
    fn oauth_audience() {
        let aud = vec!["https://api.example".to_string()];
        assert!(check_oauth_audience(None, &[]).is_ok());
        let e = check_oauth_audience(None, &aud).unwrap_err();
        assert_eq!(e.code, MachineErrorCode::TokenVerificationFailed);
        assert_eq!(e.message, "Invalid OAuth audience claim (aud) undefined. Expected a non-empty string or a non-empty array of non-empty strings.");
        assert!(check_oauth_audience(Some(&json!(["https://api.example"])), &aud).is_ok());
        let e = check_oauth_audience(Some(&json!("https://other")), &aud).unwrap_err();
        assert_eq!(
            e.message,
            r#"Invalid JWT audience claim (aud) "https://other". Is not included in "["https://api.example"]"."#
        );
    }
}
