//! One S3 operation on the wire: every request it makes shares one
//! deadline (ureq's global timeout, set to what is left of it, covers
//! resolving, connecting, sending and reading the body), bodies are read
//! with a bound whatever the server claims, and every message is scrubbed
//! of secrets and signed URLs.

use std::io::Read;
use std::time::{Duration, Instant};

use rusty_s3::actions::S3Action;
use ureq::http::{self, Response};
use ureq::{AsSendBody, Body};

use super::super::redact;
use super::super::{RemoteConfig, RemoteError};
use super::S3Store;

/// Error bodies are read up to this (S3 sends a short XML document).
const ERROR_BODY: u64 = 8 << 10;

pub fn agent(config: &RemoteConfig) -> ureq::Agent {
    let connect = config.connect_timeout.max(Duration::from_millis(1));
    ureq::config::Config::builder()
        .http_status_as_error(false)
        // A redirect would need a new signature; S3 names the right region
        // in the error instead.
        .max_redirects(0)
        .timeout_resolve(Some(connect))
        .timeout_connect(Some(connect))
        .user_agent(concat!("cachecmd/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// An operation in progress: its name for messages and its deadline.
pub struct Op<'a> {
    pub store: &'a S3Store,
    name: &'static str,
    deadline: Instant,
}

impl S3Store {
    /// A new operation with the whole `op_timeout` ahead of it.
    pub(super) fn op(&self, name: &'static str) -> Op<'_> {
        self.op_within(name, self.config.op_timeout)
    }

    /// A new operation with `budget` ahead of it.
    pub(super) fn op_within(&self, name: &'static str, budget: Duration) -> Op<'_> {
        Op { store: self, name, deadline: Instant::now() + budget }
    }
}

impl Op<'_> {
    /// A presigned URL for `action`, valid a little longer than the deadline.
    pub fn sign<'b>(&self, action: &impl S3Action<'b>) -> url::Url {
        let secs = self.store.config.op_timeout.as_secs().saturating_add(60).min(604_800);
        action.sign(Duration::from_secs(secs))
    }

    /// Sends one request; any HTTP status is `Ok` (see [`Op::status_error`]).
    pub fn send(
        &self,
        method: http::Method,
        url: &url::Url,
        headers: &[(&str, &str)],
        body: impl AsSendBody,
    ) -> Result<Response<Body>, RemoteError> {
        let left = self.left()?;
        let mut request = http::Request::builder().method(method).uri(url.as_str());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body).map_err(|e| self.fail(self.scrub(&e.to_string())))?;
        let agent = &self.store.agent;
        let request = agent.configure_request(request).timeout_global(Some(left)).build();
        agent.run(request).map_err(|e| self.ureq_error(e))
    }

    /// The time left before the deadline, or the timeout error.
    pub fn left(&self) -> Result<Duration, RemoteError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.timed_out());
        }
        Ok(left)
    }

    fn timed_out(&self) -> RemoteError {
        self.fail(format!("timed out after {:?}", self.store.config.op_timeout))
    }

    pub fn fail(&self, message: String) -> RemoteError {
        RemoteError::Command { url: self.store.redacted.clone(), op: self.name, message }
    }

    fn ureq_error(&self, e: ureq::Error) -> RemoteError {
        use ureq::Error as E;
        let connect =
            |message: String| RemoteError::Connect { url: self.store.redacted.clone(), message };
        match e {
            E::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                connect(format!("timed out after {:?}", self.store.config.connect_timeout))
            }
            E::Timeout(_) => self.timed_out(),
            E::HostNotFound | E::ConnectionFailed => connect(self.scrub(&e.to_string())),
            E::Io(ref io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                connect(self.scrub(&e.to_string()))
            }
            e => self.fail(self.scrub(&e.to_string())),
        }
    }

    /// A read error of a body: a timeout if the deadline passed.
    pub fn read_error(&self, e: &std::io::Error) -> RemoteError {
        if Instant::now() >= self.deadline {
            self.timed_out()
        } else {
            self.fail(format!("reading the reply: {}", self.scrub(&e.to_string())))
        }
    }

    /// The whole body, if it is at most `limit` bytes (more is an error,
    /// and no more than `limit + 1` bytes are ever read).
    pub fn read_body(&self, resp: &mut Response<Body>, limit: u64) -> Result<Vec<u8>, RemoteError> {
        let mut out = Vec::new();
        let reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        reader
            .take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| self.read_error(&e))?;
        if out.len() as u64 > limit {
            return Err(self.fail(format!("the reply is over {limit} bytes")));
        }
        Ok(out)
    }

    /// The S3 error code of a failed reply (`NoSuchKey`, …) and the error
    /// for it.
    pub fn status_error(&self, resp: &mut Response<Body>) -> (String, RemoteError) {
        let status = resp.status();
        let body = self.read_body(resp, ERROR_BODY).unwrap_or_default();
        let body = String::from_utf8_lossy(&body);
        let code = xml_field(&body, "Code").unwrap_or_default().to_string();
        let message = xml_field(&body, "Message").unwrap_or_default();
        let text = format!("HTTP {} {code} {message}", status.as_u16());
        let e = self.fail(self.scrub(text.trim_end()));
        (code, e)
    }

    /// `message` without secrets, nor the query of any URL it quotes.
    pub fn scrub(&self, message: &str) -> String {
        let mut out = message.to_string();
        for secret in &self.store.secrets {
            out = out.replace(secret.as_str(), "<redacted>");
        }
        out.split(' ')
            .map(|word| if word.contains("://") { redact::redact(word) } else { word.into() })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The ETag header of a reply.
pub fn etag(resp: &Response<Body>) -> Option<String> {
    header(resp, "etag")
}

pub fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// The text of the first `<name>…</name>` in an XML text.
pub fn xml_field<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let start = text.find(&format!("<{name}>"))? + name.len() + 2;
    let end = text[start..].find(&format!("</{name}>"))? + start;
    Some(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::xml_field;

    #[test]
    fn xml_fields() {
        let body = "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>";
        assert_eq!(xml_field(body, "Code"), Some("NoSuchBucket"));
        assert_eq!(xml_field(body, "Message"), Some("gone"));
        assert_eq!(xml_field(body, "Key"), None);
    }
}
