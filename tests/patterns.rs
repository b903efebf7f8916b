//! The pattern language, time zones, dated and per-level paths, routing by level,
//! `--parse-level`, JSON lines and the console echo, driven through the real binary.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{read, read_lines, rlog, rlog_std, tempdir};
use predicates::prelude::*;

fn run_format(format: &str, input: &str, extra: &[&str]) -> String {
    let dir = tempdir();
    let out = rlog(dir.path())
        .env("TZ", "UTC")
        .args(["-f", format])
        .args(extra)
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_token_renders_through_the_cli() {
    let out = run_format(
        "%{level}|%{levelno}|%{tag}|%{seq}|%{stream}|%{pid}|%{host}|%{message}",
        "a\nb\n",
        &["-t", "backup", "-l", "warn"],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    for (i, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(
            &f[..5],
            ["WARNING", "30", "backup", &(i + 1).to_string(), "stdin"]
        );
        assert!(f[5].parse::<u32>().is_ok_and(|p| p > 0), "pid {}", f[5]);
        assert!(!f[6].is_empty(), "host");
        assert_eq!(f[7], ["a", "b"][i]);
    }
}

#[test]
fn write_lines_have_the_arg_stream() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["write", "-f", "%{stream} %{message}", "-p", "x.log", "hi"])
        .assert()
        .success();
    assert_eq!(read(dir.path().join("x.log")), b"arg hi\n");
}

#[test]
fn widths_pad_left_and_right_and_never_cut() {
    assert_eq!(
        run_format("[%{level:-9}][%{level:9}][%{level:2}]", "x\n", &[]),
        "[INFO     ][     INFO][INFO]\n"
    );
    assert_eq!(run_format("[%{seq:4}]", "x\n", &[]), "[   1]\n");
}

#[test]
fn percent_percent_is_a_literal_percent() {
    assert_eq!(run_format("100%% %{message}", "done\n", &[]), "100% done\n");
}

#[test]
fn date_formats_are_strftime() {
    let out = run_format(
        "%{timestamputc:+%Y/%m/%d %H:%M:%S%.3f %z}|%{timestamp:+%s}",
        "x\n",
        &[],
    );
    let (date, epoch) = out.trim_end().split_once('|').unwrap();
    assert_eq!(date.len(), "2026/12/03 15:56:22.123 +0000".len(), "{date}");
    assert!(date.ends_with(" +0000"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let epoch: u64 = epoch.parse().unwrap();
    assert!(
        now.abs_diff(epoch) < 60,
        "epoch seconds {epoch} vs now {now}"
    );
}

#[test]
fn local_time_honours_tz_with_a_half_hour_offset() {
    let dir = tempdir();
    let out = rlog(dir.path())
        .env("TZ", "Asia/Kolkata")
        .args(["-f", "%{timestamp}|%{timestamputc}"])
        .write_stdin("x\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let (local, utc) = out.trim_end().split_once('|').unwrap();
    assert!(local.ends_with("+05:30"), "{local}");
    assert!(utc.ends_with('Z'), "{utc}");
    let minutes = |t: &str| -> i64 {
        let h: i64 = t[11..13].parse().unwrap();
        let m: i64 = t[14..16].parse().unwrap();
        h * 60 + m
    };
    // Same instant: local = UTC + 5:30 (modulo a day).
    assert_eq!((minutes(utc) + 330) % 1440, minutes(local));
    assert_eq!(local[16..23], utc[16..23], "seconds and millis match");
}

#[test]
fn unknown_tz_falls_back_to_utc_with_a_warning() {
    let dir = tempdir();
    rlog(dir.path())
        .env("TZ", "Nowhere/Atlantis")
        .args(["-f", "%{timestamp}"])
        .write_stdin("x\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("+00:00"))
        .stderr(predicate::str::contains("using UTC"));
}

#[test]
fn bad_patterns_exit_64_quoting_the_pattern_and_column() {
    let dir = tempdir();
    for (pattern, says) in [
        (
            "%{timestamp} %{bogus}",
            "unknown token 'bogus' at column 14",
        ),
        ("%{message", "unclosed"),
        ("%{level:wide}", "bad width 'wide'"),
        ("%{timestamp:+%Q%!}", "bad date format"),
    ] {
        rlog(dir.path())
            .args(["-f", pattern])
            .write_stdin("x\n")
            .assert()
            .code(64)
            .stderr(
                predicate::str::contains(says)
                    .and(predicate::str::contains(pattern))
                    .and(predicate::str::contains("known tokens: timestamp")),
            );
    }
}

#[test]
fn help_shows_the_token_table_and_examples() {
    let dir = tempdir();
    rlog(dir.path()).arg("--help").assert().success().stdout(
        predicate::str::contains("%{timestamputc}")
            .and(predicate::str::contains("%{stream}"))
            .and(predicate::str::contains("Examples:")),
    );
}

#[test]
fn per_level_paths_and_level_routing() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["--parse-level", "-f", "%{message}"])
        .args(["-p", "all.log", "-p", "error=errors.log", "-p", "by-level/%{level}.log"])
        .write_stdin("<7>fine detail\nINFO: started\nERROR: disk full\n[WARN] slow\nCRITICAL on fire\nplain\n")
        .assert()
        .success();
    let d = dir.path();
    assert_eq!(
        read(d.join("all.log")),
        b"fine detail\nstarted\ndisk full\nslow\non fire\nplain\n"
    );
    assert_eq!(read(d.join("errors.log")), b"disk full\non fire\n");
    assert_eq!(read(d.join("by-level/DEBUG.log")), b"fine detail\n");
    assert_eq!(read(d.join("by-level/INFO.log")), b"started\nplain\n");
    assert_eq!(read(d.join("by-level/WARNING.log")), b"slow\n");
    assert_eq!(read(d.join("by-level/ERROR.log")), b"disk full\n");
    assert_eq!(read(d.join("by-level/CRITICAL.log")), b"on fire\n");
}

#[test]
fn a_path_named_like_level_equals_is_a_plain_path() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "./ERROR=x.log", "-f", "%{message}"])
        .write_stdin("kept\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("ERROR=x.log")), b"kept\n");
}

#[test]
fn defined_levels_work_everywhere_and_builtins_cannot_be_redefined() {
    let dir = tempdir();
    rlog(dir.path())
        .args([
            "--define-level",
            "NOTICE=25",
            "-l",
            "notice",
            "-f",
            "%{level} %{levelno}",
        ])
        .args([
            "-p",
            "all.log",
            "-p",
            "NOTICE=notice.log",
            "-p",
            "WARNING=warn.log",
        ])
        .write_stdin("x\n")
        .assert()
        .success();
    assert_eq!(read(dir.path().join("all.log")), b"NOTICE 25\n");
    assert_eq!(read(dir.path().join("notice.log")), b"NOTICE 25\n");
    assert_eq!(read(dir.path().join("warn.log")), b"");
    rlog(dir.path())
        .args(["--define-level", "ERROR=45"])
        .write_stdin("x\n")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("'ERROR' is already defined"));
}

#[test]
fn json_lines_are_valid_for_hostile_input() {
    let dir = tempdir();
    let input: &[u8] = b"plain\nquote \" backslash \\ tab\t\nbad \xff\xfe utf8\nnul \0 esc \x1b[2J bell \x07\r\n\xe2\x80\xae bidi\n";
    rlog(dir.path())
        .args(["--json", "-p", "j.log", "-l", "error", "-t", "svc"])
        .write_stdin(input)
        .assert()
        .success();
    let lines = read_lines(dir.path().join("j.log"));
    assert_eq!(lines.len(), 5);
    let originals: Vec<&[u8]> = input.split(|&b| b == b'\n').take(5).collect();
    for (line, original) in lines.iter().zip(originals) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["level"], "ERROR");
        assert_eq!(v["levelno"], 40);
        assert_eq!(v["tag"], "svc");
        assert_eq!(v["stream"], "stdin");
        assert!(v["timestamp"].as_str().unwrap().len() >= 29);
        let lossy = String::from_utf8_lossy(original);
        assert_eq!(v["message"], lossy.as_ref());
        let is_lossy = std::str::from_utf8(original).is_err();
        assert_eq!(v.get("message_lossy").is_some(), is_lossy, "{line}");
    }
}

#[test]
fn console_echo_escapes_controls_and_colours_by_level() {
    let dir = tempdir();
    let raw: &[u8] = b"title \x1b]0;pwned\x07 clear \x1b[2J cr\rend\n";
    rlog(dir.path())
        .args([
            "--console",
            "--color",
            "always",
            "-l",
            "error",
            "-p",
            "f.log",
            "-f",
            "%{message}",
        ])
        .write_stdin(raw)
        .assert()
        .success()
        .stdout("\x1b[31mtitle \\x1b]0;pwned\\x07 clear \\x1b[2J cr\\rend\x1b[0m\n");
    assert_eq!(read(dir.path().join("f.log")), raw, "files keep the bytes");
    rlog(dir.path())
        .env("NO_COLOR", "1")
        .args(["--console", "-p", "g.log", "-f", "%{message}"])
        .write_stdin("plain\n")
        .assert()
        .success()
        .stdout("plain\n");
}

#[test]
fn escape_option_escapes_files_too() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["--escape", "-p", "e.log", "-f", "%{message}"])
        .write_stdin(&b"a\x1b[2Jb\tc\n"[..])
        .assert()
        .success();
    assert_eq!(read(dir.path().join("e.log")), b"a\\x1b[2Jb\tc\n");
}

/// A POSIX TZ whose local clock reads 23:59:58 now, so the next local day starts in
/// about two seconds.
fn tz_just_before_midnight() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let offset = (86_398 + 86_400 - now % 86_400) % 86_400;
    // POSIX offsets are west-positive: "RLG-5:00:00" is UTC+5.
    format!(
        "RLG-{}:{:02}:{:02}",
        offset / 3600,
        offset / 60 % 60,
        offset % 60
    )
}

#[test]
fn dated_paths_follow_each_lines_own_timestamp_across_midnight() {
    let dir = tempdir();
    let mut child = rlog_std(dir.path())
        .env("TZ", tz_just_before_midnight())
        .args([
            "-p",
            "logs/app-%{timestamp:+%Y-%m-%d}.log",
            "-f",
            "%{timestamp} %{message}",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"before midnight\n").unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    stdin.write_all(b"after midnight\n").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let mut files: Vec<_> = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "one file per local day: {files:?}");
    for (file, message) in files.iter().zip(["before midnight", "after midnight"]) {
        let lines = read_lines(file);
        assert_eq!(lines.len(), 1, "{file:?}");
        let day = &file.file_name().unwrap().to_str().unwrap()[4..14];
        assert!(lines[0].starts_with(day), "{file:?} holds {lines:?}");
        assert!(lines[0].ends_with(message));
    }
}

#[test]
fn a_path_may_not_contain_the_message() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["-p", "logs/%{message}.log"])
        .write_stdin("../../etc/passwd\n")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("may not contain %{message}"));
}
