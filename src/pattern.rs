//! A compiled format: the pattern text is parsed once at start-up into pieces, and
//! rendering a line only copies bytes into a buffer.
//!
//! Syntax: literal text with tokens `%{name}`, `%{name:PAD}`, `%{name:+DATEFMT}` and
//! `%{name:+DATEFMT:PAD}`; `%%` is a literal `%`. PAD is a signed width: negative pads on
//! the right (left-aligned), positive on the left; values are never cut.

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::level::{LevelId, LevelTable};
use crate::record::{Line, Stream};

/// The default line format.
pub const DEFAULT: &str = "%{timestamp} %{level:-7} %{message}";

/// RFC 3339 with milliseconds and a numeric offset.
const RFC3339_LOCAL: &str = "%Y-%m-%dT%H:%M:%S%.3f%:z";
/// RFC 3339 with milliseconds in UTC.
const RFC3339_UTC: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// Widths beyond this are surely a typo, and would make every line huge.
const MAX_PAD: usize = 4096;

/// Each token with a one-line description: the help text and the error messages list them.
pub const TOKENS: [(&str, &str); 10] = [
    (
        "timestamp",
        "time the line reached rlog, local time (RFC 3339, ms)",
    ),
    ("timestamputc", "the same instant in UTC"),
    ("level", "level name"),
    ("levelno", "level number"),
    ("message", "the line's bytes, unchanged"),
    ("pid", "rlog's process id (the command's in `rlog run`)"),
    ("host", "host name"),
    ("tag", "the value of --tag"),
    ("seq", "the line's number in this run, from 1"),
    ("stream", "stdin, arg, stdout or stderr"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pattern: String,
    /// Character offset of the fault, from 0.
    column: usize,
    reason: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = TOKENS.iter().map(|(name, _)| *name).collect();
        write!(
            f,
            "bad pattern: {} at column {}\n  {}\n  {}^\nknown tokens: {}; see rlog --help",
            self.reason,
            self.column + 1,
            self.pattern,
            " ".repeat(self.column),
            names.join(", ")
        )
    }
}

impl std::error::Error for PatternError {}

/// Values that are the same for every line of a run.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub host: Vec<u8>,
    pub tag: Vec<u8>,
    pub pid: u32,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(Vec<u8>),
    Time(TimeText),
    /// The level name or number, pre-padded, indexed by level id.
    Level(Vec<Vec<u8>>),
    Message(Pad),
    Pid(Pad),
    Host(Pad),
    Tag(Pad),
    Seq(Pad),
    Stream(Pad),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pad(isize);

impl Pad {
    /// Appends `value`, padded with spaces to the width; never cut.
    fn write(self, value: &[u8], out: &mut Vec<u8>) {
        if self.0 == 0 {
            out.extend_from_slice(value);
            return;
        }
        let width = self.0.unsigned_abs();
        let len = if width == 0 { 0 } else { display_width(value) };
        let fill = width.saturating_sub(len);
        if self.0 > 0 {
            out.resize(out.len() + fill, b' ');
        }
        out.extend_from_slice(value);
        if self.0 < 0 {
            out.resize(out.len() + fill, b' ');
        }
    }
}

/// Characters in `bytes`, counting each invalid byte as one, so UTF-8 text pads by
/// what the eye sees.
fn display_width(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// A timestamp token with its rendered text cached while the clock has not moved past
/// the precision the format shows.
#[derive(Debug, Clone)]
struct TimeText {
    format: String,
    zone: TimeZone,
    pad: Pad,
    /// Nanoseconds per step of the shown precision (1e9 for whole seconds).
    step: i128,
    cached_key: Option<i128>,
    cached: Vec<u8>,
}

impl TimeText {
    fn new(format: String, zone: TimeZone, pad: Pad) -> Self {
        let step = 10i128.pow(9 - fraction_digits(&format));
        TimeText {
            format,
            zone,
            pad,
            step,
            cached_key: None,
            cached: Vec::new(),
        }
    }

    fn try_render(&self, at: Timestamp) -> Result<String, jiff::Error> {
        let zoned = at.to_zoned_datetime(self.zone.clone());
        jiff::fmt::strtime::format(&self.format, &zoned)
    }

    fn write(&mut self, at: Timestamp, out: &mut Vec<u8>) {
        let key = at.as_nanosecond().div_euclid(self.step);
        if self.cached_key != Some(key) {
            // The format was rendered once at compile time, so it cannot fail here.
            let text = self.try_render(at).unwrap_or_default();
            self.cached.clear();
            self.pad.write(text.as_bytes(), &mut self.cached);
            self.cached_key = Some(key);
        }
        out.extend_from_slice(&self.cached);
    }
}

/// How many fractional-second digits a strftime format shows (0 to 9).
fn fraction_digits(format: &str) -> u32 {
    let bytes = format.as_bytes();
    let mut digits = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        // Flags, a width or precision, and colons may come before the conversion.
        let mut width: Option<u32> = None;
        while i < bytes.len() && matches!(bytes[i], b'-' | b'_' | b'0' | b'^' | b'#' | b'.' | b':')
        {
            i += 1;
        }
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            width = Some(width.unwrap_or(0) * 10 + u32::from(bytes[i] - b'0'));
            i += 1;
        }
        match bytes.get(i) {
            Some(b'f') | Some(b'N') => digits = digits.max(width.unwrap_or(9).min(9)),
            Some(b'%') => {}
            _ => {}
        }
        i += 1;
    }
    digits
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    pieces: Vec<Piece>,
    /// The pieces grouped into runs, in order.
    runs: Vec<Run>,
    context: Context,
}

/// Consecutive pieces rendered together. Pieces that depend only on the line's time and
/// level (and the run's context) are rendered once per (time, level) and copied after:
/// a chunk's lines share one arrival time, so the default pattern's whole prefix becomes
/// one copy per line (54 ns/line before, see PERFORMANCE.md for after).
#[derive(Debug, Clone)]
enum Run {
    Cached {
        pieces: std::ops::Range<usize>,
        key: Option<(Timestamp, LevelId)>,
        text: Vec<u8>,
    },
    /// A piece that changes with every line: message, seq, stream.
    PerLine(usize),
}

impl Run {
    fn group(pieces: &[Piece]) -> Vec<Run> {
        let mut runs = Vec::new();
        let mut start = 0;
        for (i, piece) in pieces.iter().enumerate() {
            if matches!(piece, Piece::Message(_) | Piece::Seq(_) | Piece::Stream(_)) {
                if start < i {
                    runs.push(Run::cached(start..i));
                }
                runs.push(Run::PerLine(i));
                start = i + 1;
            }
        }
        if start < pieces.len() {
            runs.push(Run::cached(start..pieces.len()));
        }
        runs
    }

    fn cached(pieces: std::ops::Range<usize>) -> Run {
        Run::Cached {
            pieces,
            key: None,
            text: Vec::new(),
        }
    }
}

impl Pattern {
    /// Compiles `text`. `levels` must already hold every `--define-level`.
    pub fn compile(
        text: &str,
        levels: &LevelTable,
        local: &TimeZone,
        context: Context,
    ) -> Result<Pattern, PatternError> {
        let err = |column: usize, reason: String| PatternError {
            pattern: text.to_string(),
            column,
            reason,
        };
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut chars = text.char_indices().enumerate().peekable();
        while let Some((column, (_, c))) = chars.next() {
            if c != '%' {
                let mut buf = [0u8; 4];
                literal.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            match chars.peek().map(|&(_, (_, c))| c) {
                Some('%') => {
                    chars.next();
                    literal.push(b'%');
                    continue;
                }
                Some('{') => {
                    chars.next();
                }
                // A lone `%` is literal text, as in "100% done".
                _ => {
                    literal.push(b'%');
                    continue;
                }
            }
            let mut body = String::new();
            let mut closed = false;
            for (_, (_, c)) in chars.by_ref() {
                if c == '}' {
                    closed = true;
                    break;
                }
                body.push(c);
            }
            if !closed {
                return Err(err(column, "unclosed '%{' (add '}')".to_string()));
            }
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            let piece = Token::parse(&body)
                .and_then(|token| token.into_piece(levels, local))
                .map_err(|reason| err(column, reason))?;
            pieces.push(piece);
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Pattern {
            runs: Run::group(&pieces),
            pieces,
            context,
        })
    }

    /// The text of a pattern that holds no token, with `%%` made `%`.
    pub fn literal_text(&self) -> Option<Vec<u8>> {
        let mut text = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(bytes) => text.extend_from_slice(bytes),
                _ => return None,
            }
        }
        Some(text)
    }

    pub fn set_pid(&mut self, pid: u32) {
        self.context.pid = pid;
        for run in &mut self.runs {
            if let Run::Cached { key, .. } = run {
                *key = None;
            }
        }
    }

    /// Appends the rendered line to `out`, without a newline.
    pub fn render(&mut self, line: &Line<'_>, out: &mut Vec<u8>) {
        for run in &mut self.runs {
            match run {
                Run::Cached { pieces, key, text } => {
                    let wanted = Some((line.time, line.level));
                    if *key != wanted {
                        text.clear();
                        for piece in &mut self.pieces[pieces.clone()] {
                            render_piece(piece, &self.context, line, text);
                        }
                        *key = wanted;
                    }
                    out.extend_from_slice(text);
                }
                Run::PerLine(i) => render_piece(&mut self.pieces[*i], &self.context, line, out),
            }
        }
    }
}

fn render_piece(piece: &mut Piece, context: &Context, line: &Line<'_>, out: &mut Vec<u8>) {
    match piece {
        Piece::Literal(bytes) => out.extend_from_slice(bytes),
        Piece::Time(time) => time.write(line.time, out),
        Piece::Level(by_id) => out.extend_from_slice(&by_id[line.level.index()]),
        Piece::Message(pad) => pad.write(line.message, out),
        Piece::Pid(pad) => push_decimal_padded(u64::from(context.pid), *pad, out),
        Piece::Host(pad) => pad.write(&context.host, out),
        Piece::Tag(pad) => pad.write(&context.tag, out),
        Piece::Seq(pad) => push_decimal_padded(line.seq, *pad, out),
        Piece::Stream(pad) => pad.write(line.stream.name().as_bytes(), out),
    }
}

/// Appends `n` in decimal without allocating.
pub(crate) fn push_decimal(mut n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `n` padded; the common unpadded case skips the scratch buffer.
fn push_decimal_padded(n: u64, pad: Pad, out: &mut Vec<u8>) {
    if pad.0 == 0 {
        push_decimal(n, out);
    } else {
        let mut text = Vec::with_capacity(20);
        push_decimal(n, &mut text);
        pad.write(&text, out);
    }
}

/// One `%{…}` token as written.
struct Token<'a> {
    name: &'a str,
    date_format: Option<&'a str>,
    pad: Pad,
}

impl<'a> Token<'a> {
    fn parse(body: &'a str) -> Result<Token<'a>, String> {
        let (name, rest) = match body.split_once(':') {
            Some((name, rest)) => (name, Some(rest)),
            None => (body, None),
        };
        let mut token = Token {
            name,
            date_format: None,
            pad: Pad::default(),
        };
        let Some(rest) = rest else {
            return Ok(token);
        };
        if let Some(date) = rest.strip_prefix('+') {
            // A trailing `:PAD` after a date format is taken only when it is a number,
            // since date formats themselves contain colons (`%H:%M`).
            match date.rsplit_once(':') {
                Some((format, pad)) if looks_like_width(pad) => {
                    token.date_format = Some(format);
                    token.pad = parse_pad(pad)?;
                }
                _ => token.date_format = Some(date),
            }
            if token.date_format == Some("") {
                return Err(format!("empty date format in '%{{{body}}}'"));
            }
        } else {
            token.pad = parse_pad(rest)?;
        }
        Ok(token)
    }

    fn into_piece(self, levels: &LevelTable, local: &TimeZone) -> Result<Piece, String> {
        let pad = self.pad;
        if self.date_format.is_some() && !matches!(self.name, "timestamp" | "timestamputc") {
            return Err(format!(
                "a date format is only allowed on timestamp and timestamputc, not '{}'",
                self.name
            ));
        }
        let piece = match self.name {
            "timestamp" | "timestamputc" => {
                let utc = self.name == "timestamputc";
                let zone = if utc { TimeZone::UTC } else { local.clone() };
                let default = if utc { RFC3339_UTC } else { RFC3339_LOCAL };
                let format = self.date_format.unwrap_or(default).to_string();
                let time = TimeText::new(format, zone, pad);
                // Rendering once here is how a bad date format is caught at start-up.
                time.try_render(Timestamp::UNIX_EPOCH)
                    .map_err(|e| format!("bad date format '{}': {e}", time.format))?;
                Piece::Time(time)
            }
            "level" | "levelno" => Piece::Level(
                levels
                    .ids()
                    .map(|id| {
                        let text = if self.name == "level" {
                            levels.name(id).to_string()
                        } else {
                            levels.number(id).to_string()
                        };
                        let mut out = Vec::new();
                        pad.write(text.as_bytes(), &mut out);
                        out
                    })
                    .collect(),
            ),
            "message" => Piece::Message(pad),
            "pid" => Piece::Pid(pad),
            "host" => Piece::Host(pad),
            "tag" => Piece::Tag(pad),
            "seq" => Piece::Seq(pad),
            "stream" => Piece::Stream(pad),
            other => return Err(format!("unknown token '{other}'")),
        };
        Ok(piece)
    }
}

fn looks_like_width(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_pad(s: &str) -> Result<Pad, String> {
    let bad = || format!("bad width '{s}': expected a whole number such as -7 or 10");
    if !looks_like_width(s) {
        return Err(bad());
    }
    let width: isize = s.parse().map_err(|_| bad())?;
    if width.unsigned_abs() > MAX_PAD {
        return Err(format!("width '{s}' is larger than {MAX_PAD}"));
    }
    Ok(Pad(width))
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdin => "stdin",
            Stream::Arg => "arg",
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            host: b"box".to_vec(),
            tag: b"nightly".to_vec(),
            pid: 4242,
        }
    }

    fn render_with(pattern: &str, zone: &TimeZone, line: &Line<'_>) -> String {
        let levels = LevelTable::default();
        let mut p = Pattern::compile(pattern, &levels, zone, ctx()).unwrap();
        let mut out = Vec::new();
        p.render(line, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn line(message: &[u8]) -> Line<'_> {
        Line {
            message,
            // 2026-12-03T15:56:22.123456789Z
            time: Timestamp::from_nanosecond(1_796_313_382_123_456_789).unwrap(),
            level: LevelTable::ERROR,
            seq: 7,
            stream: Stream::Stdin,
        }
    }

    #[test]
    fn default_pattern_renders_rfc3339_with_offset() {
        let zone = TimeZone::fixed(jiff::tz::offset(1));
        let text = render_with(DEFAULT, &zone, &line(b"disk full"));
        assert_eq!(text, "2026-12-03T16:56:22.123+01:00 ERROR   disk full");
    }

    #[test]
    fn every_token_renders() {
        let text = render_with(
            "%{timestamputc}|%{levelno}|%{pid}|%{host}|%{tag}|%{seq}|%{stream}|%{message}",
            &TimeZone::UTC,
            &line(b"m"),
        );
        assert_eq!(
            text,
            "2026-12-03T15:56:22.123Z|40|4242|box|nightly|7|stdin|m"
        );
    }

    #[test]
    fn widths_pad_both_ways_and_never_cut() {
        let l = line(b"abc");
        assert_eq!(
            render_with("[%{message:6}]", &TimeZone::UTC, &l),
            "[   abc]"
        );
        assert_eq!(
            render_with("[%{message:-6}]", &TimeZone::UTC, &l),
            "[abc   ]"
        );
        assert_eq!(render_with("[%{message:2}]", &TimeZone::UTC, &l), "[abc]");
        assert_eq!(
            render_with("[%{level:-7}]", &TimeZone::UTC, &l),
            "[ERROR  ]"
        );
        let utf8 = line("héé".as_bytes());
        assert_eq!(
            render_with("[%{message:-5}]", &TimeZone::UTC, &utf8),
            "[héé  ]"
        );
    }

    #[test]
    fn date_formats_with_colons_and_widths() {
        let l = line(b"");
        assert_eq!(
            render_with("%{timestamputc:+%H:%M}", &TimeZone::UTC, &l),
            "15:56"
        );
        assert_eq!(
            render_with("[%{timestamputc:+%H:%M:-8}]", &TimeZone::UTC, &l),
            "[15:56   ]"
        );
        assert_eq!(
            render_with("%{timestamputc:+%Y-%m-%d %H:%M:%S%.6f}", &TimeZone::UTC, &l),
            "2026-12-03 15:56:22.123456"
        );
    }

    #[test]
    fn percent_escapes() {
        assert_eq!(
            render_with("100%% %{message}%", &TimeZone::UTC, &line(b"x")),
            "100% x%"
        );
        assert_eq!(
            render_with("50% off", &TimeZone::UTC, &line(b"x")),
            "50% off"
        );
    }

    #[test]
    fn cached_time_text_changes_when_the_shown_precision_does() {
        let levels = LevelTable::default();
        let mut p = Pattern::compile("%{timestamputc}", &levels, &TimeZone::UTC, ctx()).unwrap();
        let mut l = line(b"");
        let mut render = |l: &Line<'_>| {
            let mut out = Vec::new();
            p.render(l, &mut out);
            String::from_utf8(out).unwrap()
        };
        let first = render(&l);
        l.time = Timestamp::from_nanosecond(1_796_313_382_123_999_999).unwrap();
        assert_eq!(render(&l), first, "same millisecond");
        l.time = Timestamp::from_nanosecond(1_796_313_382_124_000_000).unwrap();
        assert_eq!(render(&l), "2026-12-03T15:56:22.124Z");
    }

    #[test]
    fn fraction_digits_reads_the_precision() {
        assert_eq!(fraction_digits("%H:%M:%S"), 0);
        assert_eq!(fraction_digits(RFC3339_LOCAL), 3);
        assert_eq!(fraction_digits("%S%.6f"), 6);
        assert_eq!(fraction_digits("%S%f"), 9);
        assert_eq!(fraction_digits("%N"), 9);
        assert_eq!(fraction_digits("100%%f"), 0);
    }

    fn compile_error(pattern: &str) -> String {
        Pattern::compile(pattern, &LevelTable::default(), &TimeZone::UTC, ctx())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_quote_the_pattern_and_point_at_the_column() {
        let e = compile_error("ab %{nope} c");
        assert!(e.contains("unknown token 'nope' at column 4"), "{e}");
        assert!(e.contains("\n  ab %{nope} c\n     ^\n"), "{e}");
        assert!(e.contains("known tokens: timestamp,"), "{e}");
        assert!(compile_error("%{message").contains("unclosed"));
        assert!(compile_error("%{level:x7}").contains("bad width 'x7'"));
        assert!(compile_error("%{level:99999}").contains("larger than"));
        assert!(compile_error("%{timestamp:+%Q%Q%!}").contains("bad date format"));
        assert!(compile_error("%{message:+%Y}").contains("only allowed on timestamp"));
        assert!(compile_error("%{timestamp:+}").contains("empty date format"));
    }
}
