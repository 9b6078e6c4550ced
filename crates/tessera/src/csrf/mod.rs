//! next-auth's CSRF double-submit cookie: `token|sha256(token + secret)`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_core::Secret;

use crate::random::{RandomSource, hex, hex32};

/// The CSRF state of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Csrf {
    /// The token the client must echo in `csrfToken`.
    pub(crate) token: String,
    /// A new cookie value (`token|hash`) to set, when the request had no valid one.
    pub(crate) new_cookie: Option<String>,
    /// Whether this is a POST whose body carried the cookie's token.
    pub(crate) verified: bool,
}

/// hex(sha256(token + secret)).
pub(crate) fn hash(token: &str, secret: &Secret) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    h.update(secret.expose().as_bytes());
    hex(&h.finalize())
}

/// Checks the csrf cookie of a request (§4 of the spec). `secrets[0]` is current; a cookie
/// hashed with an older secret keeps its token and is re-issued under the current one.
pub(crate) fn check(
    cookie: Option<&str>,
    secrets: &[Secret],
    is_post: bool,
    body_token: Option<&str>,
    rng: &dyn RandomSource,
) -> Csrf {
    let Some(current) = secrets.first() else {
        // No secret means no configuration; build() refuses that, so this is unreachable in
        // practice. Fail closed: a fresh token that no body can match.
        let token = hex32(rng);
        return Csrf {
            token,
            new_cookie: None,
            verified: false,
        };
    };
    if let Some(cookie) = cookie {
        // JS split("|"): parts 0 and 1.
        let mut parts = cookie.split('|');
        let token = parts.next().unwrap_or("");
        let given = parts.next().unwrap_or("");
        let matched = secrets.iter().position(|s| {
            // Forged cookie: the hash proves the server minted this token; compare in constant time.
            hash(token, s).as_bytes().ct_eq(given.as_bytes()).into()
        });
        if let Some(index) = matched {
            // CSRF: the form must echo the cookie's token; constant-time so it cannot be probed.
            let verified =
                is_post && body_token.is_some_and(|b| b.as_bytes().ct_eq(token.as_bytes()).into());
            let new_cookie = (index > 0).then(|| format!("{token}|{}", hash(token, current)));
            return Csrf {
                token: token.to_owned(),
                new_cookie,
                verified,
            };
        }
    }
    let token = hex32(rng);
    let value = format!("{token}|{}", hash(&token, current));
    Csrf {
        token,
        new_cookie: Some(value),
        verified: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;
    use serde_json::Value;

    fn vectors() -> Value {
        serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/csrf.json"
        )))
        .expect("csrf.json parses")
    }

    #[test]
    fn generated_vectors() {
        let v = vectors();
        let cases = v["generated"].as_array().expect("generated");
        assert!(!cases.is_empty());
        for case in cases {
            let secret = Secret::new(case["secret"].as_str().expect("secret"));
            let token = case["token"].as_str().expect("token");
            assert_eq!(hash(token, &secret), case["hash"].as_str().expect("hash"));
            assert_eq!(
                format!("{token}|{}", hash(token, &secret)),
                case["cookieValue"].as_str().expect("cookieValue")
            );
            assert_eq!(
                crate::cookies::encode_uri_component(case["cookieValue"].as_str().unwrap_or("")),
                case["setCookieValueOnWire"].as_str().expect("wire")
            );
        }
    }

    #[test]
    fn verification_vectors() {
        let v = vectors();
        let cases = v["verification"].as_array().expect("verification");
        assert!(cases.len() >= 9);
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?");
            let secret = Secret::new(case["secret"].as_str().expect("secret"));
            let cookie = case["cookieValue"].as_str();
            let is_post = case["isPost"].as_bool().unwrap_or(false);
            let body = case["bodyCsrfToken"].as_str();
            let got = check(
                cookie,
                std::slice::from_ref(&secret),
                is_post,
                body,
                &OsRandom,
            );
            let exp = &case["expected"];
            assert_eq!(
                got.verified,
                exp["csrfTokenVerified"].as_bool().expect("verified"),
                "{name}"
            );
            if let Some(keeps) = exp["keepsCookieToken"].as_bool() {
                let cookie_token = cookie.and_then(|c| c.split('|').next()).unwrap_or("");
                assert_eq!(got.token == cookie_token, keeps, "{name}");
            }
            if let Some(issues) = exp["issuesNewCookie"].as_bool() {
                assert_eq!(got.new_cookie.is_some(), issues, "{name}");
            }
            if let Some(tok) = exp["returnedToken"]
                .as_str()
                .filter(|t| !t.starts_with('<'))
            {
                assert_eq!(got.token, tok, "{name}");
            }
            if let Some(c) = &got.new_cookie {
                let (t, h) = c.split_once('|').expect("pipe");
                assert_eq!(t, got.token);
                assert_eq!(h, hash(t, &secret));
                assert_eq!(t.len(), 64);
            }
        }
    }

    #[test]
    fn rotation_keeps_token_and_reissues() {
        let old = Secret::new("old");
        let new = Secret::new("new");
        let cookie = format!("abc|{}", hash("abc", &old));
        let got = check(
            Some(&cookie),
            &[new.clone(), old],
            true,
            Some("abc"),
            &OsRandom,
        );
        assert!(got.verified);
        assert_eq!(got.new_cookie, Some(format!("abc|{}", hash("abc", &new))));
    }
}
