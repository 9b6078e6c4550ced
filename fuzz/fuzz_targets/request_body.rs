//! Request body parsing (form and JSON, by `Content-Type`), query strings and route paths.
//! Invariants: a form body always parses, at most 256 fields are kept, a JSON body is refused
//! exactly when it is not JSON, its fields are its string members, and parsing the
//! re-serialised fields gives them back.
//!
//! Input: one byte choosing the `Content-Type` (or `0xFF`-terminated custom bytes), then the
//! body, which is also parsed as a query string and a route path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::__fuzz::{parse_body, parse_query, parse_route};

const CONTENT_TYPES: &[Option<&[u8]>] = &[
    Some(b"application/x-www-form-urlencoded"),
    Some(b"application/json"),
    None,
    Some(b"application/json; charset=utf-8"),
    Some(b"APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8"),
    Some(b"application/merge-patch+json"),
    Some(b"text/plain"),
    Some(b"multipart/form-data; boundary=x"),
];

fn reparse(fields: &[(String, String)]) -> Vec<(String, String)> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    parse_query(s.finish().as_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (ctype, body): (Option<&[u8]>, &[u8]) = if pick == 0xFF {
        match rest.iter().position(|&b| b == 0xFF) {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        }
    } else {
        (CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()], rest)
    };
    let parsed = parse_body(ctype, body);
    let lower = ctype
        .and_then(|c| http::HeaderValue::from_bytes(c).ok())
        .and_then(|c| c.to_str().ok().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let is_json = lower.starts_with("application/json") || lower.contains("+json");
    if !body.is_empty() && is_json {
        let json = serde_json::from_slice::<serde_json::Value>(body);
        assert_eq!(parsed.is_some(), json.is_ok());
        if let (Some(fields), Ok(serde_json::Value::Object(map))) = (&parsed, &json) {
            assert!(fields.len() <= 256);
            for (k, v) in fields {
                assert_eq!(map.get(k), Some(&serde_json::Value::String(v.clone())));
            }
            let strings = map.values().take(256).filter(|v| v.is_string()).count();
            assert_eq!(fields.len(), strings);
        }
    } else {
        let fields = parsed.unwrap_or_else(|| panic!("a non-JSON body is never a 400"));
        assert!(fields.len() <= 256);
        if lower.starts_with("application/x-www-form-urlencoded") || lower.is_empty() {
            assert_eq!(reparse(&fields), fields);
        } else {
            assert!(fields.is_empty());
        }
    }

    let query = parse_query(body);
    assert!(query.len() <= 256);
    assert_eq!(reparse(&query), query);

    if let Ok(path) = std::str::from_utf8(body)
        && let Some((action, provider)) = parse_route(path, "/api/auth")
    {
        for segment in std::iter::once(&action).chain(provider.as_ref()) {
            // Header injection / log forging: no control characters in a route segment.
            assert!(!segment.chars().any(char::is_control), "{segment:?}");
            assert!(segment.len() <= 256);
        }
    }
});
