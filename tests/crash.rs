//! Crash: after rlog exits 0, cut the filesystem off as a power loss would (the ext4
//! shutdown ioctl, without flushing its journal), mount it again and count the lines.
//! Needs root and a loop device, as CI has; elsewhere the tests say they are skipped.

mod common;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use common::{rlog, root_or_skip, sh, tempdir};

/// `EXT4_IOC_SHUTDOWN` (the same number as `XFS_IOC_GOINGDOWN`): `_IOR('X', 125, __u32)`.
const EXT4_IOC_SHUTDOWN: libc::c_ulong = 0x8004_587d;
/// `EXT4_GOING_FLAGS_NOLOGFLUSH`: stop at once; what the journal has not committed is lost.
const GOING_FLAGS_NOLOGFLUSH: u32 = 2;

const LINES: usize = 20_000;

/// Stops every write to the filesystem mounted on `dir`, as a crash would.
fn shut_down(dir: &Path) {
    let root = File::open(dir).unwrap();
    let flags = GOING_FLAGS_NOLOGFLUSH;
    // SAFETY: the descriptor is open for the call, and the ioctl reads one u32 from a
    // pointer to a live local.
    let rc = unsafe { libc::ioctl(root.as_raw_fd(), EXT4_IOC_SHUTDOWN as _, &flags) };
    assert_eq!(rc, 0, "shutdown ioctl: {}", std::io::Error::last_os_error());
}

/// Runs rlog with `extra` arguments into a new file in a new directory on a fresh ext4
/// image, checks it exits 0, crashes the filesystem, mounts it again, and returns the
/// log's content after the crash (None when the file is gone).
fn lines_after_crash(extra: &[&str]) -> Option<Vec<u8>> {
    let dir = tempdir();
    let image = dir.path().join("fs.img");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let (image_s, mnt_s) = (image.to_str().unwrap(), mnt.to_str().unwrap());
    sh(&["truncate", "-s", "64M", image_s]);
    sh(&["mkfs.ext4", "-q", "-F", image_s]);
    // A long commit interval: nothing reaches the journal unless rlog asks for it.
    sh(&["mount", "-o", "loop,commit=300", image_s, mnt_s]);
    let mounted = Unmount(mnt.clone());

    let input: String = (1..=LINES).map(|i| format!("line {i:05}\n")).collect();
    rlog(dir.path())
        .arg("-p")
        .arg(mnt.join("logs/app.log"))
        .args(["-f", "%{message}"])
        .args(extra)
        .write_stdin(input)
        .assert()
        .success();
    shut_down(&mnt);
    drop(mounted);
    sh(&["mount", "-o", "loop", image_s, mnt_s]);
    let _mounted = Unmount(mnt.clone());
    std::fs::read(mnt.join("logs/app.log")).ok()
}

struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let ok = std::process::Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok && !std::thread::panicking() {
            panic!("umount {} failed", self.0.display());
        }
    }
}

fn want() -> Vec<u8> {
    (1..=LINES)
        .flat_map(|i| format!("line {i:05}\n").into_bytes())
        .collect()
}

#[test]
fn every_line_survives_a_crash_after_exit_0() {
    if !root_or_skip("every_line_survives_a_crash_after_exit_0") {
        return;
    }
    let content = lines_after_crash(&[]).expect("the log file is gone after the crash");
    assert_eq!(
        content.len(),
        want().len(),
        "lines lost in the crash: {} of {LINES} bytes' worth kept",
        content.len()
    );
    assert_eq!(content, want());
}

/// The negative control: without fsync the same crash loses the lines, so the test
/// above can tell a synced run from one that is not.
#[test]
fn without_sync_the_same_crash_loses_lines() {
    if !root_or_skip("without_sync_the_same_crash_loses_lines") {
        return;
    }
    let content = lines_after_crash(&["--no-sync"]);
    let kept = content.as_ref().map_or(0, |c| c.len());
    match &content {
        None => eprintln!("--no-sync: after the crash the log file was gone"),
        Some(c) => eprintln!(
            "--no-sync: after the crash {} of {} bytes were left",
            c.len(),
            want().len()
        ),
    }
    assert!(
        kept < want().len(),
        "with --no-sync every line survived the crash: the crash test cannot tell"
    );
}
