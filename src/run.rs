//! `rlog run -- COMMAND`: starts the command with its stdout and stderr on two pipes,
//! forwards signals to it, enforces `--time-limit`, and turns its end into a record and
//! an exit status.

use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded};

use crate::exit::Exit;
use crate::signals::{self, SIGKILL, SIGTERM};

/// What `--time-limit` sends first, and how long it waits before SIGKILL by default.
const DEFAULT_KILL_AFTER: Duration = Duration::from_secs(10);

/// Where coreutils keeps the preload library behind stdbuf(1), by distribution.
const LIBSTDBUF: [&str; 3] = [
    "/usr/libexec/coreutils/libstdbuf.so",
    "/usr/lib/coreutils/libstdbuf.so",
    "/usr/local/libexec/coreutils/libstdbuf.so",
];

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Start COMMAND in its own process group and signal the whole group.
    pub process_group: bool,
    pub time_limit: Option<Duration>,
    /// SIGKILL a command that outlives a forwarded signal (or the time limit) this long.
    pub kill_after: Option<Duration>,
    /// Add the variables that make common runtimes line-buffer their output.
    pub env_unbuffered: bool,
}

/// COMMAND could not be started.
#[derive(Debug)]
pub struct SpawnError {
    pub command: String,
    pub source: io::Error,
    /// The program named is a file that exists: "not found" then means its `#!`
    /// interpreter is missing.
    pub program_exists: bool,
}

impl SpawnError {
    /// 127 when COMMAND is not found, 126 when it cannot be run, as shells report them.
    pub fn exit(&self) -> Exit {
        match self.source.kind() {
            io::ErrorKind::NotFound => Exit::Child(127),
            _ => Exit::Child(126),
        }
    }
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hint = match self.source.kind() {
            io::ErrorKind::NotFound if self.program_exists => {
                "; the file exists, so the interpreter on its #! line is probably missing"
            }
            io::ErrorKind::NotFound => "; check the name and PATH",
            io::ErrorKind::PermissionDenied => "; check that it is executable",
            _ => "",
        };
        write!(f, "cannot run '{}': {}{hint}", self.command, self.source)
    }
}

/// The running command.
pub struct Supervisor {
    pid: i32,
    group: bool,
    started: Instant,
    status_rx: Receiver<io::Result<ExitStatus>>,
    status: Option<ExitStatus>,
    kill_after: Option<Duration>,
    time_limit_at: Option<Instant>,
    kill_at: Option<Instant>,
    timed_out: bool,
    /// When the command's status came in: the end record's duration.
    ended: Option<Instant>,
    /// Set once a wait error leaves the status unknown.
    lost_track: bool,
}

/// The command line as shown in records: arguments joined by spaces.
pub fn display_command(command: &[OsString]) -> String {
    command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Supervisor {
    /// Starts `command` (program and arguments) with piped stdout and stderr.
    pub fn spawn(
        command: &[OsString],
        options: &RunOptions,
    ) -> Result<(Supervisor, ChildStdout, ChildStderr), SpawnError> {
        let err = |source| SpawnError {
            command: display_command(command),
            source,
            // A bare name is looked up in PATH; only a path can be checked for existence.
            program_exists: command
                .first()
                .is_some_and(|p| p.to_string_lossy().contains('/') && Path::new(p).is_file()),
        };
        let (program, args) = command.split_first().ok_or_else(|| {
            err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no command given",
            ))
        })?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if options.env_unbuffered {
            add_unbuffered_env(&mut cmd);
        }
        #[cfg(unix)]
        if options.process_group {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = cmd.spawn().map_err(err)?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(err(io::Error::other(
                "the command's pipes were not created",
            )));
        };
        let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        let (tx, status_rx) = bounded(1);
        thread::Builder::new()
            .name("wait-child".into())
            .spawn(move || {
                let _ = tx.send(child.wait());
            })
            .map_err(err)?;
        let started = Instant::now();
        let supervisor = Supervisor {
            pid,
            group: options.process_group,
            started,
            status_rx,
            status: None,
            kill_after: options.kill_after,
            time_limit_at: options.time_limit.map(|limit| started + limit),
            kill_at: None,
            timed_out: false,
            ended: None,
            lost_track: false,
        };
        Ok((supervisor, stdout, stderr))
    }

    pub fn pid(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    pub fn status_channel(&self) -> &Receiver<io::Result<ExitStatus>> {
        &self.status_rx
    }

    pub fn has_exited(&self) -> bool {
        self.status.is_some() || self.lost_track
    }

    pub fn record_status(&mut self, status: io::Result<ExitStatus>) {
        self.ended = Some(Instant::now());
        match status {
            Ok(status) => self.status = Some(status),
            Err(e) => {
                crate::warn!("cannot wait for the command: {e}");
                self.lost_track = true;
            }
        }
        // Nothing left to kill; the time limit still bounds the wait for its pipes,
        // which a background grandchild may hold.
        self.kill_at = None;
    }

    /// The time limit passed: the command was (or will be) stopped, and reading its
    /// pipes ends soon after it exits.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Sends `signal` to the command (its group with `--process-group`), unless it has
    /// already exited; starts the `--kill-after` clock.
    pub fn forward(&mut self, signal: i32) {
        if self.has_exited() {
            return;
        }
        self.send(signal);
        if let Some(after) = self.kill_after
            && self.kill_at.is_none()
        {
            self.kill_at = Some(Instant::now() + after);
        }
    }

    fn send(&self, signal: i32) {
        #[cfg(unix)]
        {
            let target = if self.group { -self.pid } else { self.pid };
            // SAFETY: kill(2) with a pid we started and have not seen exit (so not reaped
            // and not reused); it has no memory effects.
            unsafe {
                libc::kill(target, signal);
            }
        }
        #[cfg(windows)]
        let _ = signal;
    }

    /// Sends SIGKILL to the command (its group with `--process-group`) if it is running.
    pub fn kill_now(&mut self) {
        if !self.has_exited() {
            self.send(SIGKILL);
        }
    }

    /// The next moment something must happen: the time limit or a SIGKILL.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.time_limit_at, self.kill_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Acts on whatever deadline has passed.
    pub fn on_deadline(&mut self) {
        let now = Instant::now();
        if self.has_exited() {
            if self.time_limit_at.is_some_and(|at| at <= now) {
                self.time_limit_at = None;
                self.timed_out = true;
            }
            return;
        }
        if self.kill_at.is_some_and(|at| at <= now) {
            self.kill_at = None;
            self.send(SIGKILL);
        }
        if self.time_limit_at.is_some_and(|at| at <= now) {
            self.time_limit_at = None;
            self.timed_out = true;
            self.send(SIGTERM);
            self.kill_at = Some(now + self.kill_after.unwrap_or(DEFAULT_KILL_AFTER));
        }
    }

    /// The end record and whether it reports a failure.
    pub fn end_record(&self) -> (String, bool) {
        let ended = self.ended.unwrap_or_else(Instant::now);
        let took = humantime::format_duration(Duration::from_millis(
            ended.duration_since(self.started).as_millis() as u64,
        ));
        let timed_out = if self.timed_out { "timed out; " } else { "" };
        match self.status {
            Some(status) => match (status.code(), signal_of(&status)) {
                (Some(code), _) => (
                    format!("{timed_out}exited with status {code} after {took}"),
                    code != 0 || self.timed_out,
                ),
                (None, Some(sig)) => (
                    format!(
                        "{timed_out}killed by signal {} after {took}",
                        signals::name(sig)
                    ),
                    true,
                ),
                (None, None) => (format!("{timed_out}ended after {took}"), true),
            },
            None => (format!("ended, status unknown, after {took}"), true),
        }
    }

    /// The command's status as rlog's: its code, 128+N for signal N, 124 on time-out.
    pub fn exit(&self) -> Exit {
        if self.timed_out {
            return Exit::Child(124);
        }
        match self.status {
            Some(status) => match (status.code(), signal_of(&status)) {
                (Some(code), _) => Exit::Child(u8::try_from(code).unwrap_or(1)),
                (None, Some(sig)) => Exit::Child(Exit::Signal(sig).code()),
                (None, None) => Exit::Child(1),
            },
            None => Exit::IoError,
        }
    }

    /// The signal that ended the command, if one did.
    pub fn killed_by(&self) -> Option<i32> {
        self.status.as_ref().and_then(signal_of)
    }
}

#[cfg(unix)]
fn signal_of(status: &ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(windows)]
fn signal_of(_status: &ExitStatus) -> Option<i32> {
    None
}

/// `--env-unbuffered`: Python's switch, and stdbuf's preload for C programs using stdio
/// (when coreutils' library is installed).
fn add_unbuffered_env(cmd: &mut Command) {
    cmd.env("PYTHONUNBUFFERED", "1");
    if let Some(lib) = LIBSTDBUF.iter().find(|p| Path::new(p).exists()) {
        let preload = match std::env::var_os("LD_PRELOAD") {
            Some(existing) if !existing.is_empty() => {
                let mut v = OsString::from(lib);
                v.push(" ");
                v.push(existing);
                v
            }
            _ => OsString::from(lib),
        };
        cmd.env("LD_PRELOAD", preload)
            .env("_STDBUF_O", "L")
            .env("_STDBUF_E", "L");
    }
}
