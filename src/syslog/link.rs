//! One connection to a syslog server, by transport. A stream connection has a reader
//! thread of its own that reports what the server says (RELP replies) and when it goes
//! away, so the forwarder can wait for replies, new lines and timers at once.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};

use super::Destination;
use super::relp::{self, FrameParser, Response};

/// How long a connection attempt to one address may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A send that makes no progress this long counts as a broken connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server has to answer RELP's `open`.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest datagram sent: the most a UDP/IPv4 datagram holds. Longer messages are cut.
const MAX_DATAGRAM: usize = 65_507;

/// What a stream connection's reader thread reports.
#[derive(Debug)]
pub enum LinkEvent {
    /// An `rsp` to the command with this TXNR; None when it carried no data.
    Reply {
        txnr: u32,
        response: Option<Response>,
    },
    /// The connection is over: the server closed it (`UnexpectedEof`), reset it, asked to
    /// close the session, or broke the framing.
    Closed(io::Error),
}

pub enum Link {
    Datagram(Datagram),
    /// Plain TCP with octet-counted framing.
    Tcp(StreamLink),
    Relp(StreamLink),
}

pub enum Datagram {
    Udp(UdpSocket),
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixDatagram),
}

impl Datagram {
    pub fn is_udp(&self) -> bool {
        matches!(self, Datagram::Udp(_))
    }

    /// Sends one message as one datagram, cut at the largest size a datagram holds.
    pub fn send(&self, message: &[u8]) -> io::Result<()> {
        let message = &message[..message.len().min(MAX_DATAGRAM)];
        match self {
            Datagram::Udp(s) => s.send(message).map(drop),
            #[cfg(unix)]
            Datagram::Unix(s) => s.send(message).map(drop),
        }
    }
}

/// A TCP connection and the reader thread watching it.
pub struct StreamLink {
    stream: TcpStream,
    events: Receiver<LinkEvent>,
    /// RELP: the TXNR of the last command sent.
    txnr: u32,
}

impl StreamLink {
    pub fn events(&self) -> &Receiver<LinkEvent> {
        &self.events
    }

    /// The TXNR for the next command.
    pub fn take_txnr(&mut self) -> u32 {
        self.txnr = relp::next_txnr(self.txnr);
        self.txnr
    }

    /// Writes all of `bytes`; on failure, says how many bytes did go out.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), (usize, io::Error)> {
        let mut written = 0;
        while written < bytes.len() {
            match self.stream.write(&bytes[written..]) {
                Ok(0) => return Err((written, io::ErrorKind::WriteZero.into())),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((written, e)),
            }
        }
        Ok(())
    }

    /// Tells the server nothing more will come (TCP's half close).
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }
}

impl Drop for StreamLink {
    fn drop(&mut self) {
        // Wakes the reader thread, which then ends.
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

impl Link {
    /// Connects; for RELP, also opens the session. `window` bounds the replies that can
    /// be outstanding, and so the reader's channel.
    pub fn connect(destination: &Destination, window: usize) -> io::Result<Link> {
        match destination {
            #[cfg(unix)]
            Destination::Unix(path) => {
                let socket = std::os::unix::net::UnixDatagram::unbound()?;
                socket.connect(path)?;
                socket.set_write_timeout(Some(WRITE_TIMEOUT))?;
                Ok(Link::Datagram(Datagram::Unix(socket)))
            }
            #[cfg(not(unix))]
            Destination::Unix(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "local syslog sockets exist only on Unix",
            )),
            Destination::Udp { host, port } => {
                let socket = connect_udp(&resolve(host, *port)?)?;
                Ok(Link::Datagram(Datagram::Udp(socket)))
            }
            Destination::Tcp { host, port } => {
                let link = connect_stream(&resolve(host, *port)?, false, window)?;
                Ok(Link::Tcp(link))
            }
            Destination::Relp { host, port } => {
                let mut link = connect_stream(&resolve(host, *port)?, true, window)?;
                open_session(&mut link)?;
                Ok(Link::Relp(link))
            }
        }
    }
}

fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("'{host}' has no address"),
        ));
    }
    Ok(addrs)
}

fn connect_udp(addrs: &[SocketAddr]) -> io::Result<UdpSocket> {
    let mut last = None;
    for addr in addrs {
        let local: SocketAddr = match addr {
            SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let attempt = UdpSocket::bind(local).and_then(|s| {
            s.connect(addr)?;
            s.set_write_timeout(Some(WRITE_TIMEOUT))?;
            Ok(s)
        });
        match attempt {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::ErrorKind::AddrNotAvailable.into()))
}

fn connect_stream(addrs: &[SocketAddr], relp: bool, window: usize) -> io::Result<StreamLink> {
    let mut last = None;
    let mut connected = None;
    for addr in addrs {
        match TcpStream::connect_timeout(addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                connected = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(stream) = connected else {
        return Err(last.unwrap_or_else(|| io::ErrorKind::AddrNotAvailable.into()));
    };
    // Whole batches are written at once, so small packets are not a cost; the last
    // lines of a burst should not wait for the Nagle timer.
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let reader = stream.try_clone()?;
    // One reply per command in the window, plus a close hint: the reader never waits.
    let (tx, events) = bounded(window + 4);
    thread::Builder::new()
        .name("syslog-reader".into())
        .spawn(move || read_replies(reader, &tx, relp))?;
    Ok(StreamLink {
        stream,
        events,
        txnr: 0,
    })
}

/// RELP's session start: `open` with rlog's offers, and a `200` reply that accepts the
/// `syslog` command.
fn open_session(link: &mut StreamLink) -> io::Result<()> {
    let txnr = link.take_txnr();
    let mut frame = Vec::new();
    relp::encode(txnr, "open", &relp::open_offers(), &mut frame);
    link.write(&frame).map_err(|(_, e)| e)?;
    match link.events.recv_timeout(OPEN_TIMEOUT) {
        Ok(LinkEvent::Reply {
            txnr: got,
            response: Some(r),
        }) if got == txnr => {
            if !r.is_ok() {
                return Err(io::Error::other(format!(
                    "the server refused the RELP session: {} {}",
                    r.code, r.text
                )));
            }
            if !relp::offers_syslog(&r.data) {
                return Err(io::Error::other(
                    "the RELP server does not offer the syslog command",
                ));
            }
            Ok(())
        }
        Ok(LinkEvent::Reply { .. }) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "RELP protocol error: unexpected reply to open",
        )),
        Ok(LinkEvent::Closed(e)) => Err(e),
        Err(RecvTimeoutError::Timeout) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no answer to RELP open",
        )),
        Err(RecvTimeoutError::Disconnected) => {
            Err(io::Error::other("the connection's reader stopped"))
        }
    }
}

/// The reader thread: reports RELP replies (or, for plain TCP, only the end of the
/// connection) until the connection ends or the forwarder drops it.
fn read_replies(mut stream: TcpStream, tx: &Sender<LinkEvent>, relp: bool) {
    let mut parser = FrameParser::default();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => {
                let eof = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                );
                let _ = tx.send(LinkEvent::Closed(eof));
                return;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(LinkEvent::Closed(e));
                return;
            }
        };
        if !relp {
            // A plain syslog server says nothing; whatever it sends is ignored.
            continue;
        }
        parser.feed(&buf[..n]);
        loop {
            let event = match parser.next_frame() {
                Ok(None) => break,
                Ok(Some(frame)) => match frame.command.as_str() {
                    "rsp" if frame.data.is_empty() => LinkEvent::Reply {
                        txnr: frame.txnr,
                        response: None,
                    },
                    "rsp" => match relp::parse_response(&frame.data) {
                        Ok(r) => LinkEvent::Reply {
                            txnr: frame.txnr,
                            response: Some(r),
                        },
                        Err(e) => LinkEvent::Closed(io::Error::new(io::ErrorKind::InvalidData, e)),
                    },
                    "serverclose" => LinkEvent::Closed(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the server closed the RELP session",
                    )),
                    other => LinkEvent::Closed(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("RELP protocol error: unexpected command '{other}'"),
                    )),
                },
                Err(e) => LinkEvent::Closed(io::Error::new(io::ErrorKind::InvalidData, e)),
            };
            let closed = matches!(event, LinkEvent::Closed(_));
            if tx.send(event).is_err() || closed {
                return;
            }
        }
    }
}
