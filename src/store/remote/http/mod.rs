//! The HTTP backend (`http://HOST[:PORT]/PREFIX`, `https://…`; feature
//! `http`): one object per key under the prefix, named as [`keys`](super::keys)
//! says (`PREFIX/cachecmd:v1:<key hex>`), moved with GET, PUT, MOVE and
//! DELETE, so nginx's WebDAV module, bazel-remote-style servers and any store
//! that accepts PUT will do.
//!
//! - Auth: `user:password@` in the URL (the password may come from
//!   [`RemoteConfig::password`]) as Basic, or a bearer token
//!   ([`RemoteConfig::token`], which wins).
//! - Time: every operation (a fetch, a store with its MOVE, a listing) has
//!   one deadline, `op_timeout`, shared by all its requests and every byte
//!   of their bodies, so a server trickling one byte a second costs that
//!   much and no more; connecting is bounded by `connect_timeout` too.
//! - Uploads stream from the file to a temporary name and are MOVEd into
//!   place (WebDAV), so readers never see a partial object. A server that
//!   refuses MOVE gets a PUT straight to the entry's name from then on: a
//!   reader of a half-written object only sees bytes that fail
//!   verification, which is a miss.
//! - Fetches stream into the file and read at most `max_len + 1` bytes,
//!   whatever the server announces.
//! - No lock (the trait's default): concurrent misses on different machines
//!   may each run the command; the last upload wins, and both are valid.
//! - Objects never expire on the server (HTTP has no TTL): the tier checks
//!   every entry's age itself, and the server's owner prunes old objects.
//! - Redirects are not followed (a 3xx is an error: credentials never go
//!   to another host); proxies come from `HTTP(S)_PROXY`/`NO_PROXY` as
//!   with curl; https trusts the Mozilla roots built into the binary.
//! - `list`/`clear --remote` need WebDAV `PROPFIND` (nginx: the dav-ext
//!   module); other servers give a one-line "server cannot list" error.

mod client;
mod list;

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::time::Duration;

use ureq::http::Method;

use super::keys::{entry_key, random_token, TMP_PREFIX};
use super::redact::Scrubber;
use super::{RemoteConfig, RemoteError, RemoteStore, SkipReason, Stored};
use client::{Client, Deadline};

pub struct HttpStore {
    client: Client,
    max_entry_size: u64,
    /// The server refused MOVE: uploads go straight to the entry's name.
    no_move: Cell<bool>,
}

impl HttpStore {
    /// Parses the URL; never touches the network.
    pub fn open(config: &RemoteConfig) -> Result<Box<dyn RemoteStore>, RemoteError> {
        let token = config
            .token
            .clone()
            .or_else(|| std::env::var("CACHECMD_REMOTE_TOKEN").ok().filter(|t| !t.is_empty()));
        let scrubber = Scrubber::new(&config.url, config.password.as_deref());
        let client = Client::new(config, scrubber, token)?;
        Ok(Box::new(HttpStore {
            client,
            max_entry_size: config.max_entry_size,
            no_move: Cell::new(false),
        }))
    }

    fn fetch_into(&self, key: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        let deadline = self.client.deadline();
        let url = self.client.object_url(key);
        let mut response = self.client.send(&deadline, "GET", Method::GET, &url, &[], None)?;
        match response.status().as_u16() {
            200 => {}
            404 | 410 => return Ok(false),
            _ => return Err(self.client.status_error("GET", &response)),
        }
        let announced = response.body().content_length();
        if let Some(len) = announced.filter(|&len| len > max_len) {
            return Err(RemoteError::TooLarge { len, max: max_len });
        }
        dest.set_len(0).map_err(RemoteError::Local)?;
        dest.seek(SeekFrom::Start(0)).map_err(RemoteError::Local)?;
        let mut body = response.body_mut().with_config().limit(u64::MAX).reader().take(max_len + 1);
        let copied =
            copy(&mut body, dest).map_err(|e| self.client.transfer_error("GET", &deadline, e))?;
        if copied > max_len {
            return Err(RemoteError::TooLarge { len: copied, max: max_len });
        }
        Ok(true)
    }

    /// PUT of the first `len` bytes of `src` to `url`; whether the server
    /// took it.
    fn put(&self, deadline: &Deadline, url: &str, src: &File, len: u64) -> Result<(), RemoteError> {
        let mut reader = AtOffsets { file: src, pos: 0, end: len };
        let headers = [("content-length", len.to_string())];
        let body = Some(&mut reader as &mut dyn Read);
        let response = self.client.send(deadline, "PUT", Method::PUT, url, &headers, body)?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            _ => Err(self.client.status_error("PUT", &response)),
        }
    }

    /// MOVE `from` onto `to`; `Ok(false)` when the server has no MOVE.
    fn move_to(&self, deadline: &Deadline, from: &str, to: &str) -> Result<bool, RemoteError> {
        let method = Method::from_bytes(b"MOVE").expect("a valid method name");
        let headers = [("destination", to.to_string()), ("overwrite", "T".to_string())];
        let response = self.client.send(deadline, "MOVE", method, from, &headers, None)?;
        match response.status().as_u16() {
            200..=299 => Ok(true),
            400 | 405 | 501 => Ok(false),
            _ => Err(self.client.status_error("MOVE", &response)),
        }
    }

    /// DELETE `url`; whether there was something to delete.
    fn delete(&self, deadline: &Deadline, url: &str) -> Result<bool, RemoteError> {
        let response = self.client.send(deadline, "DELETE", Method::DELETE, url, &[], None)?;
        match response.status().as_u16() {
            200..=299 => Ok(true),
            404 | 410 => Ok(false),
            _ => Err(self.client.status_error("DELETE", &response)),
        }
    }
}

impl RemoteStore for HttpStore {
    fn redacted_url(&self) -> &str {
        self.client.redacted_url()
    }

    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        let key = entry_key(key_hex)?;
        let result = self.fetch_into(&key, dest, max_len);
        crate::store::remote::empty_unless_found(result, dest)
    }

    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        let key = entry_key(key_hex)?;
        if let Some(why) = SkipReason::for_upload(len, self.max_entry_size, lifetime) {
            return Ok(Stored::Skipped(why));
        }
        let deadline = self.client.deadline();
        let target = self.client.object_url(&key);
        if !self.no_move.get() {
            let tmp = self.client.object_url(&format!("{TMP_PREFIX}{key_hex}:{}", random_token()));
            self.put(&deadline, &tmp, src, len)?;
            let moved = self.move_to(&deadline, &tmp, &target);
            if matches!(moved, Ok(true)) {
                return Ok(Stored::Written);
            }
            let _ = self.delete(&deadline, &tmp);
            moved?;
            self.no_move.set(true);
        }
        self.put(&deadline, &target, src, len)?;
        Ok(Stored::Written)
    }

    fn list_keys(&self) -> Result<Vec<String>, RemoteError> {
        let names = list::names(&self.client, &self.client.deadline())?;
        Ok(names.iter().filter_map(|n| super::keys::entry_hex(n)).map(str::to_string).collect())
    }

    /// Lists, then DELETEs every object named `cachecmd:v1:…` (entries and
    /// abandoned uploads), each with a deadline of its own.
    fn clear(&self) -> Result<u64, RemoteError> {
        let names = list::names(&self.client, &self.client.deadline())?;
        let mut removed = 0;
        for name in &names {
            let deleted = self.delete(&self.client.deadline(), &self.client.object_url(name))?;
            if deleted && super::keys::entry_hex(name).is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The first `end` bytes of a file, read at offsets (the cursor is shared
/// with the caller and left alone).
struct AtOffsets<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for AtOffsets<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.end - self.pos).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "entry file shrank"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// `io::copy`, telling a failed read (the network) from a failed write
/// (the local file).
fn copy(from: &mut impl Read, to: &mut impl io::Write) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

#[cfg(test)]
mod tests;
