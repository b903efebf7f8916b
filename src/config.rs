//! Turns what the user said into a checked configuration; every usage error (exit 64) is
//! found here, before any input is read.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jiff::tz::TimeZone;

use crate::cli::{Color, Options};
use crate::level::{LevelError, LevelId, LevelTable};
use crate::pattern::{self, Context, Pattern, PatternError};
use crate::render::{JsonStyle, Renderer, Style};
use crate::rotate::RotatePolicy;
use crate::syslog::{self, Destination, Header, SyslogTarget, UrlError};

/// A mistake in the command line (exit 64).
#[derive(Debug)]
pub enum UsageError {
    Level(LevelError),
    Pattern {
        option: &'static str,
        error: PatternError,
    },
    Path(String),
    Format(String),
    Syslog(UrlError),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::Level(e) => e.fmt(f),
            UsageError::Pattern { option, error } => write!(f, "{option}: {error}"),
            UsageError::Path(msg) | UsageError::Format(msg) => f.write_str(msg),
            UsageError::Syslog(e) => e.fmt(f),
        }
    }
}

impl From<LevelError> for UsageError {
    fn from(e: LevelError) -> Self {
        UsageError::Level(e)
    }
}

/// One `--path`: where, and from which level up.
pub struct PathSpec {
    pub path: PathTarget,
    pub min_level: i32,
}

pub enum PathTarget {
    Fixed(PathBuf),
    Pattern(Pattern),
}

/// Where lines go when there is no `--path`, or in addition to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdoutUse {
    /// Paths only.
    None,
    /// No path, stdout not a terminal: rendered bytes, unchanged (`cmd | rlog > f`).
    Plain,
    /// `--console`, or no path and stdout a terminal: escaped, maybe coloured.
    Console { colour: bool },
}

pub struct Config {
    pub levels: LevelTable,
    pub level: LevelId,
    pub min_level: Option<i32>,
    pub parse_level: bool,
    pub renderer: Renderer,
    pub paths: Vec<PathSpec>,
    /// `--syslog` destinations, each once.
    pub syslog: Vec<SyslogTarget>,
    /// The syslog header fields that are the same for every line.
    pub syslog_header: Header,
    pub stdout: StdoutUse,
    pub grace: Duration,
    pub drain_timeout: Option<Duration>,
    pub retry_for: Duration,
    /// Permissions of new log files (before the umask).
    pub file_mode: u32,
    pub max_line: usize,
    pub sync: bool,
    pub rotate: Option<RotatePolicy>,
    /// The first path without tokens, if any (`rlog run --on-failure-print` reads it).
    pub first_fixed_path: Option<PathBuf>,
}

/// The system time zone (`TZ` honoured); an unknown one falls back to UTC with a warning.
pub fn local_time_zone() -> TimeZone {
    if let Some(zone) = local_time_zone_file() {
        return zone;
    }
    match TimeZone::try_system() {
        Ok(tz) => tz,
        Err(e) => {
            warn!("cannot find the local time zone ({e}); using UTC");
            TimeZone::UTC
        }
    }
}

/// The common cases, read straight from their TZif file: `TZ` unset (`/etc/localtime`)
/// or naming a zone under `/usr/share/zoneinfo`. jiff's general lookup lists the whole
/// zoneinfo tree first (42 directory reads), which was most of a one-shot `rlog write`'s
/// start-up; jiff still parses the file, and handles every other form of `TZ`.
fn local_time_zone_file() -> Option<TimeZone> {
    #[cfg(unix)]
    {
        let (name, path) = match std::env::var("TZ") {
            Err(std::env::VarError::NotPresent) => {
                ("Local".to_string(), PathBuf::from("/etc/localtime"))
            }
            Ok(tz) => {
                let name = tz.strip_prefix(':').unwrap_or(&tz).to_string();
                let plain = !name.is_empty()
                    && !name.starts_with('/')
                    && name
                        .split('/')
                        .all(|part| !part.is_empty() && part != "." && part != "..");
                if !plain {
                    return None;
                }
                let path = PathBuf::from("/usr/share/zoneinfo").join(&name);
                (name, path)
            }
            Err(_) => return None,
        };
        let data = std::fs::read(path).ok()?;
        TimeZone::tzif(&name, &data).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

impl Config {
    pub fn from_options(options: &Options, stdout_is_terminal: bool) -> Result<Config, UsageError> {
        let mut levels = LevelTable::default();
        for spec in &options.define_level {
            levels.define(spec)?;
        }
        let level = levels.parse(&options.level)?;
        let min_level = options
            .min_level
            .as_deref()
            .map(|name| levels.parse(name).map(|id| levels.number(id)))
            .transpose()?;
        let zone = local_time_zone();
        let context = Context {
            host: crate::sys::host_name(),
            tag: options.tag.clone().into_bytes(),
            pid: std::process::id(),
        };
        let compile = |option: &'static str, text: &str| {
            Pattern::compile(text, &levels, &zone, context.clone())
                .map_err(|error| UsageError::Pattern { option, error })
        };
        let style = if options.json {
            let timestamp = compile("--json", "%{timestamp}")?;
            Style::Json(JsonStyle::new(timestamp, &levels, context.clone()))
        } else {
            let text = options.format.as_deref().unwrap_or(pattern::DEFAULT);
            if text.is_empty() {
                return Err(UsageError::Format(
                    "--format '' would write only empty lines; use --format '%{message}' for \
                     the bare line, or unset RLOG_FORMAT"
                        .to_string(),
                ));
            }
            Style::Pattern(compile("--format", text)?)
        };
        let mut paths = Vec::new();
        for given in &options.paths {
            let (min, path) = split_level_prefix(given, &levels);
            if path.is_empty() {
                return Err(UsageError::Path(format!(
                    "--path '{given}' names no file; give a file name, e.g. --path app.log"
                )));
            }
            let target = if path.contains("%{") {
                if path.contains("%{message") || path.contains("%{seq") {
                    return Err(UsageError::Path(format!(
                        "--path '{given}': a path may not contain %{{message}} or %{{seq}}; \
                         use level, timestamp, tag, host, pid or stream"
                    )));
                }
                PathTarget::Pattern(compile("--path", path)?)
            } else if path.contains('%') {
                // `%%` means `%` in a path as in a format, tokens or not.
                let literal = compile("--path", path)?.literal_text().unwrap_or_default();
                PathTarget::Fixed(PathBuf::from(
                    String::from_utf8_lossy(&literal).into_owned(),
                ))
            } else {
                PathTarget::Fixed(PathBuf::from(path))
            };
            paths.push(PathSpec {
                path: target,
                min_level: min.map_or(i32::MIN, |id| levels.number(id)),
            });
        }
        let first_fixed_path = paths.iter().find_map(|p| match &p.path {
            PathTarget::Fixed(path) => Some(path.clone()),
            PathTarget::Pattern(_) => None,
        });
        let mut syslog_targets: Vec<SyslogTarget> = Vec::new();
        for url in &options.syslog {
            let destination = Destination::parse(url).map_err(UsageError::Syslog)?;
            if syslog_targets.iter().any(|t| t.destination == destination) {
                continue;
            }
            let format = options
                .syslog_format
                .unwrap_or_else(|| destination.default_format());
            syslog_targets.push(SyslogTarget {
                url: url.clone(),
                destination,
                format,
            });
        }
        let syslog_header = Header {
            facility: options.facility.code(),
            severities: syslog::severities(&levels),
            zone: zone.clone(),
            host: context.host.clone(),
            tag: context.tag.clone(),
            pid: context.pid,
        };
        let colour = match options.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                stdout_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        // A syslog server is a sink like a path: with one, stdout gets nothing unasked.
        let no_sink = paths.is_empty() && syslog_targets.is_empty();
        let stdout = if options.console || (no_sink && stdout_is_terminal) {
            StdoutUse::Console { colour }
        } else if no_sink {
            StdoutUse::Plain
        } else {
            StdoutUse::None
        };
        Ok(Config {
            renderer: Renderer::new(style, options.escape),
            levels,
            level,
            min_level,
            parse_level: options.parse_level,
            paths,
            syslog: syslog_targets,
            syslog_header,
            stdout,
            grace: options.grace,
            drain_timeout: options.drain_timeout,
            retry_for: options.retry_for,
            file_mode: options.mode,
            max_line: usize::try_from(options.max_line).unwrap_or(usize::MAX),
            sync: !options.no_sync,
            rotate: options.rotate_size.map(|size| RotatePolicy {
                size,
                keep: options.rotate_keep,
                compress: options.rotate_compress,
            }),
            first_fixed_path,
        })
    }
}

/// `ERROR=errors.log` gives a minimum level; only a known level name counts, so
/// `./ERROR=x` stays a plain path.
fn split_level_prefix<'a>(given: &'a str, levels: &LevelTable) -> (Option<LevelId>, &'a str) {
    if let Some((name, path)) = given.split_once('=') {
        if let Some(id) = levels.lookup(name) {
            return (Some(id), path);
        }
        // `ERRROR=err.log` is most likely a misspelt level, not a file name.
        if name.len() > 1 && name.bytes().all(|b| b.is_ascii_uppercase()) {
            warn!(
                "'{name}' in --path '{given}' is not a level, so the file is named '{given}'; \
                 known levels: {}",
                levels.known_names()
            );
        }
    }
    (None, given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_prefix_only_for_known_names() {
        let t = LevelTable::default();
        let (min, path) = split_level_prefix("error=errors.log", &t);
        assert_eq!(min, Some(LevelTable::ERROR));
        assert_eq!(path, "errors.log");
        assert_eq!(split_level_prefix("./ERROR=x", &t), (None, "./ERROR=x"));
        assert_eq!(split_level_prefix("a=b.log", &t), (None, "a=b.log"));
    }
}
