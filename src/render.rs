//! Turns lines into records: the compiled pattern or JSON, optional escaping, and the
//! newline, appended to a batch.

use crate::level::LevelTable;
use crate::pattern::{Context, Pattern, push_decimal};
use crate::record::{Batch, Line, RecordMeta};

/// How each record is shaped.
#[derive(Debug, Clone)]
pub enum Style {
    Pattern(Pattern),
    Json(JsonStyle),
}

/// `--json`: one object per line; always valid JSON whatever the input bytes.
///
/// The parts that do not change from line to line are escaped once, here, so a line
/// costs its timestamp and its message.
#[derive(Debug, Clone)]
pub struct JsonStyle {
    /// Renders the timestamp text with the pattern's cache.
    timestamp: Pattern,
    /// `","level":"ERROR","levelno":40,"message":` by level id.
    level_parts: Vec<Vec<u8>>,
    context: Context,
    /// `,"tag":…,"host":…,"pid":N,"stream":"`, rebuilt when the pid changes.
    context_part: Vec<u8>,
}

impl JsonStyle {
    pub fn new(timestamp: Pattern, levels: &LevelTable, context: Context) -> JsonStyle {
        let level_parts = levels
            .ids()
            .map(|id| {
                let mut part = b"\",\"level\":".to_vec();
                json_string(levels.name(id).as_bytes(), &mut part);
                part.extend_from_slice(b",\"levelno\":");
                part.extend_from_slice(levels.number(id).to_string().as_bytes());
                part.extend_from_slice(b",\"message\":");
                part
            })
            .collect();
        let mut style = JsonStyle {
            timestamp,
            level_parts,
            context,
            context_part: Vec::new(),
        };
        style.build_context_part();
        style
    }

    fn build_context_part(&mut self) {
        let part = &mut self.context_part;
        part.clear();
        if !self.context.tag.is_empty() {
            part.extend_from_slice(b",\"tag\":");
            json_string(&self.context.tag, part);
        }
        part.extend_from_slice(b",\"host\":");
        json_string(&self.context.host, part);
        part.extend_from_slice(b",\"pid\":");
        push_decimal(u64::from(self.context.pid), part);
        part.extend_from_slice(b",\"stream\":\"");
    }

    pub fn set_pid(&mut self, pid: u32) {
        self.context.pid = pid;
        self.build_context_part();
    }

    fn render(&mut self, line: &Line<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"timestamp\":\"");
        self.timestamp.render(line, out);
        out.extend_from_slice(&self.level_parts[line.level.index()]);
        if json_string(line.message, out) {
            out.extend_from_slice(b",\"message_lossy\":true");
        }
        out.extend_from_slice(&self.context_part);
        out.extend_from_slice(line.stream.name().as_bytes());
        out.extend_from_slice(b"\"}");
    }
}

/// Appends `bytes` as a JSON string; invalid UTF-8 becomes U+FFFD. Returns whether any did.
pub fn json_string(bytes: &[u8], out: &mut Vec<u8>) -> bool {
    out.push(b'"');
    // Valid UTF-8 is the common case and is checked in one fast pass.
    let lossy = match std::str::from_utf8(bytes) {
        Ok(_) => {
            json_escape_valid(bytes, out);
            false
        }
        Err(_) => {
            for chunk in bytes.utf8_chunks() {
                json_escape_valid(chunk.valid().as_bytes(), out);
                if !chunk.invalid().is_empty() {
                    out.extend_from_slice("\u{fffd}".as_bytes());
                }
            }
            true
        }
    };
    out.push(b'"');
    lossy
}

/// Bytes JSON needs escaped: the C0 controls, DEL, `"` and `\`.
const JSON_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[0x7f] = true;
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Escapes valid UTF-8, copying the runs between escapes whole: 887 ns/line for the
/// first, char-by-char version on the bench's lines.
fn json_escape_valid(valid: &[u8], out: &mut Vec<u8>) {
    let mut run = 0;
    for (i, &b) in valid.iter().enumerate() {
        if !JSON_ESCAPE[usize::from(b)] {
            continue;
        }
        out.extend_from_slice(&valid[run..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&hex_pair(b));
            }
        }
        run = i + 1;
    }
    out.extend_from_slice(&valid[run..]);
}

fn hex_pair(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

/// Appends `bytes` with every byte that could steer a terminal (C0 controls but tab,
/// DEL, and the C1 controls as UTF-8 encodes them) written as a visible escape.
pub fn escape_controls(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        let mut i = 0;
        while i < valid.len() {
            let b = valid[i];
            match b {
                b'\t' => out.push(b),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\n' => out.extend_from_slice(b"\\n"),
                0x00..=0x1f | 0x7f => push_hex(b, out),
                // U+0080..U+009F: C1 controls such as CSI (U+009B), which some terminals obey.
                0xc2 if matches!(valid.get(i + 1), Some(0x80..=0x9f)) => {
                    push_hex(b, out);
                    push_hex(valid[i + 1], out);
                    i += 1;
                }
                _ => out.push(b),
            }
            i += 1;
        }
        // Bytes that are not UTF-8 (a raw 0x9b is CSI to an 8-bit terminal) are shown
        // as escapes too.
        for &b in chunk.invalid() {
            push_hex(b, out);
        }
    }
}

fn push_hex(b: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[
        b'\\',
        b'x',
        HEX[usize::from(b >> 4)],
        HEX[usize::from(b & 15)],
    ]);
}

/// Renders lines into a batch.
#[derive(Debug, Clone)]
pub struct Renderer {
    style: Style,
    /// `--escape`: control bytes in messages are escaped in files too.
    escape: bool,
    scratch: Vec<u8>,
}

impl Renderer {
    pub fn new(style: Style, escape: bool) -> Renderer {
        Renderer {
            style,
            escape,
            scratch: Vec::new(),
        }
    }

    pub fn set_pid(&mut self, pid: u32) {
        match &mut self.style {
            Style::Pattern(p) => p.set_pid(pid),
            Style::Json(j) => j.set_pid(pid),
        }
    }

    /// Appends one record, newline included, to `batch`.
    pub fn push(&mut self, line: &Line<'_>, batch: &mut Batch) {
        let mut line = *line;
        if self.escape && line.message.iter().any(|b| !(0x20..0x7f).contains(b)) {
            self.scratch.clear();
            escape_controls(line.message, &mut self.scratch);
            line.message = &self.scratch;
        }
        match &mut self.style {
            Style::Pattern(p) => p.render(&line, &mut batch.text),
            Style::Json(j) => j.render(&line, &mut batch.text),
        }
        batch.text.push(b'\n');
        batch.records.push(RecordMeta {
            end: batch.text.len(),
            level: line.level,
            time: line.time,
            stream: line.stream,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_controls_and_replace_invalid_utf8() {
        let mut out = Vec::new();
        assert!(!json_string(b"a\"b\\c\n\x1b\x7f\t", &mut out));
        assert_eq!(out, br#""a\"b\\c\n\u001b\u007f\t""#);
        out.clear();
        assert!(json_string(b"ok\xff\xfeend", &mut out));
        assert_eq!(String::from_utf8(out).unwrap(), "\"ok\u{fffd}\u{fffd}end\"");
    }

    #[test]
    fn escape_controls_makes_terminal_sequences_visible() {
        let mut out = Vec::new();
        escape_controls(b"\x1b]0;owned\x07\x1b[2J\r\tok\xc2\x9b", &mut out);
        assert_eq!(out, b"\\x1b]0;owned\\x07\\x1b[2J\\r\tok\\xc2\\x9b");
        out.clear();
        escape_controls("héllo".as_bytes(), &mut out);
        assert_eq!(out, "héllo".as_bytes());
        out.clear();
        escape_controls(b"raw csi \x9b2J and \xff", &mut out);
        assert_eq!(out, b"raw csi \\x9b2J and \\xff");
    }
}
