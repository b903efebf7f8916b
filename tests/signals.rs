//! SIGTERM and SIGINT: keep reading through the grace period for the producer's last
//! words, then drain, sync and die by the same signal.

mod common;

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{kill, read, rlog_std, tempdir, wait_for_content, wait_with_deadline};

#[test]
fn sigterm_with_an_idle_producer_drains_and_dies_by_sigterm_within_the_grace() {
    let dir = tempdir();
    let log = dir.path().join("idle.log");
    let mut child = rlog_std(dir.path())
        .args(["-p", "idle.log", "-f", "%{message}", "--grace", "1s"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"before 1\nbefore 2\n").unwrap();
    wait_for_content(&log, b"before 1\nbefore 2\n");
    kill(&child, libc::SIGTERM);
    // The pipe stays open (stdin is still held here): only the grace period ends the run.
    let (status, took) = wait_with_deadline(&mut child, Duration::from_secs(5));
    drop(stdin);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "status: {status:?}");
    assert!(
        took < Duration::from_secs(2),
        "took {took:?}, grace 1s + 1s allowed"
    );
    assert_eq!(read(&log), b"before 1\nbefore 2\n");
}

#[test]
fn sigint_ends_by_sigint_after_the_drain() {
    let dir = tempdir();
    let log = dir.path().join("int.log");
    let mut child = rlog_std(dir.path())
        .args(["-p", "int.log", "-f", "%{message}", "--grace", "100ms"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"ctrl-c\n").unwrap();
    // Once a line is in, the handlers are surely installed: a default death cannot pass.
    wait_for_content(&log, b"ctrl-c\n");
    kill(&child, libc::SIGINT);
    let (status, _) = wait_with_deadline(&mut child, Duration::from_secs(5));
    drop(stdin);
    assert_eq!(status.signal(), Some(libc::SIGINT));
    assert_eq!(read(&log), b"ctrl-c\n");
}

#[test]
fn a_partial_last_line_gets_its_newline_when_the_grace_ends() {
    let dir = tempdir();
    let log = dir.path().join("partial.log");
    let mut child = rlog_std(dir.path())
        .args(["-p", "partial.log", "-f", "%{message}", "--grace", "300ms"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"whole\nno newline yet").unwrap();
    wait_for_content(&log, b"whole\n");
    kill(&child, libc::SIGTERM);
    let (status, _) = wait_with_deadline(&mut child, Duration::from_secs(5));
    drop(stdin);
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert_eq!(read(&log), b"whole\nno newline yet\n");
}

#[test]
fn the_producers_last_words_after_the_signal_are_logged() {
    let dir = tempdir();
    let log = dir.path().join("last.log");
    // A producer that, like a script with a trap, writes one more line when signalled.
    let mut producer = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap 'echo interrupted, cleaning up; exit 0' TERM; echo working; while :; do sleep 0.05; done")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = rlog_std(dir.path())
        .args(["-p", "last.log", "-f", "%{message}"])
        .stdin(producer.stdout.take().unwrap())
        .spawn()
        .unwrap();
    wait_for_content(&log, b"working\n");
    // As a Ctrl-C or a service stop does: every process of the pipeline gets the signal.
    kill(&child, libc::SIGTERM);
    kill(&producer, libc::SIGTERM);
    let (status, took) = wait_with_deadline(&mut child, Duration::from_secs(5));
    let _ = producer.wait();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert!(
        took < Duration::from_secs(2),
        "EOF should end the grace early; took {took:?}"
    );
    assert_eq!(read(&log), b"working\ninterrupted, cleaning up\n");
}

#[test]
fn a_second_signal_cuts_the_grace_short() {
    let dir = tempdir();
    let log = dir.path().join("second.log");
    let mut child = rlog_std(dir.path())
        .args(["-p", "second.log", "-f", "%{message}", "--grace", "30s"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"kept\n").unwrap();
    wait_for_content(&log, b"kept\n");
    kill(&child, libc::SIGTERM);
    sleep(Duration::from_millis(100));
    kill(&child, libc::SIGTERM);
    let (status, took) = wait_with_deadline(&mut child, Duration::from_secs(5));
    drop(stdin);
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(read(&log), b"kept\n");
}

#[test]
fn sighup_reopens_a_moved_file() {
    let dir = tempdir();
    let log = dir.path().join("app.log");
    let moved = dir.path().join("app.log.1");
    let mut child = rlog_std(dir.path())
        .args(["-p", "app.log", "-f", "%{message}"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"old\n").unwrap();
    wait_for_content(&log, b"old\n");
    std::fs::rename(&log, &moved).unwrap();
    kill(&child, libc::SIGHUP);
    // The reopen is ordered after the signal's arrival; wait until the new file exists.
    let start = Instant::now();
    while !log.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no reopen after SIGHUP"
        );
        sleep(Duration::from_millis(10));
    }
    stdin.write_all(b"new\n").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert_eq!(read(&moved), b"old\n");
    assert_eq!(read(&log), b"new\n");
}

/// A FIFO whose reader never reads: once its buffer is full, rlog's writer blocks, so the
/// drain cannot finish. Returns the read end, which must stay open.
fn stuck_fifo(dir: &Path) -> std::fs::File {
    let fifo = dir.join("stuck.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap()
}

/// rlog fed by an endless producer and writing into a FIFO nobody reads: its writer is
/// soon blocked in write(2) and its input never ends. Returns rlog, the producer and the
/// FIFO's read end, which must stay open.
fn start_blocked_rlog(dir: &Path, extra: &[&str]) -> (Child, Child, std::fs::File) {
    let reader = stuck_fifo(dir);
    let mut producer = std::process::Command::new("yes")
        .arg("x".repeat(99))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let child = rlog_std(dir)
        .args(["-p", "stuck.fifo", "--grace", "100ms"])
        .args(extra)
        .stdin(producer.stdout.take().unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Time for the writer to fill the FIFO and block in write(2).
    sleep(Duration::from_millis(300));
    (child, producer, reader)
}

#[test]
fn a_third_signal_stops_at_once_with_a_warning() {
    let dir = tempdir();
    let (mut child, mut producer, _reader) = start_blocked_rlog(dir.path(), &[]);
    for _ in 0..2 {
        kill(&child, libc::SIGTERM);
        sleep(Duration::from_millis(100));
    }
    // The drain is stuck behind the FIFO: rlog is still running.
    assert!(
        child.try_wait().unwrap().is_none(),
        "rlog ended before the third signal"
    );
    kill(&child, libc::SIGTERM);
    let (status, took) = wait_with_deadline(&mut child, Duration::from_secs(5));
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let _ = producer.kill();
    let _ = producer.wait();
    assert!(stderr.contains("third signal (TERM)"), "{stderr}");
    assert!(stderr.contains("may be lost"), "{stderr}");
}

#[test]
fn drain_timeout_exits_75_when_the_drain_cannot_finish() {
    let dir = tempdir();
    let (mut child, mut producer, _reader) =
        start_blocked_rlog(dir.path(), &["--drain-timeout", "500ms"]);
    // A service stop while the output is stuck: grace (100ms) plus the timeout, then 75.
    kill(&child, libc::SIGTERM);
    let (status, took) = wait_with_deadline(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(75), "{status:?}");
    assert!(took >= Duration::from_millis(550), "took only {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let _ = producer.kill();
    let _ = producer.wait();
    assert!(stderr.contains("--drain-timeout"), "{stderr}");
}

#[test]
fn drain_timeout_bounds_the_drain_after_the_input_ends() {
    let dir = tempdir();
    let _reader = stuck_fifo(dir.path());
    let input = dir.path().join("input.txt");
    // More than the FIFO holds (so the writer blocks), less than rlog's queue holds (so
    // rlog reads to the end of input and starts the drain).
    std::fs::write(&input, ("y".repeat(99) + "\n").repeat(10_000)).unwrap();
    let start = Instant::now();
    let mut child = rlog_std(dir.path())
        .args(["-p", "stuck.fifo", "--drain-timeout", "400ms"])
        .stdin(std::fs::File::open(&input).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (status, _) = wait_with_deadline(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(75), "{status:?}");
    assert!(start.elapsed() >= Duration::from_millis(400));
}

#[test]
fn write_to_a_stuck_fifo_is_bounded_by_drain_timeout_and_hears_signals() {
    let dir = tempdir();
    let _reader = stuck_fifo(dir.path());
    // More than the FIFO holds (64 KiB), less than one argument may be (128 KiB).
    let message = "z".repeat(100_000);
    let start = Instant::now();
    let mut child = rlog_std(dir.path())
        .args([
            "write",
            "-p",
            "stuck.fifo",
            "--drain-timeout",
            "500ms",
            &message,
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (status, _) = wait_with_deadline(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(75), "{status:?}");
    assert!(start.elapsed() >= Duration::from_millis(500));
    // Without a bound, three TERMs still stop it.
    let mut child = rlog_std(dir.path())
        .args(["write", "-p", "stuck.fifo", &message])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    sleep(Duration::from_millis(300));
    for _ in 0..3 {
        kill(&child, libc::SIGTERM);
        sleep(Duration::from_millis(50));
    }
    let (status, _) = wait_with_deadline(&mut child, Duration::from_secs(5));
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}
