//! `rlog run -- COMMAND`: both streams logged with their levels, the command's status
//! passed through, signals forwarded, time limits, and failure output for cron.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{kill, read, read_lines, rlog, rlog_std, tempdir, wait_for_content};
use predicates::prelude::*;

fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn both_streams_are_logged_with_their_levels_and_stream_names() {
    let dir = tempdir();
    let task = script(
        dir.path(),
        "task.sh",
        "echo to-out; sleep 0.1; echo to-err >&2",
    );
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-q",
            "-f",
            "%{level} %{stream} %{message}",
            "--",
            &task,
        ])
        .assert()
        .success();
    assert_eq!(
        read(dir.path().join("job.log")),
        b"INFO stdout to-out\nERROR stderr to-err\n"
    );
}

#[test]
fn levels_for_each_stream_can_be_chosen() {
    let dir = tempdir();
    let task = script(dir.path(), "task.sh", "echo a; sleep 0.1; echo b >&2");
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-q",
            "-l",
            "debug",
            "--stderr-level",
            "warn",
        ])
        .args(["-f", "%{level} %{message}", "--", &task])
        .assert()
        .success();
    assert_eq!(read(dir.path().join("job.log")), b"DEBUG a\nWARNING b\n");
}

#[test]
fn start_and_end_records_name_the_command_pid_and_status() {
    let dir = tempdir();
    let task = script(dir.path(), "task.sh", "echo hi; exit 3");
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-f",
            "%{level} %{pid} %{message}",
            "--",
            &task,
            "arg1",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("exited with status 3"));
    let lines = read_lines(dir.path().join("job.log"));
    assert_eq!(lines.len(), 3, "{lines:?}");
    let pid = lines[0].split(' ').nth(1).unwrap();
    assert_eq!(
        lines[0],
        format!("INFO {pid} started: {task} arg1 (pid {pid})")
    );
    assert_eq!(lines[1], format!("INFO {pid} hi"));
    assert!(
        lines[2].starts_with(&format!("ERROR {pid} exited with status 3 after ")),
        "{}",
        lines[2]
    );
}

#[test]
fn success_end_record_is_info() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-f",
            "%{level} %{message}",
            "--",
            "true",
        ])
        .assert()
        .success()
        .stderr("");
    let lines = read_lines(dir.path().join("job.log"));
    assert!(
        lines[1].starts_with("INFO exited with status 0 after "),
        "{lines:?}"
    );
}

#[test]
fn exit_status_passes_through() {
    let dir = tempdir();
    let not_executable = dir.path().join("plain.txt");
    std::fs::write(&not_executable, "echo never").unwrap();
    for (command, code) in [
        (vec!["true"], 0),
        (vec!["sh", "-c", "exit 3"], 3),
        (vec!["sh", "-c", "kill -TERM $$"], 143),
        (vec!["sh", "-c", "kill -KILL $$"], 137),
        (vec!["no-such-command-rlog-test"], 127),
        (vec![not_executable.to_str().unwrap()], 126),
    ] {
        rlog(dir.path())
            .args(["run", "-p", "job.log", "--"])
            .args(&command)
            .assert()
            .code(code);
    }
    let log = String::from_utf8(read(dir.path().join("job.log"))).unwrap();
    assert!(log.contains("killed by signal TERM"), "{log}");
    assert!(log.contains("killed by signal KILL"), "{log}");
    assert!(
        log.contains("cannot run 'no-such-command-rlog-test'"),
        "{log}"
    );
    assert!(log.contains("plain.txt': Permission denied"), "{log}");
}

#[test]
fn a_hundred_thousand_lines_on_one_stream_stay_in_order() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "seq.log",
            "-q",
            "-f",
            "%{message}",
            "--",
            "seq",
            "100000",
        ])
        .assert()
        .success();
    let want: String = (1..=100_000).map(|i| format!("{i}\n")).collect();
    assert_eq!(read(dir.path().join("seq.log")), want.as_bytes());
}

#[test]
fn sigterm_is_forwarded_and_the_commands_last_words_are_logged() {
    let dir = tempdir();
    let task = script(
        dir.path(),
        "task.sh",
        "trap 'echo got TERM, cleaning up; exit 5' TERM; echo ready; while :; do sleep 0.05; done",
    );
    let log = dir.path().join("job.log");
    let mut child = rlog_std(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-q",
            "-f",
            "%{message}",
            "--",
            &task,
        ])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_content(&log, b"ready\n");
    kill(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(5),
        "the command's own status: {status:?}"
    );
    assert_eq!(read(&log), b"ready\ngot TERM, cleaning up\n");
}

#[test]
fn time_limit_ends_a_sleep_with_124() {
    let dir = tempdir();
    let start = Instant::now();
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-f",
            "%{message}",
            "--time-limit",
            "300ms",
            "--",
            "sleep",
            "30",
        ])
        .assert()
        .code(124);
    assert!(start.elapsed() < Duration::from_secs(5));
    let lines = read_lines(dir.path().join("job.log"));
    assert!(
        lines[1].starts_with("timed out; killed by signal TERM after "),
        "{lines:?}"
    );
}

#[test]
fn kill_after_sends_sigkill_to_a_command_that_ignores_sigterm() {
    let dir = tempdir();
    let task = script(
        dir.path(),
        "stubborn.sh",
        "trap '' TERM; echo ready; sleep 30 & wait; sleep 30",
    );
    let start = Instant::now();
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-q",
            "-f",
            "%{message}",
            "--process-group",
        ])
        .args([
            "--time-limit",
            "200ms",
            "--kill-after",
            "300ms",
            "--",
            &task,
        ])
        .assert()
        .code(124);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn a_grandchild_holding_the_pipe_is_read_to_the_end() {
    let dir = tempdir();
    let task = script(
        dir.path(),
        "task.sh",
        "(sleep 0.5; echo from grandchild) & echo parent done",
    );
    rlog(dir.path())
        .args(["run", "-p", "job.log", "-f", "%{message}", "--", &task])
        .assert()
        .success();
    let lines = read_lines(dir.path().join("job.log"));
    assert!(lines.contains(&"parent done".to_string()), "{lines:?}");
    assert!(lines.contains(&"from grandchild".to_string()), "{lines:?}");
}

#[test]
fn on_failure_print_shows_the_logged_lines_only_when_the_command_fails() {
    let dir = tempdir();
    std::fs::write(dir.path().join("job.log"), "earlier run\n").unwrap();
    let failing = script(
        dir.path(),
        "fail.sh",
        "echo step one; echo broke >&2; exit 2",
    );
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-f",
            "%{stream}: %{message}",
            "--on-failure-print",
            "--",
            &failing,
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("stdout: step one\n")
                .and(predicate::str::contains("stderr: broke\n"))
                .and(predicate::str::contains("earlier run").not()),
        );
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "--on-failure-print",
            "--",
            "echo",
            "fine",
        ])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn a_command_that_succeeds_with_a_lost_line_exits_74() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "/dev/full",
            "--retry-for",
            "0",
            "--",
            "echo",
            "hi",
        ])
        .assert()
        .code(74);
}

#[test]
fn env_unbuffered_sets_pythonunbuffered() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "env.log",
            "-q",
            "-f",
            "%{message}",
            "--env-unbuffered",
            "--",
        ])
        .args(["sh", "-c", "echo PYTHONUNBUFFERED=$PYTHONUNBUFFERED"])
        .assert()
        .success();
    assert_eq!(read(dir.path().join("env.log")), b"PYTHONUNBUFFERED=1\n");
}

#[test]
fn run_without_a_command_is_a_usage_error() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["run", "-p", "x.log"])
        .assert()
        .code(64);
}

#[test]
fn killed_by_the_forwarded_signal_rlog_dies_by_it_too() {
    let dir = tempdir();
    let log = dir.path().join("job.log");
    let mut child = rlog_std(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-q",
            "-f",
            "%{message}",
            "--",
            "sh",
            "-c",
            "echo up; exec sleep 30",
        ])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_content(&log, b"up\n");
    kill(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}

#[test]
fn time_limit_bounds_the_run_even_when_a_child_of_the_command_holds_the_pipe() {
    let dir = tempdir();
    let start = Instant::now();
    rlog(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-f",
            "%{message}",
            "--time-limit",
            "500ms",
            "--grace",
            "300ms",
        ])
        .args(["--", "sh", "-c", "echo start; sleep 28"])
        .assert()
        .code(124);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let lines = read_lines(dir.path().join("job.log"));
    let end = lines.last().unwrap();
    // The command itself ended at the limit, not when its child let go of the pipe.
    assert!(
        end.starts_with("timed out; killed by signal TERM after 5"),
        "{end}"
    );
    assert!(end.ends_with("ms"), "under a second: {end}");
}

#[test]
fn sigterm_after_the_command_exited_stops_reading_a_held_pipe_within_the_grace() {
    let dir = tempdir();
    let log = dir.path().join("job.log");
    let mut child = rlog_std(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-q",
            "-f",
            "%{message}",
            "--grace",
            "300ms",
            "--",
        ])
        .args(["sh", "-c", "sleep 29 & echo parent done"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_content(&log, b"parent done\n");
    sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    kill(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "took {:?}",
        signalled.elapsed()
    );
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}

#[test]
fn a_script_whose_interpreter_is_missing_is_reported_as_such() {
    let dir = tempdir();
    let task = dir.path().join("orphan.sh");
    std::fs::write(&task, "#!/nonexistent/interpreter\necho never\n").unwrap();
    std::fs::set_permissions(&task, std::fs::Permissions::from_mode(0o755)).unwrap();
    rlog(dir.path())
        .args(["run", "-p", "job.log", "--"])
        .arg(&task)
        .assert()
        .code(127)
        .stderr(predicate::str::contains("interpreter on its #! line"));
}

#[test]
fn a_second_sigterm_kills_a_command_that_ignores_the_first_instead_of_leaving_it() {
    let dir = tempdir();
    let log = dir.path().join("job.log");
    let mut child = rlog_std(dir.path())
        .args([
            "run",
            "-p",
            "job.log",
            "-q",
            "-f",
            "%{message}",
            "--grace",
            "200ms",
            "--",
        ])
        .args([
            "sh",
            "-c",
            "trap '' TERM INT; echo ready; while :; do sleep 0.05; done",
        ])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_content(&log, b"ready\n");
    kill(&child, libc::SIGTERM);
    sleep(Duration::from_millis(200));
    kill(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let ps = std::process::Command::new("pgrep")
        .args(["-f", "trap '' TERM INT; echo ready"])
        .output()
        .unwrap();
    assert!(
        ps.stdout.is_empty(),
        "the command was left running: {:?}",
        String::from_utf8_lossy(&ps.stdout)
    );
}
