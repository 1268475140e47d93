//! `saveTo`: what a request finds on disk before it is sent (a partial
//! download to resume, a saved copy to revalidate), the headers that asks
//! for, and what becomes of the file once the response arrives.
//!
//! Files fetchpool keeps beside a target `t`:
//! - `t.<random>.fetchpool-tmp`: a body being written, renamed to `t` once
//!   whole (see save_file.rs);
//! - `t.fetchpool-partial` and `t.fetchpool-partial.json` (`resume`): the
//!   bytes so far, and the URL, validator and length they are part of;
//! - `t.fetchpool.json` (`if_changed`): the saved copy's URL and validators.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use http::{header, HeaderMap, HeaderValue, StatusCode};

use super::body::{read_body, BodyLimits, BodyTarget, Codings, ResponseBody};
use super::error::FetchError;
use super::integrity::Integrity;
use super::save_file::SaveFile;

/// How a request with `saveTo` treats its file.
#[derive(Clone, Debug, Default)]
pub struct SaveOptions {
    /// Save the body whatever the status (else only 2xx bodies are saved).
    pub any_status: bool,
    /// Keep a failed download's bytes and continue from them next time.
    pub resume: bool,
    /// Ask the server whether the saved copy changed (`304` keeps it).
    pub if_changed: bool,
    /// The digest the saved body must have.
    pub integrity: Option<Integrity>,
}

/// What became of the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// The target now holds the body; its length.
    Written(u64),
    /// `304`: the saved copy is current and was kept.
    NotModified,
    /// The status was not one to save; the target is as it was.
    Skipped,
}

/// The outcome of one response.
pub enum Received {
    /// What became of the target, and the body bytes this response wrote.
    Done(Saved, u64),
    /// The server would not continue the partial download, which is gone
    /// now: the request goes again without a range.
    Restart,
}

/// Most bytes of a side file fetchpool reads back.
const MAX_META: u64 = 64 * 1024;

fn beside(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

struct Partial {
    len: u64,
    validator: HeaderValue,
    total: Option<u64>,
}

struct Revalidate {
    etag: Option<HeaderValue>,
    since: Option<HeaderValue>,
}

/// One request's view of its target.
pub struct SavePlan<'a> {
    target: &'a Path,
    opts: &'a SaveOptions,
    href: &'a str,
    partial: Option<Partial>,
    revalidate: Option<Revalidate>,
}

async fn read_json(path: &Path) -> Option<serde_json::Value> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    if !meta.is_file() || meta.len() > MAX_META {
        return None;
    }
    let text = tokio::fs::read(path).await.ok()?;
    serde_json::from_slice(&text).ok()
}

fn header_field(json: &serde_json::Value, name: &str) -> Option<HeaderValue> {
    let text = json.get(name)?.as_str()?;
    HeaderValue::from_str(text).ok()
}

fn text_of(value: Option<&HeaderValue>) -> Option<&str> {
    value.and_then(|v| v.to_str().ok())
}

impl<'a> SavePlan<'a> {
    /// Looks at the disk: nothing here fails, as what cannot be read is
    /// treated as absent and the write that follows reports real faults.
    pub async fn prepare(target: &'a Path, opts: &'a SaveOptions, href: &'a str) -> Self {
        let mut plan = SavePlan {
            target,
            opts,
            href,
            partial: None,
            revalidate: None,
        };
        if opts.resume {
            plan.partial = plan.find_partial().await;
        }
        if opts.if_changed && plan.partial.is_none() {
            plan.revalidate = plan.find_saved().await;
        }
        plan
    }

    fn partial_path(&self) -> PathBuf {
        beside(self.target, ".fetchpool-partial")
    }

    fn partial_meta_path(&self) -> PathBuf {
        beside(self.target, ".fetchpool-partial.json")
    }

    fn meta_path(&self) -> PathBuf {
        beside(self.target, ".fetchpool.json")
    }

    async fn find_partial(&self) -> Option<Partial> {
        let len = tokio::fs::metadata(self.partial_path())
            .await
            .ok()
            .filter(|m| m.is_file())?
            .len();
        let found = read_json(&self.partial_meta_path()).await.and_then(|json| {
            let same = json.get("url")?.as_str()? == self.href;
            let validator = header_field(&json, "validator")?;
            let total = json.get("total").and_then(serde_json::Value::as_u64);
            (same && len > 0 && total.is_none_or(|t| len < t)).then_some(Partial {
                len,
                validator,
                total,
            })
        });
        if found.is_none() {
            // Bytes of another URL, or of no known version: of no use.
            self.remove_partial().await;
        }
        found
    }

    async fn find_saved(&self) -> Option<Revalidate> {
        let meta = tokio::fs::metadata(self.target).await.ok()?;
        if !meta.is_file() {
            return None;
        }
        let json = read_json(&self.meta_path())
            .await
            .filter(|j| j.get("url").and_then(|u| u.as_str()) == Some(self.href));
        let etag = json.as_ref().and_then(|j| header_field(j, "etag"));
        let since = json
            .as_ref()
            .and_then(|j| header_field(j, "lastModified"))
            .or_else(|| {
                let mtime = meta.modified().ok()?;
                HeaderValue::from_str(&httpdate::fmt_http_date(mtime)).ok()
            });
        Some(Revalidate { etag, since })
    }

    async fn remove_partial(&self) {
        let _ = tokio::fs::remove_file(self.partial_path()).await;
        let _ = tokio::fs::remove_file(self.partial_meta_path()).await;
    }

    /// Adds what the plan asks of the server; the caller's own fields win.
    pub fn add_headers(&self, headers: &mut HeaderMap) {
        let mut add = |name: header::HeaderName, value: HeaderValue| {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        };
        if self.opts.resume {
            // Ranges count bytes as sent: a body sent as is can be resumed.
            add(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
        }
        if let Some(partial) = &self.partial {
            let range = format!("bytes={}-", partial.len);
            add(
                header::RANGE,
                HeaderValue::from_str(&range).expect("digits"),
            );
            add(header::IF_RANGE, partial.validator.clone());
        }
        if let Some(saved) = &self.revalidate {
            if let Some(etag) = &saved.etag {
                add(header::IF_NONE_MATCH, etag.clone());
            }
            if let Some(since) = &saved.since {
                add(header::IF_MODIFIED_SINCE, since.clone());
            }
        }
    }

    /// Whether `status` is one the plan asked for, which `failOnStatus`
    /// does not count as a failure: a `304` to a revalidation, a `416` to
    /// a range.
    pub fn answered_by(&self, status: StatusCode) -> bool {
        (status == StatusCode::NOT_MODIFIED && self.revalidate.is_some())
            || (status == StatusCode::RANGE_NOT_SATISFIABLE && self.partial.is_some())
    }

    /// Drops the partial download and the range that asked for its rest.
    pub async fn restart(&mut self, headers: &mut HeaderMap) {
        if self.partial.take().is_some() {
            headers.remove(header::RANGE);
            headers.remove(header::IF_RANGE);
            self.remove_partial().await;
        }
    }

    /// Saves (or not) the response's body, as the options and the status say.
    pub async fn receive(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        body: ResponseBody,
        coding: Option<Codings>,
        limits: &BodyLimits,
    ) -> Result<Received, FetchError> {
        if status == StatusCode::NOT_MODIFIED && self.revalidate.is_some() {
            body.discard();
            return Ok(Received::Done(Saved::NotModified, 0));
        }
        if let Some(partial) = &self.partial {
            if status == StatusCode::PARTIAL_CONTENT
                && coding.is_none()
                && range_continues(headers, partial)
            {
                let checker = self.opts.integrity.as_ref().map(Integrity::checker);
                let path = self.partial_path();
                if let Some(file) = SaveFile::append_partial(path, partial.len, checker).await? {
                    let from = partial.len;
                    return self
                        .fill(file, from, status, headers, body, coding, limits)
                        .await;
                }
            }
            if matches!(
                status,
                StatusCode::PARTIAL_CONTENT | StatusCode::RANGE_NOT_SATISFIABLE
            ) {
                body.discard();
                return Ok(Received::Restart);
            }
        }
        if !status.is_success() && !self.opts.any_status {
            body.discard();
            return Ok(Received::Done(Saved::Skipped, 0));
        }
        let file = self.fresh_file(status, headers, coding).await?;
        self.fill(file, 0, status, headers, body, coding, limits)
            .await
    }

    /// Where a body that starts at its first byte goes: the partial file
    /// when it could be resumed, else a temporary file.
    async fn fresh_file(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        coding: Option<Codings>,
    ) -> Result<SaveFile, FetchError> {
        let checker = self.opts.integrity.as_ref().map(Integrity::checker);
        if !self.opts.resume || !status.is_success() {
            return SaveFile::temp_beside(self.target, checker).await;
        }
        // A whole new body supersedes any bytes kept from before.
        self.partial = None;
        self.remove_partial().await;
        let validator = validator_of(headers).filter(|_| coding.is_none());
        let Some(validator) = validator.filter(|_| status == StatusCode::OK) else {
            return SaveFile::temp_beside(self.target, checker).await;
        };
        let meta = serde_json::json!({
            "url": self.href,
            "validator": validator,
            "total": content_length(headers),
        });
        tokio::fs::write(self.partial_meta_path(), meta.to_string())
            .await
            .map_err(super::save_file::file_error)?;
        SaveFile::fresh_partial(self.partial_path(), checker).await
    }

    /// Streams the body into `file`, checks it, and puts it in place.
    #[allow(clippy::too_many_arguments)] // one call site, each argument distinct
    async fn fill(
        &mut self,
        mut file: SaveFile,
        from: u64,
        status: StatusCode,
        headers: &HeaderMap,
        body: ResponseBody,
        coding: Option<Codings>,
        limits: &BodyLimits,
    ) -> Result<Received, FetchError> {
        let limits = BodyLimits {
            max_size: limits.max_size.map(|m| m.saturating_sub(from)),
            idle: limits.idle,
            min_speed: limits.min_speed,
        };
        let size_hint = content_length(headers);
        // On failure a temporary file removes itself; a partial one stays.
        let read = read_body(
            body,
            coding,
            size_hint,
            &limits,
            BodyTarget::File(&mut file),
            None,
        )
        .await?;
        if let Some(integrity) = &self.opts.integrity {
            if let Err(err) = file.verify(integrity) {
                let partial = file.is_partial();
                file.discard().await;
                if partial {
                    self.remove_partial().await;
                }
                return Err(err);
            }
        }
        let keep_meta = self.opts.if_changed && status.is_success();
        if self.opts.if_changed {
            // Gone before the new body lands: stale validators must never
            // describe it, even if the process dies between the two steps.
            let _ = tokio::fs::remove_file(self.meta_path()).await;
        }
        let mtime = last_modified(headers).filter(|_| keep_meta);
        let partial = file.is_partial();
        let len = file.len();
        file.commit(self.target, mtime).await?;
        if partial {
            let _ = tokio::fs::remove_file(self.partial_meta_path()).await;
        }
        if keep_meta {
            self.write_meta(headers).await;
        }
        Ok(Received::Done(Saved::Written(len), read.saved.unwrap_or(0)))
    }

    /// Best effort: without it the next run asks by the file's time alone.
    async fn write_meta(&self, headers: &HeaderMap) {
        let etag = text_of(headers.get(header::ETAG));
        let last_modified = text_of(headers.get(header::LAST_MODIFIED));
        if etag.is_none() && last_modified.is_none() {
            return;
        }
        let meta = serde_json::json!({
            "url": self.href,
            "etag": etag,
            "lastModified": last_modified,
        });
        let _ = tokio::fs::write(self.meta_path(), meta.to_string()).await;
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    text_of(headers.get(header::CONTENT_LENGTH)).and_then(parse_digits)
}

/// What `If-Range` may carry: a strong ETag, else the Last-Modified date.
fn validator_of(headers: &HeaderMap) -> Option<&str> {
    let etag = text_of(headers.get(header::ETAG)).filter(|e| e.starts_with('"') && e.len() > 1);
    etag.or_else(|| text_of(headers.get(header::LAST_MODIFIED)))
}

fn last_modified(headers: &HeaderMap) -> Option<SystemTime> {
    httpdate::parse_http_date(text_of(headers.get(header::LAST_MODIFIED))?).ok()
}

fn parse_digits(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `Content-Range: bytes first-last/complete` (RFC 9110 14.4).
fn content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let (unit, rest) = value.trim().split_once(' ')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (range, complete) = rest.trim().split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let (first, last) = (parse_digits(first)?, parse_digits(last)?);
    let complete = match complete.trim() {
        "*" => None,
        n => Some(parse_digits(n)?),
    };
    (first <= last).then_some((first, last, complete))
}

/// Whether a `206` carries exactly the rest of the partial download: from
/// its next byte to the end of the same whole.
fn range_continues(headers: &HeaderMap, partial: &Partial) -> bool {
    let Some((first, last, complete)) =
        text_of(headers.get(header::CONTENT_RANGE)).and_then(content_range)
    else {
        return false;
    };
    let whole = match (complete, partial.total) {
        (Some(a), Some(b)) if a != b => return false,
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => return false,
    };
    first == partial.len && last.checked_add(1) == Some(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(len: u64, total: Option<u64>) -> Partial {
        Partial {
            len,
            validator: HeaderValue::from_static("\"v\""),
            total,
        }
    }

    fn with_range(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn parses_content_range_strictly() {
        assert_eq!(content_range("bytes 5-9/10"), Some((5, 9, Some(10))));
        assert_eq!(content_range("Bytes 0-0/*"), Some((0, 0, None)));
        for bad in [
            "",
            "bytes",
            "bytes 9-5/10",
            "bytes -5/10",
            "bytes +5-9/10",
            "bytes 5-9/",
            "items 5-9/10",
            "bytes 5-99999999999999999999/*",
            "bytes */10",
        ] {
            assert_eq!(content_range(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_range_continues_only_from_the_next_byte_to_the_end() {
        let p = partial(5, Some(10));
        assert!(range_continues(&with_range("bytes 5-9/10"), &p));
        assert!(range_continues(&with_range("bytes 5-9/*"), &p));
        assert!(!range_continues(&with_range("bytes 4-9/10"), &p));
        assert!(!range_continues(&with_range("bytes 5-8/10"), &p));
        assert!(!range_continues(&with_range("bytes 5-10/11"), &p));
        assert!(!range_continues(&HeaderMap::new(), &p));
        let unknown = partial(5, None);
        assert!(range_continues(&with_range("bytes 5-9/10"), &unknown));
        assert!(!range_continues(&with_range("bytes 5-9/*"), &unknown));
    }

    #[test]
    fn only_strong_etags_validate_a_range() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, HeaderValue::from_static("W/\"weak\""));
        assert_eq!(validator_of(&headers), None);
        headers.insert(
            header::LAST_MODIFIED,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            validator_of(&headers),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
        headers.insert(header::ETAG, HeaderValue::from_static("\"strong\""));
        assert_eq!(validator_of(&headers), Some("\"strong\""));
    }
}
