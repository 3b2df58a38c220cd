//! The Clerk instance an authenticator serves, from its publishable key and the multi-domain options
//! (`parsePublishableKey`, `AuthenticateContext.initPublishableKeyValues`): instance type, Frontend API host,
//! cookie suffix, satellite settings.

use super::cookies::cookie_suffix;

/// `pk_test_` keys are development instances, `pk_live_` production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceType {
    /// `pk_test_`.
    Development,
    /// `pk_live_`.
    Production,
}

/// The handshake-family options of `authenticateRequest` (plain values: adapters resolve functions first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceOptions {
    /// `publishableKey`. Without a valid one there is no handshake family (see [`Instance::new`]).
    pub publishable_key: Option<String>,
    /// `domain` (satellites).
    pub domain: Option<String>,
    /// `proxyUrl` (absolute, or a path resolved against the request origin).
    pub proxy_url: Option<String>,
    /// `isSatellite`.
    pub is_satellite: bool,
    /// `signInUrl` (dev satellites redirect there to sync).
    pub sign_in_url: Option<String>,
    /// `satelliteAutoSync`.
    pub satellite_auto_sync: bool,
}

/// An instance parsed from [`InstanceOptions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Development or production.
    pub instance_type: InstanceType,
    /// Clerk's `originalFrontendApi`: the key's host, or `clerk.<domain>` for a production satellite with a
    /// domain. Session tokens of this instance carry it as `iss`.
    pub original_frontend_api: String,
    /// Clerk's `frontendApi` before a relative `proxyUrl` is resolved: `proxyUrl` if set, else as
    /// [`Instance::original_frontend_api`].
    pub frontend_api: String,
    /// `getCookieSuffix(publishableKey)`.
    pub cookie_suffix: String,
    /// `isSatellite`.
    pub is_satellite: bool,
    /// `signInUrl`.
    pub sign_in_url: Option<String>,
    /// `satelliteAutoSync`.
    pub satellite_auto_sync: bool,
}

/// `isomorphicAtob`: forgiving base64 (whitespace removed, `=` padding optional), bytes as Latin-1 characters.
fn atob(s: &str) -> Option<String> {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r'))
        .collect();
    let body = if cleaned.len() % 4 == 0 {
        cleaned
            .strip_suffix("==")
            .or_else(|| cleaned.strip_suffix('='))
            .unwrap_or(&cleaned)
    } else {
        &cleaned
    };
    if body.contains(['=', '-', '_']) {
        return None;
    }
    let bytes = crate::codec::base64url::decode_standard_lenient(body).ok()?;
    Some(bytes.into_iter().map(char::from).collect())
}

/// `isValidDecodedPublishableKey`: `<host>$` with one `$` and a `.` in the host.
fn valid_decoded(decoded: &str) -> bool {
    let Some(host) = decoded.strip_suffix('$') else {
        return false;
    };
    !host.contains('$') && host.contains('.')
}

/// `parsePublishableKey(key)`: the instance type and the key's Frontend API host, `None` when the key is not a
/// valid publishable key.
pub fn parse_publishable_key(key: &str) -> Option<(InstanceType, String)> {
    let instance_type = if key.starts_with("pk_live_") {
        InstanceType::Production
    } else if key.starts_with("pk_test_") {
        InstanceType::Development
    } else {
        return None;
    };
    let parts: Vec<&str> = key.split('_').collect();
    if parts.len() != 3 || parts[2].is_empty() {
        return None;
    }
    let decoded = atob(parts[2])?;
    if !valid_decoded(&decoded) {
        return None;
    }
    Some((instance_type, decoded[..decoded.len() - 1].to_owned()))
}

impl Instance {
    /// The instance of `options`; `None` without a valid publishable key (Clerk throws there; clerk-native then
    /// authenticates without the handshake family, as before it had one).
    pub fn new(options: &InstanceOptions) -> Option<Self> {
        let pk = options
            .publishable_key
            .as_deref()
            .filter(|k| !k.is_empty())?;
        let (instance_type, key_host) = parse_publishable_key(pk)?;
        let domain = options.domain.as_deref().filter(|d| !d.is_empty());
        let original_frontend_api = match domain {
            Some(d) if instance_type == InstanceType::Production && options.is_satellite => {
                format!("clerk.{d}")
            }
            _ => key_host,
        };
        let frontend_api = options
            .proxy_url
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| original_frontend_api.clone());
        Some(Instance {
            instance_type,
            original_frontend_api,
            frontend_api,
            cookie_suffix: cookie_suffix(pk),
            is_satellite: options.is_satellite,
            sign_in_url: options.sign_in_url.clone().filter(|s| !s.is_empty()),
            satellite_auto_sync: options.satellite_auto_sync,
        })
    }

    /// A development instance.
    pub fn is_development(&self) -> bool {
        self.instance_type == InstanceType::Development
    }

    /// Clerk's `frontendApi` for this request: a relative `proxyUrl` is resolved against the request origin.
    pub fn frontend_api_for(&self, origin: Option<&str>) -> String {
        match (self.frontend_api.starts_with('/'), origin) {
            (true, Some(o)) => format!("{o}{}", self.frontend_api),
            _ => self.frontend_api.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            parse_publishable_key("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"),
            Some((InstanceType::Development, "clerk.example.com".into()))
        );
        assert_eq!(
            parse_publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k"),
            Some((InstanceType::Production, "clerk.example.com".into()))
        );
        assert_eq!(parse_publishable_key("pk_test_env"), None);
        assert_eq!(parse_publishable_key("pk_test_a_b"), None);
        let sat = Instance::new(&InstanceOptions {
            publishable_key: Some("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k".into()),
            domain: Some("sat.example.net".into()),
            is_satellite: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(sat.frontend_api, "clerk.sat.example.net");
    }
}
