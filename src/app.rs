//! Wires the pipeline together: parse, open every path, start the writer, feed it lines,
//! handle signals, drain, and decide the exit status.

use std::ffi::OsString;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use crossbeam_channel::{Receiver, Select, Sender, after, bounded, never, select};
use jiff::Timestamp;

use crate::cli::{Cli, Command, RunArgs};
use crate::config::{Config, PathTarget, StdoutUse};
use crate::exit::Exit;
use crate::input::{self, Input, LineSplitter};
use crate::level::{LevelId, LevelTable};
use crate::queue::Pool;
use crate::record::{Batch, Line, Stream};
use crate::render::Renderer;
use crate::run::{RunOptions, Supervisor, display_command};
use crate::signals::{self, SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use crate::sys;
use crate::syslog::{self, Destination, ForwardStatus, Forwarder, MessageFormatter};
use crate::writer::{Console, FileSink, HandleRegistry, Msg, Target, WriteOptions, Writer};

/// Batches in flight between the renderer and the writer: enough to keep both cores
/// busy, few enough that memory stays bounded (each batch is one read's worth).
const QUEUE_BATCHES: usize = 8;

/// Runs rlog with these arguments and returns how it ended.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Exit {
    sys::ignore_file_size_signal();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return report_clap_error(&e),
    };
    let config = match Config::from_options(&cli.options, sys::is_terminal_fd1()) {
        Ok(config) => config,
        Err(e) => {
            warn!("{e}");
            return Exit::Usage;
        }
    };
    let source = match cli.command {
        None => Source::Stdin,
        Some(Command::Write(w)) => return write_message(config, &join_message(&w.message)),
        Some(Command::Run(r)) => match config.levels.parse(&r.stderr_level) {
            Ok(stderr_level) => Source::Run(r, stderr_level),
            Err(e) => {
                warn!("--stderr-level: {e}");
                return Exit::Usage;
            }
        },
        Some(Command::Generate(args)) => return crate::generate::run(&args.dir),
    };
    // Listening starts before any file is opened, so a signal during start-up still
    // ends in a drain rather than a default death.
    let signals = match signals::listen(&[SIGTERM, SIGINT, SIGHUP, SIGUSR1]) {
        Ok(rx) => rx,
        Err(e) => {
            warn!("cannot install signal handlers: {e}");
            return Exit::IoError;
        }
    };
    run_pipeline(config, source, &signals)
}

/// `rlog write`: one message, written and synced on this thread. Signals are held
/// (blocked) meanwhile, so one that arrives cannot cut the write short; a held TERM or
/// INT then ends rlog by that signal, after the sync.
///
/// A write that may block (a FIFO or a device as a path) or that `--drain-timeout` bounds
/// runs on a thread of its own instead, while this one listens to signals and the clock.
fn write_message(mut config: Config, message: &[u8]) -> Exit {
    const HELD: [i32; 4] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1];
    let hold = config.drain_timeout.is_none() && !config.paths.iter().any(is_special_file);
    let signals = if hold {
        sys::block_signals(&HELD);
        never()
    } else {
        match signals::listen(&[SIGTERM, SIGINT, SIGHUP, SIGUSR1]) {
            Ok(rx) => rx,
            Err(e) => {
                warn!("cannot install signal handlers: {e}");
                return Exit::IoError;
            }
        }
    };
    let (writer, forwarders) = match build_writer(&mut config) {
        Ok(built) => built,
        Err(exit) => return exit,
    };
    let (queue, _unused) = bounded(1);
    let mut stamper = Stamper::new(&config, queue, Pool::new(1), never());
    stamper.keep_raw = !forwarders.is_empty();
    // Syslog gets the message whole, below; files get one record per line.
    stamper.forward_per_line = false;
    let (now, level) = (Timestamp::now(), config.level);
    if message.is_empty() {
        stamper.push(b"", now, Stream::Arg, level);
    }
    let mut splitter = LineSplitter::new(config.max_line);
    splitter.feed(message, now, |line, time| {
        stamper.push(line, time, Stream::Arg, level)
    });
    splitter.finish(|line, time| stamper.push(line, time, Stream::Arg, level));
    stamper.push_whole_message(message, now, level);
    if hold {
        let exit = writer.write_once(&mut stamper.batch, config.drain_timeout);
        return match sys::pending_signal(&[SIGTERM, SIGINT]) {
            Some(signal) => exit.worst(Exit::Signal(signal)),
            None => exit,
        };
    }
    let mut batch = std::mem::take(&mut stamper.batch);
    let drain_timeout = config.drain_timeout;
    let (done_tx, done) = bounded(1);
    let spawned = std::thread::Builder::new()
        .name("writer".into())
        .spawn(move || {
            let _ = done_tx.send(writer.write_once(&mut batch, drain_timeout));
        });
    if let Err(e) = spawned {
        warn!("cannot start the writer thread: {e}");
        return Exit::IoError;
    }
    let mut shutdown = Shutdown::default();
    let deadline = drain_timeout.map(|t| Instant::now() + t);
    match wait_for_writer(&done, &signals, &mut shutdown, deadline) {
        Ok(exit) => match shutdown.signal {
            Some(signal) => exit.worst(Exit::Signal(signal)),
            None => exit,
        },
        Err(Stop::DrainTimeout) => drain_timed_out(&forwarders, stamper.forwarded),
        Err(_) => Exit::Signal(shutdown.signal.unwrap_or(SIGTERM)),
    }
}

/// Whether a `--path` names an existing file that is not a regular one (a FIFO, a
/// device), where a write can block for as long as its reader likes.
fn is_special_file(spec: &crate::config::PathSpec) -> bool {
    match &spec.path {
        PathTarget::Fixed(path) => std::fs::metadata(path).is_ok_and(|m| !m.is_file()),
        PathTarget::Pattern(_) => false,
    }
}

fn report_clap_error(e: &clap::Error) -> Exit {
    use clap::error::ErrorKind;
    let _ = e.print();
    if let Some(variable) = blamed_variable(e) {
        warn!("that value comes from the environment variable {variable}; fix or unset it");
    }
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Exit::Ok,
        _ => Exit::Usage,
    }
}

/// The `RLOG_*` variable a bad value came from, when it did not come from the command
/// line: clap names only the option.
fn blamed_variable(e: &clap::Error) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let command = Cli::command();
    let long = arg.trim_start_matches('-').split([' ', '=', '<']).next()?;
    let spec = command
        .get_arguments()
        .chain(command.get_subcommands().flat_map(|c| c.get_arguments()))
        .find(|a| a.get_long() == Some(long))?;
    let variable = spec.get_env()?;
    let set = std::env::var_os(variable)?;
    (set == value.as_str()).then(|| variable.to_string_lossy().into_owned())
}

/// Where lines come from.
enum Source {
    Stdin,
    /// `rlog run`: a command's stdout and stderr, and the level of its stderr lines.
    Run(RunArgs, LevelId),
}

fn join_message(parts: &[OsString]) -> Vec<u8> {
    let mut message = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            message.push(b' ');
        }
        message.extend_from_slice(&os_bytes(part));
    }
    message
}

#[cfg(unix)]
fn os_bytes(s: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_os_str().as_bytes().to_vec()
}

#[cfg(windows)]
fn os_bytes(s: &OsString) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}

/// Opens every path named on the command line (so a bad one fails at once, before any
/// input is read), starts a forwarder per syslog destination, and builds the writer.
fn build_writer(config: &mut Config) -> Result<(Writer, Vec<Arc<ForwardStatus>>), Exit> {
    let registry = HandleRegistry::new(WriteOptions {
        sync: config.sync,
        retry_for: config.retry_for,
        file_mode: config.file_mode,
        dir_mode: 0o750,
        rotate: config.rotate.clone(),
    });
    let mut registry = match registry {
        Ok(registry) => registry,
        Err(e) => {
            warn!("cannot start the compression thread: {e}");
            return Err(Exit::IoError);
        }
    };
    // With no path, stdout is the only output: once its reader is gone, the run is over.
    let stdout_only = config.paths.is_empty() && config.syslog.is_empty();
    let mut sinks: Vec<FileSink> = Vec::new();
    for spec in std::mem::take(&mut config.paths) {
        let target = match spec.path {
            PathTarget::Fixed(path) => match registry.open(&path) {
                Ok(h) => {
                    // Two names for one file: write it once, at the lower minimum level.
                    if let Some(existing) = sinks
                        .iter_mut()
                        .find(|s| matches!(s.target, Target::Fixed(e) if e == h))
                    {
                        existing.min_level = existing.min_level.min(spec.min_level);
                        continue;
                    }
                    Target::Fixed(h)
                }
                Err(e) => {
                    warn!("{e}");
                    return Err(Exit::CantCreate);
                }
            },
            PathTarget::Pattern(pattern) => Target::Pattern(pattern),
        };
        sinks.push(FileSink {
            target,
            min_level: spec.min_level,
        });
    }
    let stdout_failed = |e: io::Error| {
        warn!("cannot use standard output: {e}");
        Exit::CantCreate
    };
    let console = match config.stdout {
        StdoutUse::Console { colour } => {
            Some(Console::new(&config.levels, colour).map_err(stdout_failed)?)
        }
        StdoutUse::Plain => {
            let h = registry.open_stdout().map_err(stdout_failed)?;
            sinks.push(FileSink {
                target: Target::Fixed(h),
                min_level: i32::MIN,
            });
            None
        }
        StdoutUse::None => None,
    };
    let mut forwarders = Vec::new();
    for target in std::mem::take(&mut config.syslog) {
        // A local daemon adds the host name itself to the traditional format.
        let with_host = !matches!(target.destination, Destination::Unix(_));
        let formatter = MessageFormatter::new(target.format, &config.syslog_header, with_host);
        match Forwarder::spawn(target, formatter, config.retry_for) {
            Ok(handle) => forwarders.push(handle),
            Err(e) => {
                warn!("cannot start a syslog forwarder thread: {e}");
                return Err(Exit::IoError);
            }
        }
    }
    let statuses = forwarders.iter().map(|f| Arc::clone(&f.status)).collect();
    let writer = Writer::new(
        registry,
        sinks,
        console,
        stdout_only,
        config.levels.clone(),
        forwarders,
    );
    Ok((writer, statuses))
}

/// Shutdown progress: signals seen and what they asked for.
#[derive(Default)]
struct Shutdown {
    /// The first TERM or INT: the process ends by it after the drain.
    signal: Option<i32>,
    count: u32,
}

impl Shutdown {
    /// Records a TERM or INT; a third one means stop at once.
    fn note(&mut self, signal: i32) -> Result<(), Stop> {
        self.signal.get_or_insert(signal);
        self.count += 1;
        if self.count >= 3 {
            warn!(
                "third signal ({}): stopping now; lines not yet written may be lost",
                signals::name(signal)
            );
            return Err(Stop::Abandoned);
        }
        Ok(())
    }
}

/// Why the pipeline stopped before a normal drain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// The writer ended early: stdout, the only output, was closed by its reader.
    WriterGone,
    /// A third TERM or INT.
    Abandoned,
    /// `--drain-timeout` passed.
    DrainTimeout,
}

/// The stage between input and writer: turns lines into rendered records and sends them
/// in batches. Sending waits while the queue is full; it keeps listening to signals
/// meanwhile, so a writer stuck on a hung disk cannot make rlog deaf to them.
struct Stamper {
    renderer: Renderer,
    levels: LevelTable,
    min_level: Option<i32>,
    parse_level: bool,
    seq: u64,
    batch: Batch,
    queue: Sender<Msg>,
    /// Written batches come back from the writer through this, to be filled again.
    spent: Pool<Batch>,
    signals: Receiver<i32>,
    shutdown: Shutdown,
    /// Signals that arrived during a send, already noted, for the pump to act on.
    deferred: Vec<i32>,
    /// When the drain must be done by (`--drain-timeout`): set when input ends, or on a
    /// TERM or INT to the end of its grace period plus the timeout.
    drain_deadline: Option<Instant>,
    drain_timeout: Option<Duration>,
    /// `--grace` when reading stdin; None in `rlog run`, whose command decides when
    /// its output ends.
    grace: Option<Duration>,
    /// Keep each line's own message for the syslog forwarders.
    keep_raw: bool,
    /// One syslog message per line; `rlog write` instead sends its message whole.
    forward_per_line: bool,
    /// Messages kept for the forwarders, so undelivered ones can be counted.
    forwarded: u64,
}

impl Stamper {
    fn new(
        config: &Config,
        queue: Sender<Msg>,
        spent: Pool<Batch>,
        signals: Receiver<i32>,
    ) -> Stamper {
        Stamper {
            renderer: config.renderer.clone(),
            levels: config.levels.clone(),
            min_level: config.min_level,
            parse_level: config.parse_level,
            seq: 0,
            batch: Batch::default(),
            queue,
            spent,
            signals,
            shutdown: Shutdown::default(),
            deferred: Vec::new(),
            drain_deadline: None,
            drain_timeout: config.drain_timeout,
            grace: None,
            keep_raw: false,
            forward_per_line: true,
            forwarded: 0,
        }
    }

    /// Records a TERM or INT (a third stops everything) and starts the drain clock.
    fn note_shutdown(&mut self, signal: i32) -> Result<(), Stop> {
        self.shutdown.note(signal)?;
        if let (None, Some(grace), Some(timeout)) =
            (self.drain_deadline, self.grace, self.drain_timeout)
        {
            self.drain_deadline = Some(Instant::now() + grace + timeout);
        }
        Ok(())
    }

    /// The line's level (from its marker with `--parse-level`) and its message without
    /// the marker; None when `--min-level` drops it.
    fn admit<'m>(&self, message: &'m [u8], level: LevelId) -> Option<(LevelId, &'m [u8])> {
        let (level, message) = match self.parse_level {
            true => match self.levels.parse_marker(message) {
                Some((marked, strip)) => (marked, &message[strip..]),
                None => (level, message),
            },
            false => (level, message),
        };
        let dropped = self
            .min_level
            .is_some_and(|min| self.levels.number(level) < min);
        (!dropped).then_some((level, message))
    }

    fn push(&mut self, message: &[u8], time: Timestamp, stream: Stream, level: LevelId) {
        let Some((level, message)) = self.admit(message, level) else {
            return;
        };
        self.seq += 1;
        let line = Line {
            message,
            time,
            level,
            seq: self.seq,
            stream,
        };
        self.renderer.push(&line, &mut self.batch);
        if self.keep_raw && self.forward_per_line {
            self.batch.raw.push(message, level, time, self.seq);
            self.forwarded += 1;
        }
    }

    /// `rlog write`: for syslog the whole message is one message, as `logger` sends it
    /// (newlines and all), with the level, time and seq of its first line.
    fn push_whole_message(&mut self, message: &[u8], time: Timestamp, level: LevelId) {
        if !self.keep_raw || self.seq == 0 {
            return;
        }
        let Some((level, message)) = self.admit(message, level) else {
            return;
        };
        let trimmed = message.len() - message.iter().rev().take_while(|&&b| b == b'\n').count();
        // `rlog write` numbers its lines from 1; the message takes its first line's seq.
        self.batch.raw.push(&message[..trimmed], level, time, 1);
        self.forwarded += 1;
    }

    /// A record of rlog's own (`rlog run`'s start and end), never level-parsed.
    fn push_own(&mut self, message: &str, level: LevelId) {
        let parse = std::mem::replace(&mut self.parse_level, false);
        self.push(message.as_bytes(), Timestamp::now(), Stream::Arg, level);
        self.parse_level = parse;
    }

    /// Input has ended: from now on the drain runs against `--drain-timeout`.
    fn start_drain(&mut self) {
        if self.drain_deadline.is_none() {
            self.drain_deadline = self.drain_timeout.map(|t| Instant::now() + t);
        }
    }

    /// Hands the batch to the writer.
    fn send(&mut self) -> Result<(), Stop> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let next = match self.spent.take() {
            Some(mut spent) => {
                spent.clear();
                spent
            }
            None => Batch::with_capacity(self.batch.text.capacity()),
        };
        let batch = std::mem::replace(&mut self.batch, next);
        self.send_msg(Msg::Batch(batch))
    }

    /// Sends the pending batch, then `msg`.
    fn control(&mut self, msg: Msg) -> Result<(), Stop> {
        self.send()?;
        self.send_msg(msg)
    }

    /// Sends `msg`, waiting while the queue is full; signals arriving meanwhile are
    /// noted (a third stops everything) and kept for the pump.
    fn send_msg(&mut self, msg: Msg) -> Result<(), Stop> {
        let mut msg = Some(msg);
        loop {
            let mut select = Select::new();
            let send_op = select.send(&self.queue);
            select.recv(&self.signals);
            let op = match self.drain_deadline {
                Some(deadline) => select
                    .select_deadline(deadline)
                    .map_err(|_| Stop::DrainTimeout)?,
                None => select.select(),
            };
            if op.index() == send_op {
                let msg = msg
                    .take()
                    .expect("a message is sent once, then the loop returns");
                return op.send(&self.queue, msg).map_err(|_| Stop::WriterGone);
            }
            let Ok(signal) = op.recv(&self.signals) else {
                // The signal thread is gone; nothing more will come from it.
                self.signals = never();
                continue;
            };
            if signals::is_shutdown(signal) {
                self.note_shutdown(signal)?;
            }
            self.deferred.push(signal);
        }
    }
}

fn run_pipeline(mut config: Config, source: Source, signals: &Receiver<i32>) -> Exit {
    let (writer, forwarders) = match build_writer(&mut config) {
        Ok(built) => built,
        Err(exit) => return exit,
    };
    // `--on-failure-print` reads back what this run appended to the first file.
    let first_path = config.first_fixed_path.clone();
    let (queue, queue_rx) = bounded(QUEUE_BATCHES);
    let spent = Pool::new(QUEUE_BATCHES);
    let (done_tx, done) = bounded(1);
    if let Err(e) = writer.spawn(queue_rx, spent.clone(), done_tx) {
        warn!("cannot start the writer thread: {e}");
        return Exit::IoError;
    }
    let mut stamper = Stamper::new(&config, queue, spent, signals.clone());
    stamper.keep_raw = !forwarders.is_empty();
    let level = config.level;
    let mut print_on_failure = None;
    // In `rlog run` the command's own end decides; elsewhere a TERM or INT ends rlog by it.
    let dies_by_signal = !matches!(source, Source::Run(..));
    let pumped = match source {
        Source::Stdin => {
            let (tx, rx, spares) = input::channel(1);
            sys::grow_pipe(0, input::READ_SIZE);
            match input::spawn_reader("stdin", io::stdin(), 0, tx, spares.clone()) {
                Ok(()) => {
                    let streams = vec![(Stream::Stdin, level)];
                    let mut pump = Pump::new(rx, spares, streams, config.max_line);
                    stamper.grace = Some(config.grace);
                    pump.run(&mut stamper, None)
                }
                Err(e) => {
                    warn!("cannot start reading standard input: {e}");
                    Ok(Exit::IoError)
                }
            }
        }
        Source::Run(args, stderr_level) => {
            if args.on_failure_print && first_path.is_none() {
                warn!(
                    "--on-failure-print reads back the first --path without tokens, and there \
                     is none: nothing will be printed"
                );
            }
            // Where this run's lines start: the file (device, inode) and its length.
            let offset = first_path.as_deref().and_then(|p| {
                let id = sys::path_id(p).ok()?;
                Some((id, std::fs::metadata(p).ok()?.len()))
            });
            let levels = (level, stderr_level);
            let ran = run_command(&args, &mut stamper, (config.max_line, config.grace), levels);
            if let Ok((_, true)) = ran
                && args.on_failure_print
            {
                print_on_failure = first_path.zip(offset);
            }
            ran.map(|(exit, _)| exit)
        }
    };
    let first_signal = stamper.shutdown.signal;
    let exit = match pumped {
        Ok(exit) => exit,
        Err(Stop::WriterGone) => Exit::Ok,
        Err(Stop::Abandoned) => return Exit::Signal(first_signal.unwrap_or(SIGTERM)),
        Err(Stop::DrainTimeout) => return drain_timed_out(&forwarders, stamper.forwarded),
    };
    stamper.start_drain();
    let deadline = stamper.drain_deadline;
    let mut shutdown = std::mem::take(&mut stamper.shutdown);
    let forwarded = stamper.forwarded;
    // Closing the queue is the writer's signal to drain and sync.
    drop(stamper);
    let written = match wait_for_writer(&done, signals, &mut shutdown, deadline) {
        Ok(exit) => exit,
        Err(Stop::DrainTimeout) => return drain_timed_out(&forwarders, forwarded),
        Err(_) => return Exit::Signal(shutdown.signal.unwrap_or(SIGTERM)),
    };
    if let Some((path, offset)) = print_on_failure {
        print_appended(&path, offset);
    }
    let exit = written.worst(exit);
    match shutdown.signal {
        Some(signal) if dies_by_signal => exit.worst(Exit::Signal(signal)),
        _ => exit,
    }
}

/// Reports a passed `--drain-timeout`, with each syslog server's undelivered lines.
fn drain_timed_out(forwarders: &[Arc<ForwardStatus>], forwarded: u64) -> Exit {
    warn!("--drain-timeout passed before every line was written and synced; some may be lost");
    for status in forwarders {
        syslog::report_undelivered(status, forwarded);
    }
    Exit::DrainTimeout
}

/// Copies what was appended to `path` since `offset` to stderr. A file rotated away
/// during the run is printed whole, with a warning that earlier lines are archived.
fn print_appended(path: &std::path::Path, (id, offset): (sys::FileId, u64)) {
    use std::io::{Read, Seek, SeekFrom};
    let offset = if sys::path_id(path).ok() == Some(id) {
        offset
    } else {
        warn!(
            "'{}' was rotated during the run: the lines before the rotation are in its archives",
            path.display()
        );
        0
    };
    let result = (|| -> io::Result<()> {
        let mut file = std::fs::File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut stderr = io::stderr().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            io::Write::write_all(&mut stderr, &buf[..n])?;
        }
    })();
    if let Err(e) = result {
        warn!(
            "cannot print the command's lines back from '{}': {e}",
            path.display()
        );
    }
}

/// Starts the command, pumps its two streams, and logs its start and end.
/// Returns the exit status it implies and whether the command failed.
fn run_command(
    args: &RunArgs,
    stamper: &mut Stamper,
    (max_line, grace): (usize, Duration),
    (level, stderr_level): (LevelId, LevelId),
) -> Result<(Exit, bool), Stop> {
    let options = RunOptions {
        process_group: args.process_group,
        time_limit: args.time_limit,
        kill_after: args.kill_after,
        env_unbuffered: args.env_unbuffered,
    };
    let (mut child, stdout, stderr) = match Supervisor::spawn(&args.command, &options) {
        Ok(started) => started,
        Err(e) => {
            warn!("{e}");
            stamper.push_own(&e.to_string(), LevelTable::ERROR);
            stamper.send()?;
            return Ok((e.exit(), true));
        }
    };
    stamper.renderer.set_pid(child.pid());
    // The grace period starts once the command has exited (after a signal or the time
    // limit), for output a background process still writes.
    stamper.grace = Some(grace);
    if !args.quiet {
        let command = display_command(&args.command);
        stamper.push_own(
            &format!("started: {command} (pid {})", child.pid()),
            LevelTable::INFO,
        );
        stamper.send()?;
    }
    let (tx, rx, spares) = input::channel(2);
    let readers = input::spawn_reader("stdout", stdout, 0, tx.clone(), spares.clone())
        .and_then(|()| input::spawn_reader("stderr", stderr, 1, tx, spares.clone()));
    if let Err(e) = readers {
        warn!("cannot start reading the command's output: {e}");
        child.forward(SIGTERM);
        return Ok((Exit::IoError, true));
    }
    let streams = vec![(Stream::Stdout, level), (Stream::Stderr, stderr_level)];
    let mut pump = Pump::new(rx, spares, streams, max_line);
    let pumped = pump.run(stamper, Some(&mut child))?;
    let cut_short = pump.cut_short;
    let (end, failed) = child.end_record();
    if !args.quiet {
        let level = if failed {
            LevelTable::ERROR
        } else {
            LevelTable::INFO
        };
        stamper.push_own(&end, level);
        stamper.send()?;
    }
    if failed {
        warn!("{}: {end}", display_command(&args.command));
    }
    // Killed by the very signal rlog was sent and forwarded, or stopped reading by it
    // before the pipes closed: end the same way.
    let exit = match (stamper.shutdown.signal, child.killed_by()) {
        (Some(ours), Some(theirs)) if ours == theirs => Exit::Signal(theirs),
        (Some(ours), _) if cut_short && !child.timed_out() => Exit::Signal(ours),
        // A second TERM or INT killed the command: rlog ends by the signal it was sent.
        (Some(ours), Some(_)) if stamper.shutdown.count >= 2 => Exit::Signal(ours),
        _ => child.exit(),
    };
    Ok((pumped.worst(exit), failed))
}

/// One input stream being split into lines.
struct StreamState {
    stream: Stream,
    level: LevelId,
    splitter: LineSplitter,
    open: bool,
}

/// Moves input to the writer until every input has ended (and, in `rlog run`, the command
/// has exited), or until a signal's grace period ends.
struct Pump {
    rx: Receiver<input::Tagged>,
    /// Read buffers go back to the readers through this.
    spares: Pool<Vec<u8>>,
    streams: Vec<StreamState>,
    /// When a TERM or INT's grace period ends (stdin only).
    grace_end: Option<Instant>,
    /// Set by a second TERM or INT: stop reading now.
    stop_reading: bool,
    /// Reading stopped (grace over, second signal) before every input ended.
    cut_short: bool,
}

impl Pump {
    fn new(
        rx: Receiver<input::Tagged>,
        spares: Pool<Vec<u8>>,
        streams: Vec<(Stream, LevelId)>,
        max_line: usize,
    ) -> Pump {
        Pump {
            rx,
            spares,
            streams: streams
                .into_iter()
                .map(|(stream, level)| StreamState {
                    stream,
                    level,
                    splitter: LineSplitter::new(max_line),
                    open: true,
                })
                .collect(),
            grace_end: None,
            stop_reading: false,
            cut_short: false,
        }
    }

    /// After a TERM or INT, reading goes on for the stamper's grace period (stdin); with
    /// a child, the signal is forwarded instead and reading goes on until its pipes close.
    fn run(
        &mut self,
        stamper: &mut Stamper,
        mut child: Option<&mut Supervisor>,
    ) -> Result<Exit, Stop> {
        let mut exit = Exit::Ok;
        let (no_input, no_status) = (never(), never());
        let signals = stamper.signals.clone();
        loop {
            let inputs_open = self.streams.iter().any(|s| s.open);
            let child_running = child.as_ref().is_some_and(|c| !c.has_exited());
            if self.stop_reading || (!inputs_open && !child_running) {
                self.cut_short = inputs_open;
                break;
            }
            // A command that has exited after a signal or its time limit: its pipes are
            // read for the grace period more (a background process may hold them).
            if let Some(c) = child.as_ref()
                && c.has_exited()
                && self.grace_end.is_none()
                && (c.timed_out() || stamper.shutdown.count > 0)
            {
                self.grace_end = stamper.grace.map(|grace| Instant::now() + grace);
            }
            let deadline = [
                self.grace_end,
                child.as_ref().and_then(|c| c.next_deadline()),
            ]
            .into_iter()
            .flatten()
            .min();
            let timer = match deadline {
                Some(at) => after(at.saturating_duration_since(Instant::now())),
                None => never(),
            };
            // Once every reader has ended, its channel is closed: stop selecting on it.
            let input_rx = if inputs_open { &self.rx } else { &no_input };
            let status_rx = match &child {
                Some(c) if !c.has_exited() => c.status_channel().clone(),
                _ => no_status.clone(),
            };
            select! {
                recv(input_rx) -> tagged => {
                    let Ok((index, input)) = tagged else { break };
                    if let Some(error) = self.take_input(index, input, stamper) {
                        exit = error;
                    }
                    stamper.send()?;
                },
                recv(status_rx) -> status => {
                    if let (Ok(status), Some(c)) = (status, child.as_deref_mut()) {
                        c.record_status(status);
                    }
                },
                recv(signals) -> signal => {
                    if let Ok(signal) = signal {
                        if signals::is_shutdown(signal) {
                            stamper.note_shutdown(signal)?;
                        }
                        stamper.deferred.push(signal);
                    }
                },
                recv(timer) -> _ => {
                    if self.grace_end.is_some_and(|end| end <= Instant::now()) {
                        self.cut_short = self.streams.iter().any(|s| s.open);
                        break;
                    }
                    if let Some(c) = child.as_deref_mut() {
                        c.on_deadline();
                    }
                },
            }
            // Signals seen here or while a send waited, all noted already.
            while !stamper.deferred.is_empty() {
                for signal in std::mem::take(&mut stamper.deferred) {
                    self.act_on(signal, stamper, child.as_deref_mut())?;
                }
            }
        }
        stamper.start_drain();
        // A partial last line is kept, with its newline added.
        for state in &mut self.streams {
            let (stream, level) = (state.stream, state.level);
            state
                .splitter
                .finish(|line, time| stamper.push(line, time, stream, level));
        }
        stamper.send()?;
        Ok(exit)
    }

    /// Splits a chunk into records, or closes a stream; returns the exit an input error
    /// implies.
    fn take_input(&mut self, index: usize, input: Input, stamper: &mut Stamper) -> Option<Exit> {
        let state = &mut self.streams[index];
        let (stream, level) = (state.stream, state.level);
        match input {
            Input::Data(chunk) => {
                state.splitter.feed(&chunk.bytes, chunk.time, |line, time| {
                    stamper.push(line, time, stream, level)
                });
                self.spares.give(chunk.bytes);
                None
            }
            Input::End(error) => {
                state.open = false;
                state
                    .splitter
                    .finish(|line, time| stamper.push(line, time, stream, level));
                error.map(|e| {
                    warn!(
                        "cannot read {}: {e}; lines after this point are lost",
                        stream.name()
                    );
                    Exit::IoError
                })
            }
        }
    }

    /// What a signal (already noted) asks for: forwarding to the command, a reopen or a
    /// checkpoint, the grace period, or stopping.
    fn act_on(
        &mut self,
        signal: i32,
        stamper: &mut Stamper,
        mut child: Option<&mut Supervisor>,
    ) -> Result<(), Stop> {
        if let Some(c) = child.as_deref_mut()
            && signal != SIGUSR1
        {
            c.forward(signal);
        }
        match signal {
            SIGHUP => stamper.control(Msg::Reopen),
            SIGUSR1 => stamper.control(Msg::Checkpoint),
            _ => {
                let running = child.as_ref().is_some_and(|c| !c.has_exited());
                if stamper.shutdown.count >= 2 && running {
                    // "Stop now" to a command still running: kill it rather than leave it
                    // behind; its pipes are then read for the grace period.
                    if let Some(c) = child {
                        c.kill_now();
                    }
                } else if stamper.shutdown.count >= 2 {
                    self.stop_reading = true;
                } else if let Some(grace) = stamper.grace
                    && !running
                {
                    self.grace_end = Some(Instant::now() + grace);
                }
                Ok(())
            }
        }
    }
}

/// Waits for the writer to drain and sync, until `deadline` (`--drain-timeout`); more
/// signals may arrive meanwhile.
fn wait_for_writer(
    done: &Receiver<Exit>,
    signals: &Receiver<i32>,
    shutdown: &mut Shutdown,
    deadline: Option<Instant>,
) -> Result<Exit, Stop> {
    let timer = deadline
        .map(|d| after(d.saturating_duration_since(Instant::now())))
        .unwrap_or_else(never);
    loop {
        select! {
            recv(done) -> exit => return Ok(exit.unwrap_or(Exit::IoError)),
            recv(signals) -> signal => {
                if let Ok(signal) = signal && signals::is_shutdown(signal) {
                    shutdown.note(signal)?;
                }
            }
            recv(timer) -> _ => return Err(Stop::DrainTimeout),
        }
    }
}
