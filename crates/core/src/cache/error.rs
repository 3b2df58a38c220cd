//! Errors of the cache controls: bad settings and unknown cache names. Each variant has a stable [`CacheError::code`].

/// A rejected cache setting or cache name. The message names the offending field (`negative.capacity`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// A capacity outside `1..=max`.
    #[error("{field} must be an integer from 1 to {max}, got {value}")]
    InvalidCapacity {
        /// The option path, e.g. `negative.capacity`.
        field: String,
        /// What was given.
        value: i64,
        /// The largest accepted capacity.
        max: usize,
    },
    /// A TTL below 1 ms.
    #[error("{field} must be at least 1 (milliseconds), got {value}")]
    InvalidTtl {
        /// The option path, e.g. `identity.sidlessTtlMs`.
        field: String,
        /// What was given.
        value: i64,
    },
    /// A rejected `shared` option (the message never repeats a URL: it may hold a password).
    #[error("{field} {message}")]
    InvalidShared {
        /// The option path, e.g. `shared.url`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A cache name other than `jwks`, `negative`, `verified` or `identity`.
    #[error("unknown cache {name:?}: expected one of \"jwks\", \"negative\", \"verified\", \"identity\"")]
    UnknownCache {
        /// What was given.
        name: String,
    },
}

impl CacheError {
    /// The stable code: `invalid_cache_option` or `unknown_cache`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCapacity { .. } | Self::InvalidTtl { .. } | Self::InvalidShared { .. } => {
                "invalid_cache_option"
            }
            Self::UnknownCache { .. } => "unknown_cache",
        }
    }
}

impl AsRef<str> for CacheError {
    fn as_ref(&self) -> &str {
        self.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field_and_codes_are_stable() {
        let e = CacheError::InvalidCapacity {
            field: "negative.capacity".into(),
            value: 0,
            max: 10,
        };
        assert_eq!(
            e.to_string(),
            "negative.capacity must be an integer from 1 to 10, got 0"
        );
        assert_eq!(e.code(), "invalid_cache_option");
        let e = CacheError::InvalidTtl {
            field: "identity.sidlessTtlMs".into(),
            value: -5,
        };
        assert_eq!(
            e.to_string(),
            "identity.sidlessTtlMs must be at least 1 (milliseconds), got -5"
        );
        assert_eq!(e.code(), "invalid_cache_option");
        let e = CacheError::UnknownCache {
            name: "nope".into(),
        };
        assert_eq!(e.code(), "unknown_cache");
        assert!(e.to_string().starts_with("unknown cache \"nope\""));
    }
}
