//! Webhook signatures as Clerk's `verifyWebhook` checks them: Standard Webhooks (svix) HMAC-SHA256 over
//! `"{id}.{timestamp}.{body}"`, the secret a `whsec_`-prefixed base64 key, timestamps within ±300 s.
//!
//! Every rule follows the `standardwebhooks` 1.x package that `@clerk/backend/webhooks` uses, quirks included, so
//! the same inputs pass or fail with the same message:
//! - the secret loses one leading `whsec_`, then decodes with `@stablelib/base64`'s rules
//!   ([`SigningKey::from_secret`]);
//! - the timestamp header is read as JavaScript's `parseInt(header, 10)` ([`parse_timestamp`]) and the signed
//!   text carries that number, not the header's spelling;
//! - the signature header is split on single spaces; each entry on `,`, its first part the version and its second
//!   the signature; only `v1` entries count, and a `v1` entry matches when its signature text equals the expected
//!   base64 text byte for byte, compared in constant time.
//!
//! The current time is a parameter (seconds since the epoch), so callers choose the clock and tests pin it.
//! No dependency on the rest of the crate.

use ring::hmac;

/// Seconds a timestamp may lie in the past or the future (Standard Webhooks' tolerance).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// The secret prefix the Clerk Dashboard shows (`whsec_…`); stripped once before decoding.
pub const SECRET_PREFIX: &str = "whsec_";

/// Why a signing secret cannot be used. The messages are `standardwebhooks`' and `@stablelib/base64`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Fewer than 4 characters, or more than two trailing `=`.
    #[error("Base64Coder: incorrect padding")]
    IncorrectPadding,
    /// A character outside the standard base64 alphabet where one is decoded.
    #[error("Base64Coder: incorrect characters for decoding")]
    IncorrectCharacters,
    /// The secret is empty once `whsec_` is removed.
    #[error("Secret can't be empty.")]
    Empty,
}

impl SecretError {
    /// Every variant, in declaration order.
    pub const ALL: [SecretError; 3] = [
        Self::IncorrectPadding,
        Self::IncorrectCharacters,
        Self::Empty,
    ];

    /// Stable code (public API).
    pub const fn code(self) -> &'static str {
        match self {
            Self::IncorrectPadding | Self::IncorrectCharacters => "webhook_secret_invalid",
            Self::Empty => "webhook_secret_empty",
        }
    }
}

/// Why a signed message is refused. The messages are `standardwebhooks`' `WebhookVerificationError` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The timestamp header does not start with an optionally signed decimal number.
    #[error("Invalid Signature Headers")]
    InvalidTimestamp,
    /// The timestamp is more than [`TOLERANCE_SECS`] in the past.
    #[error("Message timestamp too old")]
    TooOld,
    /// The timestamp is more than [`TOLERANCE_SECS`] in the future.
    #[error("Message timestamp too new")]
    TooNew,
    /// No `v1` entry of the signature header matches.
    #[error("No matching signature found")]
    NoMatchingSignature,
}

impl VerifyError {
    /// Every variant, in declaration order.
    pub const ALL: [VerifyError; 4] = [
        Self::InvalidTimestamp,
        Self::TooOld,
        Self::TooNew,
        Self::NoMatchingSignature,
    ];

    /// Stable code (public API).
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidTimestamp => "webhook_timestamp_invalid",
            Self::TooOld => "webhook_timestamp_too_old",
            Self::TooNew => "webhook_timestamp_too_new",
            Self::NoMatchingSignature => "webhook_signature_mismatch",
        }
    }
}

/// An HMAC-SHA256 key made from a webhook signing secret.
pub struct SigningKey {
    key: hmac::Key,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// The key of `secret` (`whsec_<base64>` or bare base64), decoded as `standardwebhooks` does: one leading
    /// `whsec_` removed, then `@stablelib/base64`'s standard decoder over UTF-16 code units, which checks the
    /// padding first (at least 4 characters, at most two trailing `=`), then only the characters it decodes (with
    /// a length of 1 mod 4 the last one is never read), and ignores leftover bits.
    pub fn from_secret(secret: &str) -> Result<Self, SecretError> {
        let body = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        let units: Vec<u16> = body.encode_utf16().collect();
        let bytes = stablelib_base64_decode(&units)?;
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self::from_bytes(&bytes))
    }

    /// A key from raw bytes (no decoding).
    pub fn from_bytes(key: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// The base64 HMAC-SHA256 of `"{id}.{timestamp}.{body}"` (without the `v1,` prefix).
    pub fn expected_signature(&self, id: &str, timestamp: i64, body: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body.as_bytes());
        base64_encode(ctx.sign().as_ref())
    }

    /// The header value a sender would put in `svix-signature`: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        format!("v1,{}", self.expected_signature(id, timestamp, body))
    }

    /// Checks a message the way `standardwebhooks`' `Webhook.verify` does, at `now_secs` (seconds since the
    /// epoch): the timestamp first ([`VerifyError::InvalidTimestamp`], [`VerifyError::TooOld`],
    /// [`VerifyError::TooNew`]), then every `v1` entry of `signature_header` against the expected signature.
    /// Returns the timestamp that was signed.
    pub fn verify(
        &self,
        id: &str,
        timestamp_header: &str,
        signature_header: &str,
        body: &str,
        now_secs: i64,
    ) -> Result<i64, VerifyError> {
        let timestamp = check_timestamp(timestamp_header, now_secs)?;
        let expected = self.expected_signature(id, timestamp, body);
        let mut matched = false;
        for entry in signature_header.split(' ') {
            let mut parts = entry.split(',');
            if parts.next() != Some("v1") {
                continue;
            }
            // `[version, signature] = entry.split(',')`: a third part is ignored, a missing one compares as "".
            let signature = parts.next().unwrap_or("");
            // Every v1 entry is compared, so the time taken does not say which one matched.
            matched |= constant_time_eq(signature.as_bytes(), expected.as_bytes());
        }
        if matched {
            Ok(timestamp)
        } else {
            Err(VerifyError::NoMatchingSignature)
        }
    }
}

/// JavaScript's `parseInt(header, 10)` for a header already trimmed: an optional `+`/`-`, then the longest run of
/// ASCII digits; `None` (NaN) when there is no digit. Values beyond `i64` saturate, which keeps every comparison
/// with a current time the same as JavaScript's (they are far outside the tolerance either way).
pub fn parse_timestamp(header: &str) -> Option<i64> {
    let bytes = header.as_bytes();
    let (negative, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let run = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if run == 0 {
        return None;
    }
    let mut value: i64 = 0;
    for &d in &digits[..run] {
        let digit = i64::from(d - b'0');
        value = value.saturating_mul(10).saturating_add(digit);
    }
    Some(if negative { -value } else { value })
}

/// The timestamp of `header` if it lies within [`TOLERANCE_SECS`] of `now_secs`.
pub fn check_timestamp(header: &str, now_secs: i64) -> Result<i64, VerifyError> {
    let timestamp = parse_timestamp(header).ok_or(VerifyError::InvalidTimestamp)?;
    let (now, ts) = (i128::from(now_secs), i128::from(timestamp));
    if now - ts > i128::from(TOLERANCE_SECS) {
        return Err(VerifyError::TooOld);
    }
    if ts > now + i128::from(TOLERANCE_SECS) {
        return Err(VerifyError::TooNew);
    }
    Ok(timestamp)
}

/// Equal length and equal bytes, in time that depends only on the lengths. A length difference returns early,
/// as `standardwebhooks`' `timingSafeEqual` does: the expected length (44) is public.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        // black_box keeps the optimiser from turning the fold into an early exit.
        diff |= std::hint::black_box(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

const STD_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding.
fn base64_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = u32::from(chunk[0]);
        let b1 = chunk.get(1).copied().map_or(0, u32::from);
        let b2 = chunk.get(2).copied().map_or(0, u32::from);
        let n = (b0 << 16) | (b1 << 8) | b2;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(
                    STD_ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One character's 6-bit value, or 256 when it is not in the standard alphabet: `@stablelib/base64`'s
/// branch-free `_decodeChar` (the secret's characters do not change the time taken).
fn decode_char(c: u16) -> u32 {
    let c = i32::from(c);
    // `(x >>> 8)` of a negative int32 is a mask of 24 ones; of a small non-negative one, 0.
    let mask = |lo: i32, hi: i32| (((lo - c) & (c - hi)) as u32 >> 8) as i32;
    let mut result: i32 = 256;
    result += mask(42, 44) & (-256 + c - 43 + 62);
    result += mask(46, 48) & (-256 + c - 47 + 63);
    result += mask(47, 58) & (-256 + c - 48 + 52);
    result += mask(64, 91) & (-256 + c - 65);
    result += mask(96, 123) & (-256 + c - 97 + 26);
    // A valid character leaves 0x0100_0000 + value; an invalid one 256.
    if result & 256 != 0 {
        256
    } else {
        (result & 0x3f) as u32
    }
}

/// `@stablelib/base64`'s `decode` (standard alphabet, `=` padding) over UTF-16 code units.
fn stablelib_base64_decode(s: &[u16]) -> Result<Vec<u8>, SecretError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let padding = s
        .iter()
        .rev()
        .take_while(|&&c| c == u16::from(b'='))
        .count();
    if s.len() < 4 || padding > 2 {
        return Err(SecretError::IncorrectPadding);
    }
    let length = s.len() - padding;
    let capacity = length * 3 / 4;
    let mut out: Vec<u8> = Vec::with_capacity(capacity);
    // Writes past `capacity` are dropped, as stores past the end of a Uint8Array are.
    let mut push = |b: u32| {
        if out.len() < capacity {
            out.push((b & 0xff) as u8);
        }
    };
    let mut bad = 0u32;
    let (mut v1, mut v2) = (0u32, 0u32);
    let mut i = 0usize;
    while i + 4 < length {
        let v0 = decode_char(s[i]);
        v1 = decode_char(s[i + 1]);
        v2 = decode_char(s[i + 2]);
        let v3 = decode_char(s[i + 3]);
        push((v0 << 2) | (v1 >> 4));
        push((v1 << 4) | (v2 >> 2));
        push((v2 << 6) | v3);
        bad |= (v0 | v1 | v2 | v3) & 256;
        i += 4;
    }
    if i + 1 < length {
        let v0 = decode_char(s[i]);
        v1 = decode_char(s[i + 1]);
        push((v0 << 2) | (v1 >> 4));
        bad |= (v0 | v1) & 256;
    }
    if i + 2 < length {
        v2 = decode_char(s[i + 2]);
        push((v1 << 4) | (v2 >> 2));
        bad |= v2 & 256;
    }
    if i + 3 < length {
        let v3 = decode_char(s[i + 3]);
        push((v2 << 6) | v3);
        bad |= v3 & 256;
    }
    if bad != 0 {
        return Err(SecretError::IncorrectCharacters);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_600_000;
    // The Standard Webhooks specification's example secret and message.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn key() -> SigningKey {
        SigningKey::from_secret(SPEC_SECRET).unwrap()
    }

    fn units(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn standard_webhooks_test_vector() {
        // From the Standard Webhooks spec (and svix's libraries' tests).
        let sig = key().sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verifies_a_signed_message_and_returns_its_timestamp() {
        let k = key();
        let sig = k.sign("msg_1", NOW, "{}");
        assert_eq!(
            k.verify("msg_1", &NOW.to_string(), &sig, "{}", NOW),
            Ok(NOW)
        );
    }

    #[test]
    fn any_v1_entry_may_match_and_other_versions_are_skipped() {
        let k = key();
        let good = k.expected_signature("msg_1", NOW, "{}");
        let header = format!("v2,{good} v1,AAAA v1,{good},trailing");
        assert_eq!(
            k.verify("msg_1", &NOW.to_string(), &header, "{}", NOW),
            Ok(NOW)
        );
        let only_v2 = format!("v2,{good}");
        assert_eq!(
            k.verify("msg_1", &NOW.to_string(), &only_v2, "{}", NOW),
            Err(VerifyError::NoMatchingSignature)
        );
        // Two spaces make an empty entry, which is skipped; a tab is not a separator.
        let double = format!("v1,x  v1,{good}");
        assert!(k
            .verify("msg_1", &NOW.to_string(), &double, "{}", NOW)
            .is_ok());
        let tab = format!("v1,x\tv1,{good}");
        assert!(k
            .verify("msg_1", &NOW.to_string(), &tab, "{}", NOW)
            .is_err());
        assert!(k
            .verify("msg_1", &NOW.to_string(), "v1", "{}", NOW)
            .is_err());
        assert!(k
            .verify("msg_1", &NOW.to_string(), "v1,", "{}", NOW)
            .is_err());
    }

    #[test]
    fn tampered_body_id_or_timestamp_fail() {
        let k = key();
        let sig = k.sign("msg_1", NOW, "{}");
        let ts = NOW.to_string();
        assert!(k.verify("msg_1", &ts, &sig, "{ }", NOW).is_err());
        assert!(k.verify("msg_2", &ts, &sig, "{}", NOW).is_err());
        assert!(k
            .verify("msg_1", &(NOW + 1).to_string(), &sig, "{}", NOW)
            .is_err());
        let other = SigningKey::from_secret("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert!(other.verify("msg_1", &ts, &sig, "{}", NOW).is_err());
    }

    #[test]
    fn the_signed_timestamp_is_the_parsed_number() {
        let k = key();
        let sig = k.sign("msg_1", NOW, "{}");
        for spelling in [
            format!("0{NOW}"),
            format!("+{NOW}"),
            format!("{NOW}.9"),
            format!("{NOW}abc"),
        ] {
            assert_eq!(
                k.verify("msg_1", &spelling, &sig, "{}", NOW),
                Ok(NOW),
                "{spelling}"
            );
        }
    }

    #[test]
    fn tolerance_boundaries() {
        let ts = |t: i64| t.to_string();
        assert_eq!(check_timestamp(&ts(NOW - 300), NOW), Ok(NOW - 300));
        assert_eq!(
            check_timestamp(&ts(NOW - 301), NOW),
            Err(VerifyError::TooOld)
        );
        assert_eq!(check_timestamp(&ts(NOW + 300), NOW), Ok(NOW + 300));
        assert_eq!(
            check_timestamp(&ts(NOW + 301), NOW),
            Err(VerifyError::TooNew)
        );
        assert_eq!(check_timestamp("-5", NOW), Err(VerifyError::TooOld));
        assert_eq!(check_timestamp("-0", NOW), Err(VerifyError::TooOld));
        assert_eq!(
            check_timestamp("99999999999999999999999999", NOW),
            Err(VerifyError::TooNew)
        );
        assert_eq!(
            check_timestamp("-99999999999999999999999999", NOW),
            Err(VerifyError::TooOld)
        );
    }

    #[test]
    fn parse_timestamp_is_parse_int() {
        assert_eq!(parse_timestamp("123"), Some(123));
        assert_eq!(parse_timestamp("-123x"), Some(-123));
        assert_eq!(parse_timestamp("+7"), Some(7));
        assert_eq!(parse_timestamp("1e3"), Some(1));
        assert_eq!(parse_timestamp("0x10"), Some(0));
        for nan in ["", "abc", "-", "+", "+-1", " 1", ".5", "\u{0661}"] {
            assert_eq!(parse_timestamp(nan), None, "{nan:?}");
        }
    }

    #[test]
    fn secret_decoding_follows_stablelib() {
        // Valid: with or without the prefix, with padding.
        assert!(SigningKey::from_secret("whsec_dGVzdA==").is_ok());
        assert!(SigningKey::from_secret("dGVzdA==").is_ok());
        assert_eq!(
            stablelib_base64_decode(&units("dGVzdA==")).unwrap(),
            b"test"
        );
        // Empty after the prefix.
        assert_eq!(
            SigningKey::from_secret("whsec_").unwrap_err(),
            SecretError::Empty
        );
        // Padding rules come first.
        for bad in ["abc", "ab", "a", "abcd===", "===="] {
            assert_eq!(
                SigningKey::from_secret(bad).unwrap_err(),
                SecretError::IncorrectPadding,
                "{bad}"
            );
        }
        // Bad characters where decoded: `-`, `_` (URL-safe), `=` inside, whitespace, non-ASCII, a second prefix.
        for bad in [
            "ab-d",
            "ab_dabcd",
            "ab=dabcd",
            "abc dabc",
            "abcé",
            "whsec_whsec_abcd",
        ] {
            assert_eq!(
                SigningKey::from_secret(bad).unwrap_err(),
                SecretError::IncorrectCharacters,
                "{bad}"
            );
        }
        // Length 1 mod 4: the last character is never read, so even an invalid one passes.
        assert_eq!(stablelib_base64_decode(&units("dGVz!")).unwrap(), b"tes");
        assert_eq!(stablelib_base64_decode(&units("dGVzd")).unwrap(), b"tes");
        // Leftover bits are ignored (non-canonical tails decode).
        assert_eq!(
            stablelib_base64_decode(&units("dGVzdB==")).unwrap(),
            b"test"
        );
        // Unpadded lengths 2 and 3 mod 4.
        assert_eq!(stablelib_base64_decode(&units("dGVzdA")).unwrap(), b"test");
        assert_eq!(
            stablelib_base64_decode(&units("dGVzdGE")).unwrap(),
            b"testa"
        );
    }

    #[test]
    fn decode_char_matches_the_alphabet() {
        for c in 0u16..=0x2ff {
            let want = STD_ALPHABET
                .iter()
                .position(|&a| u16::from(a) == c)
                .map_or(256, |p| p as u32);
            assert_eq!(decode_char(c), want, "char {c}");
        }
        assert_eq!(decode_char(0xffff), 256);
    }

    #[test]
    fn base64_encode_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("\u{ff}\u{fe}", "w7/Dvg=="),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
        }
        assert_eq!(base64_encode(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn constant_time_eq_basics() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn codes_are_stable() {
        let codes: Vec<_> = VerifyError::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(
            codes,
            [
                "webhook_timestamp_invalid",
                "webhook_timestamp_too_old",
                "webhook_timestamp_too_new",
                "webhook_signature_mismatch"
            ]
        );
        let codes: Vec<_> = SecretError::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(
            codes,
            [
                "webhook_secret_invalid",
                "webhook_secret_invalid",
                "webhook_secret_empty"
            ]
        );
    }
}
