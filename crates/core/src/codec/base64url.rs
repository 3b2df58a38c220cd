//! Base64url (RFC 4648 §5) as JWTs use it.
//!
//! Decoding is "loose" like Clerk's `base64url.parse(s, { loose: true })`: trailing `=` padding is optional and
//! ignored, every other character must be in the URL-safe alphabet, and leftover bits must be zero (a length of
//! 1 mod 4 is an error). It never panics.

/// The input is not valid base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBase64;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const fn decode_table() -> [u8; 256] {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
}

static DECODE: [u8; 256] = decode_table();

/// Decode loose base64url (padding optional).
pub fn decode(input: &str) -> Result<Vec<u8>, InvalidBase64> {
    let bytes = input.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4 + 1);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &c in bytes {
        let v = DECODE[c as usize];
        if v == 0xff {
            return Err(InvalidBase64);
        }
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // 6 leftover bits = a lone final character (length 1 mod 4); non-zero leftover bits = non-canonical tail.
    if bits >= 6 || buffer != 0 {
        return Err(InvalidBase64);
    }
    Ok(out)
}

/// Decode standard base64 (RFC 4648 §4, as in PEM bodies), ignoring ASCII whitespace and `=` padding. The
/// URL-safe characters `-`/`_` are accepted too.
pub fn decode_standard_lenient(input: &str) -> Result<Vec<u8>, InvalidBase64> {
    let mapped: String = input
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    decode(&mapped)
}

/// Encode as unpadded base64url.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = u32::from(chunk[0]);
        let b1 = chunk.get(1).copied().map_or(0, u32::from);
        let b2 = chunk.get(2).copied().map_or(0, u32::from);
        let n = (b0 << 16) | (b1 << 8) | b2;
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[idx as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        for len in 0..64usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let enc = encode(&data);
            assert!(!enc.contains('='));
            assert_eq!(decode(&enc).unwrap(), data);
        }
    }

    #[test]
    fn rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, enc) in cases {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn padding_is_optional() {
        assert_eq!(decode("Zg==").unwrap(), b"f");
        assert_eq!(decode("Zm8=").unwrap(), b"fo");
        assert_eq!(decode("Zm9v").unwrap(), b"foo");
    }

    #[test]
    fn standard_alphabet_with_whitespace() {
        assert_eq!(decode_standard_lenient("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(
            decode_standard_lenient("Zm9v\nYmFy\r\n").unwrap(),
            b"foobar"
        );
        assert!(decode_standard_lenient("Zm9v!").is_err());
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode("Z"), Err(InvalidBase64)); // 1 mod 4
        assert_eq!(decode("Zh"), Err(InvalidBase64)); // non-zero trailing bits
        assert_eq!(decode("Zm9v+A"), Err(InvalidBase64)); // standard alphabet
        assert_eq!(decode("Zm9v/A"), Err(InvalidBase64));
        assert_eq!(decode("Zm 9v"), Err(InvalidBase64));
        assert_eq!(decode("Zm=9v"), Err(InvalidBase64)); // padding in the middle
        assert_eq!(decode("é"), Err(InvalidBase64));
    }
}
