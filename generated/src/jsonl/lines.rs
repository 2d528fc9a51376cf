//! Splitting bytes into lines without ever failing on their content.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// One line as split by [`LineDecoder`]: its 1-based number and its bytes without the LF, or
/// the length read when it was too long.
pub(crate) struct RawLine {
    pub(crate) number: usize,
    pub(crate) text: std::result::Result<BytesMut, usize>,
}

/// Splits bytes at LF without ever failing on content, so that one bad line cannot end the
/// stream (tokio-util's `LinesCodec` ends it at the first invalid line).
pub(crate) struct LineDecoder {
    max: usize,
    number: usize,
    /// Bytes of an over-long line dropped so far.
    discarding: Option<usize>,
    /// How much of the buffer is known to hold no LF: each byte is searched once, so a long
    /// line costs linear time, not quadratic.
    scanned: usize,
}

impl LineDecoder {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            number: 0,
            discarding: None,
            scanned: 0,
        }
    }
}

impl Decoder for LineDecoder {
    type Item = RawLine;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> std::io::Result<Option<RawLine>> {
        loop {
            let newline = memchr::memchr(b'\n', &buf[self.scanned..]).map(|i| i + self.scanned);
            if let Some(dropped) = self.discarding {
                self.scanned = 0;
                return Ok(match newline {
                    Some(i) => {
                        let _ = buf.split_to(i + 1);
                        self.discarding = None;
                        self.number += 1;
                        Some(RawLine {
                            number: self.number,
                            text: Err(dropped + i),
                        })
                    }
                    None => {
                        self.discarding = Some(dropped + buf.len());
                        buf.clear();
                        None
                    }
                });
            }
            match newline {
                // `i` is the line's length without its LF: at most `max` is accepted.
                Some(i) if i <= self.max => {
                    let mut line = buf.split_to(i + 1);
                    line.truncate(i);
                    self.scanned = 0;
                    self.number += 1;
                    return Ok(Some(RawLine {
                        number: self.number,
                        text: Ok(line),
                    }));
                }
                Some(_) => self.discarding = Some(0),
                None if buf.len() > self.max => self.discarding = Some(0),
                None => {
                    self.scanned = buf.len();
                    return Ok(None);
                }
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> std::io::Result<Option<RawLine>> {
        if let Some(line) = self.decode(buf)? {
            return Ok(Some(line));
        }
        if let Some(dropped) = self.discarding.take() {
            self.number += 1;
            return Ok(Some(RawLine {
                number: self.number,
                text: Err(dropped),
            }));
        }
        self.scanned = 0;
        if buf.is_empty() {
            return Ok(None);
        }
        self.number += 1;
        Ok(Some(RawLine {
            number: self.number,
            text: Ok(buf.split()),
        }))
    }
}
