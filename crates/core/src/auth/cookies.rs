//! The cookies `authenticateRequest` reads, parsed as Clerk parses them (`cookie.parse` of the `cookie` package
//! bundled in @clerk/backend 3.25.0), and Clerk's choice between the suffixed and the unsuffixed cookie names
//! (`AuthenticateContext.usesSuffixedCookies`, AUTH-PARITY §2 item 10).

use std::borrow::Cow;

use serde_json::Value;

use crate::codec::base64url;

/// `__session` (and the prefix of `__session_<suffix>`).
pub const SESSION: &str = "__session";
/// `__client_uat`.
pub const CLIENT_UAT: &str = "__client_uat";
/// `__clerk_db_jwt` (the dev-browser token; also a query parameter).
pub const DEV_BROWSER: &str = "__clerk_db_jwt";
/// `__refresh` (only ever read suffixed).
pub const REFRESH: &str = "__refresh";
/// `__clerk_handshake` (legacy handshake JWT; also a query parameter).
pub const HANDSHAKE: &str = "__clerk_handshake";
/// `__clerk_handshake_nonce` (also a query parameter).
pub const HANDSHAKE_NONCE: &str = "__clerk_handshake_nonce";
/// `__clerk_redirect_count` (the handshake loop guard).
pub const REDIRECT_COUNT: &str = "__clerk_redirect_count";

/// Clerk's `getCookieSuffix`: `base64(SHA-1(publishableKey))` made URL-safe, first 8 characters.
pub fn cookie_suffix(publishable_key: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        publishable_key.as_bytes(),
    );
    // Standard base64 with `+`→`-`, `/`→`_` is base64url; 20 bytes give 27 characters, no padding in the first 8.
    let mut s = base64url::encode(digest.as_ref());
    s.truncate(8);
    s
}

/// The request cookies Clerk reads, each the first occurrence of its name (empty values count as absent, as
/// Clerk's `getCookie(name) || undefined` does).
#[derive(Debug, Default, Clone)]
pub struct RequestCookies<'a> {
    /// `__session`.
    pub session: Option<Cow<'a, str>>,
    /// `__client_uat`.
    pub client_uat: Option<Cow<'a, str>>,
    /// `__clerk_db_jwt`.
    pub dev_browser: Option<Cow<'a, str>>,
    /// `__session_<suffix>`.
    pub session_suffixed: Option<Cow<'a, str>>,
    /// `__client_uat_<suffix>`.
    pub client_uat_suffixed: Option<Cow<'a, str>>,
    /// `__clerk_db_jwt_<suffix>`.
    pub dev_browser_suffixed: Option<Cow<'a, str>>,
    /// `__refresh_<suffix>`.
    pub refresh: Option<Cow<'a, str>>,
    /// `__clerk_handshake`.
    pub handshake: Option<Cow<'a, str>>,
    /// `__clerk_handshake_nonce`.
    pub handshake_nonce: Option<Cow<'a, str>>,
    /// `__clerk_redirect_count`.
    pub redirect_count: Option<Cow<'a, str>>,
}

/// `valueSlice`: `s[min..max]` without surrounding spaces and tabs.
fn trimmed(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// The cookie package's `decode`: `decodeURIComponent` when the value contains `%`, the raw value when that fails.
fn decode(v: &str) -> Cow<'_, str> {
    if !v.contains('%') {
        return Cow::Borrowed(v);
    }
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => return Cow::Borrowed(v),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(v),
    }
}

/// Walks `header` as `cookie.parse` does, calling `f(name, raw value)` for every pair in order.
fn for_each_pair<'a>(header: &'a str, mut f: impl FnMut(&'a str, &'a str)) {
    let bytes = header.as_bytes();
    let len = bytes.len();
    if len < 2 {
        return;
    }
    let mut index = 0;
    loop {
        let Some(eq) = header[index..].find('=').map(|i| i + index) else {
            break;
        };
        let end = header[index..].find(';').map_or(len, |i| i + index);
        if eq > end {
            index = header[..eq].rfind(';').map_or(0, |i| i + 1);
            continue;
        }
        let key = trimmed(&header[index..eq]);
        let value = &header[eq + 1..end];
        f(key, value);
        index = end + 1;
        if index >= len {
            break;
        }
    }
}

impl<'a> RequestCookies<'a> {
    /// The cookies of a `Cookie` header; `suffix` is the instance's cookie suffix (`None`: no suffixed names).
    pub fn parse(header: &'a str, suffix: Option<&str>) -> Self {
        let mut c = RequestCookies::default();
        for_each_pair(header, |key, raw| {
            let Some(rest) = key.strip_prefix("__") else {
                return;
            };
            let slot = match rest {
                "session" => &mut c.session,
                "client_uat" => &mut c.client_uat,
                "clerk_db_jwt" => &mut c.dev_browser,
                "clerk_handshake" => &mut c.handshake,
                "clerk_handshake_nonce" => &mut c.handshake_nonce,
                "clerk_redirect_count" => &mut c.redirect_count,
                _ => {
                    let Some(sfx) = suffix else { return };
                    let Some((base, s)) = rest.rsplit_once('_') else {
                        return;
                    };
                    if s != sfx {
                        return;
                    }
                    match base {
                        "session" => &mut c.session_suffixed,
                        "client_uat" => &mut c.client_uat_suffixed,
                        "clerk_db_jwt" => &mut c.dev_browser_suffixed,
                        "refresh" => &mut c.refresh,
                        _ => return,
                    }
                }
            };
            // First occurrence wins, even when its value is empty.
            if slot.is_none() {
                *slot = Some(decode(trimmed(raw)));
            }
        });
        // `getCookie(name) || undefined`: an empty value is no cookie.
        for slot in [
            &mut c.session,
            &mut c.client_uat,
            &mut c.dev_browser,
            &mut c.session_suffixed,
            &mut c.client_uat_suffixed,
            &mut c.dev_browser_suffixed,
            &mut c.refresh,
            &mut c.handshake,
            &mut c.handshake_nonce,
            &mut c.redirect_count,
        ] {
            if slot.as_deref() == Some("") {
                *slot = None;
            }
        }
        c
    }
}

/// What rules 1 and 2 of [`uses_suffixed_cookies`] need to know about the unsuffixed `__session`'s `iss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionIssuer {
    /// Not a decodable JWT, or `iss` is falsy (`tokenHasIssuer` is false).
    None,
    /// `iss` is a string naming this instance's Frontend API (scheme stripped).
    ThisInstance,
    /// Any other truthy `iss`.
    Other,
}

impl SessionIssuer {
    /// Classifies a decoded payload's `iss` against `frontend_api` (Clerk's `originalFrontendApi`).
    pub fn of(iss: Option<&Value>, frontend_api: &str) -> Self {
        match iss {
            None | Some(Value::Null) | Some(Value::Bool(false)) => SessionIssuer::None,
            Some(Value::String(s)) if s.is_empty() => SessionIssuer::None,
            Some(Value::Number(n)) if n.as_f64() == Some(0.0) => SessionIssuer::None,
            Some(Value::String(s)) => Self::of_str(s, frontend_api),
            Some(_) => SessionIssuer::Other,
        }
    }

    /// A non-empty string `iss`: `iss.replace(/https?:\/\//gi, '') === frontendApi`.
    pub fn of_str(iss: &str, frontend_api: &str) -> Self {
        if strip_schemes(iss) == frontend_api {
            SessionIssuer::ThisInstance
        } else {
            SessionIssuer::Other
        }
    }
}

/// `s.replace(/https?:\/\//gi, '')`.
fn strip_schemes(s: &str) -> Cow<'_, str> {
    let lower = s.to_ascii_lowercase();
    if !lower.contains("http") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let rest = &lower[i..];
        let skip = if rest.starts_with("https://") {
            8
        } else if rest.starts_with("http://") {
            7
        } else {
            0
        };
        if skip > 0 {
            i += skip;
            continue;
        }
        let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + ch_len]);
        i += ch_len;
    }
    Cow::Owned(out)
}

/// The facts [`uses_suffixed_cookies`] reads.
#[derive(Debug, Clone, Copy)]
pub struct SuffixFacts<'a> {
    /// The unsuffixed `__session`, if any, and its issuer class.
    pub session: Option<SessionIssuer>,
    /// `iat` of the unsuffixed `__session` (0 when absent or undecodable).
    pub session_iat: f64,
    /// The unsuffixed `__client_uat`.
    pub client_uat: Option<&'a str>,
    /// `__session_<suffix>` exists.
    pub has_session_suffixed: bool,
    /// `iat` of `__session_<suffix>` (0 when absent or undecodable).
    pub session_suffixed_iat: f64,
    /// `__session_<suffix>` decodes and its `exp` is at or before now (seconds).
    pub session_suffixed_expired: bool,
    /// `__client_uat_<suffix>`.
    pub client_uat_suffixed: Option<&'a str>,
    /// A production instance.
    pub production: bool,
}

/// Clerk's `usesSuffixedCookies`, the 8 rules of AUTH-PARITY §2 item 10 in order.
pub fn uses_suffixed_cookies(f: &SuffixFacts<'_>) -> bool {
    match f.session {
        // 1. A `__session` without `iss` (or not a JWT).
        Some(SessionIssuer::None) => return false,
        // 2. A `__session` of another instance.
        Some(SessionIssuer::Other) => return true,
        _ => {}
    }
    // 3. No suffixed cookies at all.
    if f.client_uat_suffixed.is_none() && !f.has_session_suffixed {
        return false;
    }
    // 4. Both uats set (not "0") and the unsuffixed session is newer.
    if f.client_uat_suffixed != Some("0")
        && f.client_uat != Some("0")
        && f.session_iat > f.session_suffixed_iat
    {
        return false;
    }
    // 5. The suffixed uat says signed out, the unsuffixed one does not.
    if f.client_uat_suffixed == Some("0") && f.client_uat != Some("0") {
        return false;
    }
    // 6. Non-production: the unsuffixed uat says signed out and the suffixed session is expired.
    if !f.production
        && f.client_uat_suffixed != Some("0")
        && f.client_uat == Some("0")
        && f.session_suffixed_expired
    {
        return false;
    }
    // 7. A suffixed session without a suffixed uat.
    if f.client_uat_suffixed.is_none() && f.has_session_suffixed {
        return false;
    }
    // 8.
    true
}

/// `Number.parseInt(s) || 0` (radix 10 unless a `0x` prefix; leading whitespace and a sign allowed).
pub fn parse_int_or_zero(s: Option<&str>) -> f64 {
    let Some(s) = s else { return 0.0 };
    let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = if t.len() >= 2 && (t.starts_with("0x") || t.starts_with("0X")) {
        (16, &t[2..])
    } else {
        (10, t)
    };
    let mut v = 0f64;
    let mut any = false;
    for c in t.chars() {
        match c.to_digit(radix) {
            Some(d) => {
                v = v * f64::from(radix) + f64::from(d);
                any = true;
            }
            None => break,
        }
    }
    if !any {
        return 0.0;
    }
    if neg {
        -v
    } else {
        v
    }
}

/// `Number(s) || 0` for the redirect-count cookie (decimal and `0x`/`0o`/`0b` integers, surrounding whitespace).
pub fn number_or_zero(s: Option<&str>) -> f64 {
    let Some(s) = s else { return 0.0 };
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    let radix = |p: &str, r: u32| {
        let digits = &t[p.len()..];
        if digits.is_empty() {
            return None;
        }
        digits.chars().try_fold(0f64, |acc, c| {
            c.to_digit(r).map(|d| acc * f64::from(r) + f64::from(d))
        })
    };
    let lower = t.to_ascii_lowercase();
    let v = if lower.starts_with("0x") {
        radix("0x", 16)
    } else if lower.starts_with("0o") {
        radix("0o", 8)
    } else if lower.starts_with("0b") {
        radix("0b", 2)
    } else if matches!(t, "Infinity" | "+Infinity") {
        Some(f64::INFINITY)
    } else if t == "-Infinity" {
        Some(f64::NEG_INFINITY)
    } else if t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        t.parse::<f64>().ok()
    } else {
        None
    };
    match v {
        Some(x) if x.is_finite() || x.is_infinite() => {
            if x == 0.0 || x.is_nan() {
                0.0
            } else {
                x
            }
        }
        _ => 0.0,
    }
}

/// JavaScript's `String(n)` for the small numbers a redirect counter holds.
pub fn js_number_string(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i64)
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_matches_clerk() {
        // node -e "crypto.createHash('sha1').update(pk).digest('base64')" → first 8, URL-safe.
        assert_eq!(cookie_suffix("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k").len(), 8);
    }

    #[test]
    fn parse_follows_the_cookie_package() {
        let c = RequestCookies::parse(
            " __session = a%20b ; __session=second; __client_uat=\"1\"; junk; __refresh_abcdefgh=r; __clerk_db_jwt=",
            Some("abcdefgh"),
        );
        assert_eq!(c.session.as_deref(), Some("a b"));
        assert_eq!(c.client_uat.as_deref(), Some("\"1\""));
        assert_eq!(c.refresh.as_deref(), Some("r"));
        assert_eq!(c.dev_browser, None);
        let c = RequestCookies::parse("__session=%E0%A4%A", None);
        assert_eq!(c.session.as_deref(), Some("%E0%A4%A"));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_int_or_zero(Some(" 12abc")), 12.0);
        assert_eq!(parse_int_or_zero(Some("0x10")), 16.0);
        assert_eq!(parse_int_or_zero(Some("\"1\"")), 0.0);
        assert_eq!(parse_int_or_zero(Some("-5")), -5.0);
        assert_eq!(number_or_zero(Some(" 3 ")), 3.0);
        assert_eq!(number_or_zero(Some("3x")), 0.0);
        assert_eq!(number_or_zero(Some("2.5")), 2.5);
        assert_eq!(js_number_string(3.0), "3");
        assert_eq!(js_number_string(3.5), "3.5");
    }
}
