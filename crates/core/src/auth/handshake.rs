//! Clerk's handshake decision (@clerk/backend 3.25.0 `HandshakeService`, `handleMaybeHandshakeStatus`,
//! `buildRedirectToHandshake`, `checkAndTrackRedirectLoop`): the per-request view of the cookies and URL it reads
//! ([`Req`]), the `Location` of the 307 to the Frontend API and the loop guard.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::Value;
use url::Url;

use super::cookies::{
    number_or_zero, parse_int_or_zero, uses_suffixed_cookies, RequestCookies, SessionIssuer,
    SuffixFacts, DEV_BROWSER, HANDSHAKE, HANDSHAKE_NONCE,
};
use super::instance::Instance;
use super::request::{
    append_param, derive_url, has_query_param, query_param, without_query_params, OrgTarget,
    RequestContext,
};
use crate::cache::VerifiedEntry;
use crate::transport::SUPPORTED_BAPI_VERSION;

/// The headers of a state, in order (`Location`, `Cache-Control`, `Set-Cookie`, ...; never `x-clerk-auth-*`,
/// which follow from the status, reason and message).
pub type StateHeaders = Vec<(&'static str, String)>;

/// Clerk's handshake reasons that are not verification reasons.
pub struct HandshakeReason;

impl HandshakeReason {
    /// `?__clerk_db_jwt=` on a development instance.
    pub const DEV_BROWSER_SYNC: &'static str = "dev-browser-sync";
    /// No dev-browser token on a development instance.
    pub const DEV_BROWSER_MISSING: &'static str = "dev-browser-missing";
    /// A development primary answering a satellite's `?__clerk_redirect_url=`.
    pub const PRIMARY_RESPONDS_TO_SYNCING: &'static str = "primary-responds-to-syncing";
    /// A signed-in document navigation from a foreign origin.
    pub const PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC: &'static str = "primary-domain-cross-origin-sync";
    /// A satellite without cookies, or `?__clerk_synced=false`.
    pub const SATELLITE_NEEDS_SYNCING: &'static str = "satellite-needs-syncing";
    /// The path asks for another active organization.
    pub const ACTIVE_ORGANIZATION_MISMATCH: &'static str = "active-organization-mismatch";
    /// A resolved handshake without a session cookie.
    pub const SESSION_TOKEN_MISSING: &'static str = "session-token-missing";
}

/// The message of a cross-origin sync handshake.
pub const CROSS_ORIGIN_MESSAGE: &str =
    "Cross-origin request from satellite domain requires handshake";

/// Clerk's `__clerk_redirect_count` limit.
const MAX_REDIRECTS: f64 = 3.0;

/// A lazily derived request URL (`ClerkRequest.clerkUrl`).
#[derive(Debug)]
pub struct ClerkUrl<'c, 'a> {
    ctx: &'c RequestContext<'a>,
    cell: OnceLock<Option<Url>>,
}

impl<'c, 'a> ClerkUrl<'c, 'a> {
    fn new(ctx: &'c RequestContext<'a>) -> Self {
        Self {
            ctx,
            cell: OnceLock::new(),
        }
    }

    /// The derived URL (`None` without request facts or when the URL does not parse).
    pub fn get(&self) -> Option<&Url> {
        self.cell.get_or_init(|| derive_url(self.ctx)).as_ref()
    }

    /// Whether the raw URL may carry a Clerk query parameter (cheap; false negatives impossible for names
    /// spelled with `clerk` or percent-encoded).
    fn may_have_clerk_params(&self) -> bool {
        self.ctx
            .url
            .is_some_and(|u| u.contains('?') && (u.contains("clerk") || u.contains('%')))
    }

    /// `searchParams.get(name)`.
    pub fn param(&self, name: &str) -> Option<String> {
        if !self.may_have_clerk_params() {
            return None;
        }
        query_param(self.get()?, name)
    }

    /// `searchParams.has(name)`.
    pub fn has_param(&self, name: &str) -> bool {
        self.may_have_clerk_params() && self.get().is_some_and(|u| has_query_param(u, name))
    }

    /// `clerkUrl.origin`.
    pub fn origin(&self) -> Option<String> {
        self.get().map(|u| u.origin().ascii_serialization())
    }
}

/// The classification of the unsuffixed `__session`'s `iss` from a verified entry's payload JSON (a scan of the
/// top-level keys, no full parse), falling back to a parse when the text is unusual.
pub fn issuer_of_payload_json(json: &str, frontend_api: &str) -> SessionIssuer {
    match top_level_value(json, "iss") {
        Some(Some(raw)) => {
            if let Some(s) = raw
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .filter(|s| !s.contains('\\'))
            {
                if s.is_empty() {
                    SessionIssuer::None
                } else {
                    SessionIssuer::of_str(s, frontend_api)
                }
            } else {
                let v: Option<Value> = serde_json::from_str(raw).ok();
                SessionIssuer::of(v.as_ref(), frontend_api)
            }
        }
        Some(None) => SessionIssuer::None,
        None => {
            let v: Option<serde_json::Map<String, Value>> = serde_json::from_str(json).ok();
            SessionIssuer::of(v.as_ref().and_then(|m| m.get("iss")), frontend_api)
        }
    }
}

/// The raw text of top-level member `key` of a JSON object: `Some(None)` when absent, `None` when the text
/// could not be scanned.
fn top_level_value<'j>(json: &'j str, key: &str) -> Option<Option<&'j str>> {
    let b = json.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        match b.get(i)? {
            b'}' => return Some(None),
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = string_end(b, i)?;
        let k = &json[i + 1..key_end - 1];
        i = skip_ws(b, key_end);
        if b.get(i)? != &b':' {
            return None;
        }
        i = skip_ws(b, i + 1);
        let end = value_end(b, i)?;
        if k == key {
            return Some(Some(&json[i..end]));
        }
        i = end;
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The index after the closing quote of the string starting at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// The index after the JSON value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                j += 1;
            }
            Some(j)
        }
    }
}

/// A decoded JWT payload's `iat` as a number (0 when absent or not a number: `payload.iat || 0`).
fn iat_of(token: Option<&str>) -> (f64, Option<f64>) {
    let Some(jwt) = token.and_then(|t| crate::jwt::decode(t).ok()) else {
        return (0.0, None);
    };
    let iat = jwt
        .payload
        .get("iat")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let exp = jwt.payload.get("exp").and_then(Value::as_f64);
    (iat, exp)
}

/// What the cookie path reads from one request: the cookies (suffixed or not, as Clerk chooses), the
/// dev-browser and handshake tokens (query first), the loop counter and the URL.
#[derive(Debug)]
pub struct Req<'c, 'a> {
    /// The instance (`None`: no publishable key, no handshake family).
    pub inst: Option<&'c Instance>,
    /// A GET.
    pub is_get: bool,
    /// The request facts.
    pub ctx: &'c RequestContext<'a>,
    /// `clerkUrl`.
    pub url: ClerkUrl<'c, 'a>,
    /// `Authorization` token.
    pub header_token: Option<&'a str>,
    /// All parsed cookies.
    pub cookies: RequestCookies<'a>,
    /// `usesSuffixedCookies()`.
    pub suffixed: bool,
}

impl<'c, 'a> Req<'c, 'a> {
    /// Parses the cookies and decides the suffix. `cached` looks a token up in the verified-token cache.
    pub fn new(
        inst: Option<&'c Instance>,
        cookie_header: &'a str,
        header_token: Option<&'a str>,
        ctx: &'c RequestContext<'a>,
        is_get: bool,
        now_ms: i64,
        cached: impl Fn(&str) -> Option<std::sync::Arc<VerifiedEntry>>,
    ) -> Self {
        let cookies = RequestCookies::parse(cookie_header, inst.map(|i| i.cookie_suffix.as_str()));
        let suffixed = inst.is_some_and(|i| decide_suffix(i, now_ms, &cookies, &cached));
        Req {
            inst,
            is_get,
            ctx,
            url: ClerkUrl::new(ctx),
            header_token,
            cookies,
            suffixed,
        }
    }

    /// `sessionTokenInCookie`.
    pub fn session_cookie(&self) -> Option<&str> {
        if self.suffixed {
            self.cookies.session_suffixed.as_deref()
        } else {
            self.cookies.session.as_deref()
        }
    }

    /// The raw `__client_uat` Clerk reads.
    fn client_uat_raw(&self) -> Option<&str> {
        if self.suffixed {
            self.cookies.client_uat_suffixed.as_deref()
        } else {
            self.cookies.client_uat.as_deref()
        }
    }

    /// `clientUat`: `Number.parseInt(cookie) || 0`.
    pub fn client_uat(&self) -> f64 {
        parse_int_or_zero(self.client_uat_raw())
    }

    /// `sessionToken`: the cookie's, else the header's.
    pub fn session_token(&self) -> Option<&str> {
        self.session_cookie().or(self.header_token)
    }

    /// `refreshTokenInCookie`: `__refresh_<suffix>` only.
    pub fn refresh_token(&self) -> Option<&str> {
        self.cookies.refresh.as_deref()
    }

    /// `devBrowserToken`: the query parameter, else the (suffixed or not) cookie.
    pub fn dev_browser_token(&self) -> Option<Cow<'_, str>> {
        if let Some(q) = self.url.param(DEV_BROWSER).filter(|q| !q.is_empty()) {
            return Some(Cow::Owned(q));
        }
        let c = if self.suffixed {
            self.cookies.dev_browser_suffixed.as_deref()
        } else {
            self.cookies.dev_browser.as_deref()
        };
        c.map(Cow::Borrowed)
    }

    /// `handshakeNonce`: query, else cookie.
    pub fn handshake_nonce(&self) -> Option<Cow<'_, str>> {
        self.url
            .param(HANDSHAKE_NONCE)
            .filter(|q| !q.is_empty())
            .map(Cow::Owned)
            .or_else(|| self.cookies.handshake_nonce.as_deref().map(Cow::Borrowed))
    }

    /// `handshakeToken`: query, else cookie.
    pub fn handshake_token(&self) -> Option<Cow<'_, str>> {
        self.url
            .param(HANDSHAKE)
            .filter(|q| !q.is_empty())
            .map(Cow::Owned)
            .or_else(|| self.cookies.handshake.as_deref().map(Cow::Borrowed))
    }

    /// `handshakeRedirectLoopCounter`: `Number(cookie) || 0`.
    pub fn redirect_count(&self) -> f64 {
        number_or_zero(self.cookies.redirect_count.as_deref())
    }

    /// `isRequestEligibleForHandshake()` (never without an instance: there is no Frontend API to go to).
    pub fn eligible(&self) -> bool {
        self.inst.is_some() && self.ctx.is_eligible_for_handshake(self.is_get)
    }

    /// Clerk's `frontendApi` for this request (a relative `proxyUrl` resolved against the request origin).
    pub fn frontend_api(&self) -> Option<String> {
        let inst = self.inst?;
        Some(inst.frontend_api_for(self.url.origin().as_deref()))
    }

    /// `buildRedirectToHandshake(reason)`: the `Location` of the 307 to the Frontend API.
    pub fn handshake_location(&self, reason: &str) -> Option<String> {
        let inst = self.inst?;
        let url = self.url.get()?;
        let redirect = without_query_params(url, &[DEV_BROWSER, "__dev_session"]);
        let fapi = inst.frontend_api_for(Some(&url.origin().ascii_serialization()));
        let mut base = if fapi.starts_with("http") {
            fapi
        } else {
            format!("https://{fapi}")
        };
        while base.ends_with('/') {
            base.pop();
        }
        base.push('/');
        let mut loc = Url::parse(&base).ok()?.join("v1/client/handshake").ok()?;
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(existing) = loc.query() {
            // `new URL(relative, base)` keeps no query of the base; kept for completeness.
            q = url::form_urlencoded::Serializer::new(existing.to_owned());
        }
        q.append_pair("redirect_url", redirect.as_str());
        q.append_pair("__clerk_api_version", SUPPORTED_BAPI_VERSION);
        q.append_pair(
            "suffixed_cookies",
            if self.suffixed { "true" } else { "false" },
        );
        q.append_pair("__clerk_hs_reason", reason);
        q.append_pair("format", "nonce");
        if let Some(s) = self.session_token() {
            q.append_pair("__session", s);
        }
        if inst.is_development() {
            if let Some(db) = self.dev_browser_token() {
                q.append_pair(DEV_BROWSER, &db);
            }
        }
        match self.ctx.org_target {
            Some(OrgTarget::PersonalAccount) => {
                q.append_pair("organization_id", "");
            }
            Some(OrgTarget::Id(id)) if !id.is_empty() => {
                q.append_pair("organization_id", id);
            }
            Some(OrgTarget::Slug(slug)) if !slug.is_empty() => {
                q.append_pair("organization_id", slug);
            }
            _ => {}
        }
        loc.set_query(Some(&q.finish()));
        Some(loc.to_string())
    }

    /// `checkAndTrackRedirectLoop`: `None` at the limit (a loop), else the `Set-Cookie` counting this redirect.
    pub fn track_redirect(&self) -> Option<String> {
        let n = self.redirect_count();
        if n == MAX_REDIRECTS {
            return None;
        }
        Some(format!(
            "__clerk_redirect_count={}; SameSite=Lax; HttpOnly; Max-Age=2",
            super::cookies::js_number_string(n + 1.0)
        ))
    }

    /// The URL a development instance redirects to after resolving a handshake: the current URL without the
    /// handshake and dev-browser parameters.
    pub fn resolved_location(&self) -> Option<String> {
        let url = self.url.get()?;
        Some(
            without_query_params(
                url,
                &[HANDSHAKE, "__clerk_help", DEV_BROWSER, HANDSHAKE_NONCE],
            )
            .to_string(),
        )
    }

    /// A development satellite's sync redirect: `signInUrl?__clerk_redirect_url=<current URL>`.
    pub fn satellite_sign_in_location(&self) -> Result<Option<String>, String> {
        let (Some(inst), Some(url)) = (self.inst, self.url.get()) else {
            return Ok(None);
        };
        let sign_in = inst.sign_in_url.as_deref().unwrap_or("");
        let mut target = Url::parse(sign_in).map_err(|_| format!("Invalid URL: {sign_in}"))?;
        append_param(&mut target, "__clerk_redirect_url", url.as_str());
        Ok(Some(target.to_string()))
    }
}

/// `usesSuffixedCookies()` from the parsed cookies; the unsuffixed `__session` is classified from the
/// verified-token cache when it is there (no decode), else by decoding it.
fn decide_suffix(
    inst: &Instance,
    now_ms: i64,
    c: &RequestCookies<'_>,
    cached: &impl Fn(&str) -> Option<std::sync::Arc<VerifiedEntry>>,
) -> bool {
    let fapi = inst.original_frontend_api.as_str();
    let session = c.session.as_deref().map(|s| match cached(s) {
        Some(entry) => issuer_of_payload_json(&entry.payload_json, fapi),
        None => match crate::jwt::decode(s) {
            Ok(jwt) => SessionIssuer::of(jwt.payload.get("iss"), fapi),
            Err(_) => SessionIssuer::None,
        },
    });
    let has_session_suffixed = c.session_suffixed.is_some();
    let mut facts = SuffixFacts {
        session,
        session_iat: 0.0,
        client_uat: c.client_uat.as_deref(),
        has_session_suffixed,
        session_suffixed_iat: 0.0,
        session_suffixed_expired: false,
        client_uat_suffixed: c.client_uat_suffixed.as_deref(),
        production: !inst.is_development(),
    };
    // Rules 4-7 read the tokens' iat/exp: decode only when suffixed cookies exist (rule 3 decides otherwise).
    if facts.client_uat_suffixed.is_some() || has_session_suffixed {
        facts.session_iat = iat_of(c.session.as_deref()).0;
        let (iat, exp) = iat_of(c.session_suffixed.as_deref());
        facts.session_suffixed_iat = iat;
        let now_s = (now_ms / 1000) as f64;
        facts.session_suffixed_expired = exp.is_some_and(|e| e <= now_s);
    }
    uses_suffixed_cookies(&facts)
}
