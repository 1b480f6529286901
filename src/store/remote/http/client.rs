//! One HTTP request at a time, for the HTTP backend: the base URL and the
//! credentials parsed from the configuration, the deadline each operation
//! shares among its requests, and the mapping of client errors and status
//! codes to [`RemoteError`] (always scrubbed of secrets).

use std::io::Read;
use std::time::{Duration, Instant};

use base64::Engine;
use ureq::http::{self, Method, Response};
use ureq::{Body, SendBody, Timeout};

use super::super::redact::Scrubber;
use super::super::{RemoteConfig, RemoteError};
use super::CopyError;

pub struct Client {
    agent: ureq::Agent,
    /// `scheme://host[:port]/prefix`, without credentials or a final `/`.
    base: String,
    /// The `Authorization` header, if any.
    auth: Option<String>,
    scrubber: Scrubber,
    token: Option<String>,
    op_timeout: Duration,
    connect_timeout: Duration,
}

/// The end of one operation: every request and body byte of it must be
/// done by then.
pub struct Deadline {
    end: Instant,
}

impl Deadline {
    fn remaining(&self) -> Option<Duration> {
        self.end.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }
}

impl Client {
    pub fn new(
        config: &RemoteConfig,
        scrubber: Scrubber,
        token: Option<String>,
    ) -> Result<Client, RemoteError> {
        let bad = |message: &str| RemoteError::BadUrl {
            url: scrubber.redacted().to_string(),
            message: message.to_string(),
        };
        let url = url::Url::parse(&config.url).map_err(|e| bad(&scrubber.scrub(&e.to_string())))?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(bad("expected http://HOST[:PORT]/PREFIX or https://…"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a query or fragment is not supported"));
        }
        let user = percent_decode(url.username());
        let password = config.password.clone().or_else(|| url.password().map(percent_decode));
        let auth = match (&token, password) {
            (Some(token), _) => Some(format!("Bearer {token}")),
            (None, Some(password)) => Some(basic(&user, &password)),
            (None, None) if !user.is_empty() => Some(basic(&user, "")),
            (None, None) => None,
        };
        let host = url.host_str().expect("checked above");
        let port = url.port().map_or(String::new(), |p| format!(":{p}"));
        let path = url.path().trim_end_matches('/');
        let base = format!("{}://{host}{port}{path}", url.scheme());
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .allow_non_standard_methods(true)
            .timeout_connect(Some(config.connect_timeout.max(Duration::from_millis(1))))
            .build()
            .new_agent();
        Ok(Client {
            agent,
            base,
            auth,
            scrubber,
            token,
            op_timeout: config.op_timeout.max(Duration::from_millis(1)),
            connect_timeout: config.connect_timeout,
        })
    }

    pub fn redacted_url(&self) -> &str {
        self.scrubber.redacted()
    }

    /// The deadline of an operation starting now.
    pub fn deadline(&self) -> Deadline {
        Deadline { end: Instant::now() + self.op_timeout }
    }

    /// The URL of the object `name` (a key name: no characters to escape).
    pub fn object_url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// The URL of the prefix itself, as a collection.
    pub fn collection_url(&self) -> String {
        format!("{}/", self.base)
    }

    /// Sends one request; any status comes back as a response.
    pub fn send(
        &self,
        deadline: &Deadline,
        op: &'static str,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&mut dyn Read>,
    ) -> Result<Response<Body>, RemoteError> {
        let remaining = deadline.remaining().ok_or_else(|| self.timed_out(op))?;
        let mut builder = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Some(auth) = &self.auth {
            builder = builder.header("authorization", auth.as_str());
        }
        let result = match body {
            Some(reader) => self.run(builder.body(SendBody::from_reader(reader)), remaining),
            None => self.run(builder.body(()), remaining),
        };
        result.map_err(|e| self.error(op, e))
    }

    fn run<S: ureq::AsSendBody>(
        &self,
        request: Result<http::Request<S>, http::Error>,
        remaining: Duration,
    ) -> Result<Response<Body>, ureq::Error> {
        let request = request.map_err(ureq::Error::Http)?;
        let request = self.agent.configure_request(request).timeout_global(Some(remaining)).build();
        self.agent.run(request)
    }

    /// A response whose status the operation did not expect.
    pub fn status_error(&self, op: &'static str, response: &Response<Body>) -> RemoteError {
        let status = response.status();
        let hint = match status.as_u16() {
            401 | 403 => " (check the credentials)",
            429 => " (rate limited)",
            _ => "",
        };
        self.command(op, format!("server answered HTTP {status}{hint}"))
    }

    /// A failed copy of a response body.
    pub fn transfer_error(
        &self,
        op: &'static str,
        deadline: &Deadline,
        error: CopyError,
    ) -> RemoteError {
        match error {
            CopyError::Write(e) => RemoteError::Local(e),
            CopyError::Read(_) if deadline.remaining().is_none() => self.timed_out(op),
            CopyError::Read(e) => match e.into_inner().map(|e| e.downcast::<ureq::Error>()) {
                Some(Ok(e)) => self.error(op, *e),
                Some(Err(e)) => self.command(op, self.scrub(&e.to_string())),
                None => self.command(op, "the connection failed".into()),
            },
        }
    }

    pub fn error(&self, op: &'static str, error: ureq::Error) -> RemoteError {
        let url = self.redacted_url().to_string();
        match error {
            ureq::Error::Timeout(Timeout::Connect | Timeout::Resolve) => RemoteError::Connect {
                url,
                message: format!("timed out after {:?}", self.connect_timeout),
            },
            ureq::Error::Timeout(_) => self.timed_out(op),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                RemoteError::Connect { url, message: self.scrub(&error.to_string()) }
            }
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                RemoteError::Connect { url, message: self.scrub(&e.to_string()) }
            }
            other => self.command(op, self.scrub(&other.to_string())),
        }
    }

    fn timed_out(&self, op: &'static str) -> RemoteError {
        self.command(op, format!("timed out after {:?}", self.op_timeout))
    }

    pub fn command(&self, op: &'static str, message: String) -> RemoteError {
        RemoteError::Command { url: self.redacted_url().to_string(), op, message }
    }

    fn scrub(&self, message: &str) -> String {
        let message = self.scrubber.scrub(message);
        match &self.token {
            Some(token) if !token.is_empty() => message.replace(token.as_str(), "<redacted>"),
            _ => message,
        }
    }
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
