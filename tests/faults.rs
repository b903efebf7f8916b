//! Faults: a full disk, a failing fsync, and targets that are not regular files. Each
//! test drives the real binary; the disk-full tests mount a small tmpfs (root, as in CI).

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Tmpfs, have_strace, read, rlog, rlog_std, root_or_skip, tempdir};
use predicates::prelude::*;

/// Record `i` as the input line; the odd length makes a full disk cut one in the middle.
fn record(i: usize) -> String {
    format!("record {i:06} padded so that a page holds no whole number of them\n")
}

fn records(n: usize) -> String {
    (1..=n).map(record).collect()
}

/// `N line(s) were not written to 'PATH'` from rlog's stderr.
fn lost_count(stderr: &str, path: &Path) -> usize {
    let tail = format!(" line(s) were not written to '{}'", path.display());
    let line = stderr
        .lines()
        .find(|l| l.contains(&tail))
        .unwrap_or_else(|| panic!("no lost-line count for {}: {stderr}", path.display()));
    let count = line.trim_start_matches("rlog: ").split(' ').next().unwrap();
    count.parse().unwrap()
}

/// Checks that `content` is `old` followed by records 1..=k, whole and in order, and
/// returns k.
fn whole_records_after(content: &[u8], old: &[u8]) -> usize {
    assert!(content.starts_with(old), "old content was changed");
    let rest = &content[old.len()..];
    assert!(
        rest.is_empty() || rest.ends_with(b"\n"),
        "the file ends in a torn record: {:?}",
        String::from_utf8_lossy(&rest[rest.len().saturating_sub(80)..])
    );
    let text = std::str::from_utf8(rest).unwrap();
    let mut k = 0;
    for (i, line) in text.lines().enumerate() {
        assert_eq!(
            format!("{line}\n"),
            record(i + 1),
            "line {} after the old ones",
            i + 1
        );
        k = i + 1;
    }
    k
}

#[test]
fn full_tmpfs_keeps_old_lines_and_whole_records_and_counts_the_rest() {
    if !root_or_skip("full_tmpfs_keeps_old_lines_and_whole_records_and_counts_the_rest") {
        return;
    }
    let fs = Tmpfs::mount("256k");
    let full = fs.path().join("full.log");
    let old = b"an old line\nanother old line\n";
    std::fs::write(&full, old).unwrap();
    let dir = tempdir();
    let good = dir.path().join("good.log");
    let input = records(20_000);
    let started = Instant::now();
    let out = rlog(dir.path())
        .arg("-p")
        .arg(&full)
        .args(["-p", "good.log", "-f", "%{message}", "--retry-for", "500ms"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(
        stderr.contains("No space left on device"),
        "no OS error: {stderr}"
    );
    assert!(
        elapsed >= Duration::from_millis(500),
        "gave up after {elapsed:?}, before --retry-for 500ms"
    );
    let kept = whole_records_after(&read(&full), old);
    assert!(kept > 1000, "only {kept} records fitted on 256k");
    assert_eq!(lost_count(&stderr, &full), 20_000 - kept, "{stderr}");
    assert_eq!(read(&good), input.as_bytes(), "the healthy path lost lines");
}

/// With --rotate-size the writes take another path (size checked under the lock); a full
/// disk must leave the same whole records there.
#[test]
fn full_tmpfs_with_rotation_on_leaves_whole_records() {
    if !root_or_skip("full_tmpfs_with_rotation_on_leaves_whole_records") {
        return;
    }
    let fs = Tmpfs::mount("256k");
    let full = fs.path().join("full.log");
    let dir = tempdir();
    let out = rlog(dir.path())
        .arg("-p")
        .arg(&full)
        .args([
            "-f",
            "%{message}",
            "--retry-for",
            "0",
            "--rotate-size",
            "10MiB",
        ])
        .write_stdin(records(20_000))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    let kept = whole_records_after(&read(&full), b"");
    assert!(kept > 1000, "only {kept} records fitted on 256k");
    assert_eq!(lost_count(&stderr, &full), 20_000 - kept, "{stderr}");
}

/// Regression: a write that stopped in the middle of a record left that half record at the
/// end of the file, and the next appender's record then continued the same line.
#[test]
fn a_short_write_never_leaves_half_a_record_before_the_next_record() {
    if !root_or_skip("a_short_write_never_leaves_half_a_record_before_the_next_record") {
        return;
    }
    let fs = Tmpfs::mount("256k");
    let shared = fs.path().join("shared.log");
    let ballast = fs.path().join("ballast");
    std::fs::write(&ballast, vec![b'x'; 64 * 1024]).unwrap();
    let dir = tempdir();

    // A second rlog holds the file open, as an overlapping cron run would.
    let mut other = rlog_std(dir.path())
        .arg("-p")
        .arg(&shared)
        .args(["-f", "%{message}"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut other_in = other.stdin.take().unwrap();
    other_in.write_all(b"other first\n").unwrap();
    wait_for(
        || std::fs::read(&shared).unwrap_or_default() == b"other first\n",
        "the other rlog's first line",
    );

    let out = rlog(dir.path())
        .arg("-p")
        .arg(&shared)
        .args(["-f", "%{message}", "--retry-for", "0"])
        .write_stdin(records(20_000))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(74));
    let kept = whole_records_after(&read(&shared), b"other first\n");
    assert!(kept > 0);

    // Room again; the other rlog's next line must start a line of its own.
    std::fs::remove_file(&ballast).unwrap();
    other_in.write_all(b"other second\n").unwrap();
    drop(other_in);
    let status = other.wait().unwrap();
    assert!(status.success(), "the other rlog failed: {status:?}");
    let content = read(&shared);
    assert!(
        content.ends_with(b"\nother second\n"),
        "a record was continued on a torn line: {:?}",
        String::from_utf8_lossy(&content[content.len() - 120..])
    );
    let before = &content[..content.len() - b"other second\n".len()];
    assert_eq!(whole_records_after(before, b"other first\n"), kept);
}

fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn dev_full_is_retried_for_retry_for_then_given_up() {
    let dir = tempdir();
    let run = |retry: &str| {
        let started = Instant::now();
        rlog(dir.path())
            .args(["-p", "/dev/full", "-f", "%{message}", "--retry-for", retry])
            .write_stdin("one\ntwo\nthree\n")
            .assert()
            .code(74)
            .stderr(
                predicate::str::contains(
                    "3 line(s) were not written to '/dev/full': No space left on device",
                )
                .and(predicate::str::contains("cannot write to '/dev/full'")),
            );
        started.elapsed()
    };
    let retried = run("1500ms");
    assert!(
        retried >= Duration::from_millis(1500),
        "gave up after {retried:?}"
    );
    assert!(
        retried < Duration::from_secs(8),
        "kept retrying: {retried:?}"
    );
    let at_once = run("0");
    assert!(
        at_once < Duration::from_millis(1500),
        "0 retried: {at_once:?}"
    );
}

#[test]
fn a_failing_path_does_not_kill_the_producer_with_sigpipe() {
    let dir = tempdir();
    // 300,000 lines are far more than a pipe holds: if rlog stopped reading, seq would die.
    let out = Command::new("bash")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "seq 1 300000 | '{}' -p /dev/full -p good.log -f '%{{message}}' --retry-for 0; \
             echo \"${{PIPESTATUS[*]}}\"",
            common::bin().display()
        ))
        .env_remove("RLOG_PATH")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0 74\n");
    let good = read(dir.path().join("good.log"));
    assert_eq!(good.iter().filter(|&&b| b == b'\n').count(), 300_000);
    assert!(good.ends_with(b"\n300000\n"));
}

/// The process id of rlog started by `parent` (strace forks short-lived probes first).
fn rlog_child_of(parent: u32) -> u32 {
    let children = format!("/proc/{parent}/task/{parent}/children");
    let bin = common::bin();
    let mut found = None;
    wait_for(
        || {
            let list = std::fs::read_to_string(&children).unwrap_or_default();
            found = list.split_whitespace().find_map(|pid| {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
                (exe == bin).then(|| pid.parse().ok())?
            });
            found.is_some()
        },
        "strace to start rlog",
    );
    found.unwrap()
}

#[test]
fn failed_fsync_is_reported_never_retried_and_exits_74() {
    if !have_strace("failed_fsync_is_reported_never_retried_and_exits_74") {
        return;
    }
    let dir = tempdir();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let trace = dir.path().join("trace.txt");
    let mut strace = Command::new("strace");
    strace
        .arg("-f")
        .arg("-o")
        .arg(&trace)
        .args(["-e", "trace=fsync,fdatasync"])
        .args(["-e", "inject=fsync,fdatasync:error=EIO"])
        .arg("-P")
        .arg(&log)
        .arg(common::bin())
        .args(["-p", "app.log", "-f", "%{message}"])
        .current_dir(dir.path())
        .env_remove("RLOG_PATH")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = strace.spawn().unwrap();
    let rlog_pid = rlog_child_of(child.id());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"before the checkpoint\n").unwrap();
    wait_for(
        || std::fs::read(&log).unwrap_or_default() == b"before the checkpoint\n",
        "the first line",
    );
    // SIGUSR1 syncs now: this fsync fails. Later lines must not bring a second one.
    unsafe_kill(rlog_pid, libc::SIGUSR1);
    let fsyncs = || {
        std::fs::read_to_string(&trace)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("fsync(") || l.contains("fdatasync("))
            .count()
    };
    wait_for(|| fsyncs() == 1, "the checkpoint's fsync");
    stdin.write_all(b"after the checkpoint\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(
        stderr.contains("cannot sync 'app.log' to disk: Input/output error"),
        "{stderr}"
    );
    let calls = std::fs::read_to_string(&trace).unwrap();
    assert_eq!(fsyncs(), 1, "a failed fsync was retried:\n{calls}");
    assert!(calls.contains("(INJECTED)"), "{calls}");
    assert_eq!(read(&log), b"before the checkpoint\nafter the checkpoint\n");
}

fn unsafe_kill(pid: u32, signal: i32) {
    // SAFETY: kill has no memory effects; the pid is our own child's child.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill {pid}: {}", std::io::Error::last_os_error());
}

#[test]
fn dev_stderr_as_a_path_is_written_and_its_refused_fsync_is_no_error() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "/dev/stderr", "-f", "%{message}"])
        .write_stdin("to stderr\nand more\n")
        .assert()
        .success()
        .stderr("to stderr\nand more\n");
}

#[test]
fn a_fifo_as_a_path_is_written_and_exits_0() {
    let dir = tempdir();
    let fifo = dir.path().join("pipe");
    common::sh(&["mkfifo", fifo.to_str().unwrap()]);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            File::open(fifo).unwrap().read_to_end(&mut got).unwrap();
            got
        })
    };
    rlog(dir.path())
        .args(["-p", "pipe", "-f", "%{message}"])
        .write_stdin("through\na fifo\n")
        .assert()
        .success()
        .stderr("");
    assert_eq!(reader.join().unwrap(), b"through\na fifo\n");
}

/// Regression: rlog opened every path read-write, so it held a read end of a FIFO itself;
/// once the real reader left, writes filled the pipe and blocked for ever, even after
/// SIGTERM. Write-only, the write fails with EPIPE and the path is given up.
#[test]
fn a_fifo_whose_reader_left_is_given_up_with_74_instead_of_hanging() {
    let dir = tempdir();
    let fifo = dir.path().join("pipe");
    common::sh(&["mkfifo", fifo.to_str().unwrap()]);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut first = [0u8; 10];
            File::open(fifo).unwrap().read_exact(&mut first).unwrap();
        })
    };
    let mut child = rlog_std(dir.path())
        .args(["-p", "pipe", "-p", "good.log", "-f", "%{message}"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = (1..=200_000).map(|i| format!("line {i}\n")).collect();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    reader.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("rlog hung on a FIFO whose reader left");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    feeder.join().unwrap().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(74), "{stderr}");
    assert!(
        stderr.contains("cannot write to 'pipe': Broken pipe"),
        "{stderr}"
    );
    let good = read(dir.path().join("good.log"));
    assert_eq!(good.iter().filter(|&&b| b == b'\n').count(), 200_000);
}

#[test]
fn a_terminal_as_a_path_is_written_and_exits_0() {
    let (master, slave_path) = open_pty();
    let dir = tempdir();
    rlog(dir.path())
        .arg("-p")
        .arg(&slave_path)
        .args(["-f", "%{message}"])
        .write_stdin("on a\nterminal\n")
        .assert()
        .success()
        .stderr("");
    let want = b"on a\nterminal\n";
    let mut got = vec![0; want.len()];
    let mut master = master;
    master.read_exact(&mut got).unwrap();
    assert_eq!(got, want);
}

/// A pseudo-terminal in raw mode: its master, and its slave's path (kept open by the
/// returned slave file inside, so written bytes wait for the reader).
fn open_pty() -> (PtyMaster, String) {
    // SAFETY: plain libc calls on a descriptor this function owns; the buffers passed to
    // ptsname_r and tcgetattr live on the stack for the length of the call.
    unsafe {
        let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(fd >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(fd), 0);
        assert_eq!(libc::unlockpt(fd), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0);
        let path = std::ffi::CStr::from_ptr(name.as_ptr())
            .to_str()
            .unwrap()
            .to_string();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut tio: libc::termios = std::mem::zeroed();
        let sfd = std::os::fd::AsRawFd::as_raw_fd(&slave);
        assert_eq!(libc::tcgetattr(sfd, &mut tio), 0);
        libc::cfmakeraw(&mut tio);
        assert_eq!(libc::tcsetattr(sfd, libc::TCSANOW, &tio), 0);
        let master = File::from(<std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd));
        (
            PtyMaster {
                master,
                _slave: slave,
            },
            path,
        )
    }
}

struct PtyMaster {
    master: File,
    _slave: File,
}

impl Read for PtyMaster {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.master.read(buf)
    }
}
