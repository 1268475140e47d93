//! The shape of what crosses to JavaScript: the fields of a completion row,
//! the codes of a response's HTTP version and of a submit's start. The
//! JavaScript side reads the same numbers from lib/layout.js; a test below
//! checks that file against these definitions, so one side cannot change
//! without the other.

/// Numbers per completion row (a `Float64Array` of `ROW × n`).
pub const ROW: usize = 16;

/// The batch the completion belongs to.
pub const BATCH: usize = 0;
/// The request's index in its call.
pub const INDEX: usize = 1;
/// The HTTP status; 0 on an error row.
pub const STATUS: usize = 2;
/// The response's HTTP version, as a `VERSION_*` code.
pub const VERSION: usize = 3;
/// Attempts made (retries count; stale-connection resends do not).
pub const ATTEMPTS: usize = 4;
/// 1 when a redirect was followed; on an error row, the HTTP status of an
/// `ERR_HTTP_STATUS` failure (0 otherwise).
pub const REDIRECTED: usize = 5;
/// Where the header lines start in the chunk's `data`.
pub const HEADERS_START: usize = 6;
/// Where they end, which is where a small body starts.
pub const HEADERS_END: usize = 7;
/// Where a small body ends in `data`, or `-(k + 1)` when the body is the
/// chunk's `bodies[k]`.
pub const BODY_END: usize = 8;
/// With `saveTo`: the length of the file saved from this response, or one
/// of the `SAVED_*` codes.
pub const SAVED_BYTES: usize = 9;
/// Timing, milliseconds on the `performance.now()` clock.
pub const QUEUED: usize = 10;
pub const START: usize = 11;
/// -1 when the request reused a connection.
pub const CONNECTED: usize = 12;
pub const FIRST_BYTE: usize = 13;
pub const END: usize = 14;
/// Index into the chunk's `extras` (-1: none): the final URL of a response,
/// `[code, message, url, cause]` of an error.
pub const EXTRA: usize = 15;

/// Codes of `VERSION`.
pub const VERSION_1_1: f64 = 0.0;
pub const VERSION_1_0: f64 = 1.0;
pub const VERSION_2: f64 = 2.0;
pub const VERSION_3: f64 = 3.0;
pub const VERSION_0_9: f64 = 4.0;

/// Codes of `SAVED_BYTES` other than a length: no `saveTo`; a status that
/// was not saved; a `304` that kept the saved copy.
pub const SAVED_NONE: f64 = -1.0;
pub const SAVED_SKIPPED: f64 = -2.0;
pub const SAVED_NOT_MODIFIED: f64 = -3.0;

/// Codes of `submit`'s `start` argument.
pub const START_NOW: u32 = 0;
pub const START_HOLD: u32 = 1;
pub const START_OPEN: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    /// `NAME: value` pairs of lib/layout.js's exported object.
    fn js_constants() -> Vec<(String, f64)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/lib/layout.js");
        let text = std::fs::read_to_string(path).expect("lib/layout.js");
        text.lines()
            .filter_map(|line| {
                let (name, value) = line.trim().trim_end_matches(',').split_once(':')?;
                let value: f64 = value.trim().parse().ok()?;
                Some((name.trim().to_owned(), value))
            })
            .collect()
    }

    #[test]
    fn lib_layout_js_matches_the_rust_definitions() {
        let rust: Vec<(&str, f64)> = vec![
            ("ROW", ROW as f64),
            ("BATCH", BATCH as f64),
            ("INDEX", INDEX as f64),
            ("STATUS", STATUS as f64),
            ("VERSION", VERSION as f64),
            ("ATTEMPTS", ATTEMPTS as f64),
            ("REDIRECTED", REDIRECTED as f64),
            ("HEADERS_START", HEADERS_START as f64),
            ("HEADERS_END", HEADERS_END as f64),
            ("BODY_END", BODY_END as f64),
            ("SAVED_BYTES", SAVED_BYTES as f64),
            ("QUEUED", QUEUED as f64),
            ("START", START as f64),
            ("CONNECTED", CONNECTED as f64),
            ("FIRST_BYTE", FIRST_BYTE as f64),
            ("END", END as f64),
            ("EXTRA", EXTRA as f64),
            ("VERSION_1_1", VERSION_1_1),
            ("VERSION_1_0", VERSION_1_0),
            ("VERSION_2", VERSION_2),
            ("VERSION_3", VERSION_3),
            ("VERSION_0_9", VERSION_0_9),
            ("SAVED_NONE", SAVED_NONE),
            ("SAVED_SKIPPED", SAVED_SKIPPED),
            ("SAVED_NOT_MODIFIED", SAVED_NOT_MODIFIED),
            ("START_NOW", f64::from(START_NOW)),
            ("START_HOLD", f64::from(START_HOLD)),
            ("START_OPEN", f64::from(START_OPEN)),
        ];
        let js = js_constants();
        let names: Vec<&str> = js.iter().map(|(name, _)| name.as_str()).collect();
        let expected: Vec<&str> = rust.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, expected, "lib/layout.js names, in order");
        for ((name, value), (_, js_value)) in rust.iter().zip(&js) {
            assert_eq!(value, js_value, "{name}");
        }
        // Every field index is inside the row, and no two fields share one.
        let mut fields: Vec<f64> = rust[1..17].iter().map(|(_, v)| *v).collect();
        fields.sort_by(f64::total_cmp);
        fields.dedup();
        assert_eq!(fields.len(), ROW);
        assert!(fields.iter().all(|&f| f < ROW as f64));
    }
}
