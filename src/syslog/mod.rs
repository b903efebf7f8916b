//! Forwarding to syslog servers: where (`--syslog URL`), how each line becomes a syslog
//! message, and the forwarder threads that deliver them.
//!
//! Each destination has a thread of its own fed through a bounded queue by the writer,
//! so a server that is slow or down never holds up the files; when its queue and window
//! are full the writer, and then the reader, wait. What "delivered" means depends on the
//! transport: for RELP the server acknowledged the message; for TCP it was handed to the
//! kernel (and at exit the server closed the connection after reading everything); for
//! UDP and local datagram sockets it was sent.

mod forwarder;
mod link;
mod message;
pub mod relp;

use std::fmt;
use std::path::PathBuf;

use clap::ValueEnum;

pub use forwarder::{ForwardStatus, Forwarder, ForwarderHandle};
pub use message::{Header, MessageFormatter};

use crate::level::LevelTable;

/// The transports rlog speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A local datagram socket, such as `/dev/log`.
    Unix(PathBuf),
    Udp {
        host: String,
        port: u16,
    },
    /// Octet-counted framing (RFC 6587), so a message may hold newlines.
    Tcp {
        host: String,
        port: u16,
    },
    /// rsyslog's Reliable Event Logging Protocol: every message acknowledged.
    Relp {
        host: String,
        port: u16,
    },
}

/// Port used when a `udp://` or `tcp://` URL names none, as syslog servers listen on.
const DEFAULT_PORT: u16 = 514;

/// A `--syslog` value that is not a URL rlog understands (exit 64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    pub given: String,
    pub reason: String,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--syslog '{}': {}; expected unix:PATH, udp://HOST[:PORT], tcp://HOST[:PORT] \
             or relp://HOST:PORT",
            self.given, self.reason
        )
    }
}

impl Destination {
    pub fn parse(given: &str) -> Result<Destination, UrlError> {
        let err = |reason: &str| UrlError {
            given: given.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = given.split_once(':').ok_or_else(|| err("no scheme"))?;
        if scheme.eq_ignore_ascii_case("unix") {
            if cfg!(not(unix)) {
                return Err(err("local syslog sockets exist only on Unix"));
            }
            // `unix:///dev/log` and `unix:/dev/log` name the same socket.
            let path = match rest.strip_prefix("//") {
                Some(p) if p.starts_with('/') => p,
                _ => rest,
            };
            if path.is_empty() {
                return Err(err("no socket path"));
            }
            return Ok(Destination::Unix(PathBuf::from(path)));
        }
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "udp" | "tcp" | "relp") {
            return Err(err(&format!("unknown scheme '{scheme}'")));
        }
        let authority = rest
            .strip_prefix("//")
            .ok_or_else(|| err("missing '//' after the scheme"))?;
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.contains('/') {
            return Err(err("a syslog URL has no path"));
        }
        let (host, port) = split_host_port(authority).map_err(|r| err(&r))?;
        let port = |default: Option<u16>| match (port, default) {
            (Some(p), _) => Ok(p),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(err(
                "RELP has no standard port; give one, e.g. relp://HOST:2514",
            )),
        };
        match scheme.as_str() {
            "udp" => Ok(Destination::Udp {
                host,
                port: port(Some(DEFAULT_PORT))?,
            }),
            "tcp" => Ok(Destination::Tcp {
                host,
                port: port(Some(DEFAULT_PORT))?,
            }),
            "relp" => Ok(Destination::Relp {
                host,
                port: port(None)?,
            }),
            _ => Err(err(&format!("unknown scheme '{scheme}'"))),
        }
    }

    /// The message format a destination gets unless `--syslog-format` says otherwise:
    /// local daemons expect the traditional one.
    pub fn default_format(&self) -> SyslogFormat {
        match self {
            Destination::Unix(_) => SyslogFormat::Rfc3164,
            _ => SyslogFormat::Rfc5424,
        }
    }
}

/// `HOST`, `HOST:PORT`, `[V6]` or `[V6]:PORT`.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in the host".to_string())?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected '{after}' after the host")),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err("write an IPv6 address in brackets, e.g. [::1]:514".to_string());
            }
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("no host".to_string());
    }
    let port = port
        .map(|p| match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("bad port '{p}'")),
        })
        .transpose()?;
    Ok((host.to_string(), port))
}

/// `--syslog-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SyslogFormat {
    /// RFC 5424: full timestamp, structured data with the line's seq.
    Rfc5424,
    /// RFC 3164 (BSD): what local daemons expect; no structured data.
    Rfc3164,
}

/// `--facility`, with the numbers RFC 5424 gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Authpriv,
    Ftp,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

impl Facility {
    pub fn code(self) -> u8 {
        match self {
            Facility::Kern => 0,
            Facility::User => 1,
            Facility::Mail => 2,
            Facility::Daemon => 3,
            Facility::Auth => 4,
            Facility::Syslog => 5,
            Facility::Lpr => 6,
            Facility::News => 7,
            Facility::Uucp => 8,
            Facility::Cron => 9,
            Facility::Authpriv => 10,
            Facility::Ftp => 11,
            Facility::Local0 => 16,
            Facility::Local1 => 17,
            Facility::Local2 => 18,
            Facility::Local3 => 19,
            Facility::Local4 => 20,
            Facility::Local5 => 21,
            Facility::Local6 => 22,
            Facility::Local7 => 23,
        }
    }
}

/// Syslog severities by level id: DEBUG 7, INFO 6, WARNING 4, ERROR 3, CRITICAL 2; a
/// custom level takes the severity of the nearest built-in level at or below it, and
/// NOTSET counts as DEBUG.
pub fn severities(levels: &LevelTable) -> Vec<u8> {
    levels
        .ids()
        .map(
            |id| match levels.number(levels.nearest_builtin_at_or_below(id)) {
                n if n >= 50 => 2,
                n if n >= 40 => 3,
                n if n >= 30 => 4,
                n if n >= 20 => 6,
                _ => 7,
            },
        )
        .collect()
}

/// After `--drain-timeout`: how many of the `forwarded` lines the server has not taken.
pub fn report_undelivered(status: &ForwardStatus, forwarded: u64) {
    let undelivered = forwarded.saturating_sub(status.delivered());
    if undelivered > 0 {
        warn!(
            "{undelivered} of {forwarded} line(s) were not delivered to '{}' when --drain-timeout passed",
            status.url
        );
    }
}

/// One `--syslog`: the URL as given (for messages), where, and in which format.
#[derive(Clone, Debug)]
pub struct SyslogTarget {
    pub url: String,
    pub destination: Destination,
    pub format: SyslogFormat,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_port(host: &str, port: u16) -> (String, u16) {
        (host.to_string(), port)
    }

    #[test]
    fn urls_parse_into_destinations() {
        assert_eq!(
            Destination::parse("unix:/dev/log"),
            Ok(Destination::Unix("/dev/log".into()))
        );
        assert_eq!(
            Destination::parse("unix:///run/log.sock"),
            Ok(Destination::Unix("/run/log.sock".into()))
        );
        let (host, port) = host_port("127.0.0.1", 5514);
        assert_eq!(
            Destination::parse("relp://127.0.0.1:5514"),
            Ok(Destination::Relp { host, port })
        );
        let (host, port) = host_port("loghost", 514);
        assert_eq!(
            Destination::parse("udp://loghost"),
            Ok(Destination::Udp { host, port })
        );
        let (host, port) = host_port("::1", 601);
        assert_eq!(
            Destination::parse("TCP://[::1]:601/"),
            Ok(Destination::Tcp { host, port })
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (given, reason) in [
            ("loghost:514", "unknown scheme"),
            ("loghost", "no scheme"),
            ("http://h:1", "unknown scheme"),
            ("tcp:h:1", "missing '//'"),
            ("tcp://:514", "no host"),
            ("tcp://h:0", "bad port"),
            ("tcp://h:70000", "bad port"),
            ("tcp://h:x", "bad port"),
            ("relp://h", "no standard port"),
            ("tcp://h:1/path", "no path"),
            ("udp://::1:514", "brackets"),
            ("udp://[::1", "unclosed"),
            ("unix:", "no socket path"),
        ] {
            let e = Destination::parse(given).unwrap_err();
            assert!(e.reason.contains(reason), "{given}: {}", e.reason);
            assert!(e.to_string().contains(&format!("'{given}'")), "{e}");
        }
    }

    #[test]
    fn severities_follow_the_levels_and_custom_ones_round_down() {
        let mut levels = LevelTable::default();
        let notice = levels.define("NOTICE=25").unwrap();
        let trace = levels.define("TRACE=5").unwrap();
        let alert = levels.define("ALERT=60").unwrap();
        let s = severities(&levels);
        let of = |name: &str| s[levels.parse(name).unwrap().index()];
        assert_eq!(
            [
                of("DEBUG"),
                of("INFO"),
                of("WARNING"),
                of("ERROR"),
                of("CRITICAL")
            ],
            [7, 6, 4, 3, 2]
        );
        assert_eq!(of("NOTSET"), 7);
        assert_eq!(s[notice.index()], 6);
        assert_eq!(s[trace.index()], 7);
        assert_eq!(s[alert.index()], 2);
    }

    #[test]
    fn facilities_have_their_rfc_numbers() {
        assert_eq!(Facility::Kern.code(), 0);
        assert_eq!(Facility::User.code(), 1);
        assert_eq!(Facility::Authpriv.code(), 10);
        assert_eq!(Facility::Local0.code(), 16);
        assert_eq!(Facility::Local7.code(), 23);
    }
}
