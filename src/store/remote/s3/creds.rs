//! Where S3 credentials and the region come from, as the AWS tools do it:
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`,
//! else the profile `AWS_PROFILE` (or `default`) of the shared credentials
//! file (`AWS_SHARED_CREDENTIALS_FILE`, or `~/.aws/credentials`).

use std::path::PathBuf;

use rusty_s3::Credentials;

/// `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
pub fn region() -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|name| env(name))
        .unwrap_or_else(|| "us-east-1".into())
}

/// The credentials to sign with; `Ok(None)`: none anywhere (anonymous
/// requests). `Err`: a message without any secret.
pub fn credentials() -> Result<Option<Credentials>, String> {
    if let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Some(make(key, secret, env("AWS_SESSION_TOKEN"))));
    }
    let Some(path) = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")))
    else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let section = profile_section(&text, &profile);
    let get = |name: &str| section.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(key), Some(secret)) => Ok(Some(make(key, secret, get("aws_session_token")))),
        _ => Ok(None),
    }
}

fn make(key: String, secret: String, token: Option<String>) -> Credentials {
    match token {
        Some(token) => Credentials::new_with_token(key, secret, token),
        None => Credentials::new(key, secret),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The `key = value` pairs of `[profile]` in an INI text (keys lowercased;
/// comments and other sections ignored).
fn profile_section(text: &str, profile: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut pairs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == profile;
        } else if inside {
            if let Some((k, v)) = line.split_once('=') {
                pairs.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::profile_section;

    #[test]
    fn the_named_profile_only() {
        let text = "[default]\naws_access_key_id = A\n# c\n[ci]\nAWS_Access_Key_Id=B\n\
                    aws_secret_access_key = S = x\n[other]\naws_access_key_id = C\n";
        let ci = profile_section(text, "ci");
        assert_eq!(
            ci,
            vec![
                ("aws_access_key_id".into(), "B".into()),
                ("aws_secret_access_key".into(), "S = x".into())
            ]
        );
        assert_eq!(profile_section(text, "default").len(), 1);
        assert!(profile_section(text, "missing").is_empty());
    }
}
