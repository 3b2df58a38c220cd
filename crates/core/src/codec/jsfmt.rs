//! JavaScript-compatible formatting used inside Clerk's error messages: `JSON.stringify(value)` of a claim,
//! `String(value)` of a header field, and `Date.prototype.toUTCString()`.

use serde_json::Value;

/// `JSON.stringify(v)` as a template literal shows it: `undefined` for a missing value, integral numbers without
/// a fraction (`1`, not `1.0`).
pub fn stringify(v: Option<&Value>) -> String {
    match v {
        None => "undefined".to_owned(),
        Some(Value::Number(n)) => number(n),
        Some(other) => serde_json::to_string(other).unwrap_or_else(|_| "null".to_owned()),
    }
}

/// `String(v)` / `${v}` of a JSON value: strings unquoted, arrays joined with `,`, objects as `[object Object]`.
pub fn to_js_string(v: Option<&Value>) -> String {
    match v {
        None => "undefined".to_owned(),
        Some(Value::Null) => "null".to_owned(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => number(n),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::Null => String::new(),
                other => to_js_string(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(_)) => "[object Object]".to_owned(),
    }
}

/// The most characters of a token-controlled value that an error message echoes (see [`capped`]).
pub const ECHO_MAX_CHARS: usize = 64;

/// A token-controlled value as an error message echoes it: unchanged when it has at most [`ECHO_MAX_CHARS`]
/// characters (so short values read exactly as in Clerk's messages), otherwise its first [`ECHO_MAX_CHARS`]
/// characters followed by `...(<n> characters)`, `n` being the full length. The marker is ASCII, so a cut value
/// can still travel in a header (`x-clerk-auth-message`). Never allocates for a short value.
pub fn capped(text: String) -> String {
    // A char is at least one byte: a text of at most ECHO_MAX_CHARS bytes is short.
    if text.len() <= ECHO_MAX_CHARS {
        return text;
    }
    let mut chars = text.char_indices();
    let Some((cut, _)) = chars.nth(ECHO_MAX_CHARS) else {
        return text;
    };
    let total = ECHO_MAX_CHARS + 1 + chars.count();
    format!("{}...({total} characters)", &text[..cut])
}

/// [`stringify`] of a token-controlled value, [`capped`].
pub fn stringify_capped(v: Option<&Value>) -> String {
    capped(stringify(v))
}

/// [`to_js_string`] of a token-controlled value, [`capped`].
pub fn to_js_string_capped(v: Option<&Value>) -> String {
    capped(to_js_string(v))
}

fn number(n: &serde_json::Number) -> String {
    if let Some(f) = n.as_f64() {
        if n.is_f64() && f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
            return format!("{f:.0}");
        }
    }
    n.to_string()
}

/// Largest absolute time value a JavaScript `Date` can hold (ECMAScript TimeClip), in ms.
pub const MAX_DATE_MS: f64 = 8.64e15;

/// `new Date(0).setUTCSeconds(secs)` then `.getTime()`: seconds truncated toward zero, times 1000; `None` where
/// JavaScript gets `NaN` (non-finite or beyond ±8.64e15 ms).
pub fn seconds_to_date_ms(secs: f64) -> Option<f64> {
    if !secs.is_finite() {
        return None;
    }
    let ms = secs.trunc() * 1000.0;
    if ms.abs() > MAX_DATE_MS {
        None
    } else {
        Some(ms)
    }
}

/// `Date.prototype.toUTCString()`, e.g. `Thu, 01 Jan 1970 00:00:00 GMT`; `Invalid Date` for `None`.
pub fn utc_string(ms: Option<f64>) -> String {
    let Some(ms) = ms else {
        return "Invalid Date".to_owned();
    };
    let ms = ms as i64;
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000) / 1000;
    let (h, m, s) = (in_day / 3600, (in_day / 60) % 60, in_day % 60);
    let (y, mo, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(mo - 1) as usize];
    let year = if y < 0 {
        format!("-{:06}", -y)
    } else {
        format!("{y:04}")
    };
    format!("{weekday}, {d:02} {month} {year} {h:02}:{m:02}:{s:02} GMT")
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn utc_strings_match_javascript() {
        assert_eq!(utc_string(Some(0.0)), "Thu, 01 Jan 1970 00:00:00 GMT");
        // new Date(1700000000000).toUTCString()
        assert_eq!(
            utc_string(Some(1_700_000_000_000.0)),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        // new Date(951782400000).toUTCString() (leap day 2000)
        assert_eq!(
            utc_string(Some(951_782_400_000.0)),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(utc_string(Some(-1000.0)), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(utc_string(None), "Invalid Date");
    }

    #[test]
    fn seconds_truncate_like_set_utc_seconds() {
        assert_eq!(seconds_to_date_ms(1.9), Some(1000.0));
        assert_eq!(seconds_to_date_ms(-1.5), Some(-1000.0));
        assert_eq!(seconds_to_date_ms(1e300), None);
        assert_eq!(seconds_to_date_ms(f64::NAN), None);
    }

    #[test]
    fn echoed_values_are_capped() {
        let short = "k".repeat(ECHO_MAX_CHARS);
        assert_eq!(
            capped(short.clone()),
            short,
            "64 characters stay as they are"
        );
        assert_eq!(capped(String::new()), "");
        let long = format!("{short}tail");
        assert_eq!(capped(long), format!("{short}...(68 characters)"));
        // Multi-byte characters: 64 of them (128 bytes) are kept whole; the cut is on a char boundary.
        let wide = "é".repeat(ECHO_MAX_CHARS);
        assert_eq!(capped(wide.clone()), wide);
        let wider = "é".repeat(10_000);
        assert_eq!(
            capped(wider),
            format!("{}...(10000 characters)", "é".repeat(ECHO_MAX_CHARS))
        );
        assert_eq!(
            stringify_capped(Some(&json!("x".repeat(100)))),
            format!("\"{}...(102 characters)", "x".repeat(63))
        );
        assert_eq!(stringify_capped(Some(&json!("JOSE"))), r#""JOSE""#);
        assert_eq!(to_js_string_capped(Some(&json!("ins_1"))), "ins_1");
    }

    #[test]
    fn stringify_like_json_stringify() {
        assert_eq!(stringify(None), "undefined");
        assert_eq!(stringify(Some(&json!("a\"b"))), r#""a\"b""#);
        assert_eq!(stringify(Some(&json!(1.0))), "1");
        assert_eq!(stringify(Some(&json!(1.5))), "1.5");
        assert_eq!(stringify(Some(&json!(null))), "null");
        assert_eq!(stringify(Some(&json!(["a", 1]))), r#"["a",1]"#);
        assert_eq!(to_js_string(Some(&json!(["a", "b"]))), "a,b");
        assert_eq!(to_js_string(Some(&json!({"a": 1}))), "[object Object]");
        assert_eq!(to_js_string(Some(&json!(5))), "5");
    }
}
