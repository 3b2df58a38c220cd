//! The handshake family in the core (AUTH-PARITY §2 item 3, item 10, A4-A11): suffixed cookies by Clerk's 8 rules,
//! handshake eligibility, the `Location` of the 307 (parameters in Clerk's order), the loop guard, every cookie-path
//! trigger, and the network steps (nonce resolution, refresh) against a Backend API stand-in on 127.0.0.1.
//! Byte-for-byte comparisons with @clerk/backend's own `authenticateRequest` are in
//! `__test__/handshake.test.js`.

mod token_support;

use clerk_native_core::auth::cookies::{
    cookie_suffix, uses_suffixed_cookies, SessionIssuer, SuffixFacts,
};
use clerk_native_core::auth::{
    AcceptsToken, AuthDecision, AuthInput, AuthOutcome, Authenticator, DeferredStep,
    InstanceOptions, Pending, RequestContext,
};
use clerk_native_core::token::{Verifier, VerifyOptions};
use serde_json::{json, Value};
use token_support::{now_secs, Reply, Signer, TestServer};

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const PK_TEST: &str = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k";
const SFX_LIVE: &str = "naoXFJnI";
const SFX_TEST: &str = "l2OS3d9k";
const DOC: &str =
    "https://app.example.com/a?x=a%20b\n=app.example.com\n\n\n=document\n=text/html\n\n";
const FETCH: &str = "https://app.example.com/a\n=app.example.com\n\n\n=empty\n=*/*\n\n";

fn claims(now: i64, extra: Value) -> Value {
    let mut c = json!({
        "sub": "user_1", "sid": "sess_1", "iss": "https://clerk.example.com",
        "iat": now - 10, "nbf": now - 10, "exp": now + 60,
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn auth_with(s: &Signer, options: InstanceOptions, api_url: Option<String>) -> Authenticator {
    let mut o = VerifyOptions {
        jwt_key: Some(s.pem.clone()),
        secret_key: Some("sk_live_hs".into()),
        ..Default::default()
    };
    if let Some(u) = api_url {
        o.api_url = u;
    }
    Authenticator::new(Verifier::new(o), AcceptsToken::default()).with_instance(&options)
}

fn prod(s: &Signer) -> Authenticator {
    auth_with(
        s,
        InstanceOptions {
            publishable_key: Some(PK_LIVE.into()),
            ..Default::default()
        },
        None,
    )
}

fn dev(s: &Signer) -> Authenticator {
    auth_with(
        s,
        InstanceOptions {
            publishable_key: Some(PK_TEST.into()),
            ..Default::default()
        },
        None,
    )
}

fn run(a: &Authenticator, cookie: &str, method: &str, facts: &str) -> AuthDecision {
    let ctx = RequestContext::parse_compact(facts);
    a.start_with(
        &AuthInput {
            authorization: None,
            cookie: Some(cookie),
            method,
        },
        &ctx,
    )
    .expect("no network needed")
}

fn reason(d: &AuthDecision) -> String {
    let kind = if d.handshake {
        "handshake"
    } else {
        "signed-out"
    };
    match &d.outcome {
        AuthOutcome::SignedIn { .. } => "signed-in".into(),
        AuthOutcome::SignedOut { reason, .. } => format!("{kind} {reason}"),
    }
}

fn header<'d>(d: &'d AuthDecision, name: &str) -> Option<&'d str> {
    d.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn query_of(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn cookie_suffix_is_clerks() {
    assert_eq!(cookie_suffix(PK_LIVE), SFX_LIVE);
    assert_eq!(cookie_suffix(PK_TEST), SFX_TEST);
}

#[test]
fn the_eight_suffix_rules_in_order() {
    let base = SuffixFacts {
        session: Some(SessionIssuer::ThisInstance),
        session_iat: 100.0,
        client_uat: Some("50"),
        has_session_suffixed: true,
        session_suffixed_iat: 200.0,
        session_suffixed_expired: false,
        client_uat_suffixed: Some("60"),
        production: true,
    };
    // 1. `__session` without iss → unsuffixed, even when everything else says suffixed.
    assert!(!uses_suffixed_cookies(&SuffixFacts {
        session: Some(SessionIssuer::None),
        ..base
    }));
    // 2. Another instance's `__session` → suffixed, even without suffixed cookies.
    assert!(uses_suffixed_cookies(&SuffixFacts {
        session: Some(SessionIssuer::Other),
        has_session_suffixed: false,
        client_uat_suffixed: None,
        ..base
    }));
    // 3. No suffixed cookies → unsuffixed.
    assert!(!uses_suffixed_cookies(&SuffixFacts {
        has_session_suffixed: false,
        client_uat_suffixed: None,
        ..base
    }));
    // 4. The unsuffixed session is newer and neither uat is "0" → unsuffixed.
    assert!(!uses_suffixed_cookies(&SuffixFacts {
        session_iat: 300.0,
        ..base
    }));
    // 5. Suffixed uat "0", unsuffixed not → unsuffixed.
    assert!(!uses_suffixed_cookies(&SuffixFacts {
        client_uat_suffixed: Some("0"),
        ..base
    }));
    // 6. Development: unsuffixed uat "0" and the suffixed session expired → unsuffixed (production: suffixed).
    let six = SuffixFacts {
        client_uat: Some("0"),
        session_suffixed_expired: true,
        ..base
    };
    assert!(!uses_suffixed_cookies(&SuffixFacts {
        production: false,
        ..six
    }));
    assert!(uses_suffixed_cookies(&six));
    // 7. A suffixed session without a suffixed uat → unsuffixed.
    assert!(!uses_suffixed_cookies(&SuffixFacts {
        client_uat_suffixed: None,
        ..base
    }));
    // 8. Otherwise suffixed.
    assert!(uses_suffixed_cookies(&base));
    assert!(uses_suffixed_cookies(&SuffixFacts {
        session: None,
        ..base
    }));
}

#[test]
fn suffixed_cookies_end_to_end() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let a = prod(&s);
    let token = s.session("k1", &claims(now, json!({})));
    let other = s.session(
        "k1",
        &claims(now, json!({"iss": "https://clerk.other.example"})),
    );
    // Only suffixed cookies: signed in from `__session_<suffix>`.
    let d = run(
        &a,
        &format!(
            "__session_{SFX_LIVE}={token}; __client_uat_{SFX_LIVE}={}",
            now - 100
        ),
        "GET",
        FETCH,
    );
    assert_eq!(reason(&d), "signed-in");
    // Another instance's unsuffixed cookies and no suffixed ones (rule 2): nothing of ours → signed out.
    let d = run(
        &a,
        &format!("__session={other}; __client_uat={}", now - 100),
        "GET",
        FETCH,
    );
    assert_eq!(reason(&d), "signed-out session-token-and-uat-missing");
    // The handshake reports the choice.
    let d = run(
        &a,
        &format!("__client_uat_{SFX_LIVE}={}", now - 100),
        "GET",
        DOC,
    );
    assert_eq!(reason(&d), "handshake client-uat-but-no-session-token");
    let q = query_of(header(&d, "Location").unwrap());
    assert!(
        q.contains(&("suffixed_cookies".into(), "true".into())),
        "{q:?}"
    );
}

#[test]
fn eligibility_is_clerks() {
    let get = |facts: &str, is_get| {
        RequestContext::parse_compact(facts).is_eligible_for_handshake(is_get)
    };
    let f = |dest: &str, accept: &str| format!("https://a.example/\n\n\n\n{dest}\n{accept}\n\n");
    assert!(get(&f("=document", ""), true));
    assert!(get(&f("=iframe", ""), true));
    assert!(!get(&f("=document", ""), false), "POST documents never");
    assert!(
        !get(&f("=empty", "=text/html"), true),
        "dest wins over accept"
    );
    assert!(get(&f("", "=text/html,application/xhtml+xml"), true));
    assert!(get(&f("=", "=text/html"), true), "an empty dest is no dest");
    assert!(
        !get(&f("", "=application/json, text/html"), true),
        "accept must start with text/html"
    );
    assert!(!get(&f("", ""), true));
    assert!(!RequestContext::NONE.is_eligible_for_handshake(true));
}

#[test]
fn location_has_clerks_parameters_in_order() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let a = prod(&s);
    let expired = s.session(
        "k1",
        &claims(
            now,
            json!({"iat": now - 120, "nbf": now - 120, "exp": now - 60}),
        ),
    );
    let d = run(
        &a,
        &format!("__session={expired}; __client_uat={}", now - 200),
        "GET",
        DOC,
    );
    assert!(d.handshake);
    assert_eq!(
        reason(&d),
        "handshake session-token-expired-refresh-non-eligible-no-refresh-cookie"
    );
    let location = header(&d, "Location").unwrap();
    assert!(location.starts_with("https://clerk.example.com/v1/client/handshake?redirect_url=https%3A%2F%2Fapp.example.com%2Fa%3Fx%3Da%2Bb&"), "{location}");
    let names: Vec<String> = query_of(location).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "redirect_url",
            "__clerk_api_version",
            "suffixed_cookies",
            "__clerk_hs_reason",
            "format",
            "__session"
        ]
    );
    let q = query_of(location);
    assert_eq!(q[1].1, "2026-05-12");
    assert_eq!(q[2].1, "false");
    assert_eq!(q[4].1, "nonce");
    assert_eq!(q[5].1, expired);
    assert_eq!(header(&d, "Cache-Control"), Some("no-store"));
    assert_eq!(
        header(&d, "Set-Cookie"),
        Some("__clerk_redirect_count=1; SameSite=Lax; HttpOnly; Max-Age=2")
    );
    let AuthOutcome::SignedOut { message, .. } = &d.outcome else {
        panic!()
    };
    assert!(
        message.ends_with("(reason=token-expired, token-carrier=cookie)"),
        "{message}"
    );
    // The same request as a fetch stays signed out with the same reason, no headers.
    let f = run(
        &a,
        &format!("__session={expired}; __client_uat={}", now - 200),
        "GET",
        FETCH,
    );
    assert_eq!(
        reason(&f),
        "signed-out session-token-expired-refresh-non-eligible-no-refresh-cookie"
    );
    assert!(f.headers.is_empty());
    // Without request facts (the old `start`) too.
    let plain = a
        .start(&AuthInput {
            authorization: None,
            cookie: Some(&format!("__session={expired}; __client_uat={}", now - 200)),
            method: "GET",
        })
        .unwrap();
    assert!(matches!(plain, AuthOutcome::SignedOut { .. }));
}

#[test]
fn loop_guard_counts_to_three() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let a = prod(&s);
    let uat_only = |n: &str| format!("__client_uat={}; __clerk_redirect_count={n}", now - 200);
    let d = run(&a, &uat_only("1"), "GET", DOC);
    assert_eq!(
        header(&d, "Set-Cookie"),
        Some("__clerk_redirect_count=2; SameSite=Lax; HttpOnly; Max-Age=2")
    );
    let d = run(&a, &uat_only("3"), "GET", DOC);
    assert_eq!(reason(&d), "signed-out client-uat-but-no-session-token");
    assert!(d.headers.is_empty());
    let d = run(&a, &uat_only("4"), "GET", DOC);
    assert!(d.handshake, "only exactly 3 stops, as Clerk's === 3");
}

#[test]
fn cookie_path_triggers() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let a = prod(&s);
    let valid = s.session("k1", &claims(now, json!({})));
    let nbf = s.session("k1", &claims(now, json!({"nbf": now + 600})));
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            String::new(),
            "GET",
            DOC,
            "signed-out session-token-and-uat-missing",
        ),
        (
            format!("__session={valid}"),
            "GET",
            DOC,
            "handshake session-token-but-no-client-uat",
        ),
        (
            format!("__session={valid}; __client_uat=0"),
            "GET",
            DOC,
            "handshake session-token-but-no-client-uat",
        ),
        (
            format!("__client_uat={now}"),
            "GET",
            DOC,
            "handshake client-uat-but-no-session-token",
        ),
        (
            format!("__client_uat={now}"),
            "POST",
            DOC,
            "signed-out client-uat-but-no-session-token",
        ),
        (
            format!("__session={valid}; __client_uat={}", now + 100),
            "GET",
            DOC,
            "handshake session-token-iat-before-client-uat",
        ),
        (
            format!("__session={nbf}; __client_uat={}", now - 100),
            "GET",
            DOC,
            "handshake session-token-nbf",
        ),
        (
            format!("__session={valid}; __client_uat={}", now - 100),
            "GET",
            DOC,
            "signed-in",
        ),
        (
            format!("__session=not-a-jwt; __client_uat={}", now - 100),
            "GET",
            DOC,
            "signed-out token-invalid",
        ),
    ];
    for (cookie, method, facts, want) in cases {
        assert_eq!(
            reason(&run(&a, &cookie, method, facts)),
            want,
            "{cookie} {method}"
        );
    }
}

#[test]
fn dev_browser_sync_and_missing() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let a = dev(&s);
    let valid = s.session("k1", &claims(now, json!({})));
    let jar = format!("__session={valid}; __client_uat={}", now - 100);
    assert_eq!(
        reason(&run(&a, &jar, "GET", DOC)),
        "handshake dev-browser-missing"
    );
    assert_eq!(
        reason(&run(&a, &jar, "GET", FETCH)),
        "signed-out dev-browser-missing"
    );
    let with_db = format!("{jar}; __clerk_db_jwt=dvb_1");
    assert_eq!(reason(&run(&a, &with_db, "GET", FETCH)), "signed-in");
    // A suffixed dev-browser cookie counts when the suffixed cookies are chosen.
    let suffixed = format!(
        "__session_{SFX_TEST}={valid}; __client_uat_{SFX_TEST}={}; __clerk_db_jwt_{SFX_TEST}=dvb_2",
        now - 100
    );
    assert_eq!(reason(&run(&a, &suffixed, "GET", FETCH)), "signed-in");
    let sync = "https://app.example.com/a?__clerk_db_jwt=dvb_q\n\n\n\n=document\n\n\n";
    let d = run(&a, &jar, "GET", sync);
    assert_eq!(reason(&d), "handshake dev-browser-sync");
    let q = query_of(header(&d, "Location").unwrap());
    assert_eq!(
        q[0].1, "https://app.example.com/a",
        "the dev-browser token leaves the redirect_url"
    );
    assert_eq!(
        q.last().unwrap(),
        &("__clerk_db_jwt".to_owned(), "dvb_q".to_owned())
    );
    // primary-responds-to-syncing: straight back to the satellite.
    let respond = "https://app.example.com/a?__clerk_redirect_url=https%3A%2F%2Fsat.example.net%2Fb%3Fq%3D1\n\n\n\n=document\n\n\n";
    let d = run(&a, &with_db, "GET", respond);
    assert_eq!(reason(&d), "handshake primary-responds-to-syncing");
    assert_eq!(
        header(&d, "Location"),
        Some("https://sat.example.net/b?q=1&__clerk_db_jwt=dvb_1&__clerk_synced=true")
    );
}

#[test]
fn satellites_sync() {
    let s = Signer::load("rsa2048");
    let sat = |pk: &str, auto: bool| {
        auth_with(
            &s,
            InstanceOptions {
                publishable_key: Some(pk.into()),
                domain: Some("sat.example.net".into()),
                is_satellite: true,
                sign_in_url: Some("https://app.example.com/sign-in".into()),
                satellite_auto_sync: auto,
                ..Default::default()
            },
            None,
        )
    };
    let doc = "https://sat.example.net/p\n\n\n\n=document\n\n\n";
    let needs = "https://sat.example.net/p?__clerk_synced=false\n\n\n\n=document\n\n\n";
    let done = "https://sat.example.net/p?__clerk_synced=true\n\n\n\n=document\n\n\n";
    let p = sat(PK_LIVE, false);
    assert_eq!(
        reason(&run(&p, "", "GET", doc)),
        "signed-out session-token-and-uat-missing"
    );
    let d = run(&p, "", "GET", needs);
    assert_eq!(reason(&d), "handshake satellite-needs-syncing");
    assert!(header(&d, "Location")
        .unwrap()
        .starts_with("https://clerk.sat.example.net/v1/client/handshake?"));
    assert_eq!(
        reason(&run(&p, "", "GET", done)),
        "signed-out session-token-and-uat-missing"
    );
    assert_eq!(
        reason(&run(&sat(PK_LIVE, true), "", "GET", doc)),
        "handshake satellite-needs-syncing"
    );
    let d = run(&sat(PK_TEST, true), "__clerk_db_jwt=dvb_1", "GET", doc);
    assert_eq!(reason(&d), "handshake satellite-needs-syncing");
    assert_eq!(
        header(&d, "Location"),
        Some("https://app.example.com/sign-in?__clerk_redirect_url=https%3A%2F%2Fsat.example.net%2Fp")
    );
}

#[test]
fn cross_origin_and_org_sync() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let a = prod(&s);
    let token = s.session(
        "k1",
        &claims(
            now,
            json!({"org_id": "org_1", "org_slug": "acme", "org_role": "admin"}),
        ),
    );
    let jar = format!("__session={token}; __client_uat={}", now - 100);
    let with_referer = |r: &str| format!("https://app.example.com/a\n\n\n\n=document\n\n={r}\n");
    let d = run(
        &a,
        &jar,
        "GET",
        &with_referer("https://elsewhere.example/x"),
    );
    assert_eq!(reason(&d), "handshake primary-domain-cross-origin-sync");
    let AuthOutcome::SignedOut { message, .. } = &d.outcome else {
        panic!()
    };
    assert_eq!(
        message,
        "Cross-origin request from satellite domain requires handshake"
    );
    for known in [
        "https://app.example.com/b",
        "https://clerk.example.com/",
        "https://accounts.example.com/sign-in",
    ] {
        assert_eq!(
            reason(&run(&a, &jar, "GET", &with_referer(known))),
            "signed-in",
            "{known}"
        );
    }
    let redirected = format!("{jar}; __clerk_redirect_count=1");
    assert_eq!(
        reason(&run(
            &a,
            &redirected,
            "GET",
            &with_referer("https://elsewhere.example/x")
        )),
        "signed-in"
    );
    // Organization sync: the target comes from JavaScript's path matching.
    let org =
        |target: &str| format!("https://app.example.com/orgs/x\n\n\n\n=document\n\n\n{target}");
    assert_eq!(reason(&run(&a, &jar, "GET", &org("sacme"))), "signed-in");
    assert_eq!(reason(&run(&a, &jar, "GET", &org("iorg_1"))), "signed-in");
    let d = run(&a, &jar, "GET", &org("sother"));
    assert_eq!(reason(&d), "handshake active-organization-mismatch");
    assert_eq!(
        query_of(header(&d, "Location").unwrap()).last().unwrap(),
        &("organization_id".to_owned(), "other".to_owned())
    );
    let d = run(&a, &jar, "GET", &org("p"));
    assert_eq!(reason(&d), "handshake active-organization-mismatch");
    assert_eq!(
        query_of(header(&d, "Location").unwrap()).last().unwrap(),
        &("organization_id".to_owned(), String::new())
    );
    let looped = format!("{jar}; __clerk_redirect_count=3");
    assert_eq!(
        reason(&run(&a, &looped, "GET", &org("sother"))),
        "signed-in"
    );
    // A pending session is signed out for org sync (no userId after toAuth()).
    let pending = s.session("k1", &claims(now, json!({"sts": "pending"})));
    let jar = format!("__session={pending}; __client_uat={}", now - 100);
    assert_eq!(reason(&run(&a, &jar, "GET", &org("sother"))), "signed-in");
}

#[test]
fn expired_header_token_handshakes_documents() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let a = prod(&s);
    let expired = s.session(
        "k1",
        &claims(
            now,
            json!({"iat": now - 120, "nbf": now - 120, "exp": now - 60}),
        ),
    );
    let bearer = format!("Bearer {expired}");
    let go = |facts: &str| {
        a.start_with(
            &AuthInput {
                authorization: Some(&bearer),
                cookie: None,
                method: "GET",
            },
            &RequestContext::parse_compact(facts),
        )
        .unwrap()
    };
    let d = go(DOC);
    assert_eq!(
        reason(&d),
        "handshake session-token-expired-refresh-non-eligible-no-refresh-cookie"
    );
    assert_eq!(query_of(header(&d, "Location").unwrap())[5].1, expired);
    assert_eq!(
        reason(&go(FETCH)),
        "signed-out session-token-expired-refresh-non-eligible-no-refresh-cookie"
    );
}

#[test]
fn no_publishable_key_no_handshake() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    for pk in [None, Some("pk_test_env".to_owned())] {
        let a = auth_with(
            &s,
            InstanceOptions {
                publishable_key: pk,
                ..Default::default()
            },
            None,
        );
        assert!(a.instance().is_none());
        assert_eq!(
            reason(&run(&a, &format!("__client_uat={now}"), "GET", DOC)),
            "signed-out client-uat-but-no-session-token"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_resolution_and_refresh_against_a_backend_api() {
    let s = Signer::load("rsa2048");
    let now = now_secs();
    let fresh = s.session("k1", &claims(now, json!({"sid": "sess_r"})));
    let expired = s.session(
        "k1",
        &claims(
            now,
            json!({"sid": "sess_r", "iat": now - 120, "nbf": now - 120, "exp": now - 60}),
        ),
    );
    let bapi = TestServer::start(Reply::json(
        404,
        json!({"errors": [{"code": "resource_not_found"}]}),
    ))
    .await;
    let directives = json!({"directives": [format!("__session={fresh}; Path=/"), format!("__client_uat={now}; Path=/")]});
    let cookies =
        json!({"object": "cookies", "cookies": [format!("__session_{SFX_LIVE}={fresh}; Path=/")]});
    bapi.set_router(move |r| {
        if r.path.starts_with("/v1/clients/handshake_payload") && r.path.contains("nonce=n1") {
            Reply::json(200, directives.clone())
        } else if r.path.starts_with("/v1/sessions/sess_r/refresh") {
            Reply::json(200, cookies.clone())
        } else {
            Reply::json(404, json!({"errors": [{"code": "resource_not_found"}]}))
        }
    });
    let a = auth_with(
        &s,
        InstanceOptions {
            publishable_key: Some(PK_LIVE.into()),
            ..Default::default()
        },
        Some(bapi.base()),
    );
    let go = |cookie: String, facts: &'static str| {
        let a = &a;
        async move {
            let ctx = RequestContext::parse_compact(facts);
            let input = AuthInput {
                authorization: None,
                cookie: Some(&cookie),
                method: "GET",
            };
            let headers = vec![("host".to_owned(), "app.example.com".to_owned())];
            match a.start_with(&input, &ctx) {
                Ok(d) => (false, d),
                Err(p) => (true, a.finish_with(p, &ctx, &headers).await),
            }
        }
    };
    // Nonce in the query: resolved, signed in with the directives as Set-Cookie.
    let (pending, d) = go(
        String::new(),
        "https://app.example.com/a?__clerk_handshake_nonce=n1\n\n\n\n=document\n\n\n",
    )
    .await;
    assert!(pending);
    assert_eq!(reason(&d), "signed-in");
    let set: Vec<&str> = d
        .headers
        .iter()
        .filter(|(n, _)| *n == "Set-Cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(set.len(), 2);
    assert_eq!(header(&d, "Access-Control-Allow-Origin"), Some("null"));
    // An unknown nonce: signed out, session-token-missing.
    let (_, d) = go(
        String::new(),
        "https://app.example.com/a?__clerk_handshake_nonce=zz\n\n\n\n=document\n\n\n",
    )
    .await;
    assert_eq!(reason(&d), "signed-out session-token-missing");
    // Refresh of an expired cookie with __refresh_<suffix>, on a fetch.
    let jar = format!(
        "__session={expired}; __client_uat={}; __refresh_{SFX_LIVE}=rt",
        now - 200
    );
    let (pending, d) = go(jar, FETCH).await;
    assert!(pending);
    assert_eq!(reason(&d), "signed-in");
    assert_eq!(
        header(&d, "Set-Cookie").unwrap(),
        format!("__session_{SFX_LIVE}={fresh}; Path=/")
    );
    let refresh = bapi
        .requests()
        .into_iter()
        .find(|r| r.path.contains("/refresh"))
        .unwrap();
    assert_eq!(refresh.method, "POST");
    let body: Value = serde_json::from_str(&refresh.body).unwrap();
    assert_eq!(body["expired_token"], expired);
    assert_eq!(body["refresh_token"], "rt");
    assert_eq!(body["request_origin"], "https://app.example.com");
    // A refresh the Backend API refuses: the reason carries its code; a document then handshakes.
    let b = bapi.requests().len();
    let jar = format!(
        "__session={}; __client_uat={}; __refresh_{SFX_LIVE}=rt",
        s.session(
            "k1",
            &claims(
                now,
                json!({"sid": "sess_gone", "iat": now - 120, "nbf": now - 120, "exp": now - 60})
            )
        ),
        now - 200
    );
    let (_, d) = go(jar, DOC).await;
    assert_eq!(
        reason(&d),
        "handshake session-token-expired-refresh-resource_not_found"
    );
    assert!(bapi.requests().len() > b);
    assert!(matches!(
        a.start_with(
            &AuthInput {
                authorization: None,
                cookie: Some("__clerk_handshake_nonce=n1"),
                method: "GET"
            },
            &RequestContext::NONE
        ),
        Err(Pending::Session { deferred: Some(d), .. }) if d.step == DeferredStep::ResolveHandshake
    ));
}
