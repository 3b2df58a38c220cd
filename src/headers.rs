//! Header conversion between JS strings and `http` types.
//!
//! Node exposes header bytes as latin1 strings (one char per byte), so values map char -> byte; a char above
//! U+00FF cannot come from the wire and makes the header invalid.

use http::{HeaderMap, HeaderName, HeaderValue};

/// Builds a HeaderMap from a flat `[name, value, name, value, ...]` list. Invalid names or values (CR/LF, NUL,
/// chars above U+00FF) are dropped, never forwarded and never a crash.
pub fn from_flat(list: &[String]) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(list.len() / 2);
    for pair in list.chunks_exact(2) {
        let Ok(name) = HeaderName::from_bytes(pair[0].as_bytes()) else {
            continue;
        };
        let Some(bytes) = latin1_bytes(&pair[1]) else {
            continue;
        };
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            map.append(name, value);
        }
    }
    map
}

fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    if s.is_ascii() {
        return Some(s.as_bytes().to_vec());
    }
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Flattens a HeaderMap into `[name, value, ...]`, every repeated header (Set-Cookie) its own pair.
pub fn to_flat(map: &HeaderMap) -> Vec<String> {
    let mut out = Vec::with_capacity(map.len() * 2);
    for (name, value) in map {
        out.push(name.as_str().to_string());
        let bytes = value.as_bytes();
        out.push(match std::str::from_utf8(bytes) {
            Ok(s) if s.is_ascii() => s.to_string(),
            _ => bytes.iter().map(|&b| char::from(b)).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_invalid_and_keeps_repeats() {
        let list: Vec<String> = [
            "Set-Cookie",
            "a=1",
            "set-cookie",
            "b=2",
            "x-bad",
            "a\r\nInjected: 1",
            "bad name",
            "v",
            "x-latin",
            "caf\u{e9}",
            "x-wide",
            "\u{4e2d}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let map = from_flat(&list);
        assert_eq!(map.get_all("set-cookie").iter().count(), 2);
        assert!(map.get("x-bad").is_none());
        assert!(map.get("x-wide").is_none());
        assert_eq!(map.get("x-latin").unwrap().as_bytes(), b"caf\xe9");
        assert_eq!(
            to_flat(&map).iter().filter(|s| *s == "set-cookie").count(),
            2
        );
        assert!(to_flat(&map).contains(&"caf\u{e9}".to_string()));
    }

    #[test]
    fn odd_length_list_ignores_the_tail() {
        let list = vec!["a".to_string(), "1".to_string(), "b".to_string()];
        assert_eq!(from_flat(&list).len(), 1);
    }
}
