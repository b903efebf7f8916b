//! What makes a line durable, checked at the syscall level with strace: every file gets an
//! fsync after its last write, every new file's directory gets one, and there is no fsync
//! per line.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::{bin, have_strace, tempdir};

/// One traced syscall: name, first argument, the quoted path if any, and the result.
#[derive(Debug)]
struct Call {
    name: String,
    fd: Option<i64>,
    path: Option<String>,
    result: i64,
}

/// Runs rlog under `strace -f` in `dir` with `input` on stdin; returns the calls.
fn trace_rlog(dir: &Path, args: &[&str], input: &[u8]) -> (Vec<Call>, std::process::ExitStatus) {
    let input_file = dir.join("input.txt");
    std::fs::write(&input_file, input).unwrap();
    let trace = dir.join("trace.txt");
    let status = Command::new("strace")
        .current_dir(dir)
        .args(["-f", "-qq", "-o"])
        .arg(&trace)
        .args([
            "-e",
            "trace=openat,write,writev,pwrite64,fsync,fdatasync,close,rename,renameat2",
        ])
        .arg(bin())
        .args(args)
        .stdin(std::fs::File::open(&input_file).unwrap())
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&trace).unwrap();
    (parse_trace(&text), status)
}

/// Parses `PID name(args) = result` lines. With several threads strace splits a call
/// into `<unfinished ...>` and `<... name resumed>` halves; they are joined first.
fn parse_trace(text: &str) -> Vec<Call> {
    let mut pending: HashMap<&str, String> = HashMap::new();
    let mut calls = Vec::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            pending.insert(pid, head.trim_end().to_string());
            continue;
        }
        let whole = match rest.strip_prefix("<... ") {
            Some(resumed) => {
                let Some(head) = pending.remove(pid) else {
                    continue;
                };
                let tail = resumed.split_once("resumed>").map_or("", |(_, t)| t);
                format!("{head}{tail}")
            }
            None => rest.to_string(),
        };
        calls.extend(parse_call(&whole));
    }
    calls
}

fn parse_call(call: &str) -> Option<Call> {
    let open = call.find('(')?;
    let name = call[..open].to_string();
    let (args, result) = call[open + 1..].rsplit_once(" = ")?;
    let args = args.trim_end().strip_suffix(')')?;
    let result: i64 = result.split_whitespace().next()?.parse().ok()?;
    let first = args.split(',').next().unwrap_or("");
    let fd = first.trim().parse().ok();
    let path = args.split('"').nth(1).map(str::to_string);
    Some(Call {
        name,
        fd,
        path,
        result,
    })
}

/// For each opened path, the index of its last write and of its last fsync.
fn writes_and_syncs(calls: &[Call]) -> HashMap<String, (Option<usize>, Option<usize>)> {
    let mut fd_path: HashMap<i64, String> = HashMap::new();
    let mut seen: HashMap<String, (Option<usize>, Option<usize>)> = HashMap::new();
    for (i, call) in calls.iter().enumerate() {
        match call.name.as_str() {
            "openat" if call.result >= 0 => {
                if let Some(path) = &call.path {
                    fd_path.insert(call.result, path.clone());
                    seen.entry(path.clone()).or_default();
                }
            }
            "close" => {
                if let Some(fd) = call.fd {
                    fd_path.remove(&fd);
                }
            }
            "write" | "writev" | "pwrite64" | "fsync" | "fdatasync" => {
                let Some(path) = call.fd.and_then(|fd| fd_path.get(&fd)) else {
                    continue;
                };
                let entry = seen.entry(path.clone()).or_default();
                if call.name.starts_with('f') {
                    entry.1 = Some(i);
                } else {
                    entry.0 = Some(i);
                }
            }
            _ => {}
        }
    }
    seen
}

#[test]
fn every_file_is_synced_after_its_last_write_and_new_directories_too() {
    if !have_strace("every_file_is_synced_after_its_last_write") {
        return;
    }
    let dir = tempdir();
    std::fs::write(dir.path().join("existing.log"), "old\n").unwrap();
    let input: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
    let (calls, status) = trace_rlog(
        dir.path(),
        &["-p", "logs/new/app.log", "-p", "existing.log"],
        input.as_bytes(),
    );
    assert!(status.success(), "{status:?}");
    let seen = writes_and_syncs(&calls);
    for path in ["logs/new/app.log", "existing.log"] {
        let (write, sync) = seen.get(path).copied().unwrap_or_default();
        let (write, sync) = (write.expect("written"), sync.expect("synced"));
        assert!(
            sync > write,
            "{path}: last fsync (call {sync}) must follow last write (call {write})"
        );
    }
    // The new file's directory and the new directories' parents are synced (opened and
    // fsynced after the file was created); the existing file's directory needs nothing.
    for dir_path in ["logs/new", "logs", "."] {
        let (_, sync) = seen.get(dir_path).copied().unwrap_or_default();
        let created = calls
            .iter()
            .position(|c| c.name == "openat" && c.path.as_deref() == Some("logs/new/app.log"))
            .unwrap();
        let sync = sync.unwrap_or_else(|| panic!("directory {dir_path} was never synced"));
        assert!(
            sync > created,
            "directory {dir_path} synced before the file was created"
        );
    }
}

#[test]
fn a_hundred_thousand_lines_take_a_handful_of_fsyncs() {
    if !have_strace("a_hundred_thousand_lines_take_a_handful_of_fsyncs") {
        return;
    }
    let dir = tempdir();
    let input: String = (1..=100_000).map(|i| format!("line {i}\n")).collect();
    let (calls, status) = trace_rlog(dir.path(), &["-p", "big.log"], input.as_bytes());
    assert!(status.success());
    let syncs = calls
        .iter()
        .filter(|c| c.name == "fsync" || c.name == "fdatasync")
        .count();
    let writes = calls.iter().filter(|c| c.name == "write").count();
    assert!((1..=5).contains(&syncs), "{syncs} fsyncs for 100,000 lines");
    assert!(
        writes < 1000,
        "{writes} writes for 100,000 lines: batching is not working"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("big.log"))
            .unwrap()
            .lines()
            .count(),
        100_000
    );
}

#[test]
fn no_sync_skips_every_fsync() {
    if !have_strace("no_sync_skips_every_fsync") {
        return;
    }
    let dir = tempdir();
    let (calls, status) = trace_rlog(dir.path(), &["-p", "fast.log", "--no-sync"], b"a\nb\n");
    assert!(status.success());
    assert!(
        !calls
            .iter()
            .any(|c| c.name == "fsync" || c.name == "fdatasync"),
        "--no-sync must not fsync"
    );
    assert_eq!(common::messages(dir.path().join("fast.log")), ["a", "b"]);
}

#[test]
fn write_subcommand_syncs_before_exit() {
    if !have_strace("write_subcommand_syncs_before_exit") {
        return;
    }
    let dir = tempdir();
    let (calls, status) = trace_rlog(dir.path(), &["write", "-p", "one.log", "hello"], b"");
    assert!(status.success());
    let seen = writes_and_syncs(&calls);
    let (write, sync) = seen["one.log"];
    assert!(sync.expect("synced") > write.expect("written"));
    assert!(seen["."].1.is_some(), "the new file's directory is synced");
}

#[test]
fn run_syncs_the_log_before_exit() {
    if !have_strace("run_syncs_the_log_before_exit") {
        return;
    }
    let dir = tempdir();
    let (calls, status) = trace_rlog(
        dir.path(),
        &["run", "-p", "job.log", "--", "seq", "1000"],
        b"",
    );
    assert!(status.success());
    let seen = writes_and_syncs(&calls);
    let (write, sync) = seen["job.log"];
    assert!(sync.expect("synced") > write.expect("written"));
    assert!(seen["."].1.is_some(), "the new file's directory is synced");
}

#[test]
fn rotation_syncs_the_file_before_the_rename_and_the_directory_after() {
    if !have_strace("rotation_syncs_the_file_before_the_rename_and_the_directory_after") {
        return;
    }
    let dir = tempdir();
    let input: String = (1..=3000).map(|i| format!("line {i:05}\n")).collect();
    let (calls, status) = trace_rlog(
        dir.path(),
        &[
            "-p",
            "app.log",
            "-f",
            "%{message}",
            "--rotate-size",
            "10k",
            "--rotate-keep",
            "100",
        ],
        input.as_bytes(),
    );
    assert!(status.success());
    let mut fd_path: HashMap<i64, String> = HashMap::new();
    let mut last_sync: HashMap<String, usize> = HashMap::new();
    let mut renames = 0;
    for (i, call) in calls.iter().enumerate() {
        match call.name.as_str() {
            "openat" if call.result >= 0 => {
                fd_path.insert(call.result, call.path.clone().unwrap_or_default());
            }
            "fsync" | "fdatasync" => {
                if let Some(path) = call.fd.and_then(|fd| fd_path.get(&fd)) {
                    last_sync.insert(path.clone(), i);
                }
            }
            "renameat2" | "rename" if call.result == 0 => {
                renames += 1;
                // The file was synced (as app.log, before this rename) after its last write.
                let synced = last_sync
                    .get("app.log")
                    .copied()
                    .expect("app.log synced before rename");
                let last_write = calls[..i]
                    .iter()
                    .rposition(|c| {
                        c.name == "write"
                            && c.fd.and_then(|fd| fd_path.get(&fd)).map(String::as_str)
                                == Some("app.log")
                    })
                    .expect("a write before the rename");
                assert!(
                    synced > last_write,
                    "rename {renames}: no fsync between the last write and the rename"
                );
                // The next fsync of the directory comes after the rename, before more data.
                let mut ahead: HashMap<i64, String> = HashMap::new();
                let mut next_dir_sync = None;
                for (j, c) in calls.iter().enumerate().skip(i) {
                    if c.name == "openat" && c.result >= 0 {
                        ahead.insert(c.result, c.path.clone().unwrap_or_default());
                    }
                    if c.name == "fsync"
                        && c.fd.and_then(|fd| ahead.get(&fd)).map(String::as_str) == Some(".")
                    {
                        next_dir_sync = Some(j);
                        break;
                    }
                }
                let next_write = calls
                    .iter()
                    .skip(i)
                    .position(|c| c.name == "write")
                    .map(|w| w + i);
                let next_dir_sync = next_dir_sync.expect("directory synced after the rename");
                if let Some(w) = next_write {
                    assert!(
                        next_dir_sync < w,
                        "rename {renames}: data written before the directory was synced"
                    );
                }
                last_sync.remove("app.log");
            }
            _ => {}
        }
    }
    assert!(renames >= 3, "{renames} rotations");
}

#[test]
fn write_holds_a_sigterm_until_the_line_and_its_directory_are_synced() {
    if !have_strace("write_holds_a_sigterm_until_the_line_and_its_directory_are_synced") {
        return;
    }
    let dir = tempdir();
    let trace = dir.path().join("trace.txt");
    // Every fsync is held up for 700 ms, so the TERM below lands in the middle of them.
    let mut strace = Command::new("strace")
        .current_dir(dir.path())
        .args(["-f", "-qq", "-o"])
        .arg(&trace)
        .args(["-e", "trace=fsync", "-e", "inject=fsync:delay_enter=700000"])
        .arg(bin())
        .args(["write", "-p", "held.log", "held line"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let children = Command::new("pgrep")
        .args(["-P", &strace.id().to_string()])
        .output()
        .unwrap();
    let pid: i32 = String::from_utf8_lossy(&children.stdout)
        .trim()
        .parse()
        .expect("rlog's pid");
    // SAFETY: kill(2) on the rlog process this test started through strace.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = strace.wait().unwrap();
    // strace ends the way its tracee did.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let text = std::fs::read_to_string(&trace).unwrap();
    let synced = text
        .lines()
        .filter(|l| l.contains("fsync(") && l.contains(" = 0"))
        .count();
    assert_eq!(
        synced, 2,
        "the file and its directory are synced before the signal ends rlog:\n{text}"
    );
    assert!(common::messages(dir.path().join("held.log")) == ["held line"]);
}
