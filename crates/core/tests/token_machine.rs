//! Machine tokens against a Backend API stand-in on 127.0.0.1: endpoints, bodies and headers of `mt_`/`oat_`/`ak_`
//! verification, Clerk's status mapping (401/404/other, status kept), and local M2M/OAuth JWT verification.

mod token_support;

use std::sync::Arc;

use clerk_native_core::clock::ManualClock;
use clerk_native_core::jwks::{JwksClient, JwksConfig};
use clerk_native_core::jwt::error::action;
use clerk_native_core::token::{verify_machine_token, TokenType};
use clerk_native_core::token::{MachineErrorCode, Verifier, VerifyOptions};
use serde_json::{json, Value};
use token_support::{jwks, now_secs, Reply, Signer, TestServer};

const SK: &str = "sk_test_machine";
const MSK: &str = "ak_machine_secret";

fn client() -> Arc<JwksClient> {
    Arc::new(JwksClient::with_clock(
        JwksConfig {
            fetch_timeout_ms: 1_000,
            ..JwksConfig::default()
        },
        Arc::new(ManualClock::new(now_secs() * 1000)),
    ))
}

fn verifier(server: &TestServer, machine_secret: Option<&str>) -> Verifier {
    Verifier::with_client(
        VerifyOptions {
            secret_key: Some(SK.into()),
            machine_secret_key: machine_secret.map(str::to_owned),
            api_url: server.base(),
            ..VerifyOptions::default()
        },
        client(),
    )
}

fn m2m_resource() -> Value {
    json!({
        "object": "machine_to_machine_token", "id": "mt_id_1", "subject": "mch_1", "scopes": ["mch_2"],
        "claims": {"tier": "gold"}, "revoked": false, "revocation_reason": null, "expired": false,
        "expiration": 1_900_000_000_000u64, "created_at": 1_700_000_000_000u64, "updated_at": 1_700_000_000_000u64,
    })
}

#[tokio::test]
async fn opaque_tokens_hit_the_right_endpoints_with_clerks_bodies_and_headers() {
    let server = TestServer::start(Reply::json(200, m2m_resource())).await;
    let cases = [
        (
            "mt_abc",
            Some(MSK),
            "/m2m_tokens/verify",
            json!({"token": "mt_abc"}),
            MSK,
            TokenType::M2mToken,
        ),
        (
            "mt_def",
            None,
            "/m2m_tokens/verify",
            json!({"token": "mt_def"}),
            SK,
            TokenType::M2mToken,
        ),
        (
            "oat_abc",
            Some(MSK),
            "/oauth_applications/access_tokens/verify",
            json!({"access_token": "oat_abc"}),
            SK,
            TokenType::OAuthToken,
        ),
        (
            "ak_abc",
            Some(MSK),
            "/api_keys/verify",
            json!({"secret": "ak_abc"}),
            SK,
            TokenType::ApiKey,
        ),
    ];
    for (i, (token, msk, path, body, bearer, kind)) in cases.into_iter().enumerate() {
        let v = verifier(&server, msk);
        let auth = verify_machine_token(&v, token).await.expect(token);
        assert_eq!(auth.token_type, kind);
        assert_eq!(auth.data["revocationReason"], Value::Null);
        assert_eq!(auth.data["createdAt"], 1_700_000_000_000u64);
        assert_eq!(auth.data["claims"], json!({"tier": "gold"}));
        let r = &server.requests()[i];
        assert_eq!(r.method, "POST", "{token}");
        assert_eq!(r.path, path, "{token}");
        assert_eq!(
            serde_json::from_str::<Value>(&r.body).unwrap(),
            body,
            "{token}"
        );
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {bearer}").as_str())
        );
        assert_eq!(r.header("clerk-api-version"), Some("2026-05-12"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header("user-agent"),
            Some(concat!("clerk-native/", env!("CARGO_PKG_VERSION")))
        );
    }
}

#[tokio::test]
async fn status_mapping_keeps_the_status() {
    let server = TestServer::start(Reply::raw(500, "")).await;
    let v = verifier(&server, None);
    let table: Vec<(Reply, &str, MachineErrorCode, &str, Option<u16>)> = vec![
        (
            Reply::json(
                401,
                json!({"errors": [{"code": "authentication_invalid", "message": "Unauthorized request"}]}),
            ),
            "oat_x",
            MachineErrorCode::SecretKeyInvalid,
            "Unauthorized request",
            Some(401),
        ),
        (
            Reply::raw(401, "not json"),
            "mt_x",
            MachineErrorCode::SecretKeyInvalid,
            "Invalid secret key",
            Some(401),
        ),
        (
            Reply::json(404, json!({"errors": []})),
            "mt_x",
            MachineErrorCode::TokenInvalid,
            "Machine token not found",
            Some(404),
        ),
        (
            Reply::json(404, json!({})),
            "oat_x",
            MachineErrorCode::TokenInvalid,
            "OAuth token not found",
            Some(404),
        ),
        (
            Reply::raw(404, ""),
            "ak_x",
            MachineErrorCode::TokenInvalid,
            "API key not found",
            Some(404),
        ),
        (
            Reply::raw(500, ""),
            "ak_x",
            MachineErrorCode::UnexpectedError,
            "Unexpected error",
            Some(500),
        ),
        (
            Reply::json(403, json!({"errors": [{"message": "nope"}]})),
            "oat_x",
            MachineErrorCode::UnexpectedError,
            "Unexpected error",
            Some(403),
        ),
        (
            Reply::raw(429, ""),
            "mt_x",
            MachineErrorCode::UnexpectedError,
            "Unexpected error",
            Some(429),
        ),
        (
            Reply::raw(200, "not json"),
            "ak_x",
            MachineErrorCode::UnexpectedError,
            "Unexpected error",
            Some(200),
        ),
    ];
    for (reply, token, code, message, status) in table {
        server.set_reply(reply);
        let e = verify_machine_token(&v, token).await.unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str(), e.status),
            (code, message, status),
            "{token}"
        );
    }
    server.set_reply(Reply::json(404, json!({})));
    let e = verify_machine_token(&v, "oat_missing").await.unwrap_err();
    assert_eq!(
        e.full_message(),
        "OAuth token not found (code=token-invalid, status=404)"
    );
}

#[tokio::test]
async fn transport_failures_and_missing_keys_are_unexpected_errors() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let v = Verifier::with_client(
        VerifyOptions {
            secret_key: Some(SK.into()),
            api_url: format!("http://{addr}"),
            ..VerifyOptions::default()
        },
        client(),
    );
    let e = verify_machine_token(&v, "ak_x").await.unwrap_err();
    assert_eq!(
        (e.code, e.status),
        (MachineErrorCode::UnexpectedError, None)
    );
    assert_eq!(
        e.full_message(),
        "Unexpected error (code=unexpected-error, status=n/a)"
    );
    assert!(e.cause.is_some());

    let server = TestServer::start(Reply::json(200, m2m_resource()).delayed(3_000)).await;
    let e = verify_machine_token(&verifier(&server, None), "mt_slow")
        .await
        .unwrap_err();
    assert_eq!(e.code, MachineErrorCode::UnexpectedError);
    assert!(e.cause.unwrap().contains("timed out"));

    let no_key = Verifier::with_client(
        VerifyOptions {
            api_url: server.base(),
            ..VerifyOptions::default()
        },
        client(),
    );
    let e = verify_machine_token(&no_key, "oat_x").await.unwrap_err();
    assert_eq!(e.code, MachineErrorCode::UnexpectedError);
    assert_eq!(server.hits(), 1, "no request without a secret key");

    let e = verify_machine_token(&no_key, "xyz_unknown")
        .await
        .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (MachineErrorCode::TokenInvalid, "Unknown machine token type")
    );
}

#[tokio::test]
async fn opaque_oauth_audience_is_checked() {
    let server = TestServer::start(Reply::json(
        200,
        json!({"id": "oat_1", "client_id": "c", "subject": "user_1", "scopes": ["read"], "aud": "https://other"}),
    ))
    .await;
    let v = Verifier::with_client(
        VerifyOptions {
            secret_key: Some(SK.into()),
            api_url: server.base(),
            audience: vec!["https://api.example".into()],
            ..VerifyOptions::default()
        },
        client(),
    );
    let e = verify_machine_token(&v, "oat_1").await.unwrap_err();
    assert_eq!(e.code, MachineErrorCode::TokenVerificationFailed);
    assert!(e
        .message
        .starts_with("Invalid JWT audience claim (aud) \"https://other\""));
    server.set_reply(Reply::json(
        200,
        json!({"id": "oat_1", "client_id": "c", "aud": ["https://api.example"]}),
    ));
    let ok = verify_machine_token(&v, "oat_1").await.unwrap();
    assert_eq!(ok.data["clientId"], "c");
}

fn pem_verifier(s: &Signer, audience: Vec<String>) -> Verifier {
    Verifier::with_client(
        VerifyOptions {
            jwt_key: Some(s.pem.clone()),
            audience,
            ..VerifyOptions::default()
        },
        client(),
    )
}

#[tokio::test]
async fn m2m_and_oauth_jwts_are_verified_locally() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let v = pem_verifier(&s, vec![]);

    let m2m = s.sign(
        "RS256",
        &json!({"alg": "RS256", "typ": "JWT", "kid": "k", "cat": "cl_B7d4PD333AAA"}),
        &json!({"sub": "mch_1", "jti": "mt_1", "iat": now, "exp": now + 60, "scopes": "mch_2 mch_3", "tier": 1}),
    );
    let a = verify_machine_token(&v, &m2m).await.unwrap();
    assert_eq!(a.token_type, TokenType::M2mToken);
    assert_eq!(a.data["id"], "mt_1");
    assert_eq!(a.data["scopes"], json!(["mch_2", "mch_3"]));
    assert_eq!(
        a.data["claims"],
        json!({"scopes": "mch_2 mch_3", "tier": 1})
    );
    assert_eq!(a.data["expiration"], json!((now + 60) * 1000));
    assert_eq!(a.data["expired"], false);

    // Another category on an M2M JWT.
    let wrong_cat = s.sign(
        "RS256",
        &json!({"alg": "RS256", "cat": "cl_B7d4PD111AAA"}),
        &json!({"sub": "mch_1", "exp": now + 60}),
    );
    let e = verify_machine_token(&v, &wrong_cat).await.unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (MachineErrorCode::TokenInvalid, "Invalid M2M JWT category.")
    );

    // Expired M2M JWT: verification errors become token-verification-failed with verifyJwt's message.
    let expired = s.sign(
        "RS256",
        &json!({"alg": "RS256"}),
        &json!({"sub": "mch_1", "exp": now - 3600}),
    );
    let e = verify_machine_token(&v, &expired).await.unwrap_err();
    assert_eq!(e.code, MachineErrorCode::TokenVerificationFailed);
    assert!(e.message.starts_with("JWT is expired."));

    // OAuth JWT (typ at+jwt), scopes from `scope`.
    let oauth = s.sign(
        "RS256",
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": "k"}),
        &json!({"sub": "user_1", "client_id": "cl_1", "jti": "oat_1", "iat": now, "exp": now + 60, "scope": "read write", "aud": "https://api.example"}),
    );
    let a = verify_machine_token(&v, &oauth).await.unwrap();
    assert_eq!(a.token_type, TokenType::OAuthToken);
    assert_eq!(a.data["clientId"], "cl_1");
    assert_eq!(a.data["type"], "oauth_access_token");
    assert_eq!(a.data["scopes"], json!(["read", "write"]));
    // Audience enforced for OAuth JWTs.
    let strict = pem_verifier(&s, vec!["https://other".into()]);
    let e = verify_machine_token(&strict, &oauth).await.unwrap_err();
    assert_eq!(e.code, MachineErrorCode::TokenVerificationFailed);

    // A JWT that is neither.
    let plain = s.sign(
        "RS256",
        &json!({"alg": "RS256", "typ": "JWT"}),
        &json!({"sub": "user_1", "exp": now + 60}),
    );
    let e = verify_machine_token(&v, &plain).await.unwrap_err();
    assert_eq!(e.code, MachineErrorCode::TokenVerificationFailed);
    assert_eq!(
        e.message,
        "Invalid JWT type: JWT. Expected one of: at+jwt, application/at+jwt for OAuth, or sub starting with 'mch_' for M2M"
    );

    // No key configured at all.
    let none = Verifier::with_client(VerifyOptions::default(), client());
    let e = verify_machine_token(&none, &m2m).await.unwrap_err();
    assert_eq!(e.code, MachineErrorCode::TokenVerificationFailed);
    assert_eq!(e.message, "Failed to resolve JWK during verification.");
    assert_eq!(e.action, Some(action::SET_JWT_KEY_OR_SECRET_KEY));

    // A jwtKey that is not an RSA public key: the message names the option, the action says how to fix it.
    let garbage = Verifier::with_client(
        VerifyOptions {
            jwt_key: Some("not a key".into()),
            ..VerifyOptions::default()
        },
        client(),
    );
    let e = verify_machine_token(&garbage, &m2m).await.unwrap_err();
    assert_eq!(e.code, MachineErrorCode::TokenVerificationFailed);
    assert!(
        e.message.starts_with("Invalid jwtKey (CLERK_JWT_KEY): "),
        "{}",
        e.message
    );
    assert_eq!(e.action, Some(action::FIX_JWT_KEY));
}

/// A client and verifier sharing one manual clock, for rate-limit timing.
fn clocked(server: &TestServer, secret: &str) -> (Arc<ManualClock>, Arc<JwksClient>, Verifier) {
    let clock = Arc::new(ManualClock::new(now_secs() * 1000));
    let client = Arc::new(JwksClient::with_clock(
        JwksConfig {
            fetch_timeout_ms: 1_000,
            ..JwksConfig::default()
        },
        clock.clone(),
    ));
    let v = Verifier::with_client(
        VerifyOptions {
            secret_key: Some(secret.into()),
            api_url: server.base(),
            ..VerifyOptions::default()
        },
        client.clone(),
    );
    (clock, client, v)
}

#[tokio::test]
async fn redirects_from_the_backend_api_are_never_followed() {
    let elsewhere = TestServer::start(Reply::json(200, m2m_resource())).await;
    for status in [301u16, 302, 303, 307, 308] {
        let server = TestServer::start(
            Reply::json(status, json!({}))
                .with_header("location", &elsewhere.url("/m2m_tokens/verify")),
        )
        .await;
        let v = verifier(&server, None);
        for token in ["mt_redirected", "oat_redirected", "ak_redirected"] {
            let e = verify_machine_token(&v, token).await.unwrap_err();
            assert_eq!(
                e.code,
                MachineErrorCode::UnexpectedError,
                "{status} {token}"
            );
            assert_eq!(e.status, Some(status));
            assert_eq!(e.message, "Unexpected error");
            assert!(e.cause.as_deref().unwrap_or("").contains("never followed"));
        }
        assert_eq!(server.hits(), 3);
    }
    assert_eq!(elsewhere.hits(), 0, "a redirect target was contacted");
}

#[tokio::test]
async fn a_429_with_retry_after_fails_fast_until_it_passes() {
    let server =
        TestServer::start(Reply::json(429, json!({"errors": []})).with_header("retry-after", "7"))
            .await;
    let (clock, client, v) = clocked(&server, SK);
    let e = verify_machine_token(&v, "ak_1").await.unwrap_err();
    assert_eq!(
        (e.code, e.status, e.message.as_str()),
        (
            MachineErrorCode::UnexpectedError,
            Some(429),
            "Unexpected error"
        )
    );
    assert_eq!(server.hits(), 1);
    server.set_reply(Reply::json(200, m2m_resource()));
    // Every kind of opaque token of this instance now fails fast, without a request.
    for token in ["ak_2", "oat_2", "mt_2"] {
        let e = verify_machine_token(&v, token).await.unwrap_err();
        assert_eq!(e.code, MachineErrorCode::UnexpectedError);
        assert_eq!(e.status, Some(429));
        assert!(
            e.message
                .starts_with("Rate limited by the Clerk Backend API: retry after 7 s (at "),
            "{}",
            e.message
        );
    }
    clock.advance(6_999);
    let e = verify_machine_token(&v, "ak_3").await.unwrap_err();
    assert!(e.message.contains("retry after 1 s"), "{}", e.message);
    assert_eq!(server.hits(), 1, "no request while rate limited");
    // Another secret key (another instance) on the same Backend API is not blocked.
    let other = Verifier::with_client(
        VerifyOptions {
            secret_key: Some("sk_test_other".into()),
            api_url: server.base(),
            ..VerifyOptions::default()
        },
        client.clone(),
    );
    assert!(verify_machine_token(&other, "ak_4").await.is_ok());
    assert_eq!(server.hits(), 2);
    // At exactly Retry-After the instance calls again.
    clock.advance(1);
    assert!(verify_machine_token(&v, "ak_5").await.is_ok());
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn retry_after_is_capped_and_garbage_is_ignored() {
    let server =
        TestServer::start(Reply::json(429, json!({})).with_header("retry-after", "86400")).await;
    let (clock, _client, v) = clocked(&server, SK);
    assert!(verify_machine_token(&v, "ak_1").await.is_err());
    clock.advance(59_999);
    let e = verify_machine_token(&v, "ak_2").await.unwrap_err();
    assert!(e.message.starts_with("Rate limited"), "{}", e.message);
    clock.advance(1);
    assert!(verify_machine_token(&v, "ak_3").await.is_err());
    assert_eq!(server.hits(), 2, "capped at 60 s");

    for garbage in ["soon", "-1", "0", "1.5", "Thu, 01 Jan 1970 00:00:00 GMT"] {
        let server =
            TestServer::start(Reply::json(429, json!({})).with_header("retry-after", garbage))
                .await;
        let (_clock, _client, v) = clocked(&server, SK);
        for i in 0..3 {
            let e = verify_machine_token(&v, &format!("ak_{i}"))
                .await
                .unwrap_err();
            assert_eq!(e.message, "Unexpected error", "{garbage}");
        }
        assert_eq!(server.hits(), 3, "{garbage}: nothing blocked");
    }
    // Retry-After on another status does not block either.
    let server =
        TestServer::start(Reply::json(503, json!({})).with_header("retry-after", "30")).await;
    let (_clock, _client, v) = clocked(&server, SK);
    for i in 0..3 {
        assert!(verify_machine_token(&v, &format!("ak_{i}")).await.is_err());
    }
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn machine_jwts_use_the_remote_jwks_too() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(200, jwks(&[s.jwk("k", None)]))).await;
    let v = verifier(&server, None);
    let now = now_secs();
    let m2m = s.sign(
        "RS256",
        &json!({"alg": "RS256", "kid": "k"}),
        &json!({"sub": "mch_1", "iat": now, "exp": now + 60}),
    );
    assert!(verify_machine_token(&v, &m2m).await.is_ok());
    assert!(verify_machine_token(&v, &m2m).await.is_ok());
    assert_eq!(server.hits(), 1);
    assert_eq!(server.requests()[0].path, "/v1/jwks");
}
