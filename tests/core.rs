//! The core promise: lines from a pipe or `write` reach the files whole, in order, byte
//! for byte, with an exit status that tells the truth.

mod common;

use common::{messages, read, read_lines, rlog, tempdir};
use predicates::prelude::*;

#[test]
fn three_piped_lines_the_last_unterminated_arrive_in_order() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["--path", "out.log"])
        .write_stdin("one\ntwo\nthree")
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(
        messages(dir.path().join("out.log")),
        ["one", "two", "three"]
    );
    assert!(read(dir.path().join("out.log")).ends_with(b"three\n"));
}

#[test]
fn default_pattern_is_rfc3339_with_millis_offset_and_padded_level() {
    let dir = tempdir();
    rlog(dir.path())
        .env("TZ", "Asia/Kolkata")
        .args(["-p", "out.log"])
        .write_stdin("hello\n")
        .assert()
        .success();
    let line = &read_lines(dir.path().join("out.log"))[0];
    let re = regex_lite(line);
    assert!(re, "unexpected line: {line:?}");
}

/// `2026-12-03T21:26:22.123+05:30 INFO    hello`, checked without a regex crate.
fn regex_lite(line: &str) -> bool {
    let b = line.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 29 + 1 + 7 + 1 + 5
        && digits(0..4)
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && digits(20..23)
        && &line[23..29] == "+05:30"
        && &line[29..] == " INFO    hello"
}

#[test]
fn write_logs_one_message_at_the_given_level() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "write", "--path", "app.log", "--level", "error", "disk", "almost", "full",
        ])
        .assert()
        .success();
    let lines = read_lines(dir.path().join("app.log"));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].ends_with(" ERROR   disk almost full"), "{lines:?}");
}

#[test]
fn options_may_come_before_the_subcommand() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "a.log", "-l", "WARN", "write", "hi"])
        .assert()
        .success();
    let lines = read_lines(dir.path().join("a.log"));
    assert!(lines[0].ends_with(" WARNING hi"), "{lines:?}");
}

#[test]
fn multi_line_write_gives_each_line_a_header_with_one_timestamp() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "write",
            "-p",
            "app.log",
            "-l",
            "ERROR",
            "first\nsecond\n\nfourth",
        ])
        .assert()
        .success();
    let lines = read_lines(dir.path().join("app.log"));
    assert_eq!(lines.len(), 4, "{lines:?}");
    let stamp = lines[0].split(' ').next().unwrap();
    for (line, msg) in lines.iter().zip(["first", "second", "", "fourth"]) {
        assert!(line.starts_with(stamp), "{line}");
        assert_eq!(line[stamp.len()..], format!(" ERROR   {msg}"));
    }
}

#[test]
fn message_format_passes_bytes_through_unchanged() {
    let dir = tempdir();
    let input: &[u8] =
        b"bad \xff\xfe utf8\ncarriage\rreturn\nnul\0byte\n\x1b[31mred\x1b[0m\ncrlf\r\n\nno newline";
    rlog(dir.path())
        .args(["-p", "raw.log", "--format", "%{message}"])
        .write_stdin(input)
        .assert()
        .success();
    let mut want = input.to_vec();
    want.push(b'\n');
    assert_eq!(read(dir.path().join("raw.log")), want);
}

#[test]
fn empty_input_creates_an_empty_file() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "empty.log"])
        .write_stdin("")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("empty.log")), b"");
}

#[test]
fn missing_parent_directories_are_created() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "a/b/c/deep.log", "-f", "%{message}"])
        .write_stdin("x\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("a/b/c/deep.log")), b"x\n");
}

#[test]
fn two_names_for_one_file_write_it_once() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "-p",
            "same.log",
            "-p",
            "./same.log",
            "-p",
            "same.log",
            "-f",
            "%{message}",
        ])
        .write_stdin("once\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("same.log")), b"once\n");
}

#[test]
fn every_path_gets_every_line() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "a.log", "-p", "b.log", "-f", "%{message}"])
        .write_stdin("1\n2\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("a.log")), b"1\n2\n");
    assert_eq!(read(dir.path().join("b.log")), b"1\n2\n");
}

#[test]
fn rlog_path_variable_names_the_file() {
    let dir = tempdir();
    rlog(dir.path())
        .env("RLOG_PATH", "env.log")
        .args(["-f", "%{message}"])
        .write_stdin("from env\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("env.log")), b"from env\n");
}

#[test]
fn appends_to_an_existing_file_and_mends_a_torn_tail() {
    let dir = tempdir();
    std::fs::write(dir.path().join("old.log"), "kept\ntorn").unwrap();
    rlog(dir.path())
        .args(["-p", "old.log", "-f", "%{message}"])
        .write_stdin("new\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("old.log")), b"kept\ntorn\nnew\n");
}

#[test]
fn min_level_drops_lower_lines() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "x.log", "--min-level", "warning", "-l", "info"])
        .write_stdin("dropped\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("x.log")), b"");
}

#[test]
fn bad_level_is_a_usage_error_naming_the_level() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "x.log", "--level", "LOUD"])
        .write_stdin("x\n")
        .assert()
        .code(64)
        .stderr(
            predicate::str::contains("unknown level 'LOUD'")
                .and(predicate::str::contains("ERROR (40)")),
        );
}

#[test]
fn bad_option_is_a_usage_error() {
    let dir = tempdir();
    rlog(dir.path())
        .arg("--no-such-option")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("--no-such-option"));
}

#[test]
fn bad_duration_is_a_usage_error_naming_the_option() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["--grace", "soon"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("--grace"));
}

#[test]
fn write_without_a_message_is_a_usage_error() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["write", "-p", "x.log"])
        .assert()
        .code(64);
}

#[test]
fn help_lists_the_exit_codes() {
    let dir = tempdir();
    rlog(dir.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "74     a write, fsync or syslog delivery failed",
        ));
}

#[test]
fn uncreatable_path_exits_73_naming_the_path_before_reading_input() {
    let dir = tempdir();
    std::fs::write(dir.path().join("plainfile"), "").unwrap();
    rlog(dir.path())
        .args(["-p", "plainfile/sub.log"])
        .write_stdin("x\n")
        .assert()
        .code(73)
        .stderr(predicate::str::contains("plainfile/sub.log"));
}

#[test]
fn directory_as_path_exits_73() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "."])
        .write_stdin("x\n")
        .assert()
        .code(73)
        .stderr(predicate::str::contains("'.'"));
}

#[test]
fn full_disk_path_exits_74_and_the_healthy_path_gets_every_line() {
    let dir = tempdir();
    let input: String = (1..=20_000).map(|i| format!("line {i}\n")).collect();
    rlog(dir.path())
        .args([
            "-p",
            "/dev/full",
            "-p",
            "good.log",
            "-f",
            "%{message}",
            "--retry-for",
            "0",
        ])
        .write_stdin(input.clone())
        .assert()
        .code(74)
        .stderr(
            predicate::str::contains("/dev/full")
                .and(predicate::str::contains("20000 line(s) were not written"))
                .and(predicate::str::contains("No space left on device")),
        );
    assert_eq!(read(dir.path().join("good.log")), input.as_bytes());
}

#[test]
fn no_path_writes_to_stdout() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-f", "%{level} %{message}"])
        .write_stdin("a\nb\n")
        .assert()
        .success()
        .stdout("INFO a\nINFO b\n");
}

#[test]
fn closed_stdout_is_a_quiet_stop() {
    let dir = tempdir();
    let out = std::process::Command::new("bash")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "set -o pipefail; seq 1 2000000 | '{}' | head -1; echo \"status ${{PIPESTATUS[1]}}\" >&2",
            common::bin().display()
        ))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.ends_with(" INFO    1\n"), "stdout: {stdout:?}");
    assert_eq!(
        stderr, "status 141\n",
        "rlog must stop quietly, as a filter does"
    );
}

#[test]
fn boolean_variables_accept_the_usual_spellings() {
    let dir = tempdir();
    for (value, synced) in [
        ("1", false),
        ("yes", false),
        ("true", false),
        ("0", true),
        ("off", true),
    ] {
        rlog(dir.path())
            .env("RLOG_NO_SYNC", value)
            .env("RLOG_JSON", value)
            .args(["-p", "b.log"])
            .write_stdin("x\n")
            .assert()
            .success();
        let last = common::read_lines(dir.path().join("b.log")).pop().unwrap();
        // RLOG_JSON follows the same spelling: JSON exactly when NO_SYNC is on.
        assert_eq!(last.starts_with('{'), !synced, "RLOG_JSON={value}: {last}");
    }
}

#[test]
fn a_fifo_nobody_reads_is_refused_at_once_instead_of_hanging() {
    let dir = tempdir();
    let fifo = dir.path().join("pipe.log");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    rlog(dir.path())
        .args(["-p", "pipe.log"])
        .write_stdin("x\n")
        .timeout(std::time::Duration::from_secs(10))
        .assert()
        .code(73)
        .stderr(
            predicate::str::contains("pipe.log")
                .and(predicate::str::contains("FIFO that no process is reading")),
        );
}

#[test]
fn json_wins_over_a_format_from_the_environment() {
    let dir = tempdir();
    rlog(dir.path())
        .env("RLOG_FORMAT", "%{message}")
        .args(["--json", "-p", "j.log"])
        .write_stdin("x\n")
        .assert()
        .success();
    assert!(read(dir.path().join("j.log")).starts_with(b"{\"timestamp\":"));
}

#[test]
fn percent_percent_in_a_path_is_one_percent_with_or_without_tokens() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "-p",
            "a%%b.log",
            "-p",
            "c%%%{level}.log",
            "-f",
            "%{message}",
        ])
        .write_stdin("x\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("a%b.log")), b"x\n");
    assert_eq!(read(dir.path().join("c%INFO.log")), b"x\n");
}

#[test]
fn open_errors_say_what_to_do_about_the_cause() {
    let dir = tempdir();
    std::fs::write(dir.path().join("plain"), "").unwrap();
    for (path, advice) in [
        (".", "it is a directory: name a file in it"),
        (
            "plain/x.log",
            "a part of the path before the file is not a directory",
        ),
    ] {
        rlog(dir.path())
            .args(["-p", path])
            .write_stdin("")
            .assert()
            .code(73)
            .stderr(
                predicate::str::contains(format!("'{path}'")).and(predicate::str::contains(advice)),
            );
    }
}

#[test]
fn a_bad_value_from_the_environment_names_its_variable() {
    let dir = tempdir();
    rlog(dir.path())
        .env("RLOG_GRACE", "forever")
        .write_stdin("x\n")
        .assert()
        .code(64)
        .stderr(
            predicate::str::contains("'forever'")
                .and(predicate::str::contains("environment variable RLOG_GRACE")),
        );
    rlog(dir.path())
        .args(["--grace", "forever"])
        .write_stdin("x\n")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("RLOG_GRACE").not());
}

#[test]
fn an_empty_format_is_a_usage_error() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-f", "", "-p", "x.log"])
        .write_stdin("x\n")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("--format '%{message}'"));
}
