//! Keeping secrets out of messages: the one URL redactor every message,
//! `Debug` string and setting error uses, and the scrubber that cleans
//! messages coming from a backend's client library.
//!
//! A URL can carry a secret in three places: the password, a user name that
//! is really a token (`https://TOKEN@host`) and the query (`?password=`,
//! `?token=`, a presigned URL's signature). [`redact`] drops the whole
//! userinfo, every query parameter whose name looks secret-bearing and the
//! fragment. A URL that does not parse is cut down by hand the same way, so
//! it never prints the secret either.

use percent_encoding::percent_decode_str;

/// Printed for something that is not a URL at all.
const INVALID: &str = "<invalid remote URL>";

/// Query parameters whose names contain any of these are dropped.
const SECRET_PARAMS: [&str; 9] =
    ["pass", "pwd", "token", "secret", "key", "auth", "sig", "credential", "session"];

/// `url` without its secrets (`redis://:pw@host:6379/0` → `redis://host:6379/0`).
pub fn redact(url: &str) -> String {
    if !url.contains("://") {
        return INVALID.into();
    }
    match url::Url::parse(url) {
        Ok(parsed) if !parsed.cannot_be_a_base() && parsed.has_host() => redact_parsed(parsed),
        _ => redact_by_hand(url),
    }
}

fn redact_parsed(mut url: url::Url) -> String {
    // Cannot fail: the URL has a host.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !is_secret_param(name))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.set_fragment(None);
    url.into()
}

fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| name.contains(s))
}

/// For a URL the parser refuses (a bad port, say): the scheme, whatever
/// follows the last `@` before the query, and no query or fragment at all.
fn redact_by_hand(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return INVALID.into();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    // The last `@`, not the end of the authority: a password may hold a `/`.
    let rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    format!("{scheme}://{rest}")
}

/// Removes every secret of one URL (and a password given beside it) from
/// messages, such as errors from a client library that quote the URL.
#[derive(Clone)]
pub struct Scrubber {
    url: String,
    redacted: String,
    /// Longest first, so a secret is never half-replaced by a shorter one.
    secrets: Vec<String>,
}

impl Scrubber {
    pub fn new(url: &str, password: Option<&str>) -> Scrubber {
        let mut secrets: Vec<String> = Vec::new();
        let mut push = |s: String| {
            if !s.is_empty() && !secrets.contains(&s) {
                secrets.push(s);
            }
        };
        push(url.to_string());
        if let Some(userinfo) = userinfo(url) {
            push(userinfo.to_string());
            push(percent_decode(userinfo));
            for part in userinfo.split(':') {
                push(part.to_string());
                push(percent_decode(part));
            }
        }
        if let Ok(parsed) = url::Url::parse(url) {
            let pairs = parsed.query_pairs().filter(|(name, _)| is_secret_param(name));
            pairs.for_each(|(_, value)| push(value.into_owned()));
        }
        if let Some(password) = password {
            push(password.to_string());
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Scrubber { url: url.to_string(), redacted: redact(url), secrets }
    }

    /// The URL as messages show it.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    pub fn scrub(&self, message: &str) -> String {
        let mut out = message.to_string();
        for secret in &self.secrets {
            let replacement = if *secret == self.url { &self.redacted } else { "<redacted>" };
            out = out.replace(secret.as_str(), replacement);
        }
        out
    }
}

/// Everything before the last `@` of the authority, parsed or not.
fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    rest.rsplit_once('@').map(|(userinfo, _)| userinfo)
}

fn percent_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_userinfo_and_query() {
        assert_eq!(redact("redis://u:p@h:1/2"), "redis://h:1/2");
        assert_eq!(redact("rediss://:p%40ss@h"), "rediss://h");
        assert_eq!(redact("redis://h:1/0?password=x"), "redis://h:1/0");
        assert_eq!(redact("nonsense:pw"), "<invalid remote URL>");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("p%40ss%2"), "p@ss%2");
        assert_eq!(percent_decode("%"), "%");
    }

    #[test]
    fn password_is_hidden() {
        let out = redact("redis://alice:S3cret@cache.example:6379/0");
        assert_eq!(out, "redis://cache.example:6379/0");
    }

    #[test]
    fn a_user_alone_is_hidden_too() {
        assert_eq!(redact("https://ghp_T0ken@cache.example/x"), "https://cache.example/x");
        assert_eq!(redact("redis://alice@h:1"), "redis://h:1");
    }

    #[test]
    fn secret_query_parameters_go_and_others_stay() {
        let out = redact("https://h/b?X-Amz-Signature=S1G&region=eu&access_token=T0K#frag");
        assert_eq!(out, "https://h/b?region=eu");
        assert_eq!(redact("redis://h/0?protocol=resp3"), "redis://h/0?protocol=resp3");
    }

    #[test]
    fn urls_without_credentials_are_unchanged() {
        for url in ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/2", "redis://h"] {
            assert_eq!(redact(url), url);
        }
    }

    #[test]
    fn unparsable_urls_never_print_the_secret() {
        for url in [
            "redis://:S3cret@127.0.0.1:notaport/0",
            "redis://u:S3cret@h:99999999/?password=S3cret",
            "redis://:S3/cret@h/0",
            "::S3cret@",
        ] {
            let out = redact(url);
            assert!(!out.contains("S3") && !out.contains("cret"), "{url} → {out}");
        }
        assert_eq!(redact("redis://:pw@127.0.0.1:notaport/0"), "redis://127.0.0.1:notaport/0");
    }

    #[test]
    fn scrubbing_replaces_every_form_of_the_secrets() {
        let url = "redis://someuser:p%40ss@h:1/0?token=T0k";
        let scrubber = Scrubber::new(url, Some("Env-Pw"));
        let message = format!("{url} someuser p@ss p%40ss T0k Env-Pw");
        let out = scrubber.scrub(&message);
        for secret in ["someuser", "p@ss", "p%40ss", "T0k", "Env-Pw"] {
            assert!(!out.contains(secret), "{out}");
        }
        assert!(out.starts_with("redis://h:1/0 "), "{out}");
    }
}
