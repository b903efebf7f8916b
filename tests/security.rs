//! Security: permissions of what rlog creates, links planted in shared directories such
//! as /tmp, and escape sequences that could steer the terminal.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::path::Path;
use std::process::Command;

use common::{read, rlog, root_or_skip, tempdir};
use predicates::prelude::*;

/// Another user: nobody.
const OTHER_UID: u32 = 65534;

fn mode_of(path: impl AsRef<Path>) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

/// Runs rlog under `umask`, with extra arguments, on one input line; returns its status.
fn rlog_with_umask(dir: &Path, umask: &str, env: &[(&str, &str)], args: &str) -> i32 {
    let mut cmd = Command::new("sh");
    cmd.current_dir(dir).arg("-c").arg(format!(
        "umask {umask}; echo line | exec '{}' {args}",
        common::bin().display()
    ));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RLOG_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.status().unwrap().code().unwrap()
}

#[test]
fn new_files_are_0640_and_new_directories_0750() {
    let dir = tempdir();
    assert_eq!(rlog_with_umask(dir.path(), "022", &[], "-p a/b/new.log"), 0);
    assert_eq!(mode_of(dir.path().join("a/b/new.log")), 0o640);
    assert_eq!(mode_of(dir.path().join("a/b")), 0o750);
    assert_eq!(mode_of(dir.path().join("a")), 0o750);
}

#[test]
fn mode_sets_new_file_permissions_and_the_umask_still_applies() {
    let dir = tempdir();
    let p = dir.path();
    assert_eq!(
        rlog_with_umask(p, "027", &[], "--mode 0666 -p masked.log"),
        0
    );
    assert_eq!(mode_of(p.join("masked.log")), 0o640);
    assert_eq!(rlog_with_umask(p, "000", &[], "--mode 644 -p open.log"), 0);
    assert_eq!(mode_of(p.join("open.log")), 0o644);
    assert_eq!(
        rlog_with_umask(p, "000", &[("RLOG_MODE", "600")], "-p env.log"),
        0
    );
    assert_eq!(mode_of(p.join("env.log")), 0o600);
    // An existing file keeps its own permissions.
    std::fs::write(p.join("old.log"), "").unwrap();
    std::fs::set_permissions(p.join("old.log"), PermissionsExt::from_mode(0o600)).unwrap();
    assert_eq!(rlog_with_umask(p, "000", &[], "--mode 666 -p old.log"), 0);
    assert_eq!(mode_of(p.join("old.log")), 0o600);
}

#[test]
fn a_bad_mode_is_a_usage_error() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["--mode", "rw-r-----", "-p", "x.log"])
        .write_stdin("x\n")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("bad mode 'rw-r-----'"));
    assert!(!dir.path().join("x.log").exists());
}

/// A sticky, world-writable directory like /tmp, owned by `owner`, inside a fresh one.
fn shared_dir(base: &Path, owner: u32) -> std::path::PathBuf {
    let shared = base.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, PermissionsExt::from_mode(0o1777)).unwrap();
    std::os::unix::fs::chown(&shared, Some(owner), Some(owner)).unwrap();
    shared
}

/// A symlink at `link` to `target`, owned by `uid`.
fn link_owned_by(target: &Path, link: &Path, uid: u32) {
    symlink(target, link).unwrap();
    lchown(link, Some(uid), Some(uid)).unwrap();
}

/// rlog appends one line to `path`; returns the assert for its status and stderr.
fn append(dir: &Path, path: &Path) -> assert_cmd::assert::Assert {
    rlog(dir)
        .arg("-p")
        .arg(path)
        .args(["-f", "%{message}"])
        .write_stdin("appended\n")
        .assert()
}

#[test]
fn another_users_symlink_in_a_sticky_world_writable_dir_is_refused() {
    if !root_or_skip("another_users_symlink_in_a_sticky_world_writable_dir_is_refused") {
        return;
    }
    let dir = tempdir();
    let victim = dir.path().join("passwd");
    std::fs::write(&victim, "root:x:0:0\n").unwrap();
    let shared = shared_dir(dir.path(), 0);
    let link = shared.join("app.log");
    link_owned_by(&victim, &link, OTHER_UID);
    append(dir.path(), &link).code(73).stderr(
        predicate::str::contains("refusing to follow the symbolic link")
            .and(predicate::str::contains(link.to_str().unwrap()))
            .and(predicate::str::contains(format!(
                "owned by uid {OTHER_UID}"
            ))),
    );
    assert_eq!(read(&victim), b"root:x:0:0\n");

    // The same link reached through a trusted one elsewhere is refused too.
    let trusted = dir.path().join("trusted.log");
    symlink(&link, &trusted).unwrap();
    append(dir.path(), &trusted).code(73);
    // So is such a link as a directory on the way: nothing is created behind it.
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    link_owned_by(&outside, &shared.join("logs"), OTHER_UID);
    append(dir.path(), &shared.join("logs/new.log")).code(73);
    assert!(!outside.join("new.log").exists());
    assert_eq!(read(&victim), b"root:x:0:0\n");
}

#[test]
fn symlinks_owned_by_rlogs_user_or_the_dirs_owner_or_outside_sticky_dirs_are_followed() {
    if !root_or_skip(
        "symlinks_owned_by_rlogs_user_or_the_dirs_owner_or_outside_sticky_dirs_are_followed",
    ) {
        return;
    }
    let dir = tempdir();
    let target = dir.path().join("target.log");
    std::fs::write(&target, "").unwrap();

    // Owned by rlog's user (root) in a sticky world-writable directory.
    let shared = shared_dir(dir.path(), 0);
    link_owned_by(&target, &shared.join("mine.log"), 0);
    append(dir.path(), &shared.join("mine.log")).success();

    // Owned by the directory's owner.
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    let theirs_shared = shared_dir(&theirs, OTHER_UID);
    link_owned_by(&target, &theirs_shared.join("owner.log"), OTHER_UID);
    append(dir.path(), &theirs_shared.join("owner.log")).success();

    // Another user's link in a world-writable directory without the sticky bit.
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, PermissionsExt::from_mode(0o777)).unwrap();
    link_owned_by(&target, &open.join("other.log"), OTHER_UID);
    append(dir.path(), &open.join("other.log")).success();

    assert_eq!(read(&target), b"appended\nappended\nappended\n");
}

#[test]
fn a_file_with_two_hard_links_in_a_sticky_world_writable_dir_is_refused() {
    if !root_or_skip("a_file_with_two_hard_links_in_a_sticky_world_writable_dir_is_refused") {
        return;
    }
    let dir = tempdir();
    let victim = dir.path().join("shadow");
    std::fs::write(&victim, "secret\n").unwrap();
    let shared = shared_dir(dir.path(), 0);
    std::fs::hard_link(&victim, shared.join("app.log")).unwrap();
    append(dir.path(), &shared.join("app.log"))
        .code(73)
        .stderr(predicate::str::contains("has 2 hard links"));
    assert_eq!(read(&victim), b"secret\n");

    // Outside such a directory a second link is nobody's trick.
    std::fs::hard_link(&victim, dir.path().join("plain.log")).unwrap();
    append(dir.path(), &dir.path().join("plain.log")).success();
    assert_eq!(read(&victim), b"secret\nappended\n");
}

#[test]
fn console_escapes_title_and_clear_screen_sequences_the_file_keeps_them() {
    let dir = tempdir();
    let hostile: &[u8] = b"\x1b]0;pwned title\x07before\x1b[2Jafter\n";
    rlog(dir.path())
        .args(["--console", "--color", "never", "-p", "raw.log"])
        .args(["-f", "%{message}"])
        .write_stdin(hostile)
        .assert()
        .success()
        .stdout("\\x1b]0;pwned title\\x07before\\x1b[2Jafter\n");
    assert_eq!(read(dir.path().join("raw.log")), hostile);
}
