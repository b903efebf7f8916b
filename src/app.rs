//! Wires the pipeline together: parse, open every path, start the writer, feed it lines,
//! handle signals, drain, and decide the exit status.

use std::ffi::OsString;
use std::io;
use std::time::{Duration, Instant};

use clap::Parser;
use crossbeam_channel::{Receiver, Sender, after, bounded, never, select};
use jiff::Timestamp;

use crate::cli::{Cli, Command};
use crate::config::{Config, PathTarget, StdoutUse};
use crate::exit::Exit;
use crate::input::{self, Input, LineSplitter};
use crate::level::{LevelId, LevelTable};
use crate::record::{Batch, Line, Stream};
use crate::render::Renderer;
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
    // Listening starts before any file is opened, so a signal during start-up still
    // ends in a drain rather than a default death.
    let signals = match signals::listen(&[SIGTERM, SIGINT, SIGHUP, SIGUSR1]) {
        Ok(rx) => rx,
        Err(e) => {
            warn!("cannot install signal handlers: {e}");
            return Exit::IoError;
        }
    };
    let config = match Config::from_options(&cli.options, sys::is_terminal_fd1()) {
        Ok(config) => config,
        Err(e) => {
            warn!("{e}");
            return Exit::Usage;
        }
    };
    let source = match &cli.command {
        None => Source::Stdin,
        Some(Command::Write(w)) => Source::Message(join_message(&w.message)),
    };
    run_pipeline(config, source, &signals)
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
    /// `rlog write`: the message, arguments joined by one space.
    Message(Vec<u8>),
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
    let mut registry = HandleRegistry::new(WriteOptions {
        sync: config.sync,
        retry_for: config.retry_for,
        file_mode: 0o640,
        dir_mode: 0o750,
    });
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
    level: LevelId,
    min_level: Option<i32>,
    parse_level: bool,
    seq: u64,
    batch: Batch,
    queue: Sender<Msg>,
}

impl Stamper {
    fn push(&mut self, message: &[u8], time: Timestamp, stream: Stream) {
        let (level, message) = match self.parse_level {
            true => match self.levels.parse_marker(message) {
                Some((level, strip)) => (level, &message[strip..]),
                None => (self.level, message),
            },
            false => (self.level, message),
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

    /// Hands the batch to the writer; false when the writer has stopped (its stdout
    /// closed), so input should stop too.
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let capacity = self.batch.text.capacity();
        let batch = std::mem::replace(&mut self.batch, Batch::with_capacity(capacity));
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
    let (queue, queue_rx) = bounded(QUEUE_BATCHES);
    let (done_tx, done) = bounded(1);
    if let Err(e) = writer.spawn(queue_rx, done_tx) {
        warn!("cannot start the writer thread: {e}");
        return Exit::IoError;
    }
    let mut stamper = Stamper {
        renderer: config.renderer,
        levels: config.levels,
        level: config.level,
        min_level: config.min_level,
        parse_level: config.parse_level,
        seq: 0,
        batch: Batch::default(),
        queue,
    };
    let mut shutdown = Shutdown::default();
    let mut exit = Exit::Ok;
    match source {
        Source::Message(message) => {
            let now = Timestamp::now();
            if message.is_empty() {
                stamper.push(b"", now, Stream::Arg);
            }
            let mut splitter = LineSplitter::new(config.max_line);
            splitter.feed(&message, now, |line, time| {
                stamper.push(line, time, Stream::Arg)
            });
            splitter.finish(|line, time| stamper.push(line, time, Stream::Arg));
            stamper.send();
        }
        Source::Stdin => match input::spawn_stdin_reader() {
            Ok(chunks) => {
                exit = pump(
                    &chunks,
                    &mut stamper,
                    signals,
                    &mut shutdown,
                    config.grace,
                    config.max_line,
                );
                if exit == Exit::Signal(0) {
                    return Exit::Signal(shutdown.signal.unwrap_or(SIGTERM));
                }
            }
            Err(e) => {
                warn!("cannot start reading standard input: {e}");
                exit = Exit::IoError;
            }
        },
    }
    // Closing the queue is the writer's signal to drain and sync.
    drop(stamper);
    exit.worst(wait_for_writer(
        &done,
        signals,
        &mut shutdown,
        config.drain_timeout,
    ))
}

/// Moves input to the writer until end of input, or until a signal's grace period ends.
/// Returns `Exit::Signal(0)` when a third signal asks to stop at once.
fn pump(
    chunks: &Receiver<Input>,
    stamper: &mut Stamper,
    signals: &Receiver<i32>,
    shutdown: &mut Shutdown,
    grace: Duration,
    max_line: usize,
) -> Exit {
    let mut splitter = LineSplitter::new(max_line);
    let mut grace_end: Option<Instant> = None;
    let mut exit = Exit::Ok;
    loop {
        let grace_timer = match grace_end {
            Some(end) => after(end.saturating_duration_since(Instant::now())),
            None => never(),
        };
        select! {
            recv(chunks) -> input => match input {
                Ok(Input::Data(chunk)) => {
                    splitter.feed(&chunk.bytes, chunk.time, |line, time| {
                        stamper.push(line, time, Stream::Stdin)
                    });
                    if !stamper.send() {
                        // The writer stopped: stdout was closed by its reader.
                        return exit;
                    }
                }
                Ok(Input::End(error)) => {
                    if let Some(e) = error {
                        warn!("cannot read standard input: {e}; lines after this point are lost");
                        exit = Exit::IoError;
                    }
                    break;
                }
                Err(_) => break,
            },
            recv(signals) -> signal => {
                let Ok(signal) = signal else { break };
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
                        grace_end = Some(Instant::now() + grace);
                    }
                }
            },
            recv(grace_timer) -> _ => break,
        }
    }
    // A partial last line is kept, with its newline added.
    splitter.finish(|line, time| stamper.push(line, time, Stream::Stdin));
    stamper.send();
    exit
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
            recv(done) -> exit => {
                let exit = exit.unwrap_or(Exit::IoError);
                return match shutdown.signal {
                    Some(signal) => exit.worst(Exit::Signal(signal)),
                    None => exit,
                };
            }
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
