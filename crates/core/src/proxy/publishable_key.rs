//! Publishable key parsing and FAPI/BAPI host selection (SPEC 1.3, 1.4).

/// Production Frontend API base URL.
pub const PROD_FAPI_URL: &str = "https://frontend-api.clerk.dev";
/// Staging Frontend API base URL.
pub const STAGING_FAPI_URL: &str = "https://frontend-api.clerkstage.dev";
/// Local Frontend API base URL.
pub const LOCAL_FAPI_URL: &str = "https://frontend-api.lclclerk.com";

/// Production Backend API base URL.
pub const PROD_API_URL: &str = "https://api.clerk.com";
/// Staging Backend API base URL.
pub const STAGING_API_URL: &str = "https://api.clerkstage.dev";
/// Local Backend API base URL.
pub const LOCAL_API_URL: &str = "https://api.lclclerk.com";

/// Suffixes of legacy development instances (`clerk.<x>` hosts with these suffixes select PROD).
pub const LEGACY_DEV_INSTANCE_SUFFIXES: [&str; 3] = [".lcl.dev", ".lclstage.dev", ".lclclerk.com"];
/// Suffixes that select the LOCAL environment. `"lclstage.dev"` has no leading dot, as in Clerk.
pub const LOCAL_ENV_SUFFIXES: [&str; 4] = [
    ".lcl.dev",
    "lclstage.dev",
    ".lclclerk.com",
    ".accounts.lclclerk.com",
];
/// Suffixes that select the STAGING environment.
pub const STAGING_ENV_SUFFIXES: [&str; 1] = [".accountsstage.dev"];

const LIVE_PREFIX: &str = "pk_live_";
const TEST_PREFIX: &str = "pk_test_";

/// The kind of Clerk instance a publishable key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceType {
    /// A `pk_live_` key.
    Production,
    /// A `pk_test_` key.
    Development,
}

/// A successfully parsed publishable key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishableKey {
    /// `Production` for `pk_live_`, `Development` for `pk_test_`.
    pub instance_type: InstanceType,
    /// The decoded Frontend API host without its trailing `$`, e.g. `clerk.example.com`.
    pub frontend_api: String,
}

/// Parses a publishable key (SPEC 1.4, non-fatal): `None` for anything that is not `pk_live_`/`pk_test_` +
/// three `_`-separated parts + a base64 (WHATWG `atob`) payload that decodes to text ending in exactly one `$`
/// and containing a `.`.
pub fn parse_publishable_key(pk: &str) -> Option<PublishableKey> {
    let instance_type = if pk.starts_with(LIVE_PREFIX) {
        InstanceType::Production
    } else if pk.starts_with(TEST_PREFIX) {
        InstanceType::Development
    } else {
        return None;
    };
    let mut parts = pk.split('_');
    let (Some(_), Some(_), Some(encoded), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if encoded.is_empty() {
        return None;
    }
    let decoded = atob(encoded)?;
    let frontend_api = decoded.strip_suffix('$')?;
    if frontend_api.contains('$') || !frontend_api.contains('.') {
        return None;
    }
    Some(PublishableKey {
        instance_type,
        frontend_api: frontend_api.to_owned(),
    })
}

/// The Frontend API base URL for a publishable key (SPEC 1.4). Invalid keys select [`PROD_FAPI_URL`].
pub fn fapi_url_from_publishable_key(pk: &str) -> &'static str {
    match environment(pk) {
        Environment::Prod => PROD_FAPI_URL,
        Environment::Staging => STAGING_FAPI_URL,
        Environment::Local => LOCAL_FAPI_URL,
    }
}

/// The Backend API base URL for a publishable key, by the same decision tree as
/// [`fapi_url_from_publishable_key`]. Invalid keys select [`PROD_API_URL`].
pub fn api_url_from_publishable_key(pk: &str) -> &'static str {
    match environment(pk) {
        Environment::Prod => PROD_API_URL,
        Environment::Staging => STAGING_API_URL,
        Environment::Local => LOCAL_API_URL,
    }
}

/// Which Clerk environment a key's Frontend API host belongs to.
enum Environment {
    Prod,
    Staging,
    Local,
}

/// SPEC 1.4 host selection; the first matching rule wins.
fn environment(pk: &str) -> Environment {
    let Some(key) = parse_publishable_key(pk) else {
        return Environment::Prod;
    };
    let host = key.frontend_api.as_str();
    let ends_with_any = |suffixes: &[&str]| suffixes.iter().any(|s| host.ends_with(s));
    if host.starts_with("clerk.") && ends_with_any(&LEGACY_DEV_INSTANCE_SUFFIXES) {
        Environment::Prod
    } else if ends_with_any(&LOCAL_ENV_SUFFIXES) {
        Environment::Local
    } else if ends_with_any(&STAGING_ENV_SUFFIXES) {
        Environment::Staging
    } else {
        Environment::Prod
    }
}

/// WHATWG `atob` ("forgiving-base64 decode"), returning the bytes as a latin1 string (each byte one char).
/// `None` where `atob` would throw.
fn atob(input: &str) -> Option<String> {
    let mut data: Vec<u8> = input
        .bytes()
        .filter(|b| !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' '))
        .collect();
    if data.len().is_multiple_of(4) {
        if data.ends_with(b"==") {
            data.truncate(data.len() - 2);
        } else if data.ends_with(b"=") {
            data.truncate(data.len() - 1);
        }
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = String::with_capacity(data.len() / 4 * 3 + 2);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &b in &data {
        buffer = (buffer << 6) | u32::from(sextet(b)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // Lossless: the value is masked to 8 bits.
            out.push(char::from(((buffer >> bits) & 0xFF) as u8));
        }
    }
    // Leftover bits (fewer than 8) are discarded, as the forgiving algorithm specifies.
    Some(out)
}

/// The value of one standard-alphabet base64 character; `None` for anything else (including `-`, `_`, `=`).
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPEC 1.4 and SPEC 6 fapiUrlFromPublishableKey vectors.
    #[test]
    fn fapi_url_vectors() {
        let cases = [
            ("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", PROD_FAPI_URL),
            ("pk_test_bXlhcHAubGNsY2xlcmsuY29tJA==", LOCAL_FAPI_URL),
            ("pk_test_Y2xlcmsuYWNjb3VudHNzdGFnZS5kZXYk", STAGING_FAPI_URL),
            (
                "pk_test_Y2xlcmsuZXhhbXBsZS5sY2xjbGVyay5jb20k",
                PROD_FAPI_URL,
            ),
            ("invalid_key", PROD_FAPI_URL),
            (
                "pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk",
                PROD_FAPI_URL,
            ),
            ("pk_test_YXBwLmxjbHN0YWdlLmRldiQ=", LOCAL_FAPI_URL),
            ("pk_test_Y2xlcmsuZXhhbXBsZS5sY2wuZGV2JA==", PROD_FAPI_URL),
            ("", PROD_FAPI_URL),
        ];
        for (pk, want) in cases {
            assert_eq!(fapi_url_from_publishable_key(pk), want, "{pk}");
        }
    }

    #[test]
    fn fapi_url_literals() {
        assert_eq!(
            fapi_url_from_publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k"),
            "https://frontend-api.clerk.dev"
        );
        assert_eq!(
            fapi_url_from_publishable_key("pk_test_bXlhcHAubGNsY2xlcmsuY29tJA=="),
            "https://frontend-api.lclclerk.com"
        );
        assert_eq!(
            fapi_url_from_publishable_key("pk_test_Y2xlcmsuYWNjb3VudHNzdGFnZS5kZXYk"),
            "https://frontend-api.clerkstage.dev"
        );
    }

    #[test]
    fn api_url_vectors() {
        let cases = [
            ("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", "https://api.clerk.com"),
            (
                "pk_test_bXlhcHAubGNsY2xlcmsuY29tJA==",
                "https://api.lclclerk.com",
            ),
            (
                "pk_test_Y2xlcmsuYWNjb3VudHNzdGFnZS5kZXYk",
                "https://api.clerkstage.dev",
            ),
            (
                "pk_test_Y2xlcmsuZXhhbXBsZS5sY2xjbGVyay5jb20k",
                "https://api.clerk.com",
            ),
            ("invalid_key", "https://api.clerk.com"),
            (
                "pk_test_YXBwLmxjbHN0YWdlLmRldiQ=",
                "https://api.lclclerk.com",
            ),
        ];
        for (pk, want) in cases {
            assert_eq!(api_url_from_publishable_key(pk), want, "{pk}");
        }
    }

    #[test]
    fn parses_valid_keys() {
        let cases = [
            (
                "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
                InstanceType::Production,
                "clerk.example.com",
            ),
            (
                "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
                InstanceType::Development,
                "clerk.example.com",
            ),
            (
                "pk_test_bXlhcHAubGNsY2xlcmsuY29tJA==",
                InstanceType::Development,
                "myapp.lclclerk.com",
            ),
            (
                "pk_test_bXlhcHAubGNsY2xlcmsuY29tJA",
                InstanceType::Development,
                "myapp.lclclerk.com",
            ),
            (
                "pk_test_bXlh cHAubGNs\nY2xlcmsuY29tJA",
                InstanceType::Development,
                "myapp.lclclerk.com",
            ),
            (
                "pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk",
                InstanceType::Development,
                "foo-bar-13.clerk.accounts.dev",
            ),
            (
                "pk_test_YXBwLmxjbHN0YWdlLmRldiQ=",
                InstanceType::Development,
                "app.lclstage.dev",
            ),
            ("pk_test_YT4+LmMk", InstanceType::Development, "a>>.c"),
            ("pk_live_YT8/LmMk", InstanceType::Production, "a??.c"),
        ];
        for (pk, instance_type, frontend_api) in cases {
            assert_eq!(
                parse_publishable_key(pk),
                Some(PublishableKey {
                    instance_type,
                    frontend_api: frontend_api.to_owned()
                }),
                "{pk}"
            );
        }
    }

    #[test]
    fn rejects_invalid_keys() {
        let cases = [
            "",
            "invalid_key",
            "pk_test_",
            "pk_prod_Y2xlcmsuZXhhbXBsZS5jb20k",
            "sk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
            "PK_TEST_Y2xlcmsuZXhhbXBsZS5jb20k",
            // Four parts.
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k_extra",
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k_",
            // base64url characters make atob throw: "YT4+LmMk" and "YT8/LmMk" are valid, these are not.
            "pk_test_YT4-LmMk",
            "pk_test_YT8_LmMk",
            // length % 4 == 1 after padding removal.
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20kA",
            // Padding in the wrong place / too much padding.
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k=",
            "pk_test_bXlhcHAubGNsY2xlcmsuY29tJA===",
            "pk_test_bXlh=cHAubGNsY2xlcmsuY29tJA",
            // Decodes fine but no trailing '$': "clerk.example.com".
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20=",
            // Two '$': "a$b.c$".
            "pk_test_YSRiLmMk",
            // No '.': "localhost$".
            "pk_test_bG9jYWxob3N0JA==",
            // Only "$".
            "pk_test_JA==",
            // Non-ASCII in the key itself.
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k\u{e9}",
        ];
        for pk in cases {
            assert_eq!(parse_publishable_key(pk), None, "{pk:?}");
            assert_eq!(fapi_url_from_publishable_key(pk), PROD_FAPI_URL, "{pk:?}");
        }
    }

    #[test]
    fn atob_forgiving_base64() {
        let cases: [(&str, Option<&str>); 14] = [
            ("", Some("")),
            ("YQ", Some("a")),
            ("YQ==", Some("a")),
            ("YWI", Some("ab")),
            ("YWI=", Some("ab")),
            ("YWJj", Some("abc")),
            (" Y W\tJ\nj\r\x0C", Some("abc")),
            // Non-zero leftover bits are discarded, not rejected.
            ("YR", Some("a")),
            ("YQ=", None),
            ("Y", None),
            ("YWJjZ", None),
            ("YQ-_", None),
            ("====", None),
            ("YQ\u{b}=", None),
        ];
        for (input, want) in cases {
            assert_eq!(atob(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn atob_decodes_bytes_as_latin1() {
        // 0xE9 0xFF -> "\u{e9}\u{ff}".
        assert_eq!(atob("6f8=").as_deref(), Some("\u{e9}\u{ff}"));
    }
}
