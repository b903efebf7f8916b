//! Helpers shared by the integration tests: a clean `rlog` command, temporary
//! directories, and strace when it is there.
#![allow(dead_code)]

pub mod rsyslog;

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;

/// The rlog binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin!("rlog").to_path_buf()
}

/// `rlog` with no `RLOG_*` variables from the user's environment, in `dir`.
pub fn rlog(dir: &Path) -> Command {
    let mut cmd = Command::new(bin());
    clear_env(cmd.current_dir(dir));
    cmd
}

/// The same, as a std command, for tests that manage the process themselves.
pub fn rlog_std(dir: &Path) -> StdCommand {
    let mut cmd = StdCommand::new(bin());
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RLOG_") || key == "NO_COLOR" {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn clear_env(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RLOG_") || key == "NO_COLOR" {
            cmd.env_remove(key);
        }
    }
    cmd
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(path.as_ref())
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.as_ref().display()))
}

pub fn read_lines(path: impl AsRef<Path>) -> Vec<String> {
    String::from_utf8_lossy(&read(path))
        .lines()
        .map(str::to_string)
        .collect()
}

/// The message part of default-pattern lines (`TIMESTAMP LEVEL   MESSAGE`).
pub fn messages(path: impl AsRef<Path>) -> Vec<String> {
    read_lines(path)
        .iter()
        .map(|l| {
            let rest = l.split_once(' ').expect("a timestamp").1;
            rest.get(8..).unwrap_or("").to_string()
        })
        .collect()
}

/// Whether strace can be used. In CI (CI=true) its absence is a failure; elsewhere the
/// test says it is skipped.
pub fn have_strace(test: &str) -> bool {
    let found = StdCommand::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: strace is required in CI (apt-get install strace)"
        );
        eprintln!("{test}: skipped, strace is not installed");
    }
    found
}

/// Whether the tests run as root (CI does): needed to mount filesystems.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether a root-only test can run. In CI (CI=true, which runs as root) not being root
/// is a failure; elsewhere the test says it is skipped.
pub fn root_or_skip(test: &str) -> bool {
    if !is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: CI must run as root (this test mounts filesystems or changes owners)"
        );
        eprintln!("{test}: skipped, it needs root");
    }
    is_root()
}

/// Runs a command that must succeed (test set-up such as mount), naming it on failure.
pub fn sh(args: &[&str]) {
    let out = StdCommand::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small tmpfs mounted on a fresh directory for one test; unmounted when dropped.
pub struct Tmpfs {
    pub dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (mount's syntax: `256k`). Needs root.
    pub fn mount(size: &str) -> Tmpfs {
        let dir = tempdir();
        let path = dir.path().to_str().expect("temporary paths are UTF-8");
        sh(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            path,
        ]);
        Tmpfs { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg(self.dir.path()).status();
    }
}

/// Sends `signal` to a process the test spawned.
pub fn kill(child: &std::process::Child, signal: i32) {
    // SAFETY: kill(2) on a pid we spawned and have not yet reaped.
    let rc = unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(rc, 0, "kill failed");
}

/// Waits until `path` holds exactly `want`, so a signal is sent only once the lines are in.
pub fn wait_for_content(path: &Path, want: &[u8]) {
    let start = std::time::Instant::now();
    while std::fs::read(path).unwrap_or_default() != want {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{} never held {:?}",
            path.display(),
            String::from_utf8_lossy(want)
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Waits for `child` to exit within `limit`; its status and how long that took.
pub fn wait_with_deadline(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> (std::process::ExitStatus, std::time::Duration) {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return (status, start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("rlog did not exit within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
