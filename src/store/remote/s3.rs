//! The S3 backend (`s3://BUCKET[/PREFIX]`, feature `s3`): one object per
//! key under the prefix, named as [`keys`](super::keys) says, moved over
//! presigned SigV4 URLs (`rusty-s3`) by a small sync HTTP client (`ureq`).
//!
//! Credentials and region come from the usual AWS environment (`creds`);
//! `CACHECMD_S3_ENDPOINT` (or [`RemoteConfig::s3_endpoint`]) points at an
//! S3-compatible server, addressed path-style. Each fetch, store or listing
//! has one deadline, `op_timeout`, for all its requests (`http`). Values
//! move in [`PART`]-sized ranges and multipart uploads (`transfer`); the
//! single-flight lock is a conditionally written object (`lock`).

mod creds;
mod http;
mod list;
mod lock;
mod transfer;

use std::fs::File;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, UrlStyle};

use super::keys::{check_key, entry_hex, entry_key, PREFIX};
use super::{RemoteConfig, RemoteError, RemoteLock, RemoteStore, SkipReason, Stored};

/// Values move in pieces of this size: ranges when fetched, parts when
/// uploaded (S3 wants parts of at least 5 MiB).
pub const PART: u64 = 8 << 20;

/// The environment variable naming an S3-compatible endpoint.
pub const ENDPOINT_VAR: &str = "CACHECMD_S3_ENDPOINT";

pub struct S3Store {
    config: RemoteConfig,
    redacted: String,
    bucket: Bucket,
    /// `None`: no credentials anywhere, requests go unsigned.
    creds: Option<Credentials>,
    /// Secrets that must never reach a message.
    secrets: Vec<String>,
    /// `""` or `PREFIX/`, prepended to every object name.
    prefix: String,
    agent: ureq::Agent,
}

impl S3Store {
    /// Parses the URL and reads the credentials; never touches the network.
    pub fn open(config: &RemoteConfig) -> Result<Box<dyn RemoteStore>, RemoteError> {
        Ok(Box::new(S3Store::new(config)?))
    }

    fn new(config: &RemoteConfig) -> Result<S3Store, RemoteError> {
        let redacted = super::redacted_url(&config.url);
        let bad = |message: String| RemoteError::BadUrl { url: redacted.clone(), message };
        let url = url::Url::parse(&config.url).map_err(|e| bad(e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials come from the AWS environment, not the URL".into()));
        }
        if url.query().is_some() || url.port().is_some() {
            return Err(bad("expected s3://BUCKET[/PREFIX]".into()));
        }
        let name =
            url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no bucket".into()))?;
        let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
        let prefix = path.trim_matches('/');
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        let region = creds::region();
        let endpoint = config
            .s3_endpoint
            .clone()
            .or_else(|| std::env::var(ENDPOINT_VAR).ok().filter(|e| !e.is_empty()));
        let (endpoint, style) = match endpoint {
            Some(e) => (e, UrlStyle::Path),
            None => (format!("https://s3.{region}.amazonaws.com"), UrlStyle::VirtualHost),
        };
        let endpoint_url = url::Url::parse(&endpoint)
            .map_err(|e| bad(format!("endpoint {}: {e}", super::redacted_url(&endpoint))))?;
        let bucket = Bucket::new(endpoint_url, style, name.to_string(), region)
            .map_err(|e| bad(format!("endpoint {}: {e}", super::redacted_url(&endpoint))))?;
        let creds = creds::credentials().map_err(bad)?;
        let mut secrets: Vec<String> = Vec::new();
        if let Some(c) = &creds {
            secrets.push(c.secret().to_string());
            secrets.extend(c.token().map(str::to_string));
        }
        let agent = http::agent(config);
        Ok(S3Store { config: config.clone(), redacted, bucket, creds, secrets, prefix, agent })
    }

    /// The object name of a key of the schema (`cachecmd:v1:…`).
    fn object(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

impl RemoteStore for S3Store {
    fn redacted_url(&self) -> &str {
        &self.redacted
    }

    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        let object = self.object(&entry_key(key_hex)?);
        let result = self.fetch_into(&object, dest, max_len);
        crate::store::remote::empty_unless_found(result, dest)
    }

    /// Small entries take one PUT; larger ones a multipart upload, which
    /// readers see only once it is complete.
    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        let object = self.object(&entry_key(key_hex)?);
        if let Some(why) = SkipReason::for_upload(len, self.config.max_entry_size, lifetime) {
            return Ok(Stored::Skipped(why));
        }
        self.store_from(&object, src, len, lifetime)?;
        Ok(Stored::Written)
    }

    fn lock(
        &self,
        key_hex: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<RemoteLock<'_>>, RemoteError> {
        lock::take(self, check_key(key_hex)?, lease, wait)
    }

    fn list_keys(&self) -> Result<Vec<String>, RemoteError> {
        let names = self.list_objects()?;
        Ok(names
            .iter()
            .filter_map(|name| name.strip_prefix(&self.prefix).and_then(entry_hex))
            .map(str::to_string)
            .collect())
    }

    /// Deletes every object under `PREFIX/cachecmd:v1:` and aborts the
    /// multipart uploads there; each DELETE has an `op_timeout` of its own
    /// (a bucket of thousands of keys takes longer than one).
    fn clear(&self) -> Result<u64, RemoteError> {
        let names = self.list_objects()?;
        let mut removed = 0;
        for name in &names {
            self.op("clear").delete(name)?;
            if name.strip_prefix(&self.prefix).and_then(entry_hex).is_some() {
                removed += 1;
            }
        }
        self.abort_uploads()?;
        Ok(removed)
    }
}

/// The object-name prefix every cachecmd object of this store starts with.
fn schema_prefix(store: &S3Store) -> String {
    store.object(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(url: &str) -> Result<Box<dyn RemoteStore>, RemoteError> {
        let mut config = RemoteConfig::new(url);
        config.s3_endpoint = Some("http://127.0.0.1:9".into());
        S3Store::open(&config)
    }

    #[test]
    fn urls_name_a_bucket_and_a_prefix() {
        assert_eq!(open("s3://bucket").unwrap().redacted_url(), "s3://bucket");
        assert_eq!(open("s3://bucket/a/b/").unwrap().redacted_url(), "s3://bucket/a/b/");
        for bad in ["s3://", "s3://bucket:9000/x", "s3://bucket/x?region=eu"] {
            assert!(matches!(open(bad), Err(RemoteError::BadUrl { .. })), "{bad}");
        }
        let Err(e) = open("s3://AKIA:S3cret@bucket/x") else { panic!("credentials in the URL") };
        assert!(!e.to_string().contains("S3cret"), "{e}");
    }

    #[test]
    fn object_names_sit_under_the_prefix() {
        let store = |url: &str| {
            let mut config = RemoteConfig::new(url);
            config.s3_endpoint = Some("http://127.0.0.1:9".into());
            S3Store::new(&config).unwrap()
        };
        assert_eq!(schema_prefix(&store("s3://b")), "cachecmd:v1:");
        assert_eq!(schema_prefix(&store("s3://b/team/")), "team/cachecmd:v1:");
        let url = store("s3://b/a%20b").bucket.object_url("x");
        assert_eq!(url.as_str(), "http://127.0.0.1:9/b/x", "path-style with an endpoint");
        assert_eq!(store("s3://b/a%20b").prefix, "a b/");
    }
}
