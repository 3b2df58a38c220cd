//! Remote JWKS against a real server on 127.0.0.1 that counts its hits: request shape, single-flight, kid-miss
//! cooldown, key rotation, TTL, scope isolation, outages (down, 500, slow, garbage, empty) with recovery, error
//! mapping, and headers that must never be fetched (`jku`, `x5u`, `jwk`).

mod token_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clerk_native_core::clock::ManualClock;
use clerk_native_core::jwks::{JwksClient, JwksConfig};
use clerk_native_core::jwt::error::action;
use clerk_native_core::token::{Reason, Verifier, VerifyOptions};
use serde_json::json;
use token_support::{claims_at, jwks, now_secs, Reply, Signer, TestServer};

const SECRET: &str = "sk_test_0123456789abcdef";

fn fast_config() -> JwksConfig {
    JwksConfig {
        fetch_timeout_ms: 2_000,
        max_attempts: 3,
        backoff_base_ms: 10,
        ..JwksConfig::default()
    }
}

struct Env {
    clock: Arc<ManualClock>,
    client: Arc<JwksClient>,
}

fn env(config: JwksConfig) -> Env {
    let clock = Arc::new(ManualClock::new(now_secs() * 1000));
    let client = Arc::new(JwksClient::with_clock(config, clock.clone()));
    Env { clock, client }
}

fn bapi_options(server: &TestServer) -> VerifyOptions {
    VerifyOptions {
        secret_key: Some(SECRET.into()),
        api_url: server.base(),
        ..VerifyOptions::default()
    }
}

fn now(e: &Env) -> i64 {
    use clerk_native_core::clock::Clock;
    e.clock.now_ms() / 1000
}

#[tokio::test]
async fn bapi_request_shape_and_success() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(200, jwks(&[s.jwk("ins_1", Some("RS256"))]))).await;
    let e = env(fast_config());
    let v = Verifier::with_client(bapi_options(&server), e.client.clone());
    let token = s.session("ins_1", &claims_at(now(&e)));
    assert!(
        v.verify_cached(&token).is_none(),
        "cold cache needs a fetch"
    );
    let payload = v.verify(&token).await.expect("verifies");
    assert_eq!(payload["sub"], "user_1");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/v1/jwks");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert_eq!(r.header("clerk-api-version"), Some("2026-05-12"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("clerk-native/", env!("CARGO_PKG_VERSION")))
    );

    // Warm: answered synchronously, no further fetch.
    assert!(v.verify_cached(&token).expect("cached").is_ok());
    assert!(v.verify(&token).await.is_ok());
    assert_eq!(server.hits(), 1);
    let st = e.client.stats();
    assert_eq!((st.fetches, st.failures, st.scopes, st.keys), (1, 0, 1, 1));
    assert!(st.hits >= 2);
}

#[tokio::test]
async fn jwks_url_is_fetched_without_credentials() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(200, jwks(&[s.jwk("k1", None)]))).await;
    let e = env(fast_config());
    let opts = VerifyOptions {
        jwks_url: Some(server.url("/.well-known/jwks.json")),
        secret_key: Some(SECRET.into()),
        ..VerifyOptions::default()
    };
    let v = Verifier::with_client(opts, e.client.clone());
    assert!(v
        .verify(&s.session("k1", &claims_at(now(&e))))
        .await
        .is_ok());
    let r = &server.requests()[0];
    assert_eq!(r.path, "/.well-known/jwks.json");
    assert_eq!(r.header("authorization"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_flight_1000_concurrent_cold_verifications_cause_one_fetch() {
    let s = Arc::new(Signer::load("rsa2048"));
    let server =
        TestServer::start(Reply::json(200, jwks(&[s.jwk("ins_1", None)])).delayed(150)).await;
    let e = env(fast_config());
    let v = Arc::new(Verifier::with_client(
        bapi_options(&server),
        e.client.clone(),
    ));
    let token = Arc::new(s.session("ins_1", &claims_at(now(&e))));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let v = v.clone();
            let t = token.clone();
            tokio::spawn(async move { v.verify(&t).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
    assert_eq!(server.hits(), 1, "exactly one JWKS fetch");
    assert_eq!(e.client.stats().fetches, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_flight_shares_a_failure_and_does_not_cache_it() {
    let s = Arc::new(Signer::load("rsa2048"));
    let server = TestServer::start(Reply::raw(500, "{}").delayed(50)).await;
    let e = env(JwksConfig {
        max_attempts: 1,
        ..fast_config()
    });
    let v = Arc::new(Verifier::with_client(
        bapi_options(&server),
        e.client.clone(),
    ));
    let token = Arc::new(s.session("ins_1", &claims_at(now(&e))));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let v = v.clone();
            let t = token.clone();
            tokio::spawn(async move { v.verify(&t).await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
    }
    // Callers that arrive while a fetch is in flight share it; at most a handful of fetches overall.
    assert!(server.hits() <= 5, "hits = {}", server.hits());
    // Not cached: once the server is healthy the very next call succeeds.
    server.set_reply(Reply::json(200, jwks(&[s.jwk("ins_1", None)])));
    assert!(v.verify(&token).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_kid_flood_is_limited_to_one_fetch_per_cooldown() {
    let s = Arc::new(Signer::load("rsa2048"));
    let server = TestServer::start(Reply::json(200, jwks(&[s.jwk("ins_1", None)]))).await;
    let e = env(fast_config());
    let opts = VerifyOptions {
        jwks_cooldown_ms: 30_000,
        ..bapi_options(&server)
    };
    let v = Arc::new(Verifier::with_client(opts, e.client.clone()));
    let claims = claims_at(now(&e));
    assert!(v.verify(&s.session("ins_1", &claims)).await.is_ok());
    assert_eq!(server.hits(), 1);

    // Past the cooldown of the initial fetch, a flood of random kids: at most one refetch.
    e.clock.advance(30_001);
    for round in 0..2 {
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let v = v.clone();
                let t = s.session(&format!("kid_{round}_{i}"), &claims);
                tokio::spawn(async move { v.verify(&t).await })
            })
            .collect();
        for t in tasks {
            let err = t.await.unwrap().unwrap_err();
            assert_eq!(err.reason, Reason::JwkKidMismatch);
        }
    }
    assert_eq!(server.hits(), 2, "one refetch for 600 unknown kids");

    // Still within the cooldown: none; one more window: at most one more.
    e.clock.advance(10_000);
    assert!(v.verify(&s.session("kid_x", &claims)).await.is_err());
    assert_eq!(server.hits(), 2);
    e.clock.advance(20_001);
    for i in 0..50 {
        let _ = v.verify(&s.session(&format!("kid_y{i}"), &claims)).await;
    }
    assert_eq!(server.hits(), 3);
    // The known kid kept verifying from the cache all along.
    assert!(v
        .verify_cached(&s.session("ins_1", &claims))
        .unwrap()
        .is_ok());
}

#[tokio::test]
async fn kid_mismatch_message_is_clerks() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(200, jwks(&[s.jwk("ins_1", None)]))).await;
    let e = env(fast_config());
    let v = Verifier::with_client(bapi_options(&server), e.client.clone());
    let err = v
        .verify(&s.session("ins_zzz", &claims_at(now(&e))))
        .await
        .unwrap_err();
    assert_eq!(err.reason, Reason::JwkKidMismatch);
    assert_eq!(
        err.message,
        "Unable to find a signing key in JWKS that matches the kid='ins_zzz' of the provided session token. \
         Please make sure that the __session cookie or the HTTP authorization header contain a Clerk-generated \
         session JWT."
    );
    assert_eq!(
        err.action,
        Some("Go to your Dashboard and validate your secret and public keys are correct. Contact support@clerk.com if the issue persists.")
    );
}

#[tokio::test]
async fn key_rotation_old_kid_to_new_kid() {
    let old = Signer::load("rsa2048");
    let new = Signer::load("rsa2048b");
    let server = TestServer::start(Reply::json(200, jwks(&[old.jwk("kid_old", None)]))).await;
    let e = env(fast_config());
    let opts = VerifyOptions {
        jwks_cache_ttl_ms: 300_000,
        jwks_cooldown_ms: 30_000,
        ..bapi_options(&server)
    };
    let v = Verifier::with_client(opts, e.client.clone());
    assert!(v
        .verify(&old.session("kid_old", &claims_at(now(&e))))
        .await
        .is_ok());

    // The instance rotates: the JWKS now only has the new key.
    server.set_reply(Reply::json(200, jwks(&[new.jwk("kid_new", None)])));
    e.clock.advance(31_000);
    let claims = claims_at(now(&e));
    assert!(v.verify(&new.session("kid_new", &claims)).await.is_ok());
    assert_eq!(server.hits(), 2);
    // Merged: the old kid keeps working until the entry expires.
    assert!(v
        .verify_cached(&old.session("kid_old", &claims))
        .unwrap()
        .is_ok());
    // After the TTL the refetched set replaces the old one.
    e.clock.advance(300_001);
    let claims = claims_at(now(&e));
    let err = v
        .verify(&old.session("kid_old", &claims))
        .await
        .unwrap_err();
    assert_eq!(err.reason, Reason::JwkKidMismatch);
    assert!(v.verify(&new.session("kid_new", &claims)).await.is_ok());
}

#[tokio::test]
async fn ttl_expiry_refetch_is_not_limited_by_the_cooldown() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(200, jwks(&[s.jwk("k", None)]))).await;
    let e = env(fast_config());
    let opts = VerifyOptions {
        jwks_cache_ttl_ms: 1_000,
        jwks_cooldown_ms: 600_000,
        ..bapi_options(&server)
    };
    let v = Verifier::with_client(opts, e.client.clone());
    assert!(v.verify(&s.session("k", &claims_at(now(&e)))).await.is_ok());
    e.clock.advance(999);
    assert!(v.verify(&s.session("k", &claims_at(now(&e)))).await.is_ok());
    assert_eq!(server.hits(), 1);
    e.clock.advance(2);
    assert!(v
        .verify_cached(&s.session("k", &claims_at(now(&e))))
        .is_none());
    assert!(v.verify(&s.session("k", &claims_at(now(&e)))).await.is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn skip_jwks_cache_always_fetches() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(200, jwks(&[s.jwk("k", None)]))).await;
    let e = env(fast_config());
    let opts = VerifyOptions {
        skip_jwks_cache: true,
        ..bapi_options(&server)
    };
    let v = Verifier::with_client(opts, e.client.clone());
    for _ in 0..3 {
        assert!(v.verify(&s.session("k", &claims_at(now(&e)))).await.is_ok());
    }
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn scopes_are_isolated_per_secret_key() {
    let a = Signer::load("rsa2048");
    let b = Signer::load("rsa2048b");
    let (ja, jb) = (a.jwk("shared_kid", None), b.jwk("shared_kid", None));
    let server = TestServer::start(Reply::raw(500, "")).await;
    server.set_router(move |r| {
        if r.header("authorization") == Some("Bearer sk_a") {
            Reply::json(200, jwks(std::slice::from_ref(&ja)))
        } else {
            Reply::json(200, jwks(std::slice::from_ref(&jb)))
        }
    });
    let e = env(fast_config());
    let va = Verifier::with_client(
        VerifyOptions {
            secret_key: Some("sk_a".into()),
            ..bapi_options(&server)
        },
        e.client.clone(),
    );
    let vb = Verifier::with_client(
        VerifyOptions {
            secret_key: Some("sk_b".into()),
            ..bapi_options(&server)
        },
        e.client.clone(),
    );
    let claims = claims_at(now(&e));
    let token_a = a.session("shared_kid", &claims);
    assert!(va.verify(&token_a).await.is_ok());
    // Same kid, other instance: instance B's key must not verify instance A's token.
    let err = vb.verify(&token_a).await.unwrap_err();
    assert_eq!(err.reason, Reason::TokenInvalidSignature);
    assert!(vb.verify(&b.session("shared_kid", &claims)).await.is_ok());
    assert_eq!(server.hits(), 2);
    assert_eq!(e.client.stats().scopes, 2);
}

#[tokio::test]
async fn outage_server_down_then_back() {
    let s = Signer::load("rsa2048");
    // A port with nothing listening.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let e = env(fast_config());
    let opts = VerifyOptions {
        secret_key: Some(SECRET.into()),
        api_url: format!("http://{addr}"),
        ..VerifyOptions::default()
    };
    let v = Verifier::with_client(opts, e.client.clone());
    let token = s.session("k", &claims_at(now(&e)));
    let started = Instant::now();
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
    assert_eq!(err.action, Some(action::CONTACT_SUPPORT));
    assert!(err.message.starts_with(&format!(
        "Error loading Clerk JWKS from http://{addr}/v1/jwks"
    )));
    assert!(!err.message.contains(SECRET));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(e.client.stats().fetches, 3);
    assert_eq!(e.client.stats().failures, 1);

    // The server comes back on the same port: the failure was not cached.
    let server = TestServer::start_on(addr, Reply::json(200, jwks(&[s.jwk("k", None)]))).await;
    assert!(v.verify(&token).await.is_ok());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn outage_500_is_retried_then_recovers() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::raw(500, "oops")).await;
    let e = env(fast_config());
    let v = Verifier::with_client(bapi_options(&server), e.client.clone());
    let token = s.session("k", &claims_at(now(&e)));
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
    assert_eq!(
        err.message,
        format!(
            "Error loading Clerk JWKS from {} with code=500",
            server.url("/v1/jwks")
        )
    );
    assert_eq!(server.hits(), 3, "bounded retry: 3 attempts");
    server.set_reply(Reply::json(200, jwks(&[s.jwk("k", None)])));
    assert!(v.verify(&token).await.is_ok());
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn outage_slow_past_the_timeout() {
    let s = Signer::load("rsa2048");
    let server =
        TestServer::start(Reply::json(200, jwks(&[s.jwk("k", None)])).delayed(3_000)).await;
    let e = env(JwksConfig {
        fetch_timeout_ms: 200,
        max_attempts: 2,
        ..fast_config()
    });
    let v = Verifier::with_client(bapi_options(&server), e.client.clone());
    let token = s.session("k", &claims_at(now(&e)));
    let started = Instant::now();
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
    assert!(
        err.message.contains("timed out after 200 ms"),
        "{}",
        err.message
    );
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    server.set_reply(Reply::json(200, jwks(&[s.jwk("k", None)])));
    assert!(v.verify(&token).await.is_ok());
}

#[tokio::test]
async fn outage_garbage_json_then_recovers() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::raw(200, "<html>not json</html>")).await;
    let e = env(fast_config());
    let v = Verifier::with_client(bapi_options(&server), e.client.clone());
    let token = s.session("k", &claims_at(now(&e)));
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
    assert!(err.message.contains("not valid JSON"));
    server.set_reply(Reply::json(200, jwks(&[s.jwk("k", None)])));
    assert!(v.verify(&token).await.is_ok());
}

#[tokio::test]
async fn outage_empty_keys_is_not_retried() {
    let s = Signer::load("rsa2048");
    for body in [json!({"keys": []}), json!({}), json!({"keys": "nope"})] {
        let server = TestServer::start(Reply::json(200, body)).await;
        let e = env(fast_config());
        let v = Verifier::with_client(bapi_options(&server), e.client.clone());
        let token = s.session("k", &claims_at(now(&e)));
        let err = v.verify(&token).await.unwrap_err();
        assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
        assert_eq!(
            err.message,
            "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com."
        );
        assert_eq!(server.hits(), 1);
        server.set_reply(Reply::json(200, jwks(&[s.jwk("k", None)])));
        assert!(v.verify(&token).await.is_ok());
    }
}

#[tokio::test]
async fn invalid_secret_key_and_other_4xx() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(
        401,
        json!({"errors": [{"code": "clerk_key_invalid", "message": "Secret Key is invalid", "long_message": "x"}]}),
    ))
    .await;
    let e = env(fast_config());
    let v = Verifier::with_client(bapi_options(&server), e.client.clone());
    let token = s.session("k", &claims_at(now(&e)));
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.reason, Reason::SecretKeyInvalid);
    assert_eq!(err.message, "Secret Key is invalid");
    assert_eq!(err.action, Some(action::CONTACT_SUPPORT));
    assert_eq!(server.hits(), 1, "not retried");

    server.set_reply(Reply::json(
        404,
        json!({"errors": [{"code": "resource_not_found"}]}),
    ));
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
    assert_eq!(
        err.message,
        format!(
            "Error loading Clerk JWKS from {} with code=404",
            server.url("/v1/jwks")
        )
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn stale_keys_serve_known_kids_while_refresh_fails() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(200, jwks(&[s.jwk("k", None)]))).await;
    let e = env(JwksConfig {
        stale_if_error_ms: 60_000,
        max_attempts: 1,
        ..fast_config()
    });
    let opts = VerifyOptions {
        jwks_cache_ttl_ms: 10_000,
        ..bapi_options(&server)
    };
    let v = Verifier::with_client(opts, e.client.clone());
    assert!(v.verify(&s.session("k", &claims_at(now(&e)))).await.is_ok());
    server.set_reply(Reply::raw(503, ""));
    e.clock.advance(10_001);
    let claims = claims_at(now(&e));
    // Expired + refresh failing: the known kid still verifies, an unknown kid gets the load error.
    assert!(v.verify(&s.session("k", &claims)).await.is_ok());
    let err = v.verify(&s.session("other", &claims)).await.unwrap_err();
    assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
    // Every call retried the refresh (failures are not cached).
    assert_eq!(server.hits(), 3);
    // Beyond ttl + stale window: no more stale serving.
    e.clock.advance(60_000);
    let err = v
        .verify(&s.session("k", &claims_at(now(&e))))
        .await
        .unwrap_err();
    assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
}

#[tokio::test]
async fn category_check_and_hostile_headers_never_reach_the_network() {
    let s = Signer::load("rsa2048");
    let jwks_server = TestServer::start(Reply::json(200, jwks(&[s.jwk("k", None)]))).await;
    let trap = TestServer::start(Reply::json(200, jwks(&[s.jwk("k", None)]))).await;
    let e = env(fast_config());
    let v = Verifier::with_client(bapi_options(&jwks_server), e.client.clone());
    let claims = claims_at(now(&e));

    // M2M category: rejected before any key lookup.
    let m2m = s.sign(
        "RS256",
        &json!({"alg": "RS256", "kid": "k", "cat": "cl_B7d4PD333AAA"}),
        &claims,
    );
    let err = v.verify(&m2m).await.unwrap_err();
    assert_eq!(err.reason, Reason::TokenInvalid);
    assert_eq!(jwks_server.hits(), 0);

    // jku / x5u / jwk headers are ignored: the token verifies with the instance key, the trap is never hit.
    let hostile = s.sign(
        "RS256",
        &json!({
            "alg": "RS256", "typ": "JWT", "kid": "k",
            "jku": trap.url("/jwks"), "x5u": trap.url("/cert"),
            "jwk": Signer::load("rsa2048b").jwk("k", None),
        }),
        &claims,
    );
    assert!(v.verify(&hostile).await.is_ok());
    // A token signed by the embedded jwk's key fails.
    let attacker = Signer::load("rsa2048b");
    let forged = attacker.sign(
        "RS256",
        &json!({"alg": "RS256", "typ": "JWT", "kid": "k", "jwk": attacker.jwk("k", None), "jku": trap.url("/jwks")}),
        &claims,
    );
    assert_eq!(
        v.verify(&forged).await.unwrap_err().reason,
        Reason::TokenInvalidSignature
    );
    assert_eq!(trap.hits(), 0);
    assert_eq!(jwks_server.hits(), 1);
}

#[tokio::test]
async fn jwks_with_unusable_keys() {
    let s = Signer::load("rsa2048");
    let server = TestServer::start(Reply::json(
        200,
        jwks(&[
            json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}),
            s.jwk("rs256only", Some("RS256")),
        ]),
    ))
    .await;
    let e = env(fast_config());
    let v = Verifier::with_client(bapi_options(&server), e.client.clone());
    let claims = claims_at(now(&e));
    let err = v.verify(&s.session("ec", &claims)).await.unwrap_err();
    assert_eq!(err.reason, Reason::TokenVerificationFailed);
    assert_eq!(
        err.message,
        "Error verifying JWT signature. Error: Unsupported key type: EC"
    );
    let rs384 = s.sign(
        "RS384",
        &json!({"alg": "RS384", "typ": "JWT", "kid": "rs256only"}),
        &claims,
    );
    assert_eq!(
        v.verify(&rs384).await.unwrap_err().reason,
        Reason::TokenVerificationFailed
    );
    assert!(v.verify(&s.session("rs256only", &claims)).await.is_ok());
}

#[tokio::test]
async fn bad_remote_options() {
    let s = Signer::load("rsa2048");
    let e = env(fast_config());
    let token = s.session("k", &claims_at(now(&e)));
    for (api_url, api_version) in [
        ("not a url", "v1"),
        ("ftp://x", "v1"),
        ("http://127.0.0.1:9", "../x"),
    ] {
        let v = Verifier::with_client(
            VerifyOptions {
                secret_key: Some(SECRET.into()),
                api_url: api_url.into(),
                api_version: api_version.into(),
                ..VerifyOptions::default()
            },
            e.client.clone(),
        );
        let err = v.verify(&token).await.unwrap_err();
        assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad, "{api_url}");
        assert!(
            v.verify_cached(&token).is_some(),
            "answered without network"
        );
    }
    // A secret key with CR/LF never reaches the wire or the message.
    let v = Verifier::with_client(
        VerifyOptions {
            secret_key: Some("sk_bad\r\nX-Injected: 1".into()),
            api_url: "http://127.0.0.1:9".into(),
            ..VerifyOptions::default()
        },
        e.client.clone(),
    );
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.reason, Reason::JwkRemoteFailedToLoad);
    assert!(!err.message.contains("sk_bad"));
}
