//! The network half of Clerk's handshake (AUTH-PARITY §2 item 3, A5, A9), as @clerk/backend 3.25.0 does it:
//! - [`handshake_payload`]: `ClientAPI.getHandshakePayload` (a `__clerk_handshake_nonce` → its cookie directives);
//! - [`verify_handshake_token`]: `verifyHandshakeToken` / `verifyHandshakeJwt` (the legacy `__clerk_handshake` JWT);
//! - [`refresh_session`]: `SessionAPI.refreshSession` as `refreshToken` calls it (an expired session token and the
//!   `__refresh_<suffix>` cookie → new cookies), with Clerk's refresh reason suffixes ([`RefreshError::code`]);
//! - [`refresh_session_id`]: `refreshToken`'s checks before the request, in its order, and the `sid` of the
//!   expired token;
//! - [`session_token_from_directives`], [`handshake_headers`], [`set_cookie_headers`], [`request_headers_of`]:
//!   what `resolveHandshake` / `attemptRefresh` / `refreshToken` do with the directives and the request headers.
//!
//! Requests are built as Clerk's `buildRequest` builds them: URL `joinPaths(apiUrl, apiVersion, path)` (slashes
//! collapsed, `.`/`..` segments refused), query by `URLSearchParams.append` for truthy values only, headers
//! `Clerk-API-Version`, `User-Agent`, `Authorization: Bearer <secretKey>` and `Content-Type: application/json` (also
//! on the GET), a compact JSON body. They go over the Backend API client of the verifier's JWKS client
//! ([`crate::transport::api_client`]: never follows a redirect), bounded by its `fetch_timeout_ms` (whole exchange)
//! and `max_response_bytes`. Nothing is cached. No error message or cause contains the secret key, a token, a
//! refresh token or a cookie value; Backend API answers are reduced to their status and `errors[0].code`.
//!
//! Deliberate differences from Clerk (each only where Clerk's outcome is accidental):
//! - A 3xx answer is not followed (Node's fetch follows it): it is a non-2xx answer without `errors`.
//! - A response is JSON when its media type is `application/json` with any parameters (Clerk: only the exact header
//!   value `application/json`; `application/json; charset=utf-8` would be read as text there).
//! - The whole exchange has a timeout (`fetch_timeout_ms`; Clerk has none): a timeout is a `fetch-error`.
//! - A `sid` with `/`, `\`, `?` or `#` is percent-encoded into one path segment (Clerk would splice it into the
//!   path or query).

use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::Value;

use crate::codec::jsfmt;
use crate::jwt::error::{action, Reason, TokenVerificationError};
use crate::jwt::keys::SignatureCheck;
use crate::jwt::{self, category, Algorithm};
use crate::token::KeyChoice;
use crate::token::Verifier;
use crate::transport::{self, SUPPORTED_BAPI_VERSION, USER_AGENT};

/// Prefix of the session cookie names (`__session`, `__session_<suffix>`): Clerk's `constants.Cookies.Session`.
pub const SESSION_COOKIE_PREFIX: &str = "__session";

/// Clerk's error code of a failed fetch (`buildRequest` turns any thrown error into it).
const UNEXPECTED_ERROR_CODE: &str = "unexpected_error";

// ---------------------------------------------------------------------------------------------------------------
// Errors

/// Why [`handshake_payload`] failed. Clerk logs any failure (`console.error("Clerk: HandshakeService: error getting
/// handshake payload:", error)`) and resolves the handshake with no directives, hence signed out with
/// `session-token-missing`; callers do the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Clerk: error getting the handshake payload ({code}): {message}", code = self.code())]
pub struct ResolveError {
    /// What failed.
    pub kind: ResolveErrorKind,
    /// A secret-free description.
    pub message: String,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
}

/// The kinds of [`ResolveError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveErrorKind {
    /// No `secretKey` (Clerk's `assertValidSecretKey` throws before the request).
    MissingSecretKey,
    /// The request could not be built (bad `apiUrl`/`apiVersion`, a secret key that is not a valid header value).
    InvalidRequest,
    /// No usable answer: connection, timeout, body too large or unreadable, invalid JSON, or a Backend API
    /// `unexpected_error` (Clerk's `errors[0].code === "unexpected_error"`).
    FetchError,
    /// A non-2xx answer; `Some(code)` is its `errors[0].code`.
    Bapi(Option<String>),
    /// A 2xx answer without a `directives` array.
    UnexpectedResponse,
}

impl ResolveError {
    fn new(kind: ResolveErrorKind, message: impl Into<String>, status: Option<u16>) -> Self {
        Self {
            kind,
            message: message.into(),
            status,
        }
    }

    /// A stable code: `missing-secret-key`, `invalid-request`, `fetch-error`, the Backend API's `errors[0].code`
    /// (else `unexpected-bapi-error`) for a non-2xx answer, `unexpected-response`.
    pub fn code(&self) -> &str {
        match &self.kind {
            ResolveErrorKind::MissingSecretKey => "missing-secret-key",
            ResolveErrorKind::InvalidRequest => "invalid-request",
            ResolveErrorKind::FetchError => "fetch-error",
            ResolveErrorKind::Bapi(Some(code)) => code,
            ResolveErrorKind::Bapi(None) => "unexpected-bapi-error",
            ResolveErrorKind::UnexpectedResponse => "unexpected-response",
        }
    }
}

/// Clerk's `RefreshTokenErrorReason` values, plus the Backend API's own `errors[0].code`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefreshReason {
    /// `non-eligible-no-refresh-cookie` (decided by the caller: no `__refresh_<suffix>` cookie).
    NonEligibleNoCookie,
    /// `non-eligible-non-get` (decided by the caller: not a GET).
    NonEligibleNonGet,
    /// `invalid-session-token`: the refreshed `__session` did not verify (decided by the caller).
    InvalidSessionToken,
    /// `missing-api-client`: here, no `secretKey`.
    MissingApiClient,
    /// `missing-session-token`: no expired session token.
    MissingSessionToken,
    /// `missing-refresh-token`: no refresh cookie value.
    MissingRefreshToken,
    /// `expired-session-token-decode-failed`.
    ExpiredSessionTokenDecodeFailed,
    /// `expired-session-token-missing-sid-claim`.
    ExpiredSessionTokenMissingSidClaim,
    /// `fetch-error`: no usable answer (transport, timeout, invalid JSON, `errors[0].code === "unexpected_error"`).
    FetchError,
    /// `unexpected-sdk-error`: Clerk's fallback when the refresh yields no cookies and no reason (a 2xx answer
    /// without `cookies`, an empty list, or a non-2xx answer whose `errors[0].code` is empty or absent).
    UnexpectedSdkError,
    /// `unexpected-bapi-error`: a non-2xx answer without `errors`, or anything thrown before or after the fetch.
    UnexpectedBapiError,
    /// The Backend API's `errors[0].code`, verbatim (e.g. `session_not_found`).
    Bapi(String),
}

impl RefreshReason {
    /// The reason suffix (`session-token-expired-refresh-<code>`).
    pub fn as_str(&self) -> &str {
        match self {
            RefreshReason::NonEligibleNoCookie => "non-eligible-no-refresh-cookie",
            RefreshReason::NonEligibleNonGet => "non-eligible-non-get",
            RefreshReason::InvalidSessionToken => "invalid-session-token",
            RefreshReason::MissingApiClient => "missing-api-client",
            RefreshReason::MissingSessionToken => "missing-session-token",
            RefreshReason::MissingRefreshToken => "missing-refresh-token",
            RefreshReason::ExpiredSessionTokenDecodeFailed => "expired-session-token-decode-failed",
            RefreshReason::ExpiredSessionTokenMissingSidClaim => {
                "expired-session-token-missing-sid-claim"
            }
            RefreshReason::FetchError => "fetch-error",
            RefreshReason::UnexpectedSdkError => "unexpected-sdk-error",
            RefreshReason::UnexpectedBapiError => "unexpected-bapi-error",
            RefreshReason::Bapi(code) => code,
        }
    }

    /// Clerk's `error.message` for this reason (for [`RefreshReason::Bapi`], the code itself, as Clerk does).
    pub fn clerk_message(&self) -> &str {
        match self {
            RefreshReason::MissingApiClient => "An apiClient is needed to perform token refresh.",
            RefreshReason::MissingSessionToken => "Session token must be provided.",
            RefreshReason::MissingRefreshToken => "Refresh token must be provided.",
            RefreshReason::ExpiredSessionTokenDecodeFailed => {
                "Unable to decode the expired session token."
            }
            RefreshReason::ExpiredSessionTokenMissingSidClaim => {
                "Expired session token is missing the `sid` claim."
            }
            RefreshReason::FetchError => "Fetch unexpected error",
            RefreshReason::UnexpectedBapiError => "Unexpected Server/BAPI error",
            RefreshReason::InvalidSessionToken => {
                "Clerk: unable to verify refreshed session token."
            }
            RefreshReason::UnexpectedSdkError => "Unexpected SDK error",
            RefreshReason::NonEligibleNoCookie => "No refresh cookie.",
            RefreshReason::NonEligibleNonGet => "Not a GET request.",
            RefreshReason::Bapi(code) => code,
        }
    }
}

/// Why a refresh failed: Clerk's reason ([`RefreshError::code`]), Clerk's message, and our secret-free detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RefreshError {
    /// The reason.
    pub reason: RefreshReason,
    /// Clerk's message for the reason.
    pub message: String,
    /// What happened, without secrets (e.g. `connection failed (...)`, `the Backend API answered 500`).
    pub cause: Option<String>,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
}

impl RefreshError {
    /// An error with Clerk's message for `reason`.
    pub fn new(reason: RefreshReason) -> Self {
        Self {
            message: reason.clerk_message().to_owned(),
            reason,
            cause: None,
            status: None,
        }
    }

    fn with_cause(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The reason suffix Clerk uses: `session-token-expired-refresh-<code>`.
    pub fn code(&self) -> &str {
        self.reason.as_str()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Directives and headers

/// Clerk's `getCookieName`: the directive up to the first `;`, then up to the first `=`.
pub fn cookie_name(directive: &str) -> &str {
    let pair = directive.split(';').next().unwrap_or("");
    pair.split('=').next().unwrap_or("")
}

/// Clerk's `getCookieValue`: the directive up to the first `;`, then between the first and the second `=`
/// (`None` when there is no `=`, JavaScript's `undefined`).
pub fn cookie_value(directive: &str) -> Option<&str> {
    let pair = directive.split(';').next().unwrap_or("");
    pair.split('=').nth(1)
}

/// The session token the directives set, as `resolveHandshake` / `attemptRefresh` find it: the value of the
/// **last** directive whose cookie name starts with `__session`. `None` when no directive names one. A matching
/// directive without `=` yields `Some("")` (Clerk: `undefined`, then a failed verification; either way signed out).
pub fn session_token_from_directives(directives: &[String]) -> Option<String> {
    directives
        .iter()
        .rfind(|d| cookie_name(d).starts_with(SESSION_COOKIE_PREFIX))
        .map(|d| cookie_value(d).unwrap_or("").to_owned())
}

/// One `Set-Cookie` header per directive, in order (what `attemptRefresh` sends back).
pub fn set_cookie_headers(directives: &[String]) -> Vec<(&'static str, String)> {
    directives
        .iter()
        .map(|d| ("Set-Cookie", d.clone()))
        .collect()
}

/// The headers of a resolved handshake, in Clerk's order: `Access-Control-Allow-Origin: null`,
/// `Access-Control-Allow-Credentials: true`, then one `Set-Cookie` per directive. (Development instances also get
/// `Location` and `Cache-Control: no-store`; that needs the request URL and is the caller's part.)
pub fn handshake_headers(directives: &[String]) -> Vec<(&'static str, String)> {
    let mut out = Vec::with_capacity(directives.len() + 2);
    out.push(("Access-Control-Allow-Origin", "null".to_owned()));
    out.push(("Access-Control-Allow-Credentials", "true".to_owned()));
    out.extend(set_cookie_headers(directives));
    out
}

/// The `request_headers` of a refresh as `refreshToken` builds them from a Web `Headers`:
/// `Object.fromEntries([...headers.entries()].map(([k, v]) => [k, [v]]))`. Names lower-cased and sorted (as
/// `Headers` iterates), repeated headers joined with `, ` (`Set-Cookie`: the last value, as `fromEntries` keeps
/// it), each value in a one-element list.
pub fn request_headers_of<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, Vec<String>)> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        // Headers normalises values by trimming leading and trailing HTTP whitespace.
        let value = value.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        match merged.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) if name == "set-cookie" => *v = value.to_owned(),
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(value);
            }
            None => merged.push((name, value.to_owned())),
        }
    }
    merged.sort_by(|a, b| a.0.cmp(&b.0));
    merged.into_iter().map(|(n, v)| (n, vec![v])).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Refresh request

/// What [`refresh_session`] sends. Build `session_id` with [`refresh_session_id`] (Clerk's checks, in order) and
/// `request_headers` with [`request_headers_of`].
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshRequest {
    /// The `sid` of the expired session token.
    pub session_id: String,
    /// The expired session token (`expired_token`).
    pub expired_token: String,
    /// The `__refresh_<suffix>` cookie value (`refresh_token`).
    pub refresh_token: String,
    /// The origin of the request URL (`request_origin`, `clerkUrl.origin`).
    pub request_origin: String,
    /// The request's headers (`request_headers`, `{name: [value]}`), in order; a repeated name keeps its first
    /// position and its last value (`Object.fromEntries`).
    pub request_headers: Vec<(String, Vec<String>)>,
    /// `usesSuffixedCookies()`: the query `suffixed_cookies=true` (Clerk omits the parameter when false).
    pub suffixed_cookies: bool,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("session_id", &self.session_id)
            .field("expired_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("request_origin", &self.request_origin)
            .field("request_headers", &self.request_headers.len())
            .field("suffixed_cookies", &self.suffixed_cookies)
            .finish()
    }
}

/// `request_headers` as a JSON object in the given order (`Object.fromEntries` semantics for repeats).
struct HeaderMap<'a>(&'a [(String, Vec<String>)]);

impl Serialize for HeaderMap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<&str> = Vec::with_capacity(self.0.len());
        for (name, _) in self.0 {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        let mut map = s.serialize_map(Some(names.len()))?;
        for name in names {
            let value = self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v);
            map.serialize_entry(name, &value)?;
        }
        map.end()
    }
}

/// The body `refreshSession` sends, keys in Clerk's order.
#[derive(Serialize)]
struct RefreshBody<'a> {
    format: &'static str,
    expired_token: &'a str,
    refresh_token: &'a str,
    request_origin: &'a str,
    request_headers: HeaderMap<'a>,
}

/// `refreshToken`'s checks before the request, in Clerk's order, then the `sid` of the expired token:
/// no expired token → `missing-session-token`; no refresh token → `missing-refresh-token`; not a decodable JWT →
/// `expired-session-token-decode-failed`; a falsy `sid` → `expired-session-token-missing-sid-claim`.
/// (`missing-api-client` is [`refresh_session`]'s: it needs the options.)
pub fn refresh_session_id(
    expired_token: Option<&str>,
    refresh_token: Option<&str>,
) -> Result<String, RefreshError> {
    let Some(expired) = expired_token.filter(|t| !t.is_empty()) else {
        return Err(RefreshError::new(RefreshReason::MissingSessionToken));
    };
    if refresh_token.is_none_or(str::is_empty) {
        return Err(RefreshError::new(RefreshReason::MissingRefreshToken));
    }
    session_id_from_expired_token(expired)
}

/// The `sid` of an expired session token as `refreshToken` reads it (decoded, not verified): the claim when it is
/// a non-empty string; another truthy value as JavaScript's `String(sid)`; otherwise
/// `expired-session-token-missing-sid-claim`. A token that does not decode: `expired-session-token-decode-failed`
/// (the cause names the decode error, never the token).
pub fn session_id_from_expired_token(token: &str) -> Result<String, RefreshError> {
    let jwt = jwt::decode(token).map_err(|e| {
        RefreshError::new(RefreshReason::ExpiredSessionTokenDecodeFailed).with_cause(e.message)
    })?;
    let sid = match jwt.payload.get("sid") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f == 0.0) => None,
        other => Some(jsfmt::to_js_string(other)),
    };
    match sid.filter(|s| !s.is_empty()) {
        Some(s) => Ok(s),
        None => Err(RefreshError::new(
            RefreshReason::ExpiredSessionTokenMissingSidClaim,
        )),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Backend API requests

/// Clerk's `isDotSegment`: a `.`/`..` segment (split on `/` and `\`), also after up to 10 rounds of
/// percent-decoding.
fn has_dot_segment(segment: &str) -> bool {
    let mut candidate = segment.to_owned();
    for _ in 0..=10 {
        if candidate.split(['/', '\\']).any(|p| p == "." || p == "..") {
            return true;
        }
        match percent_decode(&candidate) {
            Some(next) if next != candidate => candidate = next,
            _ => return false,
        }
    }
    // Clerk throws "too many layers of encoding": refused as well.
    true
}

/// `decodeURIComponent`: `None` where it throws (a malformed escape or invalid UTF-8).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Clerk's `joinPaths(apiUrl, apiVersion, ...path)`: non-empty parts joined with `/`, every run of slashes not
/// right after a `:` collapsed to one; `None` when a segment is `.`/`..` (Clerk throws).
fn join_paths(parts: &[&str]) -> Option<String> {
    let joined = parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let mut out = String::with_capacity(joined.len());
    let mut prev: Option<char> = None;
    let mut in_run = false;
    for c in joined.chars() {
        if c == '/' {
            // `(?<!:)\/{1,}` → `/`: a run that does not start right after `:` becomes one slash.
            if in_run {
                continue;
            }
            if prev == Some(':') {
                out.push(c);
                prev = Some(c);
                continue;
            }
            in_run = true;
            out.push(c);
        } else {
            in_run = false;
            out.push(c);
        }
        prev = Some(c);
    }
    if out.split('/').any(has_dot_segment) {
        return None;
    }
    Some(out)
}

/// A path segment for an id: `/`, `\`, `?`, `#` and `%` percent-encoded so the id stays one segment (the URL
/// parser encodes the rest as Clerk's `new URL` does).
fn id_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '/' => out.push_str("%2F"),
            '\\' => out.push_str("%5C"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            _ => out.push(c),
        }
    }
    out
}

/// The absolute URL of a Backend API call, `query` appended as `URLSearchParams.append` does.
fn bapi_url(
    verifier: &Verifier,
    path: &[&str],
    query: &[(&str, &str)],
) -> Result<url::Url, String> {
    let options = verifier.options();
    let mut parts = vec![options.api_url.as_str(), options.api_version.as_str()];
    parts.extend_from_slice(path);
    let joined = join_paths(&parts)
        .ok_or_else(|| "a path segment is \".\" or \"..\" (apiUrl, apiVersion or id)".to_owned())?;
    let mut url = url::Url::parse(&joined).map_err(|e| format!("invalid apiUrl: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("invalid apiUrl: not an http(s) URL".to_owned());
    }
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in query {
            pairs.append_pair(k, v);
        }
    }
    Ok(url)
}

/// A Backend API exchange that produced no answer to interpret.
enum CallError {
    MissingSecretKey,
    InvalidRequest(String),
    Transport(String),
}

/// An answer: status, whether the media type is JSON, the body.
struct Answer {
    status: u16,
    json_type: bool,
    body: Vec<u8>,
}

fn is_json_media_type(value: Option<&reqwest::header::HeaderValue>) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

async fn call(
    verifier: &Verifier,
    method: reqwest::Method,
    url: url::Url,
    body: Option<Vec<u8>>,
) -> Result<Answer, CallError> {
    let options = verifier.options();
    let Some(secret) = options.secret_key.as_deref().filter(|s| !s.is_empty()) else {
        return Err(CallError::MissingSecretKey);
    };
    let auth =
        reqwest::header::HeaderValue::from_str(&format!("Bearer {secret}")).map_err(|_| {
            CallError::InvalidRequest(
                "the secret key contains characters that are not valid in a header".to_owned(),
            )
        })?;
    let http = verifier
        .client()
        .machine_http()
        .map_err(|e| CallError::Transport(e.to_owned()))?;
    let config = verifier.client().config();
    let mut request = http
        .request(method, url)
        .header("Clerk-API-Version", SUPPORTED_BAPI_VERSION)
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .header(reqwest::header::AUTHORIZATION, auth)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(body) = body {
        request = request.body(body);
    }
    let exchange = async {
        let response = request
            .send()
            .await
            .map_err(|e| CallError::Transport(transport::describe(&e)))?;
        let status = response.status().as_u16();
        let json_type = is_json_media_type(response.headers().get(reqwest::header::CONTENT_TYPE));
        let body = transport::read_capped(response, config.max_response_bytes)
            .await
            .map_err(CallError::Transport)?;
        Ok(Answer {
            status,
            json_type,
            body,
        })
    };
    let timeout = std::time::Duration::from_millis(config.fetch_timeout_ms.max(1));
    tokio::time::timeout(timeout, exchange).await.map_err(|_| {
        CallError::Transport(format!("timed out after {} ms", config.fetch_timeout_ms))
    })?
}

/// How Clerk's `buildRequest` + `withLegacyRequestReturn` end for a non-2xx answer (and `refreshToken`'s catch).
enum Rejection {
    /// Thrown `unexpected_error` (invalid JSON, unparseable `errors`) or `errors[0].code === "unexpected_error"`.
    Fetch,
    /// `errors[0].code`, truthy.
    Code(String),
    /// `errors[0].code` falsy.
    NoCode,
    /// No `errors` (or an empty list).
    NoErrors,
}

/// Clerk's reading of a non-2xx answer (`parseErrors` over the JSON body, `text()` otherwise).
fn rejection(answer: &Answer) -> Rejection {
    if !answer.json_type {
        return Rejection::NoErrors;
    }
    let Ok(json) = serde_json::from_slice::<Value>(&answer.body) else {
        return Rejection::Fetch;
    };
    let Value::Object(obj) = json else {
        return Rejection::NoErrors;
    };
    match obj.get("errors") {
        None => Rejection::NoErrors,
        // `errors.length` of null throws; a string has a length and no `map`.
        Some(Value::Null) => Rejection::Fetch,
        Some(Value::String(s)) if !s.is_empty() => Rejection::Fetch,
        Some(Value::Array(items)) => match items.first() {
            None => Rejection::NoErrors,
            // `new ClerkAPIError(null)` throws.
            Some(Value::Null) => Rejection::Fetch,
            Some(first) => match first.get("code") {
                Some(Value::String(c)) if c == UNEXPECTED_ERROR_CODE => Rejection::Fetch,
                None | Some(Value::Null) | Some(Value::Bool(false)) => Rejection::NoCode,
                Some(Value::String(c)) if c.is_empty() => Rejection::NoCode,
                Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f == 0.0) => Rejection::NoCode,
                code => Rejection::Code(jsfmt::to_js_string(code)),
            },
        },
        Some(_) => Rejection::NoErrors,
    }
}

/// A JSON list as `Set-Cookie` values (`String(x)` of non-strings, as `Headers.append` does).
fn strings(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => jsfmt::to_js_string(Some(other)),
        })
        .collect()
}

/// A 2xx answer's body as Clerk's `deserialize` sees it: `Err(true)` when Clerk throws (invalid JSON, `null`, a
/// number or boolean: `"object" in x`), `Err(false)` when the value has no fields (text, array, string).
fn success_object(answer: &Answer) -> Result<serde_json::Map<String, Value>, bool> {
    if !answer.json_type {
        return Err(false);
    }
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(Value::Array(_)) | Ok(Value::String(_)) => Err(false),
        _ => Err(true),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The three calls

/// `ClientAPI.getHandshakePayload({ nonce })`: `GET {apiUrl}/{apiVersion}/clients/handshake_payload?nonce=<nonce>`
/// (the nonce form-encoded as `URLSearchParams` does; an empty nonce is left out, as Clerk leaves out falsy
/// values), and the answer's `directives` (non-strings as `String(x)`). A 204 answer is no directives. Never cached.
pub async fn handshake_payload(
    verifier: &Verifier,
    nonce: &str,
) -> Result<Vec<String>, ResolveError> {
    use ResolveErrorKind as K;
    let query: &[(&str, &str)] = if nonce.is_empty() {
        &[]
    } else {
        &[("nonce", nonce)]
    };
    let url = bapi_url(verifier, &["clients", "handshake_payload"], query)
        .map_err(|m| ResolveError::new(K::InvalidRequest, m, None))?;
    let answer = call(verifier, reqwest::Method::GET, url, None)
        .await
        .map_err(|e| match e {
            CallError::MissingSecretKey => ResolveError::new(
                K::MissingSecretKey,
                "no secretKey: set secretKey (CLERK_SECRET_KEY) to resolve handshakes",
                None,
            ),
            CallError::InvalidRequest(m) => ResolveError::new(K::InvalidRequest, m, None),
            CallError::Transport(m) => ResolveError::new(K::FetchError, m, None),
        })?;
    let status = answer.status;
    if status == 204 {
        return Ok(Vec::new());
    }
    if !(200..300).contains(&status) {
        let message = format!("the Backend API answered {status}");
        return Err(match rejection(&answer) {
            Rejection::Fetch => ResolveError::new(K::FetchError, message, Some(status)),
            Rejection::Code(code) => ResolveError::new(K::Bapi(Some(code)), message, Some(status)),
            Rejection::NoCode | Rejection::NoErrors => {
                ResolveError::new(K::Bapi(None), message, Some(status))
            }
        });
    }
    match success_object(&answer) {
        Ok(obj) => match obj.get("directives") {
            Some(Value::Array(items)) => Ok(strings(items)),
            _ => Err(ResolveError::new(
                K::UnexpectedResponse,
                format!("the Backend API answered {status} without a directives array"),
                Some(status),
            )),
        },
        Err(true) => Err(ResolveError::new(
            K::FetchError,
            format!("the Backend API answered {status} with a body that is not a JSON object"),
            Some(status),
        )),
        Err(false) => Err(ResolveError::new(
            K::UnexpectedResponse,
            format!("the Backend API answered {status} without a JSON object"),
            Some(status),
        )),
    }
}

/// `SessionAPI.refreshSession(sid, …)` as `refreshToken` calls it: `POST
/// {apiUrl}/{apiVersion}/sessions/{sid}/refresh[?suffixed_cookies=true]` with the JSON body `{"format":"cookie",
/// "expired_token", "refresh_token", "request_origin", "request_headers"}`, returning the answer's `cookies`.
///
/// Errors ([`RefreshError::code`]): no secret key → `missing-api-client`; the checks of [`refresh_session_id`]
/// on empty fields (`missing-session-token`, `missing-refresh-token`, `expired-session-token-missing-sid-claim`);
/// a `.`/`..` sid, `apiUrl` or `apiVersion` → `unexpected-bapi-error` (Clerk's `joinPaths` throws); transport,
/// timeout, oversize or invalid JSON → `fetch-error`; a non-2xx answer → its `errors[0].code` (`unexpected_error`
/// → `fetch-error`, an empty code → `unexpected-sdk-error`, no `errors` → `unexpected-bapi-error`); a 204 →
/// `unexpected-bapi-error`; a 2xx answer without a non-empty `cookies` array → `unexpected-sdk-error`. The
/// `invalid-session-token` step (verifying the new `__session`) is the caller's. Never cached.
pub async fn refresh_session(
    verifier: &Verifier,
    req: &RefreshRequest,
) -> Result<Vec<String>, RefreshError> {
    use RefreshReason as R;
    if verifier
        .options()
        .secret_key
        .as_deref()
        .is_none_or(str::is_empty)
    {
        return Err(RefreshError::new(R::MissingApiClient)
            .with_cause("no secretKey: set secretKey (CLERK_SECRET_KEY) to refresh sessions"));
    }
    if req.expired_token.is_empty() {
        return Err(RefreshError::new(R::MissingSessionToken));
    }
    if req.refresh_token.is_empty() {
        return Err(RefreshError::new(R::MissingRefreshToken));
    }
    if req.session_id.is_empty() {
        return Err(RefreshError::new(R::ExpiredSessionTokenMissingSidClaim));
    }
    let sid = id_segment(&req.session_id);
    let query: &[(&str, &str)] = if req.suffixed_cookies {
        &[("suffixed_cookies", "true")]
    } else {
        &[]
    };
    let url = bapi_url(verifier, &["sessions", &sid, "refresh"], query)
        .map_err(|m| RefreshError::new(R::UnexpectedBapiError).with_cause(m))?;
    let body = serde_json::to_vec(&RefreshBody {
        format: "cookie",
        expired_token: &req.expired_token,
        refresh_token: &req.refresh_token,
        request_origin: &req.request_origin,
        request_headers: HeaderMap(&req.request_headers),
    })
    .map_err(|e| RefreshError::new(R::UnexpectedBapiError).with_cause(e.to_string()))?;
    let answer = call(verifier, reqwest::Method::POST, url, Some(body))
        .await
        .map_err(|e| match e {
            CallError::MissingSecretKey => RefreshError::new(R::MissingApiClient),
            CallError::InvalidRequest(m) => RefreshError::new(R::UnexpectedBapiError).with_cause(m),
            CallError::Transport(m) => RefreshError::new(R::FetchError).with_cause(m),
        })?;
    let status = answer.status;
    let answered = format!("the Backend API answered {status}");
    if status == 204 {
        return Err(RefreshError::new(R::UnexpectedBapiError)
            .with_cause(format!("{answered} (no content)"))
            .with_status(status));
    }
    if !(200..300).contains(&status) {
        let reason = match rejection(&answer) {
            Rejection::Fetch => R::FetchError,
            Rejection::Code(code) => R::Bapi(code),
            Rejection::NoCode => R::UnexpectedSdkError,
            Rejection::NoErrors => R::UnexpectedBapiError,
        };
        let cause = if (300..400).contains(&status) {
            format!("{answered} (a redirect); redirects are never followed")
        } else {
            answered
        };
        return Err(RefreshError::new(reason)
            .with_cause(cause)
            .with_status(status));
    }
    match success_object(&answer) {
        Ok(obj) => match obj.get("cookies") {
            Some(Value::Array(items)) if !items.is_empty() => Ok(strings(items)),
            _ => Err(RefreshError::new(R::UnexpectedSdkError)
                .with_cause(format!("{answered} without cookies"))
                .with_status(status)),
        },
        Err(true) => Err(RefreshError::new(R::FetchError)
            .with_cause(format!("{answered} with a body that is not a JSON object"))
            .with_status(status)),
        Err(false) => Err(RefreshError::new(R::UnexpectedSdkError)
            .with_cause(format!("{answered} without a JSON object"))
            .with_status(status)),
    }
}

/// `verifyHandshakeToken` + `verifyHandshakeJwt`: the legacy `__clerk_handshake` JWT, in Clerk's order: decode →
/// the instance key (the verifier's `jwtKey`, JWKS URL or secret-key JWKS, as for session tokens) → `typ` (absent
/// or `JWT`) → `alg` (RS256/384/512) → `cat` (absent, session or ignore; else "Invalid handshake token category.")
/// → signature. No claim is checked (Clerk checks none). Returns the payload's `handshake` list (non-strings as
/// `String(x)`), empty when it is not a list. Never cached.
pub async fn verify_handshake_token(
    verifier: &Verifier,
    token: &str,
) -> Result<Vec<String>, TokenVerificationError> {
    let jwt = jwt::decode(token)?;
    let kid = jwt.kid();
    let key_error = |e: TokenVerificationError| {
        if verifier.options().key_choice() == KeyChoice::Unresolvable {
            TokenVerificationError::with_action(
                Reason::JwkFailedToResolve,
                "Failed to resolve JWK during handshake verification.",
                action::SET_JWT_KEY_OR_SECRET_KEY,
            )
        } else {
            e
        }
    };
    let key = match verifier.cached_key(&kid).map_err(key_error)? {
        Some(k) => k,
        None => verifier.fetch_key(&kid).await.map_err(key_error)?,
    };

    let typ = jwt.header.get("typ");
    if typ.is_some() && typ.and_then(Value::as_str) != Some("JWT") {
        return Err(TokenVerificationError::with_action(
            Reason::TokenInvalid,
            format!(
                "Invalid JWT type {}. Expected \"JWT\".",
                jsfmt::stringify_capped(typ)
            ),
            action::ENSURE_CLERK_JWT,
        ));
    }
    let alg_value = jwt.header.get("alg");
    let Some(alg) = alg_value
        .and_then(Value::as_str)
        .and_then(Algorithm::from_name)
    else {
        return Err(TokenVerificationError::with_action(
            Reason::TokenInvalidAlgorithm,
            format!(
                "Invalid JWT algorithm {}. Supported: {}.",
                jsfmt::stringify_capped(alg_value),
                Algorithm::SUPPORTED
            ),
            action::ENSURE_CLERK_JWT,
        ));
    };
    let session_category = match jwt.header.get("cat") {
        None => true,
        Some(Value::String(c)) => c == category::SESSION || c == category::IGNORE,
        Some(_) => false,
    };
    if !session_category {
        return Err(TokenVerificationError::with_action(
            Reason::TokenInvalid,
            "Invalid handshake token category.",
            action::ENSURE_CLERK_JWT,
        ));
    }
    let checked = match key.as_ref() {
        Ok(k) => k.verify(alg, jwt.signing_input.as_bytes(), &jwt.signature),
        Err(e) => Err(e.clone()),
    };
    match checked {
        Ok(SignatureCheck::Valid) => {}
        Ok(SignatureCheck::Invalid) => {
            return Err(TokenVerificationError::new(
                Reason::TokenInvalidSignature,
                "Handshake signature is invalid.",
            ))
        }
        Err(e) => {
            return Err(TokenVerificationError::new(
                Reason::TokenVerificationFailed,
                format!("Error verifying handshake token. Error: {e}"),
            ))
        }
    }
    Ok(match jwt.payload.get("handshake") {
        Some(Value::Array(items)) => strings(items),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_paths_as_clerk() {
        assert_eq!(
            join_paths(&[
                "https://api.clerk.com",
                "v1",
                "clients",
                "handshake_payload"
            ])
            .unwrap(),
            "https://api.clerk.com/v1/clients/handshake_payload"
        );
        assert_eq!(
            join_paths(&["http://h:1/base/", "/v1/", "sessions", "s", "refresh"]).unwrap(),
            "http://h:1/base/v1/sessions/s/refresh"
        );
        assert_eq!(join_paths(&["https:///x", "", "y"]).unwrap(), "https://x/y");
        assert!(join_paths(&["http://h", "v1", "sessions", "..", "refresh"]).is_none());
        assert!(join_paths(&["http://h", "v1", "sessions", "%2e%2E", "refresh"]).is_none());
        assert!(join_paths(&["http://h", "v1", "sessions", "%252e%252e", "refresh"]).is_none());
        assert!(join_paths(&["http://h", "v1", "sessions", "a%ZZ", "refresh"]).is_some());
    }

    #[test]
    fn cookie_parts_as_clerk() {
        assert_eq!(cookie_name("__session=a.b.c; Path=/"), "__session");
        assert_eq!(cookie_value("__session=a.b.c; Path=/"), Some("a.b.c"));
        assert_eq!(cookie_value("__session=a=b; Path=/"), Some("a"));
        assert_eq!(cookie_value("__session"), None);
        assert_eq!(cookie_name(""), "");
        let d = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            session_token_from_directives(&d(&[
                "__client_uat=1; Path=/",
                "__session=first; Path=/",
                "__session_abc=second; Path=/",
                "__refresh_abc=r; Path=/",
            ])),
            Some("second".to_owned())
        );
        assert_eq!(session_token_from_directives(&d(&["__client_uat=0"])), None);
        assert_eq!(
            session_token_from_directives(&d(&["__session; Path=/"])),
            Some(String::new())
        );
    }

    #[test]
    fn request_headers_as_web_headers() {
        let h = request_headers_of([
            ("Host", "app.example"),
            ("Accept", " text/html "),
            ("X-A", "1"),
            ("x-a", "2"),
            ("Cookie", "a=1; b=2"),
        ]);
        assert_eq!(
            h,
            vec![
                ("accept".to_owned(), vec!["text/html".to_owned()]),
                ("cookie".to_owned(), vec!["a=1; b=2".to_owned()]),
                ("host".to_owned(), vec!["app.example".to_owned()]),
                ("x-a".to_owned(), vec!["1, 2".to_owned()]),
            ]
        );
    }

    #[test]
    fn refresh_body_keys_in_clerks_order() {
        let headers = vec![
            ("b".to_owned(), vec!["1".to_owned()]),
            ("a".to_owned(), vec!["2".to_owned()]),
            ("b".to_owned(), vec!["3".to_owned()]),
        ];
        let body = serde_json::to_string(&RefreshBody {
            format: "cookie",
            expired_token: "e",
            refresh_token: "r",
            request_origin: "https://o",
            request_headers: HeaderMap(&headers),
        })
        .unwrap();
        assert_eq!(
            body,
            r#"{"format":"cookie","expired_token":"e","refresh_token":"r","request_origin":"https://o","request_headers":{"b":["3"],"a":["2"]}}"#
        );
    }

    #[test]
    fn refresh_reasons() {
        assert_eq!(
            RefreshError::new(RefreshReason::Bapi("session_not_found".into())).code(),
            "session_not_found"
        );
        assert_eq!(
            RefreshError::new(RefreshReason::Bapi("x".into())).message,
            "x"
        );
        assert_eq!(
            refresh_session_id(None, Some("r")).unwrap_err().code(),
            "missing-session-token"
        );
        assert_eq!(
            refresh_session_id(Some("a.b.c"), Some(""))
                .unwrap_err()
                .code(),
            "missing-refresh-token"
        );
        assert_eq!(
            refresh_session_id(Some("nope"), Some("r"))
                .unwrap_err()
                .code(),
            "expired-session-token-decode-failed"
        );
    }
}
