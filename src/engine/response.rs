//! What a finished request hands back: the response, or the error, with the
//! request's timeline either way.

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Version};

use super::error::FetchError;

/// Points on a request's timeline. `connected` is set only when this request
/// opened a new connection.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub queued: Instant,
    pub start: Option<Instant>,
    pub connected: Option<Instant>,
    pub first_byte: Option<Instant>,
    pub end: Option<Instant>,
}

impl Timing {
    pub fn queued_at(at: Instant) -> Self {
        Timing {
            queued: at,
            start: None,
            connected: None,
            first_byte: None,
            end: None,
        }
    }
}

#[derive(Debug)]
pub struct ResponseData {
    pub status: StatusCode,
    pub version: Version,
    /// The final URL, after redirects, serialized.
    pub url: String,
    pub redirected: bool,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Bytes written to `saveTo`, when the body went to a file.
    pub saved_bytes: Option<u64>,
}

/// One request's outcome, as delivered to the caller.
#[derive(Debug)]
pub struct Completion {
    pub batch: u32,
    pub index: u32,
    pub attempts: u32,
    pub timing: Timing,
    pub result: Result<ResponseData, FetchError>,
    /// The URL the request was for (the final one is on the response).
    pub url: String,
}
