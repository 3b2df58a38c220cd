//! Where a JWKS comes from: the Backend API (`GET {apiUrl}/{apiVersion}/jwks` with the secret key) or any JWKS URL
//! (fetched without credentials), and the cache scope that identifies it.

use std::fmt;

use super::load_error;
use crate::cache::token_key::Scope;
use crate::jwt::error::TokenVerificationError;

/// A JWKS endpoint plus the credentials to call it. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct JwksSource {
    endpoint: String,
    display: String,
    bearer: Option<String>,
    scope: [u8; 32],
}

impl fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksSource")
            .field("endpoint", &self.display)
            .field("authenticated", &self.bearer.is_some())
            .finish()
    }
}

fn parse_http_url(raw: &str, what: &str) -> Result<url::Url, TokenVerificationError> {
    let url =
        url::Url::parse(raw).map_err(|e| load_error(format!("Invalid {what} {raw:?}: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(load_error(format!(
            "Invalid {what} {raw:?}: must use http or https"
        )));
    }
    Ok(url)
}

/// The URL as shown in messages: without any user name or password.
fn display_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// The cache scope of a source: [`Scope::from_parts`] (length-prefixed SHA-256) over its identifying parts.
fn scope_id(parts: &[&str]) -> [u8; 32] {
    *Scope::from_parts(parts.iter().map(|p| p.as_bytes())).as_bytes()
}

impl JwksSource {
    /// The Backend API JWKS of the instance that owns `secret_key`: `{apiUrl}/{apiVersion}/jwks` (path segments
    /// joined with slashes collapsed; `.`/`..` segments in `apiVersion` rejected), with `Authorization: Bearer`.
    /// An empty secret key fails with Clerk's `jwk-remote-failed-to-load` "Failed to load JWKS from Clerk Backend or
    /// Frontend API." (action ContactSupport).
    pub fn bapi(
        api_url: &str,
        api_version: &str,
        secret_key: &str,
    ) -> Result<Self, TokenVerificationError> {
        if secret_key.is_empty() {
            return Err(load_error(
                "Failed to load JWKS from Clerk Backend or Frontend API.".to_owned(),
            ));
        }
        let mut url = parse_http_url(api_url, "apiUrl")?;
        if api_version
            .split('/')
            .any(|seg| seg == "." || seg == ".." || seg.eq_ignore_ascii_case("%2e%2e"))
        {
            return Err(load_error(format!("Invalid apiVersion {api_version:?}")));
        }
        let joined = format!("{}/{}/jwks", url.path(), api_version);
        let mut path = String::with_capacity(joined.len());
        for c in joined.chars() {
            if !(c == '/' && path.ends_with('/')) {
                path.push(c);
            }
        }
        url.set_path(&path);
        let endpoint = url.to_string();
        Ok(Self {
            scope: scope_id(&["bapi", &endpoint, api_version, secret_key]),
            display: display_url(&url),
            endpoint,
            bearer: Some(secret_key.to_owned()),
        })
    }

    /// Any JWKS endpoint (e.g. `https://<fapi>/.well-known/jwks.json`), fetched without credentials.
    pub fn url(jwks_url: &str) -> Result<Self, TokenVerificationError> {
        let url = parse_http_url(jwks_url, "jwksUrl")?;
        let endpoint = url.to_string();
        Ok(Self {
            scope: scope_id(&["url", &endpoint]),
            display: display_url(&url),
            endpoint,
            bearer: None,
        })
    }

    /// The URL fetched.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The URL as shown in error messages (credentials stripped).
    pub fn display_url(&self) -> &str {
        &self.display
    }

    pub(crate) fn bearer(&self) -> Option<&str> {
        self.bearer.as_deref()
    }

    /// The cache scope: SHA-256 over (kind, endpoint, API version, secret key).
    pub fn scope_id(&self) -> [u8; 32] {
        self.scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::Reason;

    #[test]
    fn bapi_url_joins_paths() {
        let s = JwksSource::bapi("https://api.clerk.com", "v1", "sk_test_x").unwrap();
        assert_eq!(s.endpoint(), "https://api.clerk.com/v1/jwks");
        let s = JwksSource::bapi("http://127.0.0.1:9/base/", "/v1/", "sk").unwrap();
        assert_eq!(s.endpoint(), "http://127.0.0.1:9/base/v1/jwks");
        assert!(JwksSource::bapi("https://api.clerk.com", "../v1", "sk").is_err());
        assert!(JwksSource::bapi("ftp://api.clerk.com", "v1", "sk").is_err());
        assert!(JwksSource::bapi("not a url", "v1", "sk").is_err());
        let e = JwksSource::bapi("https://api.clerk.com", "v1", "").unwrap_err();
        assert_eq!(e.reason, Reason::JwkRemoteFailedToLoad);
        assert_eq!(
            e.message,
            "Failed to load JWKS from Clerk Backend or Frontend API."
        );
    }

    #[test]
    fn scopes_differ_by_secret_and_never_show_it() {
        let a = JwksSource::bapi("https://api.clerk.com", "v1", "sk_live_secret_a").unwrap();
        let b = JwksSource::bapi("https://api.clerk.com", "v1", "sk_live_secret_b").unwrap();
        let u = JwksSource::url("https://api.clerk.com/v1/jwks").unwrap();
        assert_ne!(a.scope_id(), b.scope_id());
        assert_ne!(a.scope_id(), u.scope_id());
        assert!(!format!("{a:?}").contains("secret"));
        let creds = JwksSource::url("https://user:pw@example.com/jwks").unwrap();
        assert_eq!(creds.display_url(), "https://example.com/jwks");
    }
}
