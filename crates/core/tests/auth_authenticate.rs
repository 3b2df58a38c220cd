//! `authenticateRequest` routing (SPEC 3.5): carriers, acceptsToken, category checks on every session path,
//! Clerk's signed-out reasons, and machine tokens against a Backend API stand-in on 127.0.0.1.

mod token_support;

use clerk_native_core::auth::{AcceptsToken, AuthInput, AuthOutcome, Authenticator, Pending};
use clerk_native_core::token::{TokenType, Verifier, VerifyOptions};
use serde_json::{json, Value};
use token_support::{claims_at, now_secs, Reply, Signer, TestServer};

fn authenticator(signer: &Signer, accepts: &[&str], api_url: Option<String>) -> Authenticator {
    let mut o = VerifyOptions {
        jwt_key: Some(signer.pem.clone()),
        secret_key: Some("sk_test_auth".into()),
        ..Default::default()
    };
    if let Some(u) = api_url {
        o.api_url = u;
    }
    let accepts: Vec<String> = accepts.iter().map(|s| s.to_string()).collect();
    Authenticator::new(Verifier::new(o), AcceptsToken::parse(&accepts).unwrap())
}

/// One row: authenticator, Authorization, Cookie, method, expected reason (or "signed-in").
type Case<'a> = (
    &'a Authenticator,
    Option<String>,
    Option<String>,
    &'a str,
    &'a str,
);

fn header(token: &str) -> String {
    format!("Bearer {token}")
}

fn reason(o: &AuthOutcome) -> &str {
    match o {
        AuthOutcome::SignedOut { reason, .. } => reason,
        AuthOutcome::SignedIn { .. } => "signed-in",
    }
}

fn sync(
    a: &Authenticator,
    authorization: Option<&str>,
    cookie: Option<&str>,
    method: &str,
) -> AuthOutcome {
    a.start(&AuthInput {
        authorization,
        cookie,
        method,
    })
    .expect("no network needed")
}

#[test]
fn session_paths_and_signed_out_reasons() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let good = s.session("k1", &claims_at(now));
    let mut expired_claims = claims_at(now);
    expired_claims["exp"] = json!(now - 100);
    let expired = s.session("k1", &expired_claims);
    let mut nbf_claims = claims_at(now);
    nbf_claims["nbf"] = json!(now + 1000);
    let not_yet = s.session("k1", &nbf_claims);
    let template = s.sign(
        "RS256",
        &json!({"alg":"RS256","typ":"JWT","kid":"k1","cat":"cl_B7d4PD222AAA"}),
        &claims_at(now),
    );
    let ignore_cat = s.sign(
        "RS256",
        &json!({"alg":"RS256","typ":"JWT","kid":"k1","cat":"cl_I7d4PD111III"}),
        &claims_at(now),
    );
    let oauth_jwt = s.sign(
        "RS256",
        &json!({"alg":"RS256","typ":"at+jwt","kid":"k1"}),
        &claims_at(now),
    );
    let a = authenticator(&s, &[], None);
    let any = authenticator(&s, &["any"], None);
    let uat = format!("__client_uat={}", now - 100);

    let cases: Vec<Case<'_>> = vec![
        (&a, Some(header(&good)), None, "GET", "signed-in"),
        (&a, Some(good.clone()), None, "GET", "signed-in"),
        (
            &a,
            Some(format!("Basic {good}")),
            None,
            "GET",
            "session-token-and-uat-missing",
        ),
        (
            &a,
            Some(header(&expired)),
            None,
            "GET",
            "session-token-expired-refresh-non-eligible-no-refresh-cookie",
        ),
        (
            &a,
            Some(header(&expired)),
            None,
            "POST",
            "session-token-expired-refresh-non-eligible-non-get",
        ),
        (&a, Some(header(&not_yet)), None, "GET", "session-token-nbf"),
        (&a, Some(header("not.a.jwt")), None, "GET", "token-invalid"),
        (
            &a,
            Some(header(&template)),
            None,
            "GET",
            "token-type-mismatch",
        ),
        (&a, Some(header(&ignore_cat)), None, "GET", "signed-in"),
        (
            &a,
            Some(header(&oauth_jwt)),
            None,
            "GET",
            "token-type-mismatch",
        ),
        // An opaque machine token under session_token fails session verification, as @clerk/backend 3.25.0
        // (it only refuses machine JWTs as a type mismatch).
        (&a, Some(header("oat_opaque")), None, "GET", "token-invalid"),
        // GAP closed: the category check also holds under acceptsToken 'any'.
        (
            &any,
            Some(header(&template)),
            None,
            "GET",
            "token-type-mismatch",
        ),
        (&any, Some(header(&good)), None, "GET", "signed-in"),
        // Cookie path.
        (&a, None, None, "GET", "session-token-and-uat-missing"),
        (
            &a,
            None,
            Some(format!("__session={good}")),
            "GET",
            "session-token-but-no-client-uat",
        ),
        (
            &a,
            None,
            Some(uat.clone()),
            "GET",
            "client-uat-but-no-session-token",
        ),
        (
            &a,
            None,
            Some(format!("__session={good}; {uat}")),
            "GET",
            "signed-in",
        ),
        (
            &a,
            None,
            Some(format!("__session={template}; {uat}")),
            "GET",
            "token-type-mismatch",
        ),
        (
            &a,
            None,
            Some(format!("__session={good}; __client_uat={}", now + 100)),
            "GET",
            "session-token-iat-before-client-uat",
        ),
        (
            &a,
            None,
            Some(format!("__session=garbage; {uat}")),
            "GET",
            "token-invalid",
        ),
    ];
    for (i, (auth, authorization, cookie, method, want)) in cases.iter().enumerate() {
        let got = sync(auth, authorization.as_deref(), cookie.as_deref(), method);
        assert_eq!(reason(&got), *want, "case {i}: {got:?}");
    }
}

#[test]
fn signed_out_messages_carry_the_token_carrier() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let mut c = claims_at(now);
    c["exp"] = json!(now - 100);
    let expired = s.session("k1", &c);
    let a = authenticator(&s, &[], None);
    let got = sync(&a, Some(&header(&expired)), None, "GET");
    let AuthOutcome::SignedOut {
        message,
        token_type,
        ..
    } = got
    else {
        panic!()
    };
    assert_eq!(token_type, TokenType::SessionToken);
    assert!(
        message.ends_with("(reason=token-expired, token-carrier=header)"),
        "{message}"
    );
    let got = sync(
        &a,
        None,
        Some(&format!("__session={expired}; __client_uat=1")),
        "GET",
    );
    let AuthOutcome::SignedOut { message, .. } = got else {
        panic!()
    };
    assert!(message.ends_with("token-carrier=cookie)"), "{message}");
}

#[test]
fn signed_in_carries_claims() {
    let s = Signer::load("rsa2048");
    let a = authenticator(&s, &[], None);
    let token = s.session("k1", &claims_at(now_secs()));
    let AuthOutcome::SignedIn {
        token_type,
        token: t,
        claims,
        machine_data,
    } = sync(&a, Some(&header(&token)), None, "GET")
    else {
        panic!()
    };
    assert_eq!(token_type, TokenType::SessionToken);
    assert_eq!(t, token);
    let claims: Value = serde_json::from_str(&claims.unwrap()).unwrap();
    assert_eq!(claims["sub"], "user_1");
    assert!(machine_data.is_none());
}

#[test]
fn machine_routing_without_network() {
    let s = Signer::load("rsa2048");
    let session = s.session("k1", &claims_at(now_secs()));
    let keys_only = authenticator(&s, &["api_key"], None);
    // Machine-only: the cookie is never read.
    let got = sync(
        &keys_only,
        None,
        Some(&format!("__session={session}; __client_uat=1")),
        "GET",
    );
    // Clerk's literal reason for a lone machine type without an Authorization token.
    assert_eq!(reason(&got), "No token in header");
    // A session token where only api keys are accepted.
    assert_eq!(
        reason(&sync(&keys_only, Some(&header(&session)), None, "GET")),
        "token-type-mismatch"
    );
    // An accepted type of another kind.
    let got = sync(&keys_only, Some(&header("oat_abc")), None, "GET");
    let AuthOutcome::SignedOut {
        token_type, reason, ..
    } = got
    else {
        panic!()
    };
    // Clerk's checkTokenTypeMismatch: a single accepted type (a string acceptsToken) is the state's type.
    assert_eq!(
        (token_type, reason.as_str()),
        (TokenType::ApiKey, "token-type-mismatch")
    );
    // An accepted machine token needs the Backend API.
    let pending = keys_only
        .start(&AuthInput {
            authorization: Some("Bearer ak_live_x"),
            cookie: None,
            method: "GET",
        })
        .unwrap_err();
    assert_eq!(
        pending,
        Pending::Machine {
            token: "ak_live_x".into(),
            token_type: TokenType::ApiKey
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machine_tokens_against_a_backend_api_stand_in() {
    let s = Signer::load("rsa2048");
    let bapi = TestServer::start(Reply::json(404, json!({"errors":[{"code":"not_found"}]}))).await;
    bapi.set_router(|r| {
        if r.path.contains("api_keys") {
            Reply::json(
                200,
                json!({"id":"ak_1","subject":"user_9","scopes":["read"],"claims":null,"name":"ci"}),
            )
        } else {
            Reply::json(
                404,
                json!({"errors":[{"code":"not_found","message":"not found"}]}),
            )
        }
    });
    let any = authenticator(&s, &["any"], Some(bapi.base()));
    let ok = any
        .authenticate(&AuthInput {
            authorization: Some("Bearer ak_valid"),
            cookie: None,
            method: "GET",
        })
        .await;
    let AuthOutcome::SignedIn {
        token_type,
        machine_data,
        ..
    } = ok
    else {
        panic!("{ok:?}")
    };
    assert_eq!(token_type, TokenType::ApiKey);
    let data: Value = machine_data.unwrap();
    assert_eq!(data["subject"], "user_9");

    let missing = any
        .authenticate(&AuthInput {
            authorization: Some("Bearer oat_unknown"),
            cookie: None,
            method: "GET",
        })
        .await;
    let AuthOutcome::SignedOut {
        token_type,
        reason,
        message,
    } = missing
    else {
        panic!()
    };
    assert_eq!(token_type, TokenType::OAuthToken);
    assert_eq!(reason, "token-invalid");
    assert_eq!(
        message,
        "OAuth token not found (code=token-invalid, status=404)"
    );
    assert_eq!(bapi.hits(), 2);
}

fn leak<T>(v: T) -> &'static T {
    Box::leak(Box::new(v))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_cache_answers_repeat_invalid_oauth_tokens_without_the_backend_api() {
    use clerk_native_core::cache::NegativeCache;
    use clerk_native_core::clock::SystemClock;
    use std::sync::Arc;
    let s = Signer::load("rsa2048");
    let bapi = TestServer::start(Reply::json(404, json!({"errors":[{"code":"not_found"}]}))).await;
    let negative = leak(NegativeCache::new(Arc::new(SystemClock)));
    let any = authenticator(&s, &["any"], Some(bapi.base())).with_negative_cache(negative);
    let input = AuthInput {
        authorization: Some("Bearer oat_invalid"),
        cookie: None,
        method: "GET",
    };
    let first = any.authenticate(&input).await;
    assert_eq!(reason(&first), "token-invalid");
    assert_eq!(bapi.hits(), 1);
    // Even once the Backend API would say 200, the cached 404 answers (PR #8519 request-level test).
    bapi.set_reply(Reply::json(
        200,
        json!({"id":"oat_1","subject":"user_1","scopes":[]}),
    ));
    for _ in 0..100 {
        let again = any.start(&input).expect("answered without the network");
        let AuthOutcome::SignedOut {
            reason, message, ..
        } = again
        else {
            panic!()
        };
        assert_eq!(reason, "token-invalid");
        assert_eq!(
            message,
            "OAuth token not found (code=token-invalid, status=404)"
        );
    }
    assert_eq!(bapi.hits(), 1, "repeats make zero Backend API calls");
    // Another instance (secret key) is not answered by this instance's entries.
    let other = Authenticator::new(
        Verifier::new(VerifyOptions {
            secret_key: Some("sk_test_other".into()),
            api_url: bapi.base(),
            ..Default::default()
        }),
        AcceptsToken::Any,
    )
    .with_negative_cache(negative);
    assert!(matches!(other.start(&input), Err(Pending::Machine { .. })));
    // A 401 is never cached; neither are ak_ tokens.
    bapi.set_reply(Reply::json(401, json!({"errors":[{"message":"bad key"}]})));
    let ak = AuthInput {
        authorization: Some("Bearer ak_x"),
        cookie: None,
        method: "GET",
    };
    let oat2 = AuthInput {
        authorization: Some("Bearer oat_second"),
        cookie: None,
        method: "GET",
    };
    assert_eq!(reason(&any.authenticate(&oat2).await), "secret-key-invalid");
    assert!(
        matches!(any.start(&oat2), Err(Pending::Machine { .. })),
        "401 not cached"
    );
    bapi.set_reply(Reply::json(404, json!({})));
    assert_eq!(reason(&any.authenticate(&ak).await), "token-invalid");
    assert!(
        matches!(any.start(&ak), Err(Pending::Machine { .. })),
        "ak_ not cached"
    );
}

#[test]
fn verified_cache_answers_repeats_and_keeps_purposes_apart() {
    use clerk_native_core::cache::VerifiedCache;
    use clerk_native_core::clock::SystemClock;
    use std::sync::Arc;
    let s = Signer::load("rsa2048");
    let cache = leak(VerifiedCache::new(Arc::new(SystemClock)));
    let opts = VerifyOptions {
        jwt_key: Some(s.pem.clone()),
        ..Default::default()
    };
    let now = now_secs();
    let template = s.sign(
        "RS256",
        &json!({"alg":"RS256","typ":"JWT","kid":"k1","cat":"cl_B7d4PD222AAA"}),
        &claims_at(now),
    );
    // verifyToken accepts a JWT-template token and caches it under its own purpose...
    let verifier = Verifier::new(opts.clone()).with_verified_cache(cache, b"verifyToken");
    assert!(verifier.verify_cached_json(&template).unwrap().is_ok());
    assert_eq!(cache.len(), 1);
    // ...which must not let it through authenticateRequest's session path.
    let auth = Authenticator::new(
        Verifier::new(opts).with_verified_cache(cache, b"authenticateRequest"),
        AcceptsToken::Any,
    );
    let got = sync(&auth, Some(&header(&template)), None, "GET");
    assert_eq!(reason(&got), "token-type-mismatch");
    let good = s.session("k1", &claims_at(now));
    assert_eq!(
        reason(&sync(&auth, Some(&header(&good)), None, "GET")),
        "signed-in"
    );
    let hits = cache.stats().hits;
    for _ in 0..10 {
        assert_eq!(
            reason(&sync(&auth, Some(&header(&good)), None, "GET")),
            "signed-in"
        );
    }
    assert_eq!(cache.stats().hits, hits + 10, "repeats are cache hits");
    // Cookie path hit still enforces iat >= client_uat.
    let cookie = format!("__session={good}; __client_uat={}", now + 100);
    assert_eq!(
        reason(&sync(&auth, None, Some(&cookie), "GET")),
        "session-token-iat-before-client-uat"
    );
    // An api_key-only authenticator on the same options never gets a session token from the cache.
    let keys_only = Authenticator::new(
        Verifier::new(VerifyOptions {
            jwt_key: Some(s.pem.clone()),
            ..Default::default()
        })
        .with_verified_cache(cache, b"authenticateRequest"),
        AcceptsToken::parse(&["api_key".to_string()]).unwrap(),
    );
    assert_eq!(
        reason(&sync(&keys_only, Some(&header(&good)), None, "GET")),
        "token-type-mismatch"
    );
}
