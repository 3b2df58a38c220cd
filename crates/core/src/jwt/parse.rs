//! JWT decoding (SPEC 3.2 step 1): split, base64url-decode and JSON-parse, never panicking on any input.

use serde_json::{Map, Value};

use super::error::{Reason, TokenVerificationError};
use crate::codec::base64url;

/// A JSON object: a JWT header or payload.
pub type JsonObject = Map<String, Value>;

/// A verified (or decoded) JWT payload.
pub type JwtPayload = JsonObject;

/// Tokens longer than this (bytes) are rejected as `token-invalid` before any decoding. Clerk session tokens are
/// around 1 KiB; 16 KiB leaves room for large custom claims while bounding work on hostile input.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Clerk's message when the token does not have three dot-separated parts.
pub const MSG_INVALID_FORM: &str =
    "Invalid JWT form. A JWT consists of three parts separated by dots.";
/// Clerk's message when a part cannot be decoded.
pub const MSG_UNDECODABLE: &str =
    "Invalid JWT form. The header, payload, or signature could not be decoded.";

/// JWT category header values (`cat`, SPEC 3.8).
pub mod category {
    /// Session token.
    pub const SESSION: &str = "cl_B7d4PD111AAA";
    /// JWT template.
    pub const JWT_TEMPLATE: &str = "cl_B7d4PD222AAA";
    /// Machine-to-machine token.
    pub const M2M: &str = "cl_B7d4PD333AAA";
    /// Instances with "ignore cat" (no class information).
    pub const IGNORE: &str = "cl_I7d4PD111III";
}

/// The signature algorithms accepted (RSASSA-PKCS1-v1_5), Clerk's allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RS256: SHA-256.
    Rs256,
    /// RS384: SHA-384.
    Rs384,
    /// RS512: SHA-512.
    Rs512,
}

impl Algorithm {
    /// The allow-list as Clerk prints it (`${algs}`).
    pub const SUPPORTED: &'static str = "RS256,RS384,RS512";

    /// Parse a header `alg` value; anything outside the allow-list (`none`, `HS256`, `ES256`...) is `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "RS384" => Some(Self::Rs384),
            "RS512" => Some(Self::Rs512),
            _ => None,
        }
    }

    /// The JOSE name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
        }
    }

    /// aws-lc-rs's verification parameters (RSASSA-PKCS1-v1_5, 2048-8192-bit moduli).
    pub fn rsa_params(self) -> &'static aws_lc_rs::signature::RsaParameters {
        match self {
            Self::Rs256 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            Self::Rs384 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA384,
            Self::Rs512 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA512,
        }
    }

    /// 0, 1, 2 for RS256, RS384, RS512.
    pub const fn index(self) -> usize {
        match self {
            Self::Rs256 => 0,
            Self::Rs384 => 1,
            Self::Rs512 => 2,
        }
    }
}

/// A decoded (not yet verified) JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt<'a> {
    /// The JOSE header.
    pub header: JsonObject,
    /// The claims.
    pub payload: JwtPayload,
    /// The raw signature bytes.
    pub signature: Vec<u8>,
    /// `rawHeader.rawPayload`: the signed bytes.
    pub signing_input: &'a str,
    /// The base64url header as received.
    pub raw_header: &'a str,
    /// The base64url payload as received.
    pub raw_payload: &'a str,
}

impl Jwt<'_> {
    /// The header `kid` as JavaScript's `${kid}` shows it (`undefined` when absent): the JWKS lookup key.
    pub fn kid(&self) -> String {
        match self.header.get("kid") {
            Some(Value::String(s)) => s.clone(),
            other => crate::codec::jsfmt::to_js_string(other),
        }
    }

    /// The header `typ` when it is a string.
    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// The header `cat` when it is a string.
    pub fn cat(&self) -> Option<&str> {
        self.header.get("cat").and_then(Value::as_str)
    }

    /// The payload `sub` when it is a string.
    pub fn sub(&self) -> Option<&str> {
        self.payload.get("sub").and_then(Value::as_str)
    }
}

/// Decode a JWT: exactly three `.`-separated parts, base64url (padding optional) JSON-object header and payload,
/// base64url signature. Errors are Clerk's `token-invalid` messages; a token over [`MAX_TOKEN_BYTES`] is
/// `token-invalid` too. Never panics.
pub fn decode(token: &str) -> Result<Jwt<'_>, TokenVerificationError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenVerificationError::new(
            Reason::TokenInvalid,
            format!("Invalid JWT form. The token is longer than {MAX_TOKEN_BYTES} bytes."),
        ));
    }
    let mut parts = token.split('.');
    let (Some(raw_header), Some(raw_payload), Some(raw_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenVerificationError::new(
            Reason::TokenInvalid,
            MSG_INVALID_FORM,
        ));
    };
    let undecodable = || TokenVerificationError::new(Reason::TokenInvalid, MSG_UNDECODABLE);
    let header = decode_object(raw_header).ok_or_else(undecodable)?;
    let payload = decode_object(raw_payload).ok_or_else(undecodable)?;
    let signature = base64url::decode(raw_signature).map_err(|_| undecodable())?;
    let signing_input = &token[..raw_header.len() + 1 + raw_payload.len()];
    Ok(Jwt {
        header,
        payload,
        signature,
        signing_input,
        raw_header,
        raw_payload,
    })
}

fn decode_object(raw: &str) -> Option<JsonObject> {
    let bytes = base64url::decode(raw).ok()?;
    match serde_json::from_slice::<Value>(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$` (SPEC 3.6): the shape test for machine JWTs.
pub fn is_jwt_format(token: &str) -> bool {
    let mut count = 0;
    for part in token.split('.') {
        count += 1;
        if count > 3
            || part.is_empty()
            || !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    count == 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(v: &Value) -> String {
        base64url::encode(serde_json::to_string(v).unwrap().as_bytes())
    }

    #[test]
    fn decodes_a_well_formed_token() {
        let h = enc(&json!({"alg": "RS256", "kid": "ins_1", "typ": "JWT"}));
        let p = enc(&json!({"sub": "user_1"}));
        let token = format!("{h}.{p}.AQID");
        let jwt = decode(&token).unwrap();
        assert_eq!(jwt.kid(), "ins_1");
        assert_eq!(jwt.typ(), Some("JWT"));
        assert_eq!(jwt.sub(), Some("user_1"));
        assert_eq!(jwt.signature, vec![1, 2, 3]);
        assert_eq!(jwt.signing_input, format!("{h}.{p}"));
    }

    #[test]
    fn wrong_part_count_is_invalid_form() {
        for t in ["", "a", "a.b", "a.b.c.d", "...."] {
            let e = decode(t).unwrap_err();
            assert_eq!(e.reason, Reason::TokenInvalid);
            assert_eq!(e.message, MSG_INVALID_FORM, "{t}");
        }
    }

    #[test]
    fn hostile_parts_are_undecodable_never_panics() {
        let obj = enc(&json!({"a": 1}));
        let cases = [
            format!("..{obj}"),
            format!("{obj}.{obj}.@@"),
            format!("!!.{obj}.AA"),
            format!("{}.{obj}.AA", base64url::encode(b"not json")),
            format!("{}.{obj}.AA", base64url::encode(b"[1,2]")),
            format!("{}.{obj}.AA", base64url::encode(b"null")),
            format!("{}.{obj}.AA", base64url::encode(&[0xff, 0xfe, 0x7b, 0x7d])),
            format!("{obj}.{}.AA", base64url::encode(b"\"str\"")),
            format!("{obj}.{obj}.A"),
        ];
        for t in &cases {
            let e = decode(t).unwrap_err();
            assert_eq!(e.reason, Reason::TokenInvalid);
            assert_eq!(e.message, MSG_UNDECODABLE, "{t}");
        }
    }

    #[test]
    fn oversized_tokens_are_rejected_before_decoding() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        let e = decode(&big).unwrap_err();
        assert_eq!(e.reason, Reason::TokenInvalid);
    }

    #[test]
    fn missing_kid_reads_as_undefined() {
        let h = enc(&json!({"alg": "RS256"}));
        let token = format!("{h}.{h}.AA");
        assert_eq!(decode(&token).unwrap().kid(), "undefined");
    }

    #[test]
    fn jwt_shape() {
        assert!(is_jwt_format("a.b.c"));
        assert!(is_jwt_format("aB-_.0.z"));
        assert!(!is_jwt_format("a.b"));
        assert!(!is_jwt_format("a..c"));
        assert!(!is_jwt_format("a.b.c.d"));
        assert!(!is_jwt_format("a.b.c="));
        assert!(!is_jwt_format("oat_abc"));
    }

    #[test]
    fn algorithm_allow_list() {
        assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::Rs256));
        assert_eq!(Algorithm::from_name("RS512"), Some(Algorithm::Rs512));
        for bad in ["none", "HS256", "ES256", "PS256", "rs256", ""] {
            assert_eq!(Algorithm::from_name(bad), None);
        }
    }
}
