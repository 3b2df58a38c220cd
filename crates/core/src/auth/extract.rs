//! Token extraction from the `Authorization` header and the `Cookie` header (SPEC 3.5).

/// Clerk's session cookie.
pub const SESSION_COOKIE: &str = "__session";
/// Clerk's client "updated at" cookie (seconds; `0` or absent = no active client).
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";

/// The token in an `Authorization` value: split on the first space into at most two parts; one part is the
/// token itself, `Bearer <t>` (case-sensitive) gives `t`, any other scheme gives none.
pub fn token_from_authorization(value: &str) -> Option<&str> {
    let token = match value.split_once(' ') {
        None => value,
        Some(("Bearer", rest)) => rest,
        Some(_) => return None,
    };
    (!token.is_empty()).then_some(token)
}

/// The value of cookie `name` in a `Cookie` header (first occurrence; surrounding quotes removed).
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if k.trim() != name {
            return None;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(v);
        Some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_parsing_follows_clerk() {
        assert_eq!(token_from_authorization("Bearer abc"), Some("abc"));
        assert_eq!(token_from_authorization("abc"), Some("abc"));
        assert_eq!(token_from_authorization("bearer abc"), None);
        assert_eq!(token_from_authorization("Basic dXNlcjpwYXNz"), None);
        assert_eq!(token_from_authorization("Bearer "), None);
        assert_eq!(token_from_authorization(""), None);
        assert_eq!(token_from_authorization("Bearer a b"), Some("a b"));
    }

    #[test]
    fn cookie_parsing() {
        let h = "a=1; __session=tok.en.x; __client_uat=\"1700000000\"; __session_abc=other";
        assert_eq!(cookie_value(h, "__session"), Some("tok.en.x"));
        assert_eq!(cookie_value(h, "__client_uat"), Some("1700000000"));
        assert_eq!(cookie_value(h, "missing"), None);
        assert_eq!(cookie_value("__session", "__session"), None);
        assert_eq!(cookie_value("x__session=1", "__session"), None);
    }
}
