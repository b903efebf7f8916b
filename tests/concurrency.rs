//! Several rlog processes appending to one file (a pipe and `rlog write` calls from other
//! scripts, overlapping cron runs) never interleave inside a line and lose nothing.

mod common;

use std::collections::HashSet;
use std::process::Stdio;
use std::thread;

use common::{read, rlog_std, tempdir};

#[test]
fn two_pipes_and_a_burst_of_writes_share_one_file_without_tearing() {
    let dir = tempdir();
    let per_pipe = 50_000;
    let mut pipes = Vec::new();
    for name in ["A", "B"] {
        // Long lines make a torn write likely if the locking were wrong.
        let input: String = (0..per_pipe)
            .map(|i| format!("{name}-{i:06}-{}\n", "x".repeat(100)))
            .collect();
        let input_path = dir.path().join(format!("{name}.txt"));
        std::fs::write(&input_path, input).unwrap();
        let child = rlog_std(dir.path())
            .args(["-p", "shared.log", "-f", "%{message}"])
            .stdin(std::fs::File::open(&input_path).unwrap())
            .spawn()
            .unwrap();
        pipes.push(child);
    }
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let dir = dir.path().to_path_buf();
            thread::spawn(move || {
                for i in 0..25 {
                    let status = rlog_std(&dir)
                        .args(["write", "-p", "shared.log", "-f", "%{message}"])
                        .arg(format!("W{t}-{i:03}"))
                        .stdin(Stdio::null())
                        .status()
                        .unwrap();
                    assert!(status.success());
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    for mut p in pipes {
        assert!(p.wait().unwrap().success());
    }
    let text = String::from_utf8(read(dir.path().join("shared.log"))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 * per_pipe + 100);
    let unique: HashSet<&str> = lines.iter().copied().collect();
    assert_eq!(unique.len(), lines.len(), "a line was duplicated");
    let body = "x".repeat(100);
    for line in &lines {
        let whole = match line.as_bytes()[0] {
            b'A' | b'B' => line.len() == 9 + 100 && line.ends_with(&body),
            b'W' => line.len() == 6,
            _ => false,
        };
        assert!(whole, "torn line: {line:?}");
    }
    // Each pipe's lines stay in their own order.
    for name in ["A-", "B-"] {
        let seq: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with(name))
            .copied()
            .collect();
        assert!(
            seq.windows(2).all(|w| w[0] < w[1]),
            "{name} lines out of order"
        );
    }
}
