//! Several rlog processes appending to one file (overlapping cron runs, a pipe and a
//! `write` from another script) never tear or lose a line.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{read, rlog_std, tempdir};

const PROCESSES: usize = 8;
const LINES: usize = 20_000;

/// Line `i` of process `p`: long enough that each batch is a large write.
fn line(p: usize, i: usize) -> String {
    format!("process {p} line {i:05} {}\n", "x".repeat(60 + p))
}

#[test]
fn eight_processes_appending_20000_lines_each_leave_160000_intact_lines() {
    let dir = tempdir();
    let mut children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            rlog_std(dir.path())
                .args(["-p", "shared.log", "-f", "%{message}"])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // All processes are running before any input arrives, so their writes overlap.
    let feeders: Vec<_> = children
        .iter_mut()
        .enumerate()
        .map(|(p, child)| {
            let mut stdin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let input: String = (1..=LINES).map(|i| line(p, i)).collect();
                stdin.write_all(input.as_bytes()).unwrap();
            })
        })
        .collect();
    for feeder in feeders {
        feeder.join().unwrap();
    }
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }

    let content = read(dir.path().join("shared.log"));
    let text = std::str::from_utf8(&content).expect("a torn line broke UTF-8");
    assert!(text.ends_with('\n'));
    let mut next = [1usize; PROCESSES];
    let mut total = 0;
    for l in text.lines() {
        let p: usize = l
            .strip_prefix("process ")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .filter(|&p| p < PROCESSES)
            .unwrap_or_else(|| panic!("not a whole line: {l:?}"));
        let i = next[p];
        assert_eq!(
            format!("{l}\n"),
            line(p, i),
            "process {p}: line {i} torn or out of order"
        );
        next[p] += 1;
        total += 1;
    }
    assert_eq!(next, [LINES + 1; PROCESSES], "lines lost");
    assert_eq!(total, PROCESSES * LINES);
}
