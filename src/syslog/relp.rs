//! RELP framing, as rsyslog's librelp speaks it.
//!
//! Every frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. The client sends `open`
//! (with its offers), then one `syslog` command per message, then `close`; the server
//! answers each command with an `rsp` frame carrying the command's TXNR and a status
//! (`200 OK`), and may send a `serverclose` hint (TXNR 0) before it goes away. No
//! maintained Rust crate speaks RELP, so this small part is written here.

use std::fmt;

/// Transaction numbers run from 1 to this, then start again at 1.
pub const MAX_TXNR: u32 = 999_999_999;

/// Longest DATA rlog accepts from a server: replies are a status line and, for `open`,
/// a few offers.
const MAX_REPLY_DATA: usize = 64 * 1024;

/// Longest command name RELP allows.
const MAX_COMMAND: usize = 32;

/// The TXNR after `txnr`.
pub fn next_txnr(txnr: u32) -> u32 {
    if txnr >= MAX_TXNR { 1 } else { txnr + 1 }
}

/// Appends one frame to `out`.
pub fn encode(txnr: u32, command: &str, data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(txnr.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(command.as_bytes());
    out.push(b' ');
    out.extend_from_slice(data.len().to_string().as_bytes());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

/// The offers of rlog's `open` command: protocol version 0 (what librelp speaks), who
/// is talking (name and version; the URL is optional), and the one command it needs.
pub fn open_offers() -> Vec<u8> {
    format!(
        "relp_version=0\nrelp_software=rlog,{}\ncommands=syslog",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// A frame received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub txnr: u32,
    pub command: String,
    pub data: Vec<u8>,
}

/// The server broke the framing; the connection must be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError(pub String);

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RELP protocol error: {}", self.0)
    }
}

impl std::error::Error for FrameError {}

/// Cuts the bytes a server sends into frames, however the reads split them.
#[derive(Debug, Default)]
pub struct FrameParser {
    buf: Vec<u8>,
    /// Start of the bytes not yet parsed.
    pos: usize,
}

impl FrameParser {
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, None if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let input = &self.buf[self.pos..];
        let Some((txnr, rest)) = number(input, "TXNR")? else {
            return Ok(None);
        };
        let Some((command, rest)) = word(rest)? else {
            return Ok(None);
        };
        let Some(len_end) = rest.iter().position(|&b| b == b' ' || b == b'\n') else {
            if rest.len() > 9 || !rest.iter().all(u8::is_ascii_digit) {
                return Err(FrameError(
                    "DATALEN is not a number of 1 to 9 digits".into(),
                ));
            }
            return Ok(None);
        };
        let datalen = parse_digits(&rest[..len_end], "DATALEN")?;
        let datalen = usize::try_from(datalen).unwrap_or(usize::MAX);
        if datalen > MAX_REPLY_DATA {
            return Err(FrameError(format!(
                "a reply of {datalen} bytes is too long"
            )));
        }
        let after_len = &rest[len_end..];
        let (data, trailer_at) = if datalen == 0 {
            (&after_len[..0], 0)
        } else {
            if after_len[0] != b' ' {
                return Err(FrameError("no space before DATA".into()));
            }
            if after_len.len() < 1 + datalen {
                return Ok(None);
            }
            (&after_len[1..1 + datalen], 1 + datalen)
        };
        match after_len.get(trailer_at) {
            None => return Ok(None),
            Some(b'\n') => {}
            Some(_) => return Err(FrameError("frame does not end in LF".into())),
        }
        let frame = Frame {
            txnr,
            command: command.to_string(),
            data: data.to_vec(),
        };
        let consumed = input.len() - (after_len.len() - trailer_at - 1);
        self.pos += consumed;
        Ok(Some(frame))
    }
}

/// A number of 1 to 9 digits followed by a space; None when the input ends first.
fn number<'a>(input: &'a [u8], what: &str) -> Result<Option<(u32, &'a [u8])>, FrameError> {
    match input.iter().position(|&b| b == b' ') {
        Some(end) => Ok(Some((
            parse_digits(&input[..end], what)?,
            &input[end + 1..],
        ))),
        None if input.len() > 9 => Err(FrameError(format!("{what} has more than 9 digits"))),
        None => {
            if !input.iter().all(u8::is_ascii_digit) {
                return Err(FrameError(format!("{what} is not a number")));
            }
            Ok(None)
        }
    }
}

fn parse_digits(digits: &[u8], what: &str) -> Result<u32, FrameError> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(FrameError(format!(
            "{what} '{}' is not a number of 1 to 9 digits",
            String::from_utf8_lossy(digits)
        )));
    }
    Ok(digits
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')))
}

/// A command name (1 to 32 letters) followed by a space.
fn word(input: &[u8]) -> Result<Option<(&str, &[u8])>, FrameError> {
    let end = match input.iter().position(|&b| b == b' ') {
        Some(end) => end,
        None if input.len() > MAX_COMMAND => {
            return Err(FrameError("command name is too long".into()));
        }
        None => return Ok(None),
    };
    let name = &input[..end];
    if name.is_empty() || name.len() > MAX_COMMAND || !name.iter().all(u8::is_ascii_alphabetic) {
        return Err(FrameError(format!(
            "bad command name '{}'",
            String::from_utf8_lossy(name)
        )));
    }
    // Only ASCII letters, checked above.
    let name = std::str::from_utf8(name).map_err(|e| FrameError(e.to_string()))?;
    Ok(Some((name, &input[end + 1..])))
}

/// The DATA of an `rsp` frame: `CODE [SP TEXT] [LF COMMAND-DATA]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub code: u16,
    pub text: String,
    /// For `open`: the offers the server accepts.
    pub data: Vec<u8>,
}

impl Response {
    pub fn is_ok(&self) -> bool {
        self.code == 200
    }
}

pub fn parse_response(data: &[u8]) -> Result<Response, FrameError> {
    let (line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(nl) => (&data[..nl], &data[nl + 1..]),
        None => (data, &data[..0]),
    };
    let (code, text) = match line.iter().position(|&b| b == b' ') {
        Some(sp) => (&line[..sp], &line[sp + 1..]),
        None => (line, &line[..0]),
    };
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err(FrameError(format!(
            "bad response status '{}'",
            String::from_utf8_lossy(line)
        )));
    }
    Ok(Response {
        code: parse_digits(code, "status")? as u16,
        text: String::from_utf8_lossy(text).into_owned(),
        data: rest.to_vec(),
    })
}

/// Whether the offers a server returned for `open` include the `syslog` command.
pub fn offers_syslog(offers: &[u8]) -> bool {
    offers.split(|&b| b == b'\n').any(|offer| {
        offer
            .strip_prefix(b"commands=")
            .is_some_and(|list| list.split(|&b| b == b',').any(|c| c == b"syslog"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Result<Vec<Frame>, FrameError> {
        let mut p = FrameParser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            p.feed(chunk);
            while let Some(f) = p.next_frame()? {
                out.push(f);
            }
        }
        Ok(out)
    }

    fn frame(txnr: u32, command: &str, data: &[u8]) -> Frame {
        Frame {
            txnr,
            command: command.into(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn commands_are_framed_with_txnr_and_length() {
        let mut out = Vec::new();
        encode(1, "open", b"relp_version=0", &mut out);
        encode(2, "syslog", b"<14>1 - - - - - - a\nb", &mut out);
        encode(3, "close", b"", &mut out);
        assert_eq!(
            out,
            b"1 open 14 relp_version=0\n2 syslog 21 <14>1 - - - - - - a\nb\n3 close 0\n"
        );
    }

    #[test]
    fn open_offers_ask_for_the_syslog_command() {
        let offers = open_offers();
        assert!(offers.starts_with(b"relp_version=0\n"));
        assert!(offers_syslog(&offers));
        assert!(offers_syslog(
            b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n"
        ));
        assert!(offers_syslog(b"commands=eventlog,syslog"));
        assert!(!offers_syslog(b"relp_version=0\ncommands=eventlog"));
        assert!(!offers_syslog(b""));
    }

    #[test]
    fn replies_parse_however_the_reads_split_them() {
        let wire: &[u8] = b"1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n2 rsp 6 200 OK\n3 rsp 0\n0 serverclose 0\n";
        let whole = frames(&[wire]).unwrap();
        assert_eq!(whole.len(), 4);
        assert_eq!(whole[1], frame(2, "rsp", b"200 OK"));
        assert_eq!(whole[2], frame(3, "rsp", b""));
        assert_eq!(whole[3], frame(0, "serverclose", b""));
        // Every split point, including inside numbers, names and data.
        for cut in 1..wire.len() {
            let (a, b) = wire.split_at(cut);
            assert_eq!(frames(&[a, b]).unwrap(), whole, "split at {cut}");
        }
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(frames(&bytes).unwrap(), whole);
    }

    #[test]
    fn open_reply_carries_offers() {
        let f = &frames(&[b"1 rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n"]).unwrap()[0];
        let r = parse_response(&f.data).unwrap();
        assert!(r.is_ok());
        assert_eq!(r.text, "OK");
        assert!(offers_syslog(&r.data));
        let r = parse_response(b"500 oversize message").unwrap();
        assert_eq!((r.code, r.text.as_str()), (500, "oversize message"));
        assert!(!r.is_ok());
        assert_eq!(parse_response(b"200").unwrap().code, 200);
        assert!(parse_response(b"").is_err());
        assert!(parse_response(b"OK 200").is_err());
    }

    #[test]
    fn broken_framing_is_an_error_not_a_hang() {
        for bad in [
            &b"x rsp 6 200 OK\n"[..],
            b"1 rsp 6 200 OKX",
            b"1 rsp 6x200 OK\n",
            b"1 r2p 6 200 OK\n",
            b"1234567890 rsp 0\n",
            b"1 rsp 99999999 ",
            b"1 rsp 1234567890",
            b"1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"1  rsp 0\n",
            b"1 rsp 0x",
        ] {
            assert!(
                frames(&[bad]).is_err(),
                "accepted {:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Incomplete is not an error.
        assert_eq!(frames(&[b"12", b"3 rsp 6 200"]).unwrap(), vec![]);
    }

    #[test]
    fn txnr_wraps_to_one() {
        assert_eq!(next_txnr(1), 2);
        assert_eq!(next_txnr(MAX_TXNR - 1), MAX_TXNR);
        assert_eq!(next_txnr(MAX_TXNR), 1);
    }
}
