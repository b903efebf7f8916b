//! Hostile input: every file in `tests/corpus/` passes through `--format '%{message}'`
//! unchanged, except that lines longer than `--max-line` become several records; and a
//! 64 MiB line does so in bounded memory.

mod common;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{read, rlog, rlog_std, tempdir};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name != "README.md" && !name.starts_with('.')
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus missing: {files:?}");
    files
}

/// What rlog must write for `input`: each line (split on `\n` only) cut into pieces of at
/// most `max` bytes, each piece ending in `\n`; an empty line stays one empty record.
fn expected(input: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    if input.is_empty() {
        return out;
    }
    for line in body.split(|&b| b == b'\n') {
        if line.is_empty() {
            out.push(b'\n');
        }
        for piece in line.chunks(max) {
            out.extend_from_slice(piece);
            out.push(b'\n');
        }
    }
    out
}

fn run_through(dir: &Path, input: &[u8], extra: &[&str]) -> Vec<u8> {
    let out = dir.join("out.log");
    let _ = std::fs::remove_file(&out);
    rlog(dir)
        .args(["-p", "out.log", "-f", "%{message}"])
        .args(extra)
        .write_stdin(input)
        .assert()
        .success()
        .stderr("");
    read(out)
}

#[test]
fn every_corpus_file_passes_through_unchanged() {
    let dir = tempdir();
    for file in corpus() {
        let input = read(&file);
        let mut want = input.clone();
        if !want.is_empty() && !want.ends_with(b"\n") {
            want.push(b'\n');
        }
        assert_eq!(expected(&input, usize::MAX), want, "the oracle itself");
        let got = run_through(dir.path(), &input, &[]);
        assert!(got == want, "{} was changed", file.display());
    }
}

#[test]
fn every_corpus_file_is_cut_at_max_line_and_nowhere_else() {
    let dir = tempdir();
    for max in [1usize, 7, 64] {
        for file in corpus() {
            let input = read(&file);
            let got = run_through(dir.path(), &input, &["--max-line", &max.to_string()]);
            assert!(
                got == expected(&input, max),
                "{} with --max-line {max}",
                file.display()
            );
        }
    }
}

/// Runs rlog to completion and returns its exit code and peak resident memory in KiB,
/// from `wait4` on that one process.
// The child is reaped by wait4 below, which std cannot see.
#[allow(clippy::zombie_processes)]
fn run_measuring_peak_rss(mut cmd: std::process::Command) -> (i32, i64) {
    let child = cmd.spawn().unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; the pid is our own child, which
    // std has not waited for (and will not: the Child is dropped unwaited).
    let rss = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let pid = libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage);
        assert_eq!(pid, child.id() as libc::pid_t);
        usage.ru_maxrss
    };
    assert!(libc::WIFEXITED(status), "rlog did not exit: {status:#x}");
    (libc::WEXITSTATUS(status), rss)
}

#[test]
fn a_64_mib_line_is_cut_into_1_mib_records_in_bounded_memory() {
    const MIB: usize = 1 << 20;
    // Piece `k` of the line: 1 MiB, no newline, different from its neighbours.
    let piece = |k: usize| -> Vec<u8> { (0..MIB).map(|i| b'a' + ((i + k) % 26) as u8).collect() };
    let dir = tempdir();
    let input_path = dir.path().join("long-line.txt");
    // Written piece by piece: a child's peak RSS counts its parent's at the fork, so this
    // process must not hold the line while rlog starts.
    let mut f = File::create(&input_path).unwrap();
    for k in 0..64 {
        f.write_all(&piece(k)).unwrap();
    }
    f.write_all(b"\nafter\n").unwrap();
    drop(f);

    let mut cmd = rlog_std(dir.path());
    cmd.args(["-p", "out.log", "-f", "%{message}"])
        .stdin(File::open(&input_path).unwrap())
        .stdout(Stdio::null());
    let (code, peak_kib) = run_measuring_peak_rss(cmd);
    assert_eq!(code, 0);
    // The line is 64 MiB; holding it whole would show here.
    assert!(
        peak_kib < 24 * 1024,
        "peak RSS {peak_kib} KiB for a 64 MiB line: memory is not bounded by --max-line"
    );

    let got = read(dir.path().join("out.log"));
    let records: Vec<&[u8]> = got
        .strip_suffix(b"\n")
        .unwrap()
        .split(|&b| b == b'\n')
        .collect();
    assert_eq!(records.len(), 65, "64 records of the line, then 'after'");
    for (k, record) in records[..64].iter().enumerate() {
        assert!(
            *record == piece(k),
            "record {k} is not the line's {k}th MiB"
        );
    }
    assert_eq!(records[64], b"after");
}
