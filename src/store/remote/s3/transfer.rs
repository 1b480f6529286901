//! Moving values of any size through S3 with bounded memory: fetched in
//! [`PART`]-sized ranges streamed into the destination file (a range
//! replaced midway is a miss: later ranges are asked `If-Match` the first
//! one's ETag), uploaded in one PUT or, when larger, as a multipart upload
//! that is aborted on failure. S3 has no expiry per object: the instant an
//! entry stops being worth sharing travels as metadata and an entry read
//! after it is a miss.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusty_s3::actions::{
    AbortMultipartUpload, CompleteMultipartUpload, CreateMultipartUpload, GetObject, PutObject,
    S3Action, UploadPart,
};
use ureq::http::Method;

use super::super::RemoteError;
use super::http::{etag, header, Op};
use super::{S3Store, PART};

/// Metadata holding the entry's end of life (Unix seconds).
const META_EXPIRES: &str = "x-amz-meta-cachecmd-expires";

/// Bodies are copied to the file through a buffer of this size.
const COPY_BUF: usize = 64 << 10;

/// Replies of the multipart calls are small XML documents.
const XML_BODY: u64 = 64 << 10;

impl S3Store {
    pub(super) fn fetch_into(
        &self,
        object: &str,
        dest: &File,
        max_len: u64,
    ) -> Result<bool, RemoteError> {
        let op = self.op("GET");
        let url = op.sign(&GetObject::new(&self.bucket, self.creds.as_ref(), object));
        // Asking for a byte past `max_len` tells an oversized value apart.
        let want = PART.min(max_len.saturating_add(1));
        let range = format!("bytes=0-{}", want - 1);
        let mut resp = op.send(Method::GET, &url, &[("range", &range)], ())?;
        match resp.status().as_u16() {
            200 | 206 => {}
            404 => {
                let (code, e) = op.status_error(&mut resp);
                return if code == "NoSuchBucket" { Err(e) } else { Ok(false) };
            }
            416 => return Ok(false), // an empty object: no entry
            _ => return Err(op.status_error(&mut resp).1),
        }
        let expires = header(&resp, META_EXPIRES).and_then(|e| e.parse::<u64>().ok());
        if expires.is_some_and(|at| at <= unix_now()) {
            return Ok(false);
        }
        dest.set_len(0).map_err(RemoteError::Local)?;
        let total = if resp.status().as_u16() == 206 {
            let range = header(&resp, "content-range").unwrap_or_default();
            let total = parse_total(&range)
                .filter(|_| range.starts_with("bytes 0-"))
                .ok_or_else(|| op.fail(format!("bad Content-Range {range:?}")))?;
            if total > max_len {
                return Err(RemoteError::TooLarge { len: total, max: max_len });
            }
            total
        } else {
            // The server ignored the range: the whole value comes now.
            u64::MAX
        };
        let first = total.min(want);
        let tag = etag(&resp);
        let reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        let got = copy_bounded(&op, reader, dest, 0, first.min(max_len.saturating_add(1)))?;
        let total = if total == u64::MAX {
            if got > max_len {
                return Err(RemoteError::TooLarge { len: got, max: max_len });
            }
            got
        } else if got != first {
            return Err(op.fail(format!("the reply has {got} bytes, {first} were asked")));
        } else {
            total
        };
        let mut at = got;
        while at < total {
            let end = total.min(at + PART);
            let range = format!("bytes={at}-{}", end - 1);
            let mut headers = vec![("range", range.as_str())];
            if let Some(tag) = &tag {
                headers.push(("if-match", tag));
            }
            let mut resp = op.send(Method::GET, &url, &headers, ())?;
            match resp.status().as_u16() {
                206 => {}
                404 | 412 | 416 => return Ok(false), // replaced or deleted under us
                _ => return Err(op.status_error(&mut resp).1),
            }
            if etag(&resp) != tag {
                return Ok(false);
            }
            let asked = format!("bytes {at}-{}/{total}", end - 1);
            if header(&resp, "content-range").as_deref() != Some(asked.as_str()) {
                return Err(op.fail(format!("the reply is not the range {asked}")));
            }
            let reader = resp.body_mut().with_config().limit(u64::MAX).reader();
            let n = copy_bounded(&op, reader, dest, at, end - at)?;
            if n != end - at {
                return Err(op.fail(format!("the reply has {n} bytes, {} were asked", end - at)));
            }
            at = end;
        }
        dest.set_len(total).map_err(RemoteError::Local)?;
        Ok(true)
    }

    pub(super) fn store_from(
        &self,
        object: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<(), RemoteError> {
        let op = self.op("PUT");
        let expires = lifetime.map(|ttl| {
            let end = SystemTime::now() + ttl;
            let secs = end.duration_since(UNIX_EPOCH).unwrap_or_default();
            (secs.as_secs() + u64::from(secs.subsec_nanos() > 0)).to_string()
        });
        let meta: Vec<(&str, &str)> = expires.iter().map(|e| (META_EXPIRES, e.as_str())).collect();
        if len <= PART {
            let mut put = PutObject::new(&self.bucket, self.creds.as_ref(), object);
            for (name, value) in &meta {
                put.headers_mut().insert(*name, *value);
            }
            let mut buf = vec![0u8; len as usize];
            src.read_exact_at(&mut buf, 0).map_err(RemoteError::Local)?;
            let mut resp = op.send(Method::PUT, &op.sign(&put), &meta, &buf[..])?;
            if !resp.status().is_success() {
                return Err(op.status_error(&mut resp).1);
            }
            return Ok(());
        }
        let mut create = CreateMultipartUpload::new(&self.bucket, self.creds.as_ref(), object);
        for (name, value) in &meta {
            create.headers_mut().insert(*name, *value);
        }
        let mut resp = op.send(Method::POST, &op.sign(&create), &meta, &[][..])?;
        if !resp.status().is_success() {
            return Err(op.status_error(&mut resp).1);
        }
        let body = op.read_body(&mut resp, XML_BODY)?;
        let created = CreateMultipartUpload::parse_response(&String::from_utf8_lossy(&body))
            .map_err(|e| op.fail(format!("bad CreateMultipartUpload reply: {e}")))?;
        let upload_id = created.upload_id().to_string();
        let result = self.upload_parts(&op, object, &upload_id, src, len);
        if result.is_err() {
            // A short budget of its own: the deadline may be what failed.
            let abort = self.op_within("abort multipart upload", self.config.connect_timeout);
            let action =
                AbortMultipartUpload::new(&self.bucket, self.creds.as_ref(), object, &upload_id);
            let _ = abort.send(Method::DELETE, &abort.sign(&action), &[], ());
        }
        result
    }

    fn upload_parts(
        &self,
        op: &Op<'_>,
        object: &str,
        upload_id: &str,
        src: &File,
        len: u64,
    ) -> Result<(), RemoteError> {
        let mut buf = vec![0u8; PART as usize];
        let mut etags = Vec::new();
        let mut at = 0;
        while at < len {
            let n = (len - at).min(PART) as usize;
            src.read_exact_at(&mut buf[..n], at).map_err(RemoteError::Local)?;
            let number = u16::try_from(etags.len() + 1)
                .map_err(|_| op.fail("more than 65535 parts".into()))?;
            let part =
                UploadPart::new(&self.bucket, self.creds.as_ref(), object, number, upload_id);
            let mut resp = op.send(Method::PUT, &op.sign(&part), &[], &buf[..n])?;
            if !resp.status().is_success() {
                return Err(op.status_error(&mut resp).1);
            }
            etags.push(etag(&resp).ok_or_else(|| op.fail("a part without an ETag".into()))?);
            at += n as u64;
        }
        drop(buf);
        let complete = CompleteMultipartUpload::new(
            &self.bucket,
            self.creds.as_ref(),
            object,
            upload_id,
            etags.iter().map(String::as_str),
        );
        let url = op.sign(&complete);
        let mut resp = op.send(Method::POST, &url, &[], complete.body())?;
        if !resp.status().is_success() {
            return Err(op.status_error(&mut resp).1);
        }
        // S3 may fail a completion after its 200 status line.
        let body = op.read_body(&mut resp, XML_BODY)?;
        if String::from_utf8_lossy(&body).contains("<Error>") {
            return Err(op.fail("CompleteMultipartUpload failed".into()));
        }
        Ok(())
    }
}

/// `TOTAL` of `bytes A-B/TOTAL`.
fn parse_total(content_range: &str) -> Option<u64> {
    content_range.rsplit_once('/')?.1.trim().parse().ok()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Copies the body into `dest` at `at`, reading at most `limit + 1` bytes:
/// more than `limit` is an error. Returns the bytes written.
fn copy_bounded(
    op: &Op<'_>,
    reader: impl Read,
    dest: &File,
    at: u64,
    limit: u64,
) -> Result<u64, RemoteError> {
    let mut reader = reader.take(limit.saturating_add(1));
    let mut buf = vec![0u8; COPY_BUF];
    let mut n = 0u64;
    loop {
        let got = match reader.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(op.read_error(&e)),
        };
        if n + got as u64 > limit {
            return Err(op.fail(format!("the reply is larger than the {limit} bytes asked")));
        }
        dest.write_all_at(&buf[..got], at + n).map_err(RemoteError::Local)?;
        n += got as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_total;

    #[test]
    fn content_range_totals() {
        assert_eq!(parse_total("bytes 0-9/100"), Some(100));
        assert_eq!(parse_total("bytes */100"), Some(100));
        assert_eq!(parse_total("bytes 0-9/*"), None);
    }
}
