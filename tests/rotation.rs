//! Size rotation, retention, compression and reopening: no line lost, torn or
//! duplicated, whichever process rotates and whoever moves the file.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{read, rlog, rlog_std, tempdir, wait_for_content};

/// Archives of `base` in `dir`, oldest first, then the current file.
fn files_in_order(dir: &Path, base: &str) -> Vec<PathBuf> {
    let mut archives: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(&format!("{base}.")) && !name.ends_with(".tmp")
        })
        .collect();
    archives.sort();
    archives.push(dir.join(base));
    archives
}

fn contents(path: &Path) -> Vec<u8> {
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        read(path)
    }
}

#[test]
fn two_hundred_thousand_lines_rotate_without_loss_each_file_aligned_and_within_size() {
    let dir = tempdir();
    let input: String = (1..=200_000).map(|i| format!("line {i:06}\n")).collect();
    let size = 64 * 1024;
    rlog(dir.path())
        .args([
            "-p",
            "app.log",
            "-f",
            "%{message}",
            "--rotate-size",
            "64KiB",
            "--rotate-keep",
            "1000",
        ])
        .write_stdin(input.clone())
        .assert()
        .success();
    let files = files_in_order(dir.path(), "app.log");
    assert!(
        files.len() > 20,
        "expected many rotations, got {}",
        files.len()
    );
    let mut all = Vec::new();
    for file in &files {
        let bytes = read(file);
        assert!(
            bytes.len() as u64 <= size,
            "{file:?} is {} bytes",
            bytes.len()
        );
        assert!(
            bytes.is_empty() || bytes.ends_with(b"\n"),
            "{file:?} ends mid-line"
        );
        all.extend_from_slice(&bytes);
    }
    assert_eq!(all, input.as_bytes(), "every line exactly once, in order");
}

#[test]
fn retention_keeps_exactly_n_archives() {
    let dir = tempdir();
    let input: String = (1..=20_000).map(|i| format!("line {i:06}\n")).collect();
    rlog(dir.path())
        .args([
            "-p",
            "app.log",
            "-f",
            "%{message}",
            "--rotate-size",
            "10k",
            "--rotate-keep",
            "3",
        ])
        .write_stdin(input.clone())
        .assert()
        .success();
    let files = files_in_order(dir.path(), "app.log");
    assert_eq!(files.len(), 3 + 1, "{files:?}");
    // What is kept is the newest: the tail of the input, contiguous.
    let kept: Vec<u8> = files.iter().flat_map(read).collect();
    assert!(input.as_bytes().ends_with(&kept));
}

#[test]
fn keep_zero_keeps_no_archive() {
    let dir = tempdir();
    let input: String = (1..=5_000).map(|i| format!("line {i:06}\n")).collect();
    rlog(dir.path())
        .args([
            "-p",
            "app.log",
            "--rotate-size",
            "10k",
            "--rotate-keep",
            "0",
        ])
        .write_stdin(input)
        .assert()
        .success();
    assert_eq!(files_in_order(dir.path(), "app.log").len(), 1);
}

#[test]
fn compressed_archives_round_trip_through_gunzip() {
    let dir = tempdir();
    let input: String = (1..=50_000).map(|i| format!("line {i:06}\n")).collect();
    rlog(dir.path())
        .args(["-p", "app.log", "-f", "%{message}", "--rotate-size", "100k"])
        .args(["--rotate-keep", "1000", "--rotate-compress"])
        .write_stdin(input.clone())
        .assert()
        .success();
    let files = files_in_order(dir.path(), "app.log");
    let archives = &files[..files.len() - 1];
    assert!(!archives.is_empty());
    for archive in archives {
        assert!(
            archive.to_str().unwrap().ends_with(".gz"),
            "left uncompressed: {archive:?}"
        );
    }
    let all: Vec<u8> = files.iter().flat_map(|f| contents(f)).collect();
    assert_eq!(all, input.as_bytes());
    // gzip(1) itself reads them too.
    let status = std::process::Command::new("gzip")
        .arg("-t")
        .args(archives)
        .status();
    if let Ok(status) = status {
        assert!(status.success());
    }
}

#[test]
fn a_line_longer_than_the_size_gets_a_file_of_its_own() {
    let dir = tempdir();
    let long = "x".repeat(3000);
    let input = format!("a\n{long}\nb\n");
    rlog(dir.path())
        .args([
            "-p",
            "app.log",
            "-f",
            "%{message}",
            "--rotate-size",
            "1000",
            "--rotate-keep",
            "10",
        ])
        .write_stdin(input)
        .assert()
        .success();
    let files: Vec<Vec<u8>> = files_in_order(dir.path(), "app.log")
        .iter()
        .map(read)
        .collect();
    assert_eq!(
        files,
        vec![
            b"a\n".to_vec(),
            format!("{long}\n").into_bytes(),
            b"b\n".to_vec()
        ]
    );
}

#[test]
fn two_processes_rotating_one_path_lose_nothing() {
    let dir = tempdir();
    let mut children = Vec::new();
    for name in ["A", "B"] {
        let input: String = (0..50_000).map(|i| format!("{name}-{i:06}\n")).collect();
        let input_path = dir.path().join(format!("{name}.txt"));
        std::fs::write(&input_path, input).unwrap();
        children.push(
            rlog_std(dir.path())
                .args([
                    "-p",
                    "shared.log",
                    "-f",
                    "%{message}",
                    "--rotate-size",
                    "32k",
                    "--rotate-keep",
                    "10000",
                ])
                .stdin(std::fs::File::open(&input_path).unwrap())
                .spawn()
                .unwrap(),
        );
    }
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let files = files_in_order(dir.path(), "shared.log");
    let mut lines = Vec::new();
    for file in &files {
        let bytes = read(file);
        assert!(
            bytes.len() <= 32 * 1024,
            "{file:?}: {} bytes: rotated twice or too late",
            bytes.len()
        );
        assert!(bytes.is_empty() || bytes.ends_with(b"\n"));
        lines.extend(
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(str::to_string),
        );
    }
    assert_eq!(lines.len(), 100_000);
    for name in ["A-", "B-"] {
        let mine: Vec<&String> = lines.iter().filter(|l| l.starts_with(name)).collect();
        assert_eq!(mine.len(), 50_000, "{name}");
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "{name} out of order or duplicated"
        );
    }
}

#[test]
fn a_file_moved_without_a_signal_is_reopened_at_its_path() {
    let dir = tempdir();
    let (log, moved) = (dir.path().join("app.log"), dir.path().join("app.log.1"));
    let mut child = rlog_std(dir.path())
        .args(["-p", "app.log", "-f", "%{message}"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"before\n").unwrap();
    wait_for_content(&log, b"before\n");
    std::fs::rename(&log, &moved).unwrap();
    // The writer checks when idle, and at least every second: the new file appears.
    let start = Instant::now();
    while !log.exists() {
        assert!(start.elapsed() < Duration::from_secs(5), "never reopened");
        sleep(Duration::from_millis(20));
    }
    stdin.write_all(b"after\n").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(read(&moved), b"before\n");
    assert_eq!(read(&log), b"after\n");
}

#[test]
fn copytruncate_leaves_no_nul_bytes() {
    let dir = tempdir();
    let log = dir.path().join("app.log");
    let mut child = rlog_std(dir.path())
        .args(["-p", "app.log", "-f", "%{message}"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"first line, long enough to leave a hole if written at its old offset\n")
        .unwrap();
    wait_for_content(
        &log,
        b"first line, long enough to leave a hole if written at its old offset\n",
    );
    // logrotate's copytruncate: copy the file, then truncate it in place.
    std::fs::copy(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    stdin.write_all(b"second\n").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(read(&log), b"second\n");
}

#[test]
fn compressed_archives_keep_the_log_files_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let input: String = (1..=20_000).map(|i| format!("line {i:06}\n")).collect();
    rlog(dir.path())
        .args(["-p", "app.log", "--rotate-size", "50k", "--rotate-compress"])
        .write_stdin(input)
        .assert()
        .success();
    for file in files_in_order(dir.path(), "app.log") {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o007, 0, "{file:?} is readable by others: {mode:o}");
    }
}

#[test]
fn retention_with_compression_keeps_exactly_the_newest_n() {
    // The compressor and the pruner race; run it several times to give the race a chance.
    for _ in 0..5 {
        let dir = tempdir();
        let input: String = (1..=100_000).map(|i| format!("{i}\n")).collect();
        rlog(dir.path())
            .args(["-p", "r.log", "-f", "%{message}", "--rotate-size", "50k"])
            .args(["--rotate-keep", "3", "--rotate-compress"])
            .write_stdin(input.clone())
            .assert()
            .success();
        let files = files_in_order(dir.path(), "r.log");
        assert_eq!(files.len(), 4, "{files:?}");
        let kept: Vec<u8> = files.iter().flat_map(|f| contents(f)).collect();
        assert!(
            input.as_bytes().ends_with(&kept),
            "kept archives are not the newest, in order"
        );
    }
}

#[test]
fn a_log_reached_through_a_symlink_is_rotated_where_it_lives() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::os::unix::fs::symlink("data/real.log", dir.path().join("link.log")).unwrap();
    let input: String = (1..=2_000).map(|i| format!("line {i:05}\n")).collect();
    rlog(dir.path())
        .args([
            "-p",
            "link.log",
            "-f",
            "%{message}",
            "--rotate-size",
            "4k",
            "--rotate-keep",
            "100",
        ])
        .write_stdin(input.clone())
        .assert()
        .success();
    let link = std::fs::symlink_metadata(dir.path().join("link.log")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was rotated away");
    let files = files_in_order(&dir.path().join("data"), "real.log");
    assert!(files.len() > 3, "{files:?}");
    let all: Vec<u8> = files.iter().flat_map(read).collect();
    assert_eq!(all, input.as_bytes());
}
