//! Which HTTP/2 failures left the request unprocessed by the server, so
//! that it can go again whatever its method (RFC 9113 §8.7).

use std::error::Error as StdError;

use h2::Reason;

use super::error::find_in_chain;

/// Whether `err` says the server did not process the request: its
/// stream was reset with REFUSED_STREAM, or was above the last stream id
/// of a graceful GOAWAY.
///
/// h2 reports a received GOAWAY, as a stream's error, only to the streams
/// above its last stream id, which RFC 9113 §6.8 says the server did not
/// process. A GOAWAY with an error code is left out: the streams at or
/// below its last id fail with the same error when the connection then
/// ends, and those may have been processed.
pub fn unprocessed(err: &(dyn StdError + 'static)) -> bool {
    if let Some(hyper) = find_in_chain::<hyper::Error>(err) {
        if dispatch_gone(hyper) {
            return true;
        }
    }
    let Some(h2) = find_in_chain::<h2::Error>(err) else {
        return false;
    };
    match h2.reason() {
        Some(Reason::NO_ERROR) => h2.is_remote() && h2.is_go_away(),
        Some(Reason::REFUSED_STREAM) => h2.is_remote() && h2.is_reset(),
        _ => false,
    }
}

/// hyper's "dispatch task is gone": the connection's task ended with the
/// request still its own and unsent. Its HTTP/2 client does so with a
/// stream left pending open (above the server's concurrent stream limit)
/// when a graceful GOAWAY ends the connection: that request never left
/// the client. hyper tells this error only by its text (a user error of
/// kind `DispatchGone`).
fn dispatch_gone(err: &hyper::Error) -> bool {
    err.is_user() && err.to_string().starts_with("dispatch task is gone")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_raised_here_are_not_the_servers_refusal() {
        // h2 builds a remote GOAWAY or RST_STREAM only from a received
        // frame (covered by __test__/http2-goaway.test.js); a reason alone
        // is one the client gave.
        for reason in [Reason::NO_ERROR, Reason::REFUSED_STREAM] {
            let err = h2::Error::from(reason);
            assert!(!unprocessed(&err));
        }
        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(!unprocessed(&io));
    }
}
