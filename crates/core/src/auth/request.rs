//! The request facts the handshake family reads beyond `Authorization`/`Cookie`/method: the URL (Clerk's
//! `ClerkRequest.deriveUrlFromHeaders`), `Sec-Fetch-Dest`, `Accept`, `Referer`, and the `organizationSyncOptions`
//! target of the path (matched in JavaScript with Clerk's path-to-regexp, see `lib/path-pattern.js`).
//!
//! The binding passes them as one compact string ([`RequestContext::parse_compact`]) and only when they can
//! matter: for a request that is eligible for a handshake, or whose URL may carry a `__clerk_*` parameter.
//! Without them ([`RequestContext::NONE`]) a request is not eligible and its URL has no Clerk parameter.

use url::Url;

/// The active organization a path asks for (`OrganizationMatcher.findTarget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgTarget<'a> {
    /// A personal-account pattern matched.
    PersonalAccount,
    /// An organization pattern matched with `:id`.
    Id(&'a str),
    /// An organization pattern matched with `:slug`.
    Slug(&'a str),
}

/// Request facts for the handshake family. Header values are `None` when the header is absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContext<'a> {
    /// The request URL (absolute) as received, before `X-Forwarded-*` are applied. `None`: facts unknown.
    pub url: Option<&'a str>,
    /// `Host`.
    pub host: Option<&'a str>,
    /// `X-Forwarded-Host`.
    pub forwarded_host: Option<&'a str>,
    /// `X-Forwarded-Proto`.
    pub forwarded_proto: Option<&'a str>,
    /// `Sec-Fetch-Dest`.
    pub sec_fetch_dest: Option<&'a str>,
    /// `Accept`.
    pub accept: Option<&'a str>,
    /// `Referer`.
    pub referer: Option<&'a str>,
    /// The `organizationSyncOptions` target of the path, if any.
    pub org_target: Option<OrgTarget<'a>>,
}

impl<'a> RequestContext<'a> {
    /// No request facts.
    pub const NONE: RequestContext<'static> = RequestContext {
        url: None,
        host: None,
        forwarded_host: None,
        forwarded_proto: None,
        sec_fetch_dest: None,
        accept: None,
        referer: None,
        org_target: None,
    };

    /// Parses the binding's compact form: 8 fields separated by `\n`: url, host, x-forwarded-host,
    /// x-forwarded-proto, sec-fetch-dest, accept, referer, org target. A header field is empty when the header is
    /// absent and `=` + value when present; the org target is empty, `p` (personal account), `i<id>` or `s<slug>`.
    pub fn parse_compact(s: &'a str) -> RequestContext<'a> {
        let mut f = s.split('\n');
        let url = f.next().filter(|u| !u.is_empty());
        let mut header = || f.next().and_then(|v| v.strip_prefix('='));
        let host = header();
        let forwarded_host = header();
        let forwarded_proto = header();
        let sec_fetch_dest = header();
        let accept = header();
        let referer = header();
        let org_target = f.next().and_then(|t| match t.as_bytes().first() {
            Some(b'p') => Some(OrgTarget::PersonalAccount),
            Some(b'i') => Some(OrgTarget::Id(&t[1..])),
            Some(b's') => Some(OrgTarget::Slug(&t[1..])),
            _ => None,
        });
        RequestContext {
            url,
            host,
            forwarded_host,
            forwarded_proto,
            sec_fetch_dest,
            accept,
            referer,
            org_target,
        }
    }

    /// `getHeader(name) || undefined` for `Sec-Fetch-Dest`.
    pub fn dest(&self) -> Option<&'a str> {
        self.sec_fetch_dest.filter(|d| !d.is_empty())
    }

    /// `HandshakeService.isRequestEligibleForHandshake`: a GET whose `Sec-Fetch-Dest` is `document` or `iframe`,
    /// or without `Sec-Fetch-Dest` and with an `Accept` starting with `text/html`.
    pub fn is_eligible_for_handshake(&self, is_get: bool) -> bool {
        if !is_get || self.url.is_none() {
            return false;
        }
        match self.dest() {
            Some(d) => d == "document" || d == "iframe",
            None => self
                .accept
                .filter(|a| !a.is_empty())
                .is_some_and(|a| a.starts_with("text/html")),
        }
    }

    /// A GET document navigation (`Sec-Fetch-Dest: document`).
    pub fn is_document(&self, is_get: bool) -> bool {
        is_get && self.url.is_some() && self.dest() == Some("document")
    }
}

/// `getFirstValueFromHeader`: the text before the first comma.
fn first_value(v: &str) -> &str {
    v.split(',').next().unwrap_or(v)
}

/// Clerk's `ClerkRequest.deriveUrlFromHeaders`: the URL with its origin taken from `X-Forwarded-Host` (first
/// value, else `Host`) and `X-Forwarded-Proto` (first value, else the URL's scheme). `None` when the URL does
/// not parse (Clerk throws there).
pub fn derive_url(ctx: &RequestContext<'_>) -> Option<Url> {
    let initial = Url::parse(ctx.url?).ok()?;
    let resolved_host = match ctx.forwarded_host {
        Some(h) => Some(first_value(h)),
        None => ctx.host,
    };
    let scheme = initial.scheme().to_owned();
    let resolved_proto = match ctx.forwarded_proto {
        Some(p) => first_value(p).to_owned(),
        None => scheme,
    };
    let (Some(host), false) = (
        resolved_host.filter(|h| !h.is_empty()),
        resolved_proto.is_empty(),
    ) else {
        return Some(initial);
    };
    let origin = format!("{resolved_proto}://{host}");
    if origin == initial.origin().ascii_serialization() {
        return Some(initial);
    }
    let mut path = initial.path().to_owned();
    if let Some(q) = initial.query() {
        path.push('?');
        path.push_str(q);
    }
    match Url::parse(&origin).and_then(|base| base.join(&path)) {
        Ok(u) => Some(u),
        Err(_) => Some(initial),
    }
}

/// `url.searchParams.get(name)`: the first value, form-decoded.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url.searchParams.has(name)`.
pub fn has_query_param(url: &Url, name: &str) -> bool {
    url.query_pairs().any(|(k, _)| k == name)
}

/// The URL after `url.searchParams.delete(name)` for each of `names`: the query is re-serialized as
/// `application/x-www-form-urlencoded` even when nothing was removed (and dropped when it becomes empty), as the
/// URL standard's update steps do.
pub fn without_query_params(url: &Url, names: &[&str]) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !names.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    if url.query().is_none() {
        return out;
    }
    set_pairs(&mut out, &pairs);
    out
}

/// Replaces the query with `pairs` serialized as `URLSearchParams` does (`None` query when empty).
pub fn set_pairs(url: &mut Url, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        url.set_query(None);
        return;
    }
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    url.set_query(Some(&s.finish()));
}

/// `url.searchParams.append(name, value)`.
pub fn append_param(url: &mut Url, name: &str, value: &str) {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push((name.to_owned(), value.to_owned()));
    set_pairs(url, &pairs);
}

/// `url.searchParams.set(name, value)`: the first pair of that name gets the value, later ones go; appended
/// when there is none.
pub fn set_param(url: &mut Url, name: &str, value: &str) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut found = false;
    for (k, v) in url.query_pairs() {
        if k == name {
            if !found {
                pairs.push((k.into_owned(), value.to_owned()));
                found = true;
            }
        } else {
            pairs.push((k.into_owned(), v.into_owned()));
        }
    }
    if !found {
        pairs.push((name.to_owned(), value.to_owned()));
    }
    set_pairs(url, &pairs);
}

/// `AuthenticateContext.isCrossOriginReferrer`.
pub fn is_cross_origin_referrer(referer: Option<&str>, url: &Url) -> bool {
    let Some(r) = referer.filter(|r| !r.is_empty()) else {
        return false;
    };
    let origin = url.origin().ascii_serialization();
    if origin.is_empty() {
        return false;
    }
    match Url::parse(r) {
        Ok(r) => r.origin().ascii_serialization() != origin,
        Err(_) => false,
    }
}

const LEGACY_DEV_SUFFIXES: [&str; 3] = [".lcl.dev", ".lclstage.dev", ".lclclerk.com"];
const CURRENT_DEV_SUFFIXES: [&str; 3] = [
    ".accounts.dev",
    ".accountsstage.dev",
    ".accounts.lclclerk.com",
];

/// `buildAccountsBaseUrl(frontendApi)`.
fn accounts_base_url(frontend_api: &str) -> String {
    if frontend_api.is_empty() {
        return String::new();
    }
    let staged = match frontend_api.find("clerk.accountsstage.") {
        Some(i) => format!(
            "{}accountsstage.{}",
            &frontend_api[..i],
            &frontend_api[i + "clerk.accountsstage.".len()..]
        ),
        None => frontend_api.to_owned(),
    };
    // /clerk\.accounts\.|clerk\./: the leftmost match, the first alternative winning at the same position.
    let replaced = match (staged.find("clerk.accounts."), staged.find("clerk.")) {
        (Some(i), Some(j)) if i == j => format!(
            "{}accounts.{}",
            &staged[..i],
            &staged[i + "clerk.accounts.".len()..]
        ),
        (_, Some(j)) => format!("{}accounts.{}", &staged[..j], &staged[j + "clerk.".len()..]),
        _ => staged,
    };
    format!("https://{replaced}")
}

/// `AuthenticateContext.isKnownClerkReferrer`: the Frontend API host, a development Account Portal (non-production
/// instances), or the Account Portal of the Frontend API.
pub fn is_known_clerk_referrer(
    referer: Option<&str>,
    frontend_api: &str,
    production: bool,
) -> bool {
    let Some(r) = referer.filter(|r| !r.is_empty()) else {
        return false;
    };
    let Ok(referrer) = Url::parse(r) else {
        return false;
    };
    let host = referrer.host_str().unwrap_or("");
    if !frontend_api.is_empty() {
        let fapi_host = if frontend_api.starts_with("http") {
            match Url::parse(frontend_api) {
                Ok(u) => u.host_str().unwrap_or("").to_owned(),
                Err(_) => return false,
            }
        } else {
            frontend_api.to_owned()
        };
        if host == fapi_host {
            return true;
        }
    }
    if !production
        && (LEGACY_DEV_SUFFIXES
            .iter()
            .any(|s| host.starts_with("accounts.") && host.ends_with(s))
            || CURRENT_DEV_SUFFIXES
                .iter()
                .any(|s| host.ends_with(s) && !host.ends_with(&format!(".clerk{s}"))))
    {
        return true;
    }
    let expected = accounts_base_url(frontend_api);
    if !expected.is_empty() {
        match Url::parse(&expected) {
            Ok(u) => {
                if referrer.origin().ascii_serialization() == u.origin().ascii_serialization() {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_url_uses_forwarded_headers() {
        let ctx = RequestContext {
            url: Some("http://localhost:3000/a?b=1"),
            forwarded_host: Some("app.example.com, proxy"),
            forwarded_proto: Some("https"),
            ..RequestContext::NONE
        };
        assert_eq!(
            derive_url(&ctx).unwrap().as_str(),
            "https://app.example.com/a?b=1"
        );
        let ctx = RequestContext {
            url: Some("http://localhost:3000/a"),
            host: Some("localhost:3000"),
            ..RequestContext::NONE
        };
        assert_eq!(
            derive_url(&ctx).unwrap().as_str(),
            "http://localhost:3000/a"
        );
    }

    #[test]
    fn delete_reserializes() {
        let u = Url::parse("https://a.com/p?x=a%20b&__clerk_db_jwt=1&y").unwrap();
        assert_eq!(
            without_query_params(&u, &["__clerk_db_jwt"]).as_str(),
            "https://a.com/p?x=a+b&y="
        );
    }

    #[test]
    fn accounts_url() {
        assert_eq!(
            accounts_base_url("clerk.example.com"),
            "https://accounts.example.com"
        );
        assert_eq!(
            accounts_base_url("foo-bar-13.clerk.accounts.dev"),
            "https://foo-bar-13.accounts.dev"
        );
    }
}
