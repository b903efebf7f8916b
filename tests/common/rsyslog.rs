//! A real rsyslog for the tests: started in the foreground as a child with a generated
//! config that listens on loopback (RELP, TCP, UDP) and on two local datagram sockets,
//! and writes every message it receives to a file, one line each, through a template
//! showing severity, facility, app-name, procid, host, timestamp, structured data and
//! the message (JSON-escaped, so an embedded newline stays on its line). Stopped when
//! dropped.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One message as rsyslog wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub severity: u8,
    pub facility: String,
    pub app: String,
    pub procid: String,
    pub host: String,
    pub time: String,
    pub sd: String,
    /// JSON-escaped: a newline shows as `\n`.
    pub msg: String,
}

impl Received {
    /// The `seq` of rlog's structured data.
    pub fn seq(&self) -> Option<u64> {
        let rest = self.sd.strip_prefix("[rlog@32473 seq=\"")?;
        rest.strip_suffix("\"]")?.parse().ok()
    }
}

pub struct Rsyslog {
    dir: tempfile::TempDir,
    pub relp: u16,
    pub tcp: u16,
    pub udp: u16,
    child: Option<Child>,
}

/// Whether rsyslogd is installed. In CI (CI=true) its absence is a failure; elsewhere
/// the test says it is skipped.
pub fn available(test: &str) -> bool {
    let found = Command::new("rsyslogd")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: rsyslog is required in CI (apt-get install rsyslog rsyslog-relp)"
        );
        eprintln!("{test}: skipped, rsyslogd is not installed");
    }
    found
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free TCP port")
        .port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free UDP port")
        .port()
}

impl Rsyslog {
    /// Starts rsyslogd and waits until every input takes messages, or returns None
    /// when rsyslog is not installed (outside CI).
    pub fn start(test: &str) -> Option<Rsyslog> {
        if !available(test) {
            return None;
        }
        // Another process may take a port between its choice here and rsyslog binding
        // it: try again with new ones.
        for _ in 0..3 {
            let mut server = Rsyslog {
                dir: tempfile::tempdir().expect("temporary directory for rsyslog"),
                relp: free_tcp_port(),
                tcp: free_tcp_port(),
                udp: free_udp_port(),
                child: None,
            };
            server.write_config();
            server.spawn();
            if server.wait_ready(Duration::from_secs(10)) {
                return Some(server);
            }
            eprintln!(
                "rsyslog did not come up; its output: {}",
                server.stderr_text()
            );
        }
        panic!("{test}: rsyslogd did not start (is rsyslog-relp installed?)");
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn output(&self) -> PathBuf {
        self.dir.path().join("received.log")
    }

    /// The datagram socket parsed as a local daemon's /dev/log is (RFC 3164).
    pub fn unix_socket(&self) -> PathBuf {
        self.dir.path().join("log.sock")
    }

    /// A datagram socket that takes RFC 5424 too.
    pub fn unix_socket_5424(&self) -> PathBuf {
        self.dir.path().join("log5424.sock")
    }

    fn write_config(&self) {
        let d = self.dir.path().display();
        let config = format!(
            r#"global(workDirectory="{d}" net.enableDNS="off"
       parser.escapeControlCharactersOnReceive="off")
# Direct mode: a message is written to the file before its input (and so imrelp's
# acknowledgement) continues, so "acknowledged" means "in the file".
main_queue(queue.type="direct")
module(load="imuxsock" SysSock.Use="off")
module(load="imudp")
module(load="imtcp")
module(load="imrelp")
input(type="imuxsock" Socket="{d}/log.sock" RateLimit.Interval="0")
input(type="imuxsock" Socket="{d}/log5424.sock" RateLimit.Interval="0"
      UseSpecialParser="off" ParseHostname="on")
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
input(type="imrelp" address="127.0.0.1" port="{relp}")
template(name="fields" type="string"
         string="%syslogseverity%|%syslogfacility-text%|%app-name%|%procid%|%hostname%|%timereported:::date-rfc3339%|%structured-data%|%msg:::json%\n")
if $programname != "rsyslogd" then
    action(type="omfile" file="{d}/received.log" template="fields" flushOnTXEnd="on")
"#,
            udp = self.udp,
            tcp = self.tcp,
            relp = self.relp,
        );
        std::fs::write(self.dir.path().join("rsyslog.conf"), config).expect("writing rsyslog.conf");
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let stderr = std::fs::File::create(d.join("rsyslogd.err")).expect("rsyslogd.err");
        let child = Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(d.join("rsyslog.conf"))
            .arg("-i")
            .arg(d.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("starting rsyslogd");
        self.child = Some(child);
    }

    fn stderr_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("rsyslogd.err")).unwrap_or_default()
    }

    /// Every input answers: the TCP ports accept, and a probe sent over UDP and both
    /// local sockets shows up in the output.
    fn wait_ready(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let udp = UdpSocket::bind("127.0.0.1:0").expect("probe socket");
        let probe = std::os::unix::net::UnixDatagram::unbound().expect("probe socket");
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                return false;
            }
            let tcp_up = [self.relp, self.tcp]
                .iter()
                .all(|&p| TcpStream::connect(("127.0.0.1", p)).is_ok());
            if tcp_up {
                let _ = udp.send_to(b"<14>1 - - probe - - - udp", ("127.0.0.1", self.udp));
                let _ = probe.send_to(b"<14>probe: unix", self.unix_socket());
                let _ = probe.send_to(b"<14>probe: unix5424", self.unix_socket_5424());
                let seen = self.received_from("probe");
                let has = |m: &str| seen.iter().any(|r| r.msg.trim_start() == m);
                if has("udp") && has("unix") && has("unix5424") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Every message received so far, in the order rsyslog wrote them. Panics on a line
    /// that is not in the template's shape: a torn or merged line is a finding. A last
    /// line without its newline is still being written, and is left for the next look.
    pub fn received(&self) -> Vec<Received> {
        let mut bytes = std::fs::read(self.output()).unwrap_or_default();
        let complete = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |nl| nl + 1);
        bytes.truncate(complete);
        let text = String::from_utf8_lossy(&bytes);
        text.lines()
            .map(|line| {
                let f: Vec<&str> = line.splitn(8, '|').collect();
                assert_eq!(f.len(), 8, "malformed line from rsyslog: {line:?}");
                Received {
                    severity: f[0]
                        .parse()
                        .unwrap_or_else(|_| panic!("severity in {line:?}")),
                    facility: f[1].to_string(),
                    app: f[2].to_string(),
                    procid: f[3].to_string(),
                    host: f[4].to_string(),
                    time: f[5].to_string(),
                    sd: f[6].to_string(),
                    msg: f[7].to_string(),
                }
            })
            .collect()
    }

    /// The messages whose app-name is `app`.
    pub fn received_from(&self, app: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.app == app)
            .collect()
    }

    /// Waits (at most `limit`) until `app` has `count` messages; returns them.
    pub fn wait_for(&self, app: &str, count: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.received_from(app);
            if got.len() >= count || Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops rsyslogd where it is (SIGSTOP): it reads, writes and acknowledges nothing
    /// until killed.
    pub fn freeze(&mut self) {
        if let Some(child) = &self.child {
            // SAFETY: kill(2) with the pid of a child not yet reaped, so not reused.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGSTOP);
            }
        }
    }

    /// Ends rsyslogd at once (SIGKILL), as a crash or a power cut would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again, on the same ports, appending to the same output.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
        assert!(
            self.wait_ready(Duration::from_secs(10)),
            "rsyslogd did not restart: {}",
            self.stderr_text()
        );
    }

    /// Stops it cleanly (SIGTERM), killing it if it does not stop within 5 seconds.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: kill(2) with the pid of a child we have not yet reaped, so the pid
        // cannot have been reused.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.stop();
    }
}
