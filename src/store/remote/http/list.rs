//! Listing the objects under the prefix, for `list`/`clear --remote`:
//! WebDAV `PROPFIND` with `Depth: 1`, whose answer is read up to a bound
//! and scanned for `href` elements (the names are all we need, so no XML
//! parser: any namespace prefix, text up to the next `<`).

use std::collections::HashSet;
use std::io::Read;

use ureq::http::Method;

use super::super::keys::PREFIX;
use super::super::RemoteError;
use super::client::{Client, Deadline};
use super::copy;

/// A listing larger than this is refused (about 400 000 entries).
const MAX_LISTING: u64 = 64 << 20;

const PROPFIND_BODY: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
    <D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/></D:prop></D:propfind>";

/// The name of every object under the prefix that starts with [`PREFIX`]
/// (entries, uploads); empty when the prefix does not exist yet.
pub fn names(client: &Client, deadline: &Deadline) -> Result<Vec<String>, RemoteError> {
    let method = Method::from_bytes(b"PROPFIND").expect("a valid method name");
    let headers = [
        ("depth", "1".to_string()),
        ("content-type", "application/xml".to_string()),
        ("content-length", PROPFIND_BODY.len().to_string()),
    ];
    let mut body = PROPFIND_BODY.as_bytes();
    let url = client.collection_url();
    let mut response = client.send(
        deadline,
        "PROPFIND",
        method,
        &url,
        &headers,
        Some(&mut body as &mut dyn Read),
    )?;
    match response.status().as_u16() {
        207 => {}
        404 => return Ok(Vec::new()),
        400 | 403 | 405 | 501 => {
            let status = response.status();
            let message = format!("server cannot list: PROPFIND answered HTTP {status} (needs WebDAV, e.g. nginx's dav-ext module)");
            return Err(client.command("PROPFIND", message));
        }
        _ => return Err(client.status_error("PROPFIND", &response)),
    }
    let mut xml = Vec::new();
    let mut reader =
        response.body_mut().with_config().limit(u64::MAX).reader().take(MAX_LISTING + 1);
    let read =
        copy(&mut reader, &mut xml).map_err(|e| client.transfer_error("PROPFIND", deadline, e))?;
    if read > MAX_LISTING {
        let message = format!("server cannot list: the listing is over {MAX_LISTING} bytes");
        return Err(client.command("PROPFIND", message));
    }
    Ok(object_names(&String::from_utf8_lossy(&xml)))
}

/// The last path segment of every `href` that names a cachecmd object,
/// each once, in the order of the listing (a set makes a listing of
/// 100 000 names linear, not quadratic).
fn object_names(xml: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut seen = HashSet::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let name = tag.split(|c: char| c.is_ascii_whitespace()).next().unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or("");
        if !local.eq_ignore_ascii_case("href") || tag.ends_with('/') {
            continue;
        }
        let text = rest.split('<').next().unwrap_or("");
        let href = unescape(text.trim());
        let decoded = percent_encoding::percent_decode_str(&href).decode_utf8_lossy();
        let segment = decoded.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if segment.starts_with(PREFIX) && seen.insert(segment.to_string()) {
            names.push(segment.to_string());
        }
    }
    names
}

/// The XML character references an href may hold.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_with_any_prefix_and_escapes() {
        let hex = "ab".repeat(32);
        let xml = format!(
            "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\">\
             <D:response><D:href>/cache/</D:href></D:response>\
             <D:response><D:href>/cache/cachecmd%3Av1%3A{hex}</D:href></D:response>\
             <d:response><d:href>http://h/cache/cachecmd:v1:tmp:{hex}:1</d:href></d:response>\
             <response xmlns=\"DAV:\"><href>/cache/other</href><href/></response>\
             </D:multistatus>"
        );
        let names = object_names(&xml);
        assert_eq!(names, [format!("cachecmd:v1:{hex}"), format!("cachecmd:v1:tmp:{hex}:1")]);
    }

    #[test]
    fn many_hrefs_each_once_in_order() {
        let names: Vec<String> = (0..50_000).map(|i| format!("cachecmd:v1:{i:064x}")).collect();
        let mut xml = String::from("<D:multistatus xmlns:D=\"DAV:\">");
        for name in names.iter().chain(names.iter().step_by(7)) {
            xml.push_str(&format!("<D:response><D:href>/c/{name}</D:href></D:response>"));
        }
        xml.push_str("</D:multistatus>");
        assert_eq!(object_names(&xml), names);
    }
}
