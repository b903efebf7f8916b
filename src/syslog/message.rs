//! One line as a syslog message: RFC 5424, or the traditional RFC 3164 form local
//! daemons expect. The header carries the line's time, level and seq; MSG is the line's
//! own bytes, unchanged.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::SyslogFormat;
use crate::record::MessageMeta;

/// rlog's structured-data ID: a name, `@`, and a private enterprise number.
pub const SD_ID: &str = "rlog@32473";

/// RFC 5424 field limits (HOSTNAME, APP-NAME, PROCID).
const MAX_HOST: usize = 255;
const MAX_APP_NAME: usize = 48;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Renders messages for one destination. The header fields that never change are
/// sanitised once; the time text is cached per second.
#[derive(Debug, Clone)]
pub struct MessageFormatter {
    format: SyslogFormat,
    facility: u8,
    /// Severity by level id.
    severities: Vec<u8>,
    zone: TimeZone,
    /// None when the header leaves it out (RFC 3164 to a local socket: the daemon adds it).
    host: Option<Vec<u8>>,
    app_name: Vec<u8>,
    procid: Vec<u8>,
    cached_second: Option<i64>,
    /// `2026-12-03T15:56:22` (RFC 5424) or `Dec  3 15:56:22` (RFC 3164).
    date: Vec<u8>,
    /// `+01:00`, RFC 5424 only.
    offset: Vec<u8>,
}

/// What a [`MessageFormatter`] needs to know about this run.
#[derive(Debug, Clone)]
pub struct Header {
    pub facility: u8,
    pub severities: Vec<u8>,
    pub zone: TimeZone,
    pub host: Vec<u8>,
    /// `--tag`; `rlog` when empty.
    pub tag: Vec<u8>,
    pub pid: u32,
}

impl MessageFormatter {
    /// `with_host` is false for a local socket in RFC 3164, where the daemon adds it.
    pub fn new(format: SyslogFormat, header: &Header, with_host: bool) -> MessageFormatter {
        let tag: &[u8] = if header.tag.is_empty() {
            b"rlog"
        } else {
            &header.tag
        };
        let (host, app_name) = match format {
            SyslogFormat::Rfc5424 => (
                Some(header_field(&header.host, MAX_HOST)),
                header_field(tag, MAX_APP_NAME),
            ),
            SyslogFormat::Rfc3164 => (
                with_host.then(|| header_field(&header.host, MAX_HOST)),
                tag_3164(tag),
            ),
        };
        MessageFormatter {
            format,
            facility: header.facility,
            severities: header.severities.clone(),
            zone: header.zone.clone(),
            host,
            app_name,
            procid: header.pid.to_string().into_bytes(),
            cached_second: None,
            date: Vec::new(),
            offset: Vec::new(),
        }
    }

    /// Appends the whole syslog message (no transport framing) to `out`.
    pub fn format(&mut self, message: &[u8], meta: &MessageMeta, out: &mut Vec<u8>) {
        let severity = self
            .severities
            .get(meta.level.index())
            .copied()
            .unwrap_or(6);
        let priority = u16::from(self.facility) * 8 + u16::from(severity);
        out.push(b'<');
        push_decimal(u64::from(priority), out);
        out.push(b'>');
        let micros = self.set_time(meta.time);
        match self.format {
            SyslogFormat::Rfc5424 => {
                out.extend_from_slice(b"1 ");
                out.extend_from_slice(&self.date);
                out.push(b'.');
                push_padded(micros, 6, out);
                out.extend_from_slice(&self.offset);
                out.push(b' ');
                out.extend_from_slice(self.host.as_deref().unwrap_or(b"-"));
                out.push(b' ');
                out.extend_from_slice(&self.app_name);
                out.push(b' ');
                out.extend_from_slice(&self.procid);
                out.extend_from_slice(b" - [");
                out.extend_from_slice(SD_ID.as_bytes());
                out.extend_from_slice(b" seq=\"");
                push_decimal(meta.seq, out);
                out.extend_from_slice(b"\"]");
                if !message.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(message);
                }
            }
            SyslogFormat::Rfc3164 => {
                out.extend_from_slice(&self.date);
                out.push(b' ');
                if let Some(host) = &self.host {
                    out.extend_from_slice(host);
                    out.push(b' ');
                }
                out.extend_from_slice(&self.app_name);
                out.push(b'[');
                out.extend_from_slice(&self.procid);
                out.extend_from_slice(b"]: ");
                out.extend_from_slice(message);
            }
        }
    }

    /// Renders the date text for `time`'s second when it changed; returns the
    /// microseconds within the second.
    fn set_time(&mut self, time: Timestamp) -> u64 {
        let micros = time.as_microsecond();
        let second = micros.div_euclid(1_000_000);
        if self.cached_second != Some(second) {
            let whole = Timestamp::from_second(second).unwrap_or(time);
            let at = whole.to_zoned_datetime(self.zone.clone());
            self.date.clear();
            self.offset.clear();
            match self.format {
                SyslogFormat::Rfc5424 => {
                    // jiff formats the year with at least four digits and the offset as
                    // +HH:MM, as RFC 3339 asks.
                    let text =
                        jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%S", &at).unwrap_or_default();
                    self.date.extend_from_slice(text.as_bytes());
                    let offset = jiff::fmt::strtime::format("%:z", &at).unwrap_or_default();
                    self.offset.extend_from_slice(offset.as_bytes());
                }
                SyslogFormat::Rfc3164 => {
                    // Month names in English whatever the locale, day padded with a space.
                    let month = MONTHS[usize::try_from(at.month() - 1).unwrap_or(0) % 12];
                    let text = format!(
                        "{month} {:>2} {:02}:{:02}:{:02}",
                        at.day(),
                        at.hour(),
                        at.minute(),
                        at.second()
                    );
                    self.date.extend_from_slice(text.as_bytes());
                }
            }
            self.cached_second = Some(second);
        }
        // rem_euclid keeps it within 0..1_000_000, so the cast is exact.
        micros.rem_euclid(1_000_000) as u64
    }
}

/// A header field as RFC 5424 allows it: printable US-ASCII without spaces, at most
/// `max` bytes, `-` when empty.
fn header_field(value: &[u8], max: usize) -> Vec<u8> {
    let mut field: Vec<u8> = value
        .iter()
        .take(max)
        .map(|&b| if (33..=126).contains(&b) { b } else { b'_' })
        .collect();
    if field.is_empty() {
        field.push(b'-');
    }
    field
}

/// An RFC 3164 TAG: like a header field, and without the `:[]` that end it.
fn tag_3164(value: &[u8]) -> Vec<u8> {
    header_field(value, MAX_APP_NAME)
        .into_iter()
        .map(|b| {
            if matches!(b, b':' | b'[' | b']') {
                b'_'
            } else {
                b
            }
        })
        .collect()
}

fn push_decimal(n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_padded(n: u64, width: usize, out: &mut Vec<u8>) {
    let start = out.len();
    push_decimal(n, out);
    let len = out.len() - start;
    if len < width {
        out.splice(start..start, std::iter::repeat_n(b'0', width - len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::LevelTable;
    use crate::syslog::severities;

    fn header(tag: &[u8], zone: &str) -> Header {
        let levels = LevelTable::default();
        Header {
            facility: 1,
            severities: severities(&levels),
            zone: TimeZone::get(zone).unwrap(),
            host: b"web 1".to_vec(),
            tag: tag.to_vec(),
            pid: 4242,
        }
    }

    fn meta(level: crate::level::LevelId, seq: u64, time: &str) -> MessageMeta {
        MessageMeta {
            end: 0,
            level,
            time: time.parse().unwrap(),
            seq,
        }
    }

    fn render(f: &mut MessageFormatter, message: &[u8], meta: &MessageMeta) -> String {
        let mut out = Vec::new();
        f.format(message, meta, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc5424_has_the_lines_time_level_tag_and_seq() {
        let mut f = MessageFormatter::new(
            SyslogFormat::Rfc5424,
            &header(b"backup", "Asia/Kolkata"),
            true,
        );
        let m = meta(LevelTable::ERROR, 17, "2026-12-03T10:26:22.000123Z");
        assert_eq!(
            render(&mut f, b"disk\nfull", &m),
            "<11>1 2026-12-03T15:56:22.000123+05:30 web_1 backup 4242 - \
             [rlog@32473 seq=\"17\"] disk\nfull"
        );
    }

    #[test]
    fn rfc5424_message_bytes_pass_unchanged_and_empty_tag_is_rlog() {
        let mut f = MessageFormatter::new(SyslogFormat::Rfc5424, &header(b"", "UTC"), true);
        let m = meta(LevelTable::INFO, 1, "2026-01-02T03:04:05.999999Z");
        let mut out = Vec::new();
        f.format(b"a\x00b\xff", &m, &mut out);
        assert_eq!(
            out,
            b"<14>1 2026-01-02T03:04:05.999999+00:00 web_1 rlog 4242 - [rlog@32473 seq=\"1\"] a\x00b\xff"
        );
        out.clear();
        f.format(b"", &m, &mut out);
        assert!(
            out.ends_with(b"seq=\"1\"]"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn rfc3164_is_traditional_with_or_without_host() {
        let h = header(b"my tag:x", "UTC");
        let m = meta(LevelTable::INFO, 1, "2026-03-05T07:08:09.5Z");
        let mut local = MessageFormatter::new(SyslogFormat::Rfc3164, &h, false);
        assert_eq!(
            render(&mut local, b"hello", &m),
            "<14>Mar  5 07:08:09 my_tag_x[4242]: hello"
        );
        let mut remote = MessageFormatter::new(SyslogFormat::Rfc3164, &h, true);
        assert_eq!(
            render(&mut remote, b"hello", &m),
            "<14>Mar  5 07:08:09 web_1 my_tag_x[4242]: hello"
        );
    }

    #[test]
    fn cached_time_text_follows_the_second_and_the_facility_counts() {
        let mut h = header(b"t", "UTC");
        h.facility = 23;
        let mut f = MessageFormatter::new(SyslogFormat::Rfc5424, &h, true);
        let a = render(
            &mut f,
            b"",
            &meta(LevelTable::INFO, 1, "2026-01-01T00:00:00.5Z"),
        );
        let b = render(
            &mut f,
            b"",
            &meta(LevelTable::INFO, 2, "2026-01-01T00:00:01.000001Z"),
        );
        assert!(
            a.starts_with("<190>1 2026-01-01T00:00:00.500000+00:00 "),
            "{a}"
        );
        assert!(
            b.starts_with("<190>1 2026-01-01T00:00:01.000001+00:00 "),
            "{b}"
        );
    }

    #[test]
    fn header_fields_are_bounded_and_printable() {
        assert_eq!(header_field(b"", 48), b"-");
        assert_eq!(header_field(&[b'x'; 60], 48).len(), 48);
        assert_eq!(header_field(b"a b\x7f\xc3\xa9", 48), b"a_b___");
    }
}
