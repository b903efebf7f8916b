//! Forwarding to syslog servers, tested against a real rsyslog (and, where a server must
//! misbehave on cue, a small scripted RELP server): every transport delivers every line
//! with its severity, tag and seq; RELP delivers exactly once and in order, survives a
//! server restart without a gap, and exit 0 comes only after the last acknowledgement;
//! a server that never comes back is named, its undelivered lines counted, and the
//! files beside it are complete.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::rsyslog::{Received, Rsyslog};
use common::{read_lines, rlog, rlog_std, tempdir};
use predicates::prelude::*;
use rlog::syslog::relp::{self, FrameParser};

/// How long a test waits for a transport without acknowledgements (UDP, TCP, local
/// sockets) to show its lines; they normally arrive in milliseconds.
const ARRIVAL: Duration = Duration::from_secs(10);

fn lines(range: std::ops::RangeInclusive<u64>) -> String {
    range.map(|i| format!("line {i}\n")).collect()
}

fn seqs(received: &[Received]) -> Vec<u64> {
    received
        .iter()
        .map(|r| r.seq().unwrap_or_else(|| panic!("no seq in {r:?}")))
        .collect()
}

/// Asserts the messages are `line 1`..`line n`, once each, in order, with matching seq.
fn assert_exactly_once_in_order(received: &[Received], n: u64) {
    assert_eq!(received.len() as u64, n, "message count");
    for (i, r) in received.iter().enumerate() {
        let expected = i as u64 + 1;
        assert_eq!(r.seq(), Some(expected), "seq of message {i}: {r:?}");
        assert_eq!(r.msg, format!("line {expected}"), "message {i}");
    }
}

/// Writes lines `range` to `stdin` at about 20,000 lines a second, so a test can act
/// while rlog is still receiving.
fn feed_slowly(
    mut stdin: std::process::ChildStdin,
    range: std::ops::RangeInclusive<u64>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let all: Vec<u64> = range.collect();
        for chunk in all.chunks(100) {
            let text: String = chunk.iter().map(|i| format!("line {i}\n")).collect();
            stdin.write_all(text.as_bytes()).expect("feeding rlog");
            thread::sleep(Duration::from_millis(5));
        }
    })
}

/// Waits for `child` to exit, at most `limit`; returns its status code and stderr.
fn wait_exit(mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for rlog") {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            return (status.code(), stderr);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rlog did not exit within {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The number in "N line(s) were not delivered to 'URL'".
fn undelivered_count(stderr: &str, url: &str) -> u64 {
    let needle = format!(" line(s) were not delivered to '{url}'");
    let line = stderr
        .lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no undelivered count for {url} in: {stderr}"));
    let before = &line[..line.find(&needle).expect("found above")];
    before
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"))
}

#[test]
fn relp_delivers_every_line_with_its_level_tag_seq_time_and_host() {
    let Some(server) = Rsyslog::start("relp_delivers") else {
        return;
    };
    let dir = tempdir();
    rlog(dir.path())
        .env("TZ", "Asia/Kolkata")
        .args(["--syslog", &format!("relp://127.0.0.1:{}", server.relp)])
        .args([
            "--tag",
            "relp-test",
            "--parse-level",
            "--define-level",
            "NOTICE=25",
        ])
        .args(["-p", "file.log"])
        .args([
            "-f",
            "%{host}|%{timestamp:+%Y-%m-%dT%H:%M:%S%.6f%:z}|%{message}",
        ])
        .write_stdin(
            "ERROR: disk full\nWARN: low\ndebug: detail\nCRITICAL: down\nNOTICE: custom\nplain\n",
        )
        .assert()
        .success()
        .stdout("")
        .stderr("");
    // No waiting: over RELP, exit 0 means rsyslog acknowledged, so wrote, every line.
    let got = server.received_from("relp-test");
    assert_eq!(got.len(), 6, "{got:#?}");
    let severities: Vec<u8> = got.iter().map(|r| r.severity).collect();
    assert_eq!(severities, [3, 4, 7, 2, 6, 6]);
    assert_eq!(seqs(&got), [1, 2, 3, 4, 5, 6]);
    let messages: Vec<&str> = got.iter().map(|r| r.msg.as_str()).collect();
    assert_eq!(
        messages,
        ["disk full", "low", "detail", "down", "custom", "plain"]
    );
    assert!(got.iter().all(|r| r.facility == "user"), "{got:#?}");
    assert!(
        got.iter().all(|r| r.procid.parse::<u32>().is_ok()),
        "{got:#?}"
    );
    // The header carries the line's own time, to the microsecond, and the host name:
    // the same the file shows for that line.
    let file = read_lines(dir.path().join("file.log"));
    let from_server: Vec<String> = got
        .iter()
        .map(|r| format!("{}|{}|{}", r.host, r.time, r.msg))
        .collect();
    assert_eq!(from_server, file);
    assert!(file[0].contains("+05:30|"), "{file:?}");
}

#[test]
fn tcp_delivers_every_line_with_facility_and_default_tag_and_nothing_on_stdout() {
    let Some(server) = Rsyslog::start("tcp_delivers") else {
        return;
    };
    let dir = tempdir();
    let started = Instant::now();
    rlog(dir.path())
        .args(["--syslog", &format!("tcp://127.0.0.1:{}", server.tcp)])
        .args(["--facility", "local3", "--level", "warning"])
        .write_stdin(lines(1..=10_000))
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stdout("")
        .stderr("");
    // Many windows' worth of lines go out back to back, not one window per timer tick.
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(5),
        "10,000 lines took {elapsed:?}"
    );
    let got = server.wait_for("rlog", 10_000, ARRIVAL);
    assert_exactly_once_in_order(&got, 10_000);
    assert!(got.iter().all(|r| r.severity == 4), "{got:#?}");
    assert!(got.iter().all(|r| r.facility == "local3"), "{got:#?}");
}

#[test]
fn udp_delivers_every_line_with_severity_tag_and_seq() {
    let Some(server) = Rsyslog::start("udp_delivers") else {
        return;
    };
    let dir = tempdir();
    rlog(dir.path())
        .args(["--syslog", &format!("udp://127.0.0.1:{}", server.udp)])
        .args(["--tag", "udp-test", "--level", "debug"])
        .write_stdin(lines(1..=50))
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let got = server.wait_for("udp-test", 50, ARRIVAL);
    assert_exactly_once_in_order(&got, 50);
    assert!(got.iter().all(|r| r.severity == 7), "{got:#?}");
}

#[test]
fn local_socket_gets_traditional_format_by_default_and_rfc5424_on_request() {
    let Some(server) = Rsyslog::start("local_socket") else {
        return;
    };
    let dir = tempdir();
    let socket = format!("unix:{}", server.unix_socket().display());
    rlog(dir.path())
        .args(["--syslog", &socket, "--tag", "local", "--level", "critical"])
        .write_stdin(lines(1..=20))
        .assert()
        .success()
        .stderr("");
    let got = server.wait_for("local", 20, ARRIVAL);
    assert_eq!(got.len(), 20, "{got:#?}");
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.severity, 2, "{r:?}");
        // rsyslog keeps the space after the RFC 3164 tag's colon in the message.
        assert_eq!(r.msg.trim_start(), format!("line {}", i + 1));
        assert!(r.procid.parse::<u32>().is_ok(), "{r:?}");
        assert_eq!(r.sd, "-", "RFC 3164 has no structured data: {r:?}");
    }

    let socket = format!("unix:{}", server.unix_socket_5424().display());
    rlog(dir.path())
        .args(["--syslog", &socket, "--syslog-format", "rfc5424"])
        .args(["--tag", "local5424", "--level", "error"])
        .write_stdin(lines(1..=20))
        .assert()
        .success()
        .stderr("");
    let got = server.wait_for("local5424", 20, ARRIVAL);
    assert_exactly_once_in_order(&got, 20);
    assert!(got.iter().all(|r| r.severity == 3), "{got:#?}");
}

#[test]
fn a_message_with_an_embedded_newline_arrives_whole_over_tcp_and_relp() {
    let Some(server) = Rsyslog::start("embedded_newline") else {
        return;
    };
    let dir = tempdir();
    for (scheme, port) in [("tcp", server.tcp), ("relp", server.relp)] {
        let tag = format!("nl-{scheme}");
        rlog(dir.path())
            .args(["write", "--syslog", &format!("{scheme}://127.0.0.1:{port}")])
            .args(["--tag", &tag, "-p", "file.log", "-f", "%{message}"])
            .arg("first line\nsecond line")
            .assert()
            .success()
            .stderr("");
        let got = server.wait_for(&tag, 1, ARRIVAL);
        assert_eq!(got.len(), 1, "{scheme}: {got:#?}");
        // JSON-escaped by the template: one message holding a newline.
        assert_eq!(got[0].msg, "first line\\nsecond line", "{scheme}");
        assert_eq!(got[0].seq(), Some(1));
    }
    // Files keep one record per line, each with its header.
    assert_eq!(
        read_lines(dir.path().join("file.log")),
        ["first line", "second line", "first line", "second line"]
    );
}

#[test]
fn relp_delivers_100000_lines_exactly_once_in_order_before_exit() {
    let Some(server) = Rsyslog::start("relp_100000") else {
        return;
    };
    let dir = tempdir();
    let started = Instant::now();
    rlog(dir.path())
        .args(["--syslog", &format!("relp://127.0.0.1:{}", server.relp)])
        .args(["--tag", "bulk"])
        .write_stdin(lines(1..=100_000))
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stderr("");
    let elapsed = started.elapsed();
    // Read at once: every line must already be acknowledged, hence in the file.
    let got = server.received_from("bulk");
    assert_exactly_once_in_order(&got, 100_000);
    eprintln!(
        "100000 lines over RELP in {elapsed:.2?} ({:.0} lines/s, test build)",
        100_000.0 / elapsed.as_secs_f64()
    );
}

#[test]
fn relp_server_killed_halfway_and_restarted_loses_no_line() {
    let Some(mut server) = Rsyslog::start("relp_restart") else {
        return;
    };
    let dir = tempdir();
    let total = 40_000;
    let mut child = rlog_std(dir.path())
        .args(["--syslog", &format!("relp://127.0.0.1:{}", server.relp)])
        .args(["--tag", "restart", "-p", "all.log", "--retry-for", "30s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting rlog");
    let feeder = feed_slowly(child.stdin.take().expect("stdin"), 1..=total);
    // Freeze the server while lines are flowing, so rlog's window fills with lines
    // sent but not acknowledged, then kill it: those lines exist only in rlog now.
    let before_kill = server.wait_for("restart", 5_000, Duration::from_secs(30));
    assert!(before_kill.len() >= 5_000, "lines did not start flowing");
    server.freeze();
    thread::sleep(Duration::from_millis(300));
    server.kill();
    thread::sleep(Duration::from_millis(500));
    server.restart();
    feeder.join().expect("feeder");
    let (code, stderr) = wait_exit(child, Duration::from_secs(120));
    assert_eq!(code, Some(0), "stderr: {stderr}");
    // The kill caught lines in flight: rlog had to send them again.
    assert!(
        stderr.contains("unacknowledged line(s) will be sent again"),
        "{stderr}"
    );
    assert!(stderr.contains("reachable again"), "{stderr}");

    let got = server.received_from("restart");
    let seqs = seqs(&got);
    let mut seen = vec![false; total as usize + 1];
    let mut first_seen_order = Vec::new();
    for &s in &seqs {
        assert!((1..=total).contains(&s), "seq {s} out of range");
        if !seen[s as usize] {
            seen[s as usize] = true;
            first_seen_order.push(s);
        }
    }
    let missing: Vec<u64> = (1..=total).filter(|&s| !seen[s as usize]).collect();
    assert!(
        missing.is_empty(),
        "{} line(s) missing after the restart, from seq {:?} to {:?}",
        missing.len(),
        missing.first(),
        missing.last()
    );
    assert!(
        first_seen_order.windows(2).all(|w| w[0] < w[1]),
        "new lines arrived out of order"
    );
    for r in &got {
        assert_eq!(r.msg, format!("line {}", r.seq().unwrap_or(0)), "{r:?}");
    }
    let duplicates = seqs.len() as u64 - total;
    eprintln!("restart: {duplicates} duplicate(s) of {total} lines");
    assert_eq!(read_lines(dir.path().join("all.log")).len() as u64, total);
}

#[test]
fn relp_server_that_never_comes_up_ends_74_naming_it_with_the_count_and_files_complete() {
    let dir = tempdir();
    let url = format!("relp://127.0.0.1:{}", closed_port());
    let out = rlog(dir.path())
        .args(["--syslog", &url, "-p", "all.log", "--retry-for", "1s"])
        .write_stdin(lines(1..=500))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(74)
        .stderr(predicate::str::contains(format!("cannot reach '{url}'")))
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8_lossy(&out);
    assert_eq!(undelivered_count(&stderr, &url), 500, "{stderr}");
    assert_eq!(read_lines(dir.path().join("all.log")).len(), 500);
}

#[test]
fn drain_timeout_with_a_down_server_ends_75_with_the_count_and_files_complete() {
    let dir = tempdir();
    let url = format!("tcp://127.0.0.1:{}", closed_port());
    let started = Instant::now();
    rlog(dir.path())
        .args(["--syslog", &url, "-p", "all.log"])
        .args(["--retry-for", "60s", "--drain-timeout", "1s"])
        .write_stdin(lines(1..=500))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(75)
        .stderr(predicate::str::contains(format!(
            "500 of 500 line(s) were not delivered to '{url}'"
        )));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "--drain-timeout was not honoured: {:?}",
        started.elapsed()
    );
    assert_eq!(read_lines(dir.path().join("all.log")).len(), 500);
}

#[test]
fn write_to_a_down_server_is_bounded_by_drain_timeout() {
    let dir = tempdir();
    let url = format!("relp://127.0.0.1:{}", closed_port());
    let started = Instant::now();
    rlog(dir.path())
        .args(["write", "--syslog", &url, "-p", "app.log"])
        .args(["--retry-for", "60s", "--drain-timeout", "1s"])
        .arg("deploy finished")
        .timeout(Duration::from_secs(30))
        .assert()
        .code(75)
        .stderr(predicate::str::contains(format!(
            "1 of 1 line(s) were not delivered to '{url}'"
        )));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "--drain-timeout was not honoured: {:?}",
        started.elapsed()
    );
    assert_eq!(read_lines(dir.path().join("app.log")).len(), 1);
}

#[test]
fn relp_server_killed_halfway_for_good_ends_74_with_the_undelivered_count() {
    let Some(mut server) = Rsyslog::start("relp_killed") else {
        return;
    };
    let dir = tempdir();
    let total = 20_000;
    let url = format!("relp://127.0.0.1:{}", server.relp);
    let mut child = rlog_std(dir.path())
        .args(["--syslog", &url, "--tag", "killed", "-p", "all.log"])
        .args(["--retry-for", "1s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting rlog");
    let feeder = feed_slowly(child.stdin.take().expect("stdin"), 1..=total);
    let before_kill = server.wait_for("killed", 2_000, Duration::from_secs(30));
    assert!(before_kill.len() >= 2_000, "lines did not start flowing");
    server.freeze();
    thread::sleep(Duration::from_millis(300));
    server.kill();
    feeder.join().expect("feeder");
    let (code, stderr) = wait_exit(child, Duration::from_secs(60));
    assert_eq!(code, Some(74), "stderr: {stderr}");

    // What arrived is a gapless prefix, and every line after it is counted as lost
    // (plus at most the window of lines the server took but never acknowledged).
    let got = server.received_from("killed");
    let received = got.len() as u64;
    assert_eq!(seqs(&got), (1..=received).collect::<Vec<_>>());
    let undelivered = undelivered_count(&stderr, &url);
    assert!(
        undelivered >= total - received && undelivered <= total - received + 1024,
        "{undelivered} reported undelivered, {received} of {total} received: {stderr}"
    );
    assert!(
        received < total,
        "the server was killed too late to test anything"
    );
    assert_eq!(read_lines(dir.path().join("all.log")).len() as u64, total);
}

#[test]
fn a_down_server_makes_rlog_stop_reading_once_its_window_is_full() {
    let dir = tempdir();
    let url = format!("relp://127.0.0.1:{}", closed_port());
    let mut child = rlog_std(dir.path())
        .args(["--syslog", &url, "-p", "all.log", "--retry-for", "60s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting rlog");
    let mut stdin = child.stdin.take().expect("stdin");
    let accepted = Arc::new(Mutex::new(0usize));
    let counter = Arc::clone(&accepted);
    // 100 MB of input, far more than rlog may hold.
    let feeder = thread::spawn(move || {
        let block = "x".repeat(99) + "\n";
        let chunk = block.repeat(1000);
        for _ in 0..1000 {
            if stdin.write_all(chunk.as_bytes()).is_err() {
                return;
            }
            *counter.lock().expect("counter") += chunk.len();
        }
    });
    // Let it fill whatever it holds, then check that it stopped taking input.
    thread::sleep(Duration::from_secs(2));
    let first = *accepted.lock().expect("counter");
    thread::sleep(Duration::from_secs(1));
    let second = *accepted.lock().expect("counter");
    let _ = child.kill();
    let _ = child.wait();
    feeder.join().expect("feeder");
    assert_eq!(first, second, "rlog kept reading while the server was down");
    // Each stage holds a few reads' worth: chunks in flight (4), the batch being built,
    // the writer's queue (8), the forwarder's queue (4) and batch, the window, and the
    // pipe: about 20 reads. 32 leaves room, and is far below the 100 MB offered.
    let bound = 32 * rlog::input::READ_SIZE;
    assert!(
        second < bound,
        "rlog took {second} bytes (bound {bound}) before it stopped reading"
    );
}

#[test]
fn bad_syslog_options_are_usage_errors_naming_the_value() {
    let dir = tempdir();
    for (args, needle) in [
        (&["--syslog", "loghost:514"][..], "'loghost:514'"),
        (&["--syslog", "relp://loghost"], "'relp://loghost'"),
        (&["--syslog", "tcp://h:99999"], "'tcp://h:99999'"),
        (&["--syslog", "udp://h", "--facility", "nope"], "nope"),
        (&["--syslog", "udp://h", "--syslog-format", "rfc1"], "rfc1"),
    ] {
        rlog(dir.path())
            .args(args)
            .write_stdin("x\n")
            .assert()
            .code(64)
            .stderr(predicate::str::contains(needle));
    }
}

/// A scripted RELP server for the cases a real one will not produce on cue. It answers
/// `open` and `close`; `reply` decides, per connection and per message, whether and how
/// to answer a `syslog` command. Returns every message received, per connection.
struct ScriptedServer {
    port: u16,
    thread: thread::JoinHandle<Vec<Vec<Vec<u8>>>>,
}

/// What the script does with a message: answer with a status line, or stop answering
/// and drop the connection.
enum Answer {
    Status(&'static str),
    DelayThen(Duration, &'static str),
    DropConnection,
}

impl ScriptedServer {
    fn start(
        connections: usize,
        reply: impl Fn(usize, usize, &[u8]) -> Answer + Send + 'static,
        acked_at: Arc<Mutex<Option<Instant>>>,
    ) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("scripted server");
        let port = listener.local_addr().expect("address").port();
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let thread = thread::spawn(move || {
            let mut all = Vec::new();
            for conn in 0..connections {
                // A connection that never comes ends the script, not the test run.
                let deadline = Instant::now() + Duration::from_secs(10);
                let stream = loop {
                    match listener.accept() {
                        Ok((stream, _)) => break stream,
                        Err(_) if Instant::now() < deadline => {
                            thread::sleep(Duration::from_millis(10))
                        }
                        Err(_) => return all,
                    }
                };
                stream.set_nonblocking(false).expect("blocking stream");
                all.push(serve(conn, stream, &reply, &acked_at));
            }
            all
        });
        ScriptedServer { port, thread }
    }
}

fn serve(
    conn: usize,
    mut stream: TcpStream,
    reply: &impl Fn(usize, usize, &[u8]) -> Answer,
    acked_at: &Mutex<Option<Instant>>,
) -> Vec<Vec<u8>> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut parser = FrameParser::default();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return received,
            Ok(n) => n,
        };
        parser.feed(&buf[..n]);
        while let Some(frame) = parser.next_frame().expect("rlog's framing") {
            let mut out = Vec::new();
            match frame.command.as_str() {
                "open" => relp::encode(
                    frame.txnr,
                    "rsp",
                    b"200 OK\nrelp_version=0\ncommands=syslog",
                    &mut out,
                ),
                "close" => {
                    relp::encode(frame.txnr, "rsp", b"", &mut out);
                    relp::encode(0, "serverclose", b"", &mut out);
                }
                "syslog" => {
                    let index = received.len();
                    received.push(frame.data.clone());
                    match reply(conn, index, &frame.data) {
                        Answer::Status(s) => {
                            relp::encode(frame.txnr, "rsp", s.as_bytes(), &mut out)
                        }
                        Answer::DelayThen(d, s) => {
                            thread::sleep(d);
                            *acked_at.lock().expect("ack time") = Some(Instant::now());
                            relp::encode(frame.txnr, "rsp", s.as_bytes(), &mut out);
                        }
                        Answer::DropConnection => {
                            // Let rlog read the answers already sent and take what it
                            // sent since, so the close is a FIN, not a reset that could
                            // discard those answers.
                            thread::sleep(Duration::from_millis(300));
                            stream.set_nonblocking(true).expect("nonblocking");
                            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
                            return received;
                        }
                    }
                }
                other => panic!("unexpected command {other}"),
            }
            stream.write_all(&out).expect("answering rlog");
        }
    }
}

fn seq_of(message: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(message);
    let rest = &text[text.find("seq=\"").expect("seq") + 5..];
    rest[..rest.find('"').expect("closing quote")]
        .parse()
        .expect("a number")
}

#[test]
fn relp_exit_waits_for_the_last_acknowledgement() {
    let acked_at = Arc::new(Mutex::new(None));
    let server = ScriptedServer::start(
        1,
        |_, index, _| match index {
            4 => Answer::DelayThen(Duration::from_millis(1500), "200 OK"),
            _ => Answer::Status("200 OK"),
        },
        Arc::clone(&acked_at),
    );
    let dir = tempdir();
    rlog(dir.path())
        .args(["--syslog", &format!("relp://127.0.0.1:{}", server.port)])
        .write_stdin(lines(1..=5))
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stderr("");
    let exited = Instant::now();
    let last_ack = acked_at
        .lock()
        .expect("ack time")
        .expect("the last line was acknowledged");
    assert!(
        exited >= last_ack,
        "rlog exited before the last acknowledgement"
    );
    let received = server.thread.join().expect("server");
    assert_eq!(received[0].len(), 5);
}

#[test]
fn relp_resends_unacknowledged_lines_after_the_connection_drops() {
    // First connection: acknowledge three lines, then drop the connection while the
    // rest wait for their answers. Second connection: acknowledge everything.
    let server = ScriptedServer::start(
        2,
        |conn, index, _| match (conn, index) {
            (0, 0..=2) => Answer::Status("200 OK"),
            (0, _) => Answer::DropConnection,
            _ => Answer::Status("200 OK"),
        },
        Arc::new(Mutex::new(None)),
    );
    let dir = tempdir();
    rlog(dir.path())
        .args(["--syslog", &format!("relp://127.0.0.1:{}", server.port)])
        .write_stdin(lines(1..=10))
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stderr(predicate::str::contains("lost the connection"))
        .stderr(predicate::str::contains("sent again"));
    let received = server.thread.join().expect("server");
    assert_eq!(received.len(), 2, "rlog did not reconnect");
    let second: Vec<u64> = received[1].iter().map(|m| seq_of(m)).collect();
    // Everything not acknowledged on the first connection comes again, in order.
    assert_eq!(second, (4..=10).collect::<Vec<_>>());
}

#[test]
fn relp_line_refused_by_the_server_is_counted_and_ends_74() {
    let server = ScriptedServer::start(
        1,
        |_, index, _| match index {
            1 => Answer::Status("500 message too large"),
            _ => Answer::Status("200 OK"),
        },
        Arc::new(Mutex::new(None)),
    );
    let dir = tempdir();
    let url = format!("relp://127.0.0.1:{}", server.port);
    rlog(dir.path())
        .args(["--syslog", &url])
        .write_stdin(lines(1..=4))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(74)
        .stderr(predicate::str::contains("500 message too large"))
        .stderr(predicate::str::contains(format!(
            "1 line(s) were not delivered to '{url}'"
        )));
    let received = server.thread.join().expect("server");
    assert_eq!(received[0].len(), 4, "a refused line is not sent again");
}

#[test]
fn a_tcp_server_that_never_reads_is_not_taken_as_a_delivery() {
    let dir = tempdir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts every connection and holds it, reading nothing, closing nothing.
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });
    let input: String = (1..=2000).map(|i| format!("line {i}\n")).collect();
    rlog(dir.path())
        .args(["-p", "f.log", "--retry-for", "1s", "--syslog"])
        .arg(format!("tcp://127.0.0.1:{port}"))
        .write_stdin(input)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(74)
        .stderr(predicate::str::contains("may not have read the last lines"));
    assert_eq!(
        read_lines(dir.path().join("f.log")).len(),
        2000,
        "the file is complete"
    );
    drop(held);
}
