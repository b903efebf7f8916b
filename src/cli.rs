//! What the user can say: the command line, defined with clap, and nothing else.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use crate::size::parse_size;
use crate::syslog::{Facility, SyslogFormat};

const AFTER_HELP: &str = "\
Examples:
  ./nightly.sh 2>&1 | rlog --path backup.log
  rlog write --path app.log --level ERROR \"disk almost full\"
  make 2>&1 | rlog -p all.log -p ERROR=errors.log --console
  rlog -p 'logs/app-%{timestamp:+%Y-%m-%d}.log' < input.txt
  rlog --format '%{timestamputc} [%{tag}] %{message}' --tag backup
  ./task.sh 2>&1 | rlog -p task.log --syslog relp://loghost:2514 --tag task

Pattern tokens (-f/--format, and inside --path):
  %{timestamp}     time the line reached rlog, local time, RFC 3339 with ms
  %{timestamputc}  the same instant in UTC
  %{level}         level name            %{levelno}  level number
  %{message}       the line's bytes      %{pid}      rlog's process id
  %{host}          host name             %{tag}      the value of --tag
  %{seq}           line number, from 1   %{stream}   stdin, arg, stdout, stderr
  Forms: %{name}, %{name:PAD}, %{name:+DATEFMT}, %{name:+DATEFMT:PAD}; PAD -7 pads
  on the right to 7 characters, 7 on the left; DATEFMT is strftime (%Y-%m-%d %H:%M:%S%.3f %z);
  %% is a literal %.

Levels: NOTSET 0, DEBUG 10, INFO 20, WARNING 30 (WARN), ERROR 40, CRITICAL 50 (FATAL).

";

#[derive(Debug, Parser)]
#[command(
    name = "rlog",
    version,
    about = "Log lines to files, durably: when rlog exits 0, every line is on disk.",
    long_about = "Reads lines from standard input (or one message with `write`), stamps each with \
a time and level, and appends them to every --path. At end of input or on SIGTERM/SIGINT it \
drains its queue, flushes and fsyncs every file (and the directories of files it created), \
then exits with a status that tells the truth.",
    after_help = after_help(),
    args_conflicts_with_subcommands = false,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(flatten)]
    pub options: Options,

    #[command(subcommand)]
    pub command: Option<Command>,
}

fn after_help() -> String {
    format!("{AFTER_HELP}{}", crate::exit::TABLE)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log one message (arguments joined by one space); each of its lines becomes a record.
    #[command(
        after_help = "Examples:\n  rlog write --path app.log --level ERROR \"disk almost full\"\n  rlog write -p app.log -t backup \"started\"\n  rlog write -p app.log -- \"-5 degrees\""
    )]
    Write(WriteArgs),

    /// Run COMMAND, logging its stdout and stderr line by line; exit with its status.
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),

    /// Write shell completions and man pages into DIR/completions and DIR/man.
    #[command(
        hide = true,
        after_help = "Example (refreshes the committed copies):\n  cargo run -- generate ."
    )]
    Generate(GenerateArgs),
}

const RUN_HELP: &str = "\
Examples:
  rlog run --path job.log -- ./task.sh --full
  rlog run -p /var/log/backup.log --time-limit 2h --on-failure-print -- /usr/local/bin/backup
  rlog run -p build.log --stderr-level WARNING --console -- make -j4

Start and end records (\"started: ...\", \"exited with status 3 after 1m 2s\") are logged
unless --quiet. TERM, INT and HUP sent to rlog are forwarded to COMMAND; rlog reads both
pipes until they close, even after COMMAND exits.

Exit status:
  N      COMMAND's own exit status
  128+N  signal N ended COMMAND
  124    --time-limit passed
  126    COMMAND cannot be run
  127    COMMAND is not found
  74     COMMAND succeeded but a line could not be logged

rlog's own errors (64, 73, 75) mean what they mean for rlog; see rlog --help.";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Level of the command's stderr lines (stdout lines get --level).
    #[arg(
        long,
        value_name = "LEVEL",
        value_parser = LevelNameParser,
        hide_possible_values = true,
        env = "RLOG_STDERR_LEVEL",
        default_value = "ERROR"
    )]
    pub stderr_level: String,

    /// Leave out the start and end records.
    #[arg(value_parser = BoolishValueParser::new(), short = 'q', long, env = "RLOG_QUIET")]
    pub quiet: bool,

    /// Set PYTHONUNBUFFERED=1 and stdbuf's line-buffering preload (when coreutils has it).
    #[arg(value_parser = BoolishValueParser::new(), long, env = "RLOG_ENV_UNBUFFERED")]
    pub env_unbuffered: bool,

    /// Start COMMAND in its own process group and send signals to the whole group.
    #[arg(value_parser = BoolishValueParser::new(), long, env = "RLOG_PROCESS_GROUP")]
    pub process_group: bool,

    /// SIGKILL a COMMAND still running this long after a forwarded signal (default for
    /// --time-limit: 10s), e.g. 30s.
    #[arg(long, value_name = "DURATION", env = "RLOG_KILL_AFTER", value_parser = humantime::parse_duration)]
    pub kill_after: Option<Duration>,

    /// SIGTERM COMMAND when it has run this long (e.g. 2h, 90s); exit 124.
    #[arg(long, value_name = "DURATION", env = "RLOG_TIME_LIMIT", value_parser = humantime::parse_duration)]
    pub time_limit: Option<Duration>,

    /// When COMMAND fails, print the lines it logged to stderr (read back from the first
    /// --path), so cron mails output only on failure.
    #[arg(value_parser = BoolishValueParser::new(), long, env = "RLOG_ON_FAILURE_PRINT")]
    pub on_failure_print: bool,

    /// The command and its arguments (put them after --).
    #[arg(value_name = "COMMAND", required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Folder to write into; its completions/ and man/ are created when missing.
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The message; several arguments are joined with one space.
    #[arg(value_name = "MESSAGE", required = true, num_args = 1..)]
    pub message: Vec<OsString>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour when standard output is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    Always,
    Never,
}

// These comments are --help text too, where `PATH.<time>` is a placeholder, not HTML.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Debug, Args)]
pub struct Options {
    /// Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level;
    /// PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout.
    #[arg(
        short = 'p',
        long = "path",
        value_name = "[LEVEL=]PATH",
        env = "RLOG_PATH",
        value_hint = ValueHint::FilePath,
        global = true
    )]
    pub paths: Vec<String>,

    /// Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a
    /// name from --define-level.
    #[arg(
        short = 'l',
        long,
        value_name = "LEVEL",
        value_parser = LevelNameParser,
        hide_possible_values = true,
        env = "RLOG_LEVEL",
        default_value = "INFO",
        global = true
    )]
    pub level: String,

    /// Drop lines below this level (a level name, as for --level).
    #[arg(long, value_name = "LEVEL", value_parser = LevelNameParser, hide_possible_values = true, env = "RLOG_MIN_LEVEL", global = true)]
    pub min_level: Option<String>,

    /// Line pattern, e.g. '%{timestamp} %{level:-7} %{message}' (the default).
    #[arg(
        short = 'f',
        long,
        value_name = "PATTERN",
        env = "RLOG_FORMAT",
        global = true
    )]
    pub format: Option<String>,

    /// Write one JSON object per line; the pattern (--format) is then not used.
    #[arg(value_parser = BoolishValueParser::new(), long, env = "RLOG_JSON", global = true)]
    pub json: bool,

    /// Value of %{tag}, any text (like logger -t).
    #[arg(
        short = 't',
        long,
        value_name = "NAME",
        env = "RLOG_TAG",
        global = true,
        default_value = ""
    )]
    pub tag: String,

    /// Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25.
    #[arg(
        long,
        value_name = "NAME=NUMBER",
        env = "RLOG_DEFINE_LEVEL",
        value_delimiter = ',',
        global = true
    )]
    pub define_level: Vec<String>,

    // The help is an attribute, not a doc comment: rustdoc would read [WARN] as a link.
    #[arg(
        long,
        value_parser = BoolishValueParser::new(),
        env = "RLOG_PARSE_LEVEL",
        global = true,
        help = "Take each line's level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it"
    )]
    pub parse_level: bool,

    /// Also echo lines to stdout (like tee), control bytes escaped, coloured by level.
    #[arg(value_parser = BoolishValueParser::new(), long, env = "RLOG_CONSOLE", global = true)]
    pub console: bool,

    /// When to colour console output.
    #[arg(long, value_enum, value_name = "WHEN", env = "RLOG_COLOR", default_value_t = Color::Auto, global = true)]
    pub color: Color,

    /// Escape control bytes in files too (\x1b, \r...), for logs read by trusting tools.
    #[arg(value_parser = BoolishValueParser::new(), long, env = "RLOG_ESCAPE", global = true)]
    pub escape: bool,

    /// After SIGTERM/SIGINT, keep reading this long for the producer's last lines (e.g. 2s, 500ms).
    #[arg(long, value_name = "DURATION", env = "RLOG_GRACE", default_value = "2s", value_parser = humantime::parse_duration, global = true)]
    pub grace: Duration,

    /// Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none.
    #[arg(long, value_name = "DURATION", env = "RLOG_DRAIN_TIMEOUT", value_parser = humantime::parse_duration, global = true)]
    pub drain_timeout: Option<Duration>,

    /// How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at
    /// once); for --syslog, how long a server may go without taking a line before its lines
    /// are dropped and counted.
    #[arg(long, value_name = "DURATION", env = "RLOG_RETRY_FOR", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub retry_for: Duration,

    /// Longest message in bytes (1MiB, 64k...); longer lines are split into several records.
    #[arg(long, value_name = "SIZE", env = "RLOG_MAX_LINE", default_value = "1MiB", value_parser = parse_size, global = true)]
    pub max_line: u64,

    /// Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are
    /// powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>.
    #[arg(long, value_name = "SIZE", env = "RLOG_ROTATE_SIZE", value_parser = parse_size, global = true)]
    pub rotate_size: Option<u64>,

    /// Archives kept per file after rotation (0 keeps none); the oldest go first.
    #[arg(
        long,
        value_name = "N",
        env = "RLOG_ROTATE_KEEP",
        default_value_t = 10,
        global = true
    )]
    pub rotate_keep: usize,

    /// Gzip archives in the background (PATH.<time>.gz).
    #[arg(value_parser = BoolishValueParser::new(), long, env = "RLOG_ROTATE_COMPRESS", global = true, requires = "rotate_size")]
    pub rotate_compress: bool,

    /// Permissions of new log files, in octal (the umask still applies); new directories get 750.
    #[arg(long, value_name = "OCTAL", env = "RLOG_MODE", default_value = "640", value_parser = parse_mode, global = true)]
    pub mode: u32,

    /// Forward every line to a syslog server (repeatable): unix:/dev/log (the local
    /// daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or
    /// relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to
    /// 514 for udp and tcp.
    #[arg(long, value_name = "URL", env = "RLOG_SYSLOG", global = true)]
    pub syslog: Vec<String>,

    /// Syslog facility of forwarded lines.
    #[arg(long, value_enum, value_name = "NAME", env = "RLOG_FACILITY", default_value_t = Facility::User, global = true)]
    pub facility: Facility,

    /// Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise.
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        env = "RLOG_SYSLOG_FORMAT",
        global = true
    )]
    pub syslog_format: Option<SyslogFormat>,

    /// Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash).
    #[arg(value_parser = BoolishValueParser::new(), long, env = "RLOG_NO_SYNC", global = true)]
    pub no_sync: bool,
}

/// Parses a level name. The built-in names are its possible values, so shell completion
/// offers them, but any name passes here: `--define-level` may add more, and the level
/// table checks every name once all options are known.
#[derive(Clone, Copy, Debug)]
pub struct LevelNameParser;

impl TypedValueParser for LevelNameParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(crate::level::builtin_names().map(
            |(name, aliases)| PossibleValue::new(name).aliases(aliases),
        )))
    }
}

/// A file mode in octal: `640`, `0600`, `0o644`. Only permission bits: a log file has
/// no business being set-uid or executable-sticky.
fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    match u32::from_str_radix(digits, 8) {
        Ok(mode) if mode <= 0o777 && !digits.is_empty() => Ok(mode),
        _ => Err(format!(
            "bad mode '{text}': expected permission bits in octal, such as 640 or 0600"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn modes_are_octal_permission_bits() {
        assert_eq!(parse_mode("640"), Ok(0o640));
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert_eq!(parse_mode("0o644"), Ok(0o644));
        for bad in ["", "0o", "8", "rw-r-----", "4755", "-1"] {
            assert!(parse_mode(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_work_before_and_after_the_subcommand() {
        for args in [
            &["rlog", "-p", "a.log", "write", "hi"][..],
            &["rlog", "write", "-p", "a.log", "hi"][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.options.paths, vec!["a.log".to_string()]);
            assert!(matches!(cli.command, Some(Command::Write(_))));
        }
    }

    #[test]
    fn level_options_accept_names_beyond_the_built_in_ones() {
        let cli = Cli::try_parse_from([
            "rlog",
            "--define-level",
            "NOTICE=25",
            "--level",
            "notice",
            "--min-level",
            "Notice",
        ])
        .unwrap();
        assert_eq!(cli.options.level, "notice");
        assert_eq!(cli.options.min_level.as_deref(), Some("Notice"));
    }
}
