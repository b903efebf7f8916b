//! Wires the pipeline together: parse, open every path, start the writer, feed it lines,
//! handle signals, drain, and decide the exit status.

use std::ffi::OsString;
use std::io;
use std::time::{Duration, Instant};

use clap::Parser;
use crossbeam_channel::{Receiver, Sender, after, bounded, never, select};
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
fn write_message(mut config: Config, message: &[u8]) -> Exit {
    const HELD: [i32; 4] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1];
    sys::block_signals(&HELD);
    let writer = match build_writer(&mut config) {
        Ok(w) => w,
        Err(exit) => return exit,
    };
    let (queue, _unused) = bounded(1);
    let mut stamper = Stamper {
        renderer: config.renderer,
        levels: config.levels,
        min_level: config.min_level,
        parse_level: config.parse_level,
        seq: 0,
        batch: Batch::default(),
        queue,
        spent: Pool::new(1),
    };
    let (now, level) = (Timestamp::now(), config.level);
    if message.is_empty() {
        stamper.push(b"", now, Stream::Arg, level);
    }
    let mut splitter = LineSplitter::new(config.max_line);
    splitter.feed(message, now, |line, time| {
        stamper.push(line, time, Stream::Arg, level)
    });
    splitter.finish(|line, time| stamper.push(line, time, Stream::Arg, level));
    let exit = writer.write_once(&stamper.batch);
    match sys::pending_signal(&[SIGTERM, SIGINT]) {
        Some(signal) => exit.worst(Exit::Signal(signal)),
        None => exit,
    }
}

fn report_clap_error(e: &clap::Error) -> Exit {
    use clap::error::ErrorKind;
    let _ = e.print();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Exit::Ok,
        _ => Exit::Usage,
    }
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
/// input is read) and builds the writer.
fn build_writer(config: &mut Config) -> Result<Writer, Exit> {
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
    let stdout_only = config.paths.is_empty();
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
    Ok(Writer::new(
        registry,
        sinks,
        console,
        stdout_only,
        config.levels.clone(),
    ))
}

/// Shutdown progress: signals seen and what they asked for.
#[derive(Default)]
struct Shutdown {
    /// The first TERM or INT: the process ends by it after the drain.
    signal: Option<i32>,
    count: u32,
}

impl Shutdown {
    /// Records a signal; returns true when it is the third, which ends rlog at once.
    fn note(&mut self, signal: i32) -> bool {
        self.signal.get_or_insert(signal);
        self.count += 1;
        if self.count >= 3 {
            warn!(
                "third signal ({}): stopping now; lines not yet written may be lost",
                signals::name(signal)
            );
            return true;
        }
        false
    }
}

/// The stage between input and writer: turns lines into rendered records and sends them
/// in batches.
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
}

impl Stamper {
    fn push(&mut self, message: &[u8], time: Timestamp, stream: Stream, level: LevelId) {
        let (level, message) = match self.parse_level {
            true => match self.levels.parse_marker(message) {
                Some((marked, strip)) => (marked, &message[strip..]),
                None => (level, message),
            },
            false => (level, message),
        };
        if self
            .min_level
            .is_some_and(|min| self.levels.number(level) < min)
        {
            return;
        }
        self.seq += 1;
        let line = Line {
            message,
            time,
            level,
            seq: self.seq,
            stream,
        };
        self.renderer.push(&line, &mut self.batch);
    }

    /// A record of rlog's own (`rlog run`'s start and end), never level-parsed.
    fn push_own(&mut self, message: &str, level: LevelId) {
        let parse = std::mem::replace(&mut self.parse_level, false);
        self.push(message.as_bytes(), Timestamp::now(), Stream::Arg, level);
        self.parse_level = parse;
    }

    /// Hands the batch to the writer; false when the writer has stopped (its stdout
    /// closed), so input should stop too.
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let next = match self.spent.take() {
            Some(mut spent) => {
                spent.clear();
                spent
            }
            None => Batch::with_capacity(self.batch.text.capacity()),
        };
        let batch = std::mem::replace(&mut self.batch, next);
        self.queue.send(Msg::Batch(batch)).is_ok()
    }

    fn control(&mut self, msg: Msg) -> bool {
        self.send() && self.queue.send(msg).is_ok()
    }
}

fn run_pipeline(mut config: Config, source: Source, signals: &Receiver<i32>) -> Exit {
    let writer = match build_writer(&mut config) {
        Ok(w) => w,
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
    let mut stamper = Stamper {
        renderer: config.renderer,
        levels: config.levels,
        min_level: config.min_level,
        parse_level: config.parse_level,
        seq: 0,
        batch: Batch::default(),
        queue,
        spent,
    };
    let level = config.level;
    let mut shutdown = Shutdown::default();
    let mut print_on_failure = None;
    // In `rlog run` the command's own end decides; elsewhere a TERM or INT ends rlog by it.
    let dies_by_signal = !matches!(source, Source::Run(..));
    let exit = match source {
        Source::Stdin => {
            let (tx, rx, spares) = input::channel(1);
            match input::spawn_reader("stdin", io::stdin(), 0, tx, spares.clone()) {
                Ok(()) => {
                    let streams = vec![(Stream::Stdin, level)];
                    let mut pump = Pump::new(rx, spares, streams, config.max_line);
                    let grace = Some(config.grace);
                    pump.run(&mut stamper, signals, &mut shutdown, grace, None)
                }
                Err(e) => {
                    warn!("cannot start reading standard input: {e}");
                    Exit::IoError
                }
            }
        }
        Source::Run(args, stderr_level) => {
            let offset = first_path
                .as_deref()
                .and_then(|p| std::fs::metadata(p).ok())
                .map(|m| m.len());
            let levels = (level, stderr_level);
            let (run_exit, failed) = run_command(
                &args,
                &mut stamper,
                signals,
                &mut shutdown,
                config.max_line,
                levels,
            );
            if failed && args.on_failure_print {
                print_on_failure = first_path.zip(offset);
            }
            run_exit
        }
    };
    if exit == Exit::Signal(0) {
        return Exit::Signal(shutdown.signal.unwrap_or(SIGTERM));
    }
    // Closing the queue is the writer's signal to drain and sync.
    drop(stamper);
    let written = wait_for_writer(&done, signals, &mut shutdown, config.drain_timeout);
    if let Some((path, offset)) = print_on_failure {
        print_appended(&path, offset);
    }
    let exit = written.worst(exit);
    match shutdown.signal {
        Some(signal) if dies_by_signal => exit.worst(Exit::Signal(signal)),
        _ => exit,
    }
}

/// Copies what was appended to `path` since `offset` to stderr.
fn print_appended(path: &std::path::Path, offset: u64) {
    use std::io::{Read, Seek, SeekFrom};
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
    signals: &Receiver<i32>,
    shutdown: &mut Shutdown,
    max_line: usize,
    (level, stderr_level): (LevelId, LevelId),
) -> (Exit, bool) {
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
            stamper.send();
            return (e.exit(), true);
        }
    };
    stamper.renderer.set_pid(child.pid());
    if !args.quiet {
        let started = format!(
            "started: {} (pid {})",
            display_command(&args.command),
            child.pid()
        );
        stamper.push_own(&started, LevelTable::INFO);
        stamper.send();
    }
    let (tx, rx, spares) = input::channel(2);
    let readers = input::spawn_reader("stdout", stdout, 0, tx.clone(), spares.clone())
        .and_then(|()| input::spawn_reader("stderr", stderr, 1, tx, spares.clone()));
    if let Err(e) = readers {
        warn!("cannot start reading the command's output: {e}");
        child.forward(SIGTERM);
        return (Exit::IoError, true);
    }
    let streams = vec![(Stream::Stdout, level), (Stream::Stderr, stderr_level)];
    let mut pump = Pump::new(rx, spares, streams, max_line);
    let pumped = pump.run(stamper, signals, shutdown, None, Some(&mut child));
    if pumped == Exit::Signal(0) {
        return (pumped, true);
    }
    let (end, failed) = child.end_record();
    if !args.quiet {
        stamper.push_own(
            &end,
            if failed {
                LevelTable::ERROR
            } else {
                LevelTable::INFO
            },
        );
        stamper.send();
    }
    if failed {
        warn!("{}: {end}", display_command(&args.command));
    }
    // Killed by the very signal rlog was sent and forwarded: end the same way.
    let exit = match (shutdown.signal, child.killed_by()) {
        (Some(ours), Some(theirs)) if ours == theirs => Exit::Signal(theirs),
        _ => child.exit(),
    };
    (pumped.worst(exit), failed)
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
        }
    }

    /// `grace` is how long to keep reading after a TERM or INT (stdin); with a child, the
    /// signal is forwarded instead and reading goes on until its pipes close. Returns
    /// `Exit::Signal(0)` when a third signal asks to stop at once.
    fn run(
        &mut self,
        stamper: &mut Stamper,
        signals: &Receiver<i32>,
        shutdown: &mut Shutdown,
        grace: Option<Duration>,
        mut child: Option<&mut Supervisor>,
    ) -> Exit {
        let mut grace_end: Option<Instant> = None;
        let mut exit = Exit::Ok;
        let (no_input, no_status) = (never(), never());
        loop {
            let inputs_open = self.streams.iter().any(|s| s.open);
            let child_running = child.as_ref().is_some_and(|c| !c.has_exited());
            if !inputs_open && !child_running {
                break;
            }
            let deadline = [grace_end, child.as_ref().and_then(|c| c.next_deadline())]
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
                    let state = &mut self.streams[index];
                    match input {
                        Input::Data(chunk) => {
                            let (stream, level) = (state.stream, state.level);
                            state.splitter.feed(&chunk.bytes, chunk.time, |line, time| {
                                stamper.push(line, time, stream, level)
                            });
                            self.spares.give(chunk.bytes);
                            if !stamper.send() {
                                // The writer stopped: stdout was closed by its reader.
                                return exit;
                            }
                        }
                        Input::End(error) => {
                            if let Some(e) = error {
                                warn!("cannot read {}: {e}; lines after this point are lost", state.stream.name());
                                exit = Exit::IoError;
                            }
                            state.open = false;
                            let (stream, level) = (state.stream, state.level);
                            state.splitter.finish(|line, time| stamper.push(line, time, stream, level));
                            stamper.send();
                        }
                    }
                },
                recv(status_rx) -> status => {
                    if let (Ok(status), Some(c)) = (status, child.as_deref_mut()) {
                        c.record_status(status);
                    }
                },
                recv(signals) -> signal => {
                    let Ok(signal) = signal else { break };
                    if let Some(c) = child.as_deref_mut()
                        && signal != SIGUSR1
                    {
                        c.forward(signal);
                    }
                    match signal {
                        SIGHUP => { stamper.control(Msg::Reopen); }
                        SIGUSR1 => { stamper.control(Msg::Checkpoint); }
                        _ => {
                            if shutdown.note(signal) {
                                return Exit::Signal(0);
                            }
                            if shutdown.count >= 2 {
                                break;
                            }
                            if let Some(grace) = grace {
                                grace_end = Some(Instant::now() + grace);
                            }
                        }
                    }
                },
                recv(timer) -> _ => {
                    if grace_end.is_some_and(|end| end <= Instant::now()) {
                        break;
                    }
                    if let Some(c) = child.as_deref_mut() {
                        c.on_deadline();
                    }
                },
            }
        }
        // A partial last line is kept, with its newline added.
        for state in &mut self.streams {
            let (stream, level) = (state.stream, state.level);
            state
                .splitter
                .finish(|line, time| stamper.push(line, time, stream, level));
        }
        stamper.send();
        exit
    }
}

/// Waits for the writer to drain and sync, bounded by `--drain-timeout`; more signals
/// may arrive meanwhile.
fn wait_for_writer(
    done: &Receiver<Exit>,
    signals: &Receiver<i32>,
    shutdown: &mut Shutdown,
    drain_timeout: Option<Duration>,
) -> Exit {
    let deadline = drain_timeout.map(after).unwrap_or_else(never);
    loop {
        select! {
            recv(done) -> exit => return exit.unwrap_or(Exit::IoError),
            recv(signals) -> signal => {
                let Ok(signal) = signal else { continue };
                if signals::is_shutdown(signal) && shutdown.note(signal) {
                    return Exit::Signal(signal);
                }
            }
            recv(deadline) -> _ => {
                warn!("--drain-timeout passed before every line was written and synced; some may be lost");
                return Exit::DrainTimeout;
            }
        }
    }
}
