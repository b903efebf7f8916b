//! The forwarder: one thread per syslog destination, fed by the writer through a
//! bounded queue. It keeps a bounded window of messages not yet delivered (for RELP:
//! not yet acknowledged), reconnects with backoff and resends that window after a
//! reconnect (so a line may arrive twice, never go missing), and gives a destination up
//! only after `--retry-for` without any delivery. At the end of input it delivers what
//! it holds, then reports what it could not.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, bounded, never, select};

use super::link::{Link, LinkEvent};
use super::message::MessageFormatter;
use super::relp;
use super::{Destination, SyslogTarget};
use crate::exit::Exit;
use crate::record::RawMessages;

/// Messages held per destination that are not yet delivered: sent and awaiting their
/// acknowledgement (RELP), or waiting to be written. Bounds both memory and how many
/// lines a reconnect may resend.
pub const WINDOW: usize = 1024;
/// Batches waiting between the writer and a forwarder.
const QUEUE_BATCHES: usize = 4;
/// First wait before reconnecting; it doubles up to the maximum.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long the server has to answer RELP's `close`, or to close a TCP connection
/// after rlog's half close, at exit.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// A RELP server that acknowledges nothing for this long while lines wait is taken as
/// hung: the connection is dropped and made again.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
/// How often an idle forwarder looks at its timers.
const TICK: Duration = Duration::from_secs(1);

/// What the rest of rlog can see of a forwarder while it runs: how many lines it has
/// delivered, so the undelivered ones can be counted if `--drain-timeout` passes.
#[derive(Debug)]
pub struct ForwardStatus {
    pub url: String,
    delivered: AtomicU64,
}

impl ForwardStatus {
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }
}

/// The writer's side of a forwarder.
pub struct ForwarderHandle {
    pub status: Arc<ForwardStatus>,
    queue: Option<Sender<Arc<RawMessages>>>,
    /// The forwarder's status once it is done.
    done: Receiver<Exit>,
}

impl ForwarderHandle {
    /// Hands messages to the forwarder, waiting while its queue is full.
    pub fn send(&self, messages: Arc<RawMessages>) {
        if let Some(queue) = &self.queue {
            // Fails only if the thread is gone; `finish` reports that.
            let _ = queue.send(messages);
        }
    }

    /// Ends the forwarder's input: it delivers what it holds, then stops.
    pub fn close(&mut self) {
        drop(self.queue.take());
    }

    /// Ends the input and waits until the forwarder has delivered (or given up on) what
    /// it holds, or until `deadline`; returns its status, None if the deadline passed.
    pub fn finish(&mut self, deadline: Option<Instant>) -> Option<Exit> {
        self.close();
        let done = match deadline {
            Some(deadline) => match self.done.recv_deadline(deadline) {
                Err(RecvTimeoutError::Timeout) => return None,
                other => other.map_err(|_| ()),
            },
            None => self.done.recv().map_err(|_| ()),
        };
        match done {
            Ok(exit) => Some(exit),
            Err(()) => {
                warn!(
                    "the forwarder for '{}' stopped unexpectedly; lines may not have been delivered",
                    self.status.url
                );
                Some(Exit::IoError)
            }
        }
    }
}

/// A message in the window.
struct Entry {
    /// The syslog message, without transport framing.
    bytes: Vec<u8>,
    /// RELP: the TXNR it was sent with on the current connection.
    txnr: u32,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Delivered,
    /// The server answered with an error: counted as lost, never resent.
    Refused,
}

/// Connection trouble since the last delivery.
struct Outage {
    /// Since when there has been something to deliver and nothing was delivered.
    stalled_since: Option<Instant>,
    next_attempt: Instant,
    backoff: Duration,
    /// This outage was reported on stderr.
    reported: bool,
    /// No delivery for `--retry-for`: lines are dropped (and counted) until the server
    /// is reachable again.
    given_up: bool,
    /// Lines sent again on a new connection because the old one lost their replies.
    resent: u64,
    last_error: Option<String>,
}

pub struct Forwarder {
    url: String,
    destination: Destination,
    formatter: MessageFormatter,
    queue: Receiver<Arc<RawMessages>>,
    queue_closed: bool,
    status: Arc<ForwardStatus>,
    retry_for: Duration,
    /// The batch being moved into the window, and the index of its next message.
    inbox: Option<(Arc<RawMessages>, usize)>,
    window: VecDeque<Entry>,
    /// RELP: how many entries at the front of the window were sent on this connection.
    sent: usize,
    link: Option<Link>,
    outage: Outage,
    /// Buffers of delivered entries, reused for new ones.
    spare: Vec<Vec<u8>>,
    /// Frames to write, and where each message ends in them (TCP).
    frame: Vec<u8>,
    ends: Vec<usize>,
    /// Lines that will never be delivered.
    lost: u64,
    refused_reported: bool,
    /// UDP: datagrams the server's host said nothing listens for (ICMP port unreachable).
    udp_refusals: u64,
    /// A problem seen when closing the connection at exit.
    close_error: Option<String>,
}

impl Forwarder {
    /// Starts a forwarder thread for `target`; it connects at once, so an unreachable
    /// server is reported before any input arrives.
    pub fn spawn(
        target: SyslogTarget,
        formatter: MessageFormatter,
        retry_for: Duration,
    ) -> io::Result<ForwarderHandle> {
        let (tx, rx) = bounded(QUEUE_BATCHES);
        let status = Arc::new(ForwardStatus {
            url: target.url.clone(),
            delivered: AtomicU64::new(0),
        });
        let forwarder = Forwarder {
            url: target.url,
            destination: target.destination,
            formatter,
            queue: rx,
            queue_closed: false,
            status: Arc::clone(&status),
            retry_for,
            inbox: None,
            window: VecDeque::with_capacity(WINDOW),
            sent: 0,
            link: None,
            outage: Outage {
                stalled_since: None,
                next_attempt: Instant::now(),
                backoff: FIRST_BACKOFF,
                reported: false,
                given_up: false,
                resent: 0,
                last_error: None,
            },
            spare: Vec::new(),
            frame: Vec::new(),
            ends: Vec::new(),
            lost: 0,
            refused_reported: false,
            udp_refusals: 0,
            close_error: None,
        };
        let (done_tx, done) = bounded(1);
        thread::Builder::new()
            .name("syslog".into())
            .spawn(move || {
                let _ = done_tx.send(forwarder.run());
            })?;
        Ok(ForwarderHandle {
            status,
            queue: Some(tx),
            done,
        })
    }

    fn run(mut self) -> Exit {
        loop {
            self.take_messages();
            if self.link.is_none() && Instant::now() >= self.outage.next_attempt {
                self.connect();
            }
            if self.link.is_some() {
                self.send_window();
            }
            self.check_stall();
            if self.queue_closed && self.inbox.is_none() && self.window.is_empty() {
                break;
            }
            self.wait();
        }
        self.close_link();
        self.outcome()
    }

    fn has_work(&self) -> bool {
        self.inbox.is_some() || !self.window.is_empty()
    }

    /// Moves messages from the queue into the window while it has room (or, once the
    /// destination is given up, counts them as lost).
    fn take_messages(&mut self) {
        loop {
            if self.inbox.is_none() {
                if self.queue_closed {
                    return;
                }
                match self.queue.try_recv() {
                    Ok(batch) => self.inbox = Some((batch, 0)),
                    Err(TryRecvError::Empty) => return,
                    Err(TryRecvError::Disconnected) => {
                        self.queue_closed = true;
                        return;
                    }
                }
            }
            let Some((batch, next)) = self.inbox.as_mut() else {
                return;
            };
            if self.outage.given_up {
                self.lost += (batch.len() - *next) as u64;
                self.inbox = None;
                continue;
            }
            while *next < batch.len() && self.window.len() < WINDOW {
                let (message, meta) = batch.get(*next);
                let mut bytes = self.spare.pop().unwrap_or_default();
                bytes.clear();
                self.formatter.format(message, meta, &mut bytes);
                self.window.push_back(Entry {
                    bytes,
                    txnr: 0,
                    state: State::Waiting,
                });
                *next += 1;
            }
            if *next < batch.len() {
                return;
            }
            self.inbox = None;
        }
    }

    fn connect(&mut self) {
        match Link::connect(&self.destination, WINDOW) {
            Ok(link) => {
                self.link = Some(link);
                self.sent = 0;
                if !self.has_work() {
                    self.delivered(0);
                }
            }
            Err(e) => {
                if !self.outage.reported {
                    warn!(
                        "cannot reach '{}': {e}; retrying for {} while lines wait",
                        self.url,
                        humantime::format_duration(self.retry_for)
                    );
                    self.outage.reported = true;
                }
                self.outage.last_error = Some(e.to_string());
                self.retry_later();
            }
        }
    }

    fn retry_later(&mut self) {
        self.outage.next_attempt = Instant::now() + self.outage.backoff;
        self.outage.backoff = (self.outage.backoff * 2).min(MAX_BACKOFF);
    }

    /// Sends what the window holds that this connection has not carried yet.
    fn send_window(&mut self) {
        let Some(mut link) = self.link.take() else {
            return;
        };
        let result = match &mut link {
            Link::Datagram(socket) => {
                let mut result = Ok(());
                let mut refused_once = false;
                while let Some(entry) = self.window.front() {
                    match socket.send(&entry.bytes) {
                        Ok(()) => {
                            refused_once = false;
                            self.pop_front_delivered();
                        }
                        // A connected UDP socket reports an earlier datagram's ICMP
                        // "port unreachable" on a later send, which then did not go out.
                        Err(e)
                            if socket.is_udp()
                                && e.kind() == io::ErrorKind::ConnectionRefused
                                && !refused_once =>
                        {
                            refused_once = true;
                            self.udp_refusals += 1;
                            if !self.refused_reported {
                                warn!(
                                    "'{}': nothing listens on that port (ICMP port unreachable); \
                                     lines sent there are lost, and UDP cannot say which",
                                    self.url
                                );
                                self.refused_reported = true;
                            }
                        }
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                result
            }
            Link::Tcp(stream) => {
                self.frame.clear();
                self.ends.clear();
                for entry in &self.window {
                    // RFC 6587 octet counting: `LEN SP MSG`, so MSG may hold newlines.
                    self.frame
                        .extend_from_slice(entry.bytes.len().to_string().as_bytes());
                    self.frame.push(b' ');
                    self.frame.extend_from_slice(&entry.bytes);
                    self.ends.push(self.frame.len());
                }
                let (written, result) = match stream.write(&self.frame) {
                    Ok(()) => (self.frame.len(), Ok(())),
                    Err((written, e)) => (written, Err(e)),
                };
                // Messages wholly written reached the kernel; one cut short is sent
                // again, whole, on the next connection.
                let whole = self.ends.iter().take_while(|&&end| end <= written).count();
                for _ in 0..whole {
                    self.pop_front_delivered();
                }
                result
            }
            Link::Relp(session) => {
                self.frame.clear();
                for entry in self.window.iter_mut().skip(self.sent) {
                    entry.txnr = session.take_txnr();
                    relp::encode(entry.txnr, "syslog", &entry.bytes, &mut self.frame);
                }
                match session.write(&self.frame) {
                    Ok(()) => {
                        self.sent = self.window.len();
                        Ok(())
                    }
                    Err((_, e)) => Err(e),
                }
            }
        };
        self.link = Some(link);
        if let Err(e) = result {
            self.link_failed(e);
        }
    }

    fn pop_front_delivered(&mut self) {
        if let Some(entry) = self.window.pop_front() {
            self.spare.push(entry.bytes);
            self.delivered(1);
        }
    }

    /// Counts deliveries; any delivery ends an outage.
    fn delivered(&mut self, n: u64) {
        self.status.delivered.fetch_add(n, Ordering::Relaxed);
        self.outage.stalled_since = None;
        self.outage.backoff = FIRST_BACKOFF;
        if self.outage.reported {
            if self.outage.given_up {
                warn!(
                    "'{}' is reachable again; forwarding resumes ({} line(s) were dropped)",
                    self.url, self.lost
                );
            } else if self.outage.resent > 0 {
                warn!(
                    "'{}' is reachable again; {} unacknowledged line(s) were sent again",
                    self.url, self.outage.resent
                );
            } else {
                warn!("'{}' is reachable again", self.url);
            }
            self.outage.reported = false;
            self.outage.given_up = false;
            self.outage.resent = 0;
        }
    }

    /// A RELP reply or the end of the connection.
    fn handle(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::Closed(e) => self.link_failed(e),
            LinkEvent::Reply { txnr, response } => {
                let Some(i) = self
                    .window
                    .iter()
                    .take(self.sent)
                    .position(|e| e.txnr == txnr && e.state == State::Waiting)
                else {
                    let e = io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("RELP protocol error: a reply to unknown command {txnr}"),
                    );
                    self.link_failed(e);
                    return;
                };
                self.window[i].state = match response {
                    Some(r) if r.is_ok() => State::Delivered,
                    other => {
                        let why = other.map_or_else(
                            || "an empty reply".to_string(),
                            |r| format!("{} {}", r.code, r.text),
                        );
                        if !self.refused_reported {
                            warn!("'{}' refused a line: {why}; it is not sent again", self.url);
                            self.refused_reported = true;
                        }
                        self.outage.last_error = Some(format!("the server refused: {why}"));
                        State::Refused
                    }
                };
                let mut delivered = 0;
                while let Some(front) = self.window.front() {
                    match front.state {
                        State::Waiting => break,
                        State::Delivered => delivered += 1,
                        State::Refused => self.lost += 1,
                    }
                    if let Some(entry) = self.window.pop_front() {
                        self.spare.push(entry.bytes);
                    }
                    self.sent -= 1;
                }
                if delivered > 0 {
                    self.delivered(delivered);
                }
            }
        }
    }

    /// The connection broke: everything it carried without a reply goes out again on the
    /// next one.
    fn link_failed(&mut self, e: io::Error) {
        self.link = None;
        let unanswered = self.sent;
        self.sent = 0;
        self.outage.resent += unanswered as u64;
        if !self.outage.reported {
            let resend = match unanswered {
                0 => String::new(),
                n => format!("; {n} unacknowledged line(s) will be sent again"),
            };
            warn!(
                "lost the connection to '{}': {e}; reconnecting{resend}",
                self.url
            );
            self.outage.reported = true;
        }
        self.outage.last_error = Some(e.to_string());
        self.retry_later();
    }

    /// Drops a RELP connection whose server stopped answering, and gives the destination
    /// up once it has been unreachable with lines waiting for `--retry-for` since the
    /// last delivery.
    fn check_stall(&mut self) {
        if !self.has_work() || self.outage.given_up {
            self.outage.stalled_since = None;
            return;
        }
        let now = Instant::now();
        let since = *self.outage.stalled_since.get_or_insert(now);
        let stalled = now.duration_since(since);
        if matches!(self.link, Some(Link::Relp(_))) && self.sent > 0 && stalled >= ACK_TIMEOUT {
            let e = io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no acknowledgement for {}",
                    humantime::format_duration(ACK_TIMEOUT)
                ),
            );
            self.link_failed(e);
        }
        if self.link.is_some() || stalled < self.retry_for {
            return;
        }
        let mut dropped = self.window.len() as u64;
        if let Some((batch, next)) = self.inbox.take() {
            dropped += (batch.len() - next) as u64;
        }
        for entry in self.window.drain(..) {
            self.spare.push(entry.bytes);
        }
        self.lost += dropped;
        self.sent = 0;
        // A connection that delivers nothing is not worth keeping.
        self.link = None;
        self.outage.given_up = true;
        self.outage.reported = true;
        self.outage.stalled_since = None;
        if !self.queue_closed {
            warn!(
                "giving up on '{}' after {} without delivering a line ({}); \
                 its lines are dropped and counted until it is reachable again",
                self.url,
                humantime::format_duration(self.retry_for),
                self.outage.last_error.as_deref().unwrap_or("")
            );
        }
    }

    /// Waits for the next thing to do: a batch (if the window has room), a reply or the
    /// end of the connection, a reconnect time, or the give-up time.
    fn wait(&mut self) {
        // Sending emptied the window (TCP, UDP) while the batch has more: go on at once.
        if self.link.is_some() && self.inbox.is_some() && self.window.len() < WINDOW {
            return;
        }
        let now = Instant::now();
        let mut wake = now + TICK;
        if self.link.is_none() {
            wake = wake.min(self.outage.next_attempt);
        }
        if let Some(since) = self.outage.stalled_since {
            let limit = match self.link {
                None => self.retry_for,
                Some(_) => ACK_TIMEOUT,
            };
            wake = wake.min(since + limit);
        }
        let room = self.inbox.is_none() && (self.window.len() < WINDOW || self.outage.given_up);
        let queue = match room && !self.queue_closed {
            true => self.queue.clone(),
            false => never(),
        };
        let events = match &self.link {
            Some(Link::Tcp(s) | Link::Relp(s)) => s.events().clone(),
            _ => never(),
        };
        select! {
            recv(queue) -> batch => match batch {
                Ok(batch) => self.inbox = Some((batch, 0)),
                Err(_) => self.queue_closed = true,
            },
            recv(events) -> event => {
                let Ok(event) = event else {
                    self.link_failed(io::Error::other("the connection's reader stopped"));
                    return;
                };
                self.handle(event);
                // Take every reply already here before sending more.
                while self.link.is_some() {
                    match events.try_recv() {
                        Ok(event) => self.handle(event),
                        Err(_) => break,
                    }
                }
            },
            default(wake.saturating_duration_since(now)) => {}
        }
    }

    /// At exit, with everything delivered: end the session politely. RELP sends
    /// `close`; TCP half-closes and waits for the server to close its side, which it
    /// does only after reading everything.
    fn close_link(&mut self) {
        match self.link.take() {
            Some(Link::Relp(mut session)) => {
                let txnr = session.take_txnr();
                let mut frame = Vec::new();
                relp::encode(txnr, "close", b"", &mut frame);
                if session.write(&frame).is_ok() {
                    let _ = session.events().recv_timeout(CLOSE_TIMEOUT);
                }
            }
            Some(Link::Tcp(stream)) => {
                if let Err(e) = stream.shutdown_write() {
                    self.close_error = Some(e.to_string());
                    return;
                }
                match stream.events().recv_timeout(CLOSE_TIMEOUT) {
                    Ok(LinkEvent::Closed(e)) if e.kind() != io::ErrorKind::UnexpectedEof => {
                        self.close_error = Some(e.to_string());
                    }
                    // The server's close is TCP's only sign that it read everything:
                    // without it, the last lines may still sit unread in a buffer.
                    Err(RecvTimeoutError::Timeout) => {
                        self.close_error = Some(format!(
                            "the server did not close its side within {} of rlog's, so it \
                             may not have read the last lines",
                            humantime::format_duration(CLOSE_TIMEOUT)
                        ));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn outcome(&self) -> Exit {
        let mut exit = Exit::Ok;
        if self.lost > 0 {
            warn!(
                "{} line(s) were not delivered to '{}': {}",
                self.lost,
                self.url,
                self.outage
                    .last_error
                    .as_deref()
                    .unwrap_or("the server did not take them")
            );
            exit = Exit::IoError;
        }
        if self.udp_refusals > 0 {
            warn!(
                "'{}' was unreachable {} time(s) (ICMP port unreachable); UDP has no \
                 acknowledgement, so lines sent around then may be lost",
                self.url, self.udp_refusals
            );
            exit = Exit::IoError;
        }
        if let Some(e) = &self.close_error {
            warn!(
                "the connection to '{}' failed as it closed ({e}); the last lines sent may be lost",
                self.url
            );
            exit = Exit::IoError;
        }
        exit
    }
}
