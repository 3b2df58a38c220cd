//! `acceptsToken`: which token types a request may authenticate with.

use crate::token::TokenType;

/// `'any'` or a list of token types (a single string is a one-element list). Default: `session_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptsToken {
    /// Every type.
    Any,
    /// These types only (never empty): Clerk's single-string `acceptsToken` (one type; several only when built
    /// directly).
    Only(Vec<TokenType>),
    /// Clerk's array `acceptsToken` (never empty): a request whose token type is not in it gets the invalid-token
    /// state, and header tokens go through Clerk's "any" path.
    List(Vec<TokenType>),
}

impl Default for AcceptsToken {
    fn default() -> Self {
        AcceptsToken::Only(vec![TokenType::SessionToken])
    }
}

impl AcceptsToken {
    /// Parses `['any']`, or token type names: one name is Clerk's single-string form, several a list. An empty
    /// list is the default; unknown names are an error.
    pub fn parse(values: &[String]) -> Result<Self, String> {
        Self::parse_as(values, values.len() > 1)
    }

    /// As [`AcceptsToken::parse`], with `is_list`: the value was a JS array (`['api_key']` is not `'api_key'`).
    pub fn parse_as(values: &[String], is_list: bool) -> Result<Self, String> {
        if values.is_empty() {
            return Ok(Self::default());
        }
        if values.iter().any(|v| v == "any") {
            return Ok(AcceptsToken::Any);
        }
        let mut types = Vec::with_capacity(values.len());
        for v in values {
            let t = TokenType::parse(v).ok_or_else(|| {
                format!("Invalid acceptsToken value {v:?}: expected 'any', 'session_token', 'api_key', 'm2m_token' or 'oauth_token'")
            })?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Ok(if is_list {
            AcceptsToken::List(types)
        } else {
            AcceptsToken::Only(types)
        })
    }

    /// Whether `t` is accepted.
    pub fn accepts(&self, t: TokenType) -> bool {
        match self {
            AcceptsToken::Any => true,
            AcceptsToken::Only(list) | AcceptsToken::List(list) => list.contains(&t),
        }
    }

    /// Exactly `session_token` (Clerk's default, with its stricter header checks).
    pub fn is_session_only(&self) -> bool {
        matches!(self, AcceptsToken::Only(l) if l.as_slice() == [TokenType::SessionToken])
    }

    /// Clerk's array form.
    pub fn is_list(&self) -> bool {
        matches!(self, AcceptsToken::List(_))
    }

    /// Clerk's single-string form (one type).
    pub fn is_single(&self) -> bool {
        matches!(self, AcceptsToken::Only(l) if l.len() == 1)
    }

    /// The type reported on a signed-out state when no token decided it.
    pub fn primary(&self) -> TokenType {
        match self {
            AcceptsToken::Any => TokenType::SessionToken,
            AcceptsToken::Only(l) | AcceptsToken::List(l) => {
                l.first().copied().unwrap_or(TokenType::SessionToken)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parse_variants() {
        assert_eq!(AcceptsToken::parse(&[]).unwrap(), AcceptsToken::default());
        assert_eq!(
            AcceptsToken::parse(&s(&["any"])).unwrap(),
            AcceptsToken::Any
        );
        let only = AcceptsToken::parse(&s(&["api_key", "oauth_token", "api_key"])).unwrap();
        assert_eq!(
            only,
            AcceptsToken::List(vec![TokenType::ApiKey, TokenType::OAuthToken])
        );
        assert!(!only.accepts(TokenType::SessionToken));
        assert!(AcceptsToken::parse(&s(&["nope"])).is_err());
        assert!(AcceptsToken::default().is_session_only());
        assert!(!AcceptsToken::Any.is_session_only());
    }
}
