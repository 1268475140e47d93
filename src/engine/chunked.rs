//! The chunked transfer coding (RFC 9112 §7.1), read from the front of a
//! connection's buffer one state at a time. Each state takes what it needs
//! and says where to go next, so the input may be split anywhere.
//!
//! What is accepted, and where that differs from hyper and llhttp, is
//! written down in docs/http1-framing.md: a chunk-size line is hex digits,
//! then optionally `;` and an extension that holds no CR or LF, then CRLF;
//! nothing else (no whitespace, no empty size, no bare LF). Trailer fields
//! are checked as hyper checks them and then dropped.

use bytes::{Buf, BytesMut};

/// Longest chunk extension, and largest trailer section, as hyper's limits.
const MAX_LINE: usize = 16 * 1024;
/// Most trailer fields, as hyper's.
const MAX_TRAILERS: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The first digit of a chunk size.
    SizeStart,
    Size,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    /// The start of a trailer line, or the CR of the final empty line.
    EndCr,
    Trailer,
    TrailerLf,
    EndLf,
    End,
}

/// What the decoder found at the front of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The next `n` bytes of the buffer are body data, for the caller to take.
    Data(usize),
    /// The buffer has been used up; more bytes are needed.
    More,
    /// The last chunk and the trailer section have been read.
    End,
}

#[derive(Debug)]
pub struct Decoder {
    step: Step,
    size: u64,
    /// Bytes of the current extension.
    extension: usize,
    trailers: Vec<u8>,
    trailer_count: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            step: Step::SizeStart,
            size: 0,
            extension: 0,
            trailers: Vec::new(),
            trailer_count: 0,
        }
    }
}

/// The one chunk-size line hyper reads and fetchpool refuses.
pub const WHITESPACE_AFTER_SIZE: &str = "whitespace after chunk size";
/// A trailer section hyper's field parser may still read; fetchpool
/// refuses it, as llhttp does.
pub const BARE_LF_IN_TRAILER: &str = "trailer line holds a bare LF";

type Result<T> = std::result::Result<T, &'static str>;

impl Decoder {
    /// Reads framing from the front of `buf` until body data, the end of
    /// the body or the end of the buffer. Data bytes are left in `buf`:
    /// the caller takes the `n` that `Progress::Data(n)` names.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Progress> {
        loop {
            if self.step == Step::End {
                return Ok(Progress::End);
            }
            if self.step == Step::Data {
                if buf.is_empty() {
                    return Ok(Progress::More);
                }
                let n = self.size.min(buf.len() as u64);
                self.size -= n;
                if self.size == 0 {
                    self.step = Step::DataCr;
                }
                return Ok(Progress::Data(n as usize));
            }
            let Some(&byte) = buf.first() else {
                return Ok(Progress::More);
            };
            buf.advance(1);
            self.step = self.step(byte)?;
        }
    }

    /// One framing byte: the state it leads to.
    fn step(&mut self, byte: u8) -> Result<Step> {
        match self.step {
            Step::SizeStart => self.first_digit(byte),
            Step::Size => self.size_byte(byte),
            Step::Extension => self.extension_byte(byte),
            Step::SizeLf => self.size_lf(byte),
            Step::DataCr => expect(byte, b'\r', Step::DataLf, "chunk data not followed by CRLF"),
            Step::DataLf => expect(
                byte,
                b'\n',
                Step::SizeStart,
                "chunk data not followed by CRLF",
            ),
            Step::EndCr => self.line_start(byte),
            Step::Trailer => self.trailer_byte(byte),
            Step::TrailerLf => self.trailer_lf(byte),
            Step::EndLf => self.end_lf(byte),
            Step::Data | Step::End => unreachable!("handled by decode"),
        }
    }

    fn first_digit(&mut self, byte: u8) -> Result<Step> {
        self.size = 0;
        self.extension = 0;
        hex(byte).ok_or("invalid chunk size")?;
        self.size_byte(byte)
    }

    fn size_byte(&mut self, byte: u8) -> Result<Step> {
        match (byte, hex(byte)) {
            (_, Some(digit)) => {
                self.size = self
                    .size
                    .checked_mul(16)
                    .and_then(|size| size.checked_add(digit))
                    .ok_or("chunk size is too large")?;
                Ok(Step::Size)
            }
            (b';', None) => Ok(Step::Extension),
            (b'\r', None) => Ok(Step::SizeLf),
            // hyper accepts this; llhttp and RFC 9112's grammar do not.
            (b' ' | b'\t', None) => Err(WHITESPACE_AFTER_SIZE),
            _ => Err("invalid chunk size"),
        }
    }

    fn extension_byte(&mut self, byte: u8) -> Result<Step> {
        match byte {
            b'\r' => Ok(Step::SizeLf),
            b'\n' => Err("chunk extension holds a bare LF"),
            _ => {
                self.extension += 1;
                if self.extension > MAX_LINE {
                    return Err("chunk extension is too long");
                }
                Ok(Step::Extension)
            }
        }
    }

    fn size_lf(&mut self, byte: u8) -> Result<Step> {
        if byte != b'\n' {
            return Err("chunk size line not ended by CRLF");
        }
        Ok(if self.size == 0 {
            Step::EndCr
        } else {
            Step::Data
        })
    }

    fn line_start(&mut self, byte: u8) -> Result<Step> {
        if byte == b'\r' {
            return Ok(Step::EndLf);
        }
        self.trailer_byte(byte)
    }

    fn trailer_byte(&mut self, byte: u8) -> Result<Step> {
        if byte == b'\n' {
            return Err(BARE_LF_IN_TRAILER);
        }
        self.keep_trailer(byte)?;
        Ok(if byte == b'\r' {
            Step::TrailerLf
        } else {
            Step::Trailer
        })
    }

    fn trailer_lf(&mut self, byte: u8) -> Result<Step> {
        if byte != b'\n' {
            return Err("trailer line not ended by CRLF");
        }
        self.trailer_count += 1;
        if self.trailer_count > MAX_TRAILERS {
            return Err("too many trailer fields");
        }
        self.keep_trailer(byte)?;
        Ok(Step::EndCr)
    }

    fn end_lf(&mut self, byte: u8) -> Result<Step> {
        if byte != b'\n' {
            return Err("chunked body not ended by CRLF");
        }
        if !self.trailers.is_empty() {
            self.trailers.extend_from_slice(b"\r\n");
            check_trailers(&self.trailers)?;
            self.trailers = Vec::new();
        }
        Ok(Step::End)
    }

    fn keep_trailer(&mut self, byte: u8) -> Result<()> {
        self.trailers.push(byte);
        if self.trailers.len() >= MAX_LINE {
            return Err("trailer section is too large");
        }
        Ok(())
    }
}

fn expect(byte: u8, want: u8, next: Step, error: &'static str) -> Result<Step> {
    if byte == want {
        Ok(next)
    } else {
        Err(error)
    }
}

fn hex(byte: u8) -> Option<u64> {
    (byte as char).to_digit(16).map(u64::from)
}

/// Trailer fields are dropped, but a malformed section fails the body, as
/// it does in hyper.
fn check_trailers(section: &[u8]) -> Result<()> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_TRAILERS];
    match httparse::parse_headers(section, &mut fields) {
        Ok(httparse::Status::Complete((_, fields))) => {
            for field in fields {
                http::HeaderName::from_bytes(field.name.as_bytes())
                    .map_err(|_| "invalid trailer field")?;
                http::HeaderValue::from_bytes(field.value).map_err(|_| "invalid trailer field")?;
            }
            Ok(())
        }
        _ => Err("invalid trailer section"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces that end at each of `cuts`: the body,
    /// and whether it ended, or the error.
    fn decode_split(input: &[u8], cuts: &[usize]) -> Result<(Vec<u8>, bool, usize)> {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut fed = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            buf.extend_from_slice(&input[fed..cut]);
            fed = cut;
            loop {
                match decoder.decode(&mut buf)? {
                    Progress::Data(n) => {
                        body.extend_from_slice(&buf[..n]);
                        buf.advance(n);
                    }
                    Progress::More => break,
                    Progress::End => return Ok((body, true, buf.len() + input.len() - fed)),
                }
            }
        }
        Ok((body, false, buf.len()))
    }

    /// The same outcome for the whole input and for it split at every byte.
    fn decode_everywhere(input: &[u8]) -> Result<(Vec<u8>, bool, usize)> {
        let whole = decode_split(input, &[]);
        for cut in 0..=input.len() {
            assert_eq!(decode_split(input, &[cut]), whole, "split at {cut}");
        }
        let every: Vec<usize> = (0..input.len()).collect();
        assert_eq!(decode_split(input, &every), whole, "one byte at a time");
        whole
    }

    #[test]
    fn chunks_with_extensions_and_trailers_decode_split_anywhere() {
        let (body, ended, left) =
            decode_everywhere(b"5;a=\"b;c\"\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT")
                .unwrap();
        assert_eq!(body, b"hello world");
        assert!(ended);
        assert_eq!(left, 4, "what follows the body stays in the buffer");
        let (body, ended, _) = decode_everywhere(b"A\r\n0123456789\r\n0\r\n\r\n").unwrap();
        assert_eq!((body.len(), ended), (10, true));
        // Zero-padded sizes are still hex digits, however many.
        let (body, ..) = decode_everywhere(b"00000000000000005\r\nhello\r\n0\r\n\r\n").unwrap();
        assert_eq!(body, b"hello");
    }

    #[test]
    fn a_chunk_size_line_is_hex_digits_an_optional_extension_and_crlf() {
        for bad in [
            &b"\r\nhello\r\n"[..],
            b"5 \r\nhello\r\n0\r\n\r\n",
            b"5 ;a\r\nhello\r\n0\r\n\r\n",
            b"5\thello",
            b"5\nhello\r\n0\r\n\r\n",
            b"5;a\nXX\r\nhello\r\n0\r\n\r\n",
            b"+5\r\nhello",
            b"0x5\r\nhello",
            b"-1\r\n",
            b"5\rxhello",
            b"10000000000000000\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"0\r\nbad field\r\n\r\n",
            b"0\r\n\n",
            b"0\r\nA: b\n\r\n",
        ] {
            assert!(
                decode_everywhere(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_body_cut_short_asks_for_more() {
        for cut in [&b"5"[..], b"5\r\nhel", b"5\r\nhello\r\n", b"0\r\nX: 1\r\n"] {
            let (_, ended, _) = decode_everywhere(cut).unwrap();
            assert!(!ended);
        }
    }

    #[test]
    fn extensions_and_trailers_are_bounded() {
        let mut long = b"1;".to_vec();
        long.resize(MAX_LINE + 10, b'a');
        assert!(decode_split(&long, &[]).is_err());
        let mut many = b"0\r\n".to_vec();
        for _ in 0..=MAX_TRAILERS {
            many.extend_from_slice(b"A: b\r\n");
        }
        assert!(decode_split(&many, &[]).is_err());
    }

    #[test]
    fn up_to_16_kib_of_extension_or_trailers_and_100_fields_are_read() {
        // Written out rather than from the constants, which a change would move.
        let mut extension = b"1;".to_vec();
        extension.resize(16 * 1024 - 100, b'a');
        extension.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(decode_split(&extension, &[]), Ok((b"x".to_vec(), true, 0)));
        // 16 KiB after the `;` exactly, and one byte more.
        let mut at_limit = b"1;".to_vec();
        at_limit.resize(2 + 16 * 1024, b'a');
        let mut over = at_limit.clone();
        over.push(b'a');
        for (line, fits) in [(at_limit, true), (over, false)] {
            let mut body = line;
            body.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
            assert_eq!(decode_split(&body, &[]).is_ok(), fits, "{}", body.len());
        }
        let mut trailers = b"0\r\nA: ".to_vec();
        trailers.resize(16 * 1024 - 100, b'b');
        trailers.extend_from_slice(b"\r\n\r\n");
        assert_eq!(decode_split(&trailers, &[]), Ok((Vec::new(), true, 0)));
        // A trailer section of 16 KiB less one byte, and of 16 KiB.
        for (size, fits) in [(16 * 1024 - 1, true), (16 * 1024, false)] {
            let mut body = b"0\r\nA: ".to_vec();
            body.resize(3 + size - 2, b'b');
            body.extend_from_slice(b"\r\n\r\n");
            assert_eq!(decode_split(&body, &[]).is_ok(), fits, "{size}");
        }
        let mut fields = b"0\r\n".to_vec();
        for _ in 0..100 {
            fields.extend_from_slice(b"A: b\r\n");
        }
        fields.extend_from_slice(b"\r\n");
        assert_eq!(decode_split(&fields, &[]), Ok((Vec::new(), true, 0)));
    }
}
