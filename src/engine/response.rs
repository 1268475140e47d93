//! What a finished request hands back: the response, or the error, with the
//! request's timeline either way.

use std::time::Instant;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, Version};

use super::error::FetchError;
use super::save::Saved;

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
    /// The final URL, serialized, where it is not the URL as given: after
    /// redirects, or for a URL given in other than WHATWG's normal form.
    pub url: Option<String>,
    pub redirected: bool,
    pub headers: Headers,
    pub body: Bytes,
    /// Body bytes written to `saveTo`, when the body went to a file.
    pub saved_bytes: Option<u64>,
    /// What became of the `saveTo` file.
    pub saved: Option<Saved>,
}

/// A response's header fields.
#[derive(Debug)]
pub enum Headers {
    /// As hyper parsed them.
    Map(HeaderMap),
    /// The field lines of a head that fetchpool's own HTTP/1.1 read
    /// (wire.rs), as they came: `name:value` with optional whitespace around
    /// the value, each line ending in CRLF or LF. httparse has checked them.
    /// They cross to JavaScript as they are, unparsed.
    Lines(Bytes),
}

impl Headers {
    /// The fields as a map; for the rare reader that needs one.
    pub fn to_map(&self) -> HeaderMap {
        match self {
            Headers::Map(map) => map.clone(),
            Headers::Lines(lines) => {
                let mut map = HeaderMap::new();
                for (name, value) in split_lines(lines) {
                    if let (Ok(name), Ok(value)) =
                        (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
                    {
                        map.append(name, value);
                    }
                }
                map
            }
        }
    }
}

/// The fields of checked field lines (see [`Headers::Lines`]), with the
/// whitespace around each value trimmed.
fn split_lines(lines: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    lines.split(|&b| b == b'\n').filter_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        let value = line[colon + 1..].trim_ascii();
        Some((&line[..colon], value))
    })
}

/// One request's outcome, as delivered to the caller.
#[derive(Debug)]
pub struct Completion {
    pub batch: u32,
    pub index: u32,
    pub attempts: u32,
    pub timing: Timing,
    pub result: Result<ResponseData, FetchError>,
    /// The URL as given, with an error; on a response it may be empty (the
    /// final URL is on the response where it differs from the one given).
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lines_read_as_fields_and_as_a_map() {
        let raw = b"Content-Type:text/plain\r\nX-A: 1 \t\r\nx-a:\t2\nEmpty:\r\n";
        let fields: Vec<_> = split_lines(raw).collect();
        assert_eq!(
            fields,
            vec![
                (&b"Content-Type"[..], &b"text/plain"[..]),
                (b"X-A", b"1"),
                (b"x-a", b"2"),
                (b"Empty", b""),
            ]
        );
        let map = Headers::Lines(Bytes::from_static(raw)).to_map();
        assert_eq!(map["content-type"], "text/plain");
        let both: Vec<_> = map.get_all("x-a").iter().collect();
        assert_eq!(both, ["1", "2"]);
        assert_eq!(map["empty"], "");
    }
}
