//! Listing and removing what cachecmd keeps in a bucket: every object
//! whose name starts with `PREFIX/cachecmd:v1:` (ListObjectsV2, page after
//! page) and the multipart uploads left there by interrupted stores.
//!
//! These are maintenance commands over a bucket of any size, so each page
//! and each request gets a whole `op_timeout` of its own: one deadline for
//! a listing of 10 000 keys would fail it however healthy the server.

use rusty_s3::actions::{AbortMultipartUpload, DeleteObject, ListObjectsV2};
use ureq::http::Method;

use super::super::RemoteError;
use super::http::{xml_field, Op};
use super::{schema_prefix, S3Store};

/// A page of a listing is a few hundred KiB of XML at most.
const PAGE_BODY: u64 = 4 << 20;

impl S3Store {
    /// The names of every object under `PREFIX/cachecmd:v1:`.
    pub(super) fn list_objects(&self) -> Result<Vec<String>, RemoteError> {
        let prefix = schema_prefix(self);
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut list = ListObjectsV2::new(&self.bucket, self.creds.as_ref());
            list.with_prefix(prefix.as_str());
            if let Some(token) = &token {
                list.with_continuation_token(token.clone());
            }
            let op = self.op("ListObjectsV2");
            let mut resp = op.send(Method::GET, &op.sign(&list), &[], ())?;
            if !resp.status().is_success() {
                return Err(op.status_error(&mut resp).1);
            }
            let body = op.read_body(&mut resp, PAGE_BODY)?;
            let page = ListObjectsV2::parse_response(&String::from_utf8_lossy(&body))
                .map_err(|e| op.fail(format!("bad ListObjectsV2 reply: {e}")))?;
            names.extend(
                page.contents.into_iter().map(|c| c.key).filter(|k| k.starts_with(&prefix)),
            );
            match page.next_continuation_token {
                Some(next) if token.as_ref() != Some(&next) => token = Some(next),
                _ => return Ok(names),
            }
        }
    }

    /// Aborts the multipart uploads under `PREFIX/cachecmd:v1:` (one page
    /// of them: more would be left by over a thousand interrupted stores).
    /// A server without ListMultipartUploads has nothing to abort.
    pub(super) fn abort_uploads(&self) -> Result<(), RemoteError> {
        let prefix = schema_prefix(self);
        let url = self.list_uploads_url(&prefix);
        let op = self.op("ListMultipartUploads");
        let mut resp = op.send(Method::GET, &url, &[], ())?;
        if resp.status().as_u16() == 501 {
            return Ok(());
        }
        if !resp.status().is_success() {
            return Err(op.status_error(&mut resp).1);
        }
        let body = op.read_body(&mut resp, PAGE_BODY)?;
        let text = String::from_utf8_lossy(&body);
        for upload in text.split("<Upload>").skip(1) {
            let (Some(key), Some(id)) = (xml_field(upload, "Key"), xml_field(upload, "UploadId"))
            else {
                continue;
            };
            let key = unescape(key);
            if !key.starts_with(&prefix) {
                continue;
            }
            let id = unescape(id);
            let abort = AbortMultipartUpload::new(&self.bucket, self.creds.as_ref(), &key, &id);
            let op = self.op("AbortMultipartUpload");
            let mut resp = op.send(Method::DELETE, &op.sign(&abort), &[], ())?;
            if !resp.status().is_success() && resp.status().as_u16() != 404 {
                return Err(op.status_error(&mut resp).1);
            }
        }
        Ok(())
    }

    /// `GET /?prefix=…&uploads` (rusty-s3 has no action for it).
    fn list_uploads_url(&self, prefix: &str) -> url::Url {
        let query = [("prefix", prefix), ("uploads", "")];
        let url = self.bucket.base_url().clone();
        match &self.creds {
            Some(c) => {
                let secs = self.config.op_timeout.as_secs().saturating_add(60).min(604_800);
                rusty_s3::signing::sign(
                    &jiff::Timestamp::now(),
                    rusty_s3::Method::Get,
                    url,
                    c.key(),
                    c.secret(),
                    c.token(),
                    self.bucket.region(),
                    secs,
                    query.iter().copied(),
                    std::iter::empty(),
                )
            }
            None => {
                let mut url = url;
                url.query_pairs_mut().extend_pairs(query);
                url
            }
        }
    }
}

impl Op<'_> {
    /// Deletes one object (already gone is fine).
    pub fn delete(&self, name: &str) -> Result<(), RemoteError> {
        let store = self.store;
        let action = DeleteObject::new(&store.bucket, store.creds.as_ref(), name);
        let mut resp = self.send(Method::DELETE, &self.sign(&action), &[], ())?;
        if resp.status().is_success() || resp.status().as_u16() == 404 {
            Ok(())
        } else {
            Err(self.status_error(&mut resp).1)
        }
    }
}

/// The five XML entities (object names may hold `&`).
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}
