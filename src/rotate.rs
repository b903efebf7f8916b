//! Size rotation and retention, run by the writer under the file's lock.
//!
//! The current file keeps its name; an archive is `PATH.` plus the UTC time of rotation
//! to the nanosecond in a fixed-width form (`app.log.20261203T155622.123456789Z`), so
//! archive names sort byte-wise in rotation order. Rotation renames one file and never an
//! archive, and never replaces an existing file.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Sender, unbounded};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;

use crate::sys;

/// `--rotate-size`, `--rotate-keep`, `--rotate-compress`.
#[derive(Clone, Debug)]
pub struct RotatePolicy {
    pub size: u64,
    pub keep: usize,
    pub compress: bool,
}

/// Length of the time stamp an archive name ends with: `20261203T155622.123456789Z`.
const STAMP_LEN: usize = 26;

/// The archive name for `path` rotated at `at`.
pub fn archive_name(path: &Path, at: Timestamp) -> PathBuf {
    let stamp = at.strftime("%Y%m%dT%H%M%S.%9fZ").to_string();
    let mut name = path.as_os_str().to_os_string();
    name.push(".");
    name.push(stamp);
    PathBuf::from(name)
}

/// Renames `path` to a new archive name, never replacing an existing file: a name taken
/// (another process rotating in the same nanosecond) moves on by a nanosecond.
pub fn rename_to_archive(path: &Path) -> io::Result<PathBuf> {
    let mut at = Timestamp::now();
    loop {
        let archive = archive_name(path, at);
        match sys::rename_noreplace(path, &archive) {
            Ok(()) => return Ok(archive),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                at += jiff::SignedDuration::from_nanos(1);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether `name` is an archive of the file named `base`: `base.` + stamp, maybe `.gz`.
fn archive_stamp<'a>(name: &'a str, base: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(base)?.strip_prefix('.')?;
    let stamp = rest.strip_suffix(".gz").unwrap_or(rest);
    let bytes = stamp.as_bytes();
    let shaped = bytes.len() == STAMP_LEN
        && bytes[8] == b'T'
        && bytes[15] == b'.'
        && bytes[25] == b'Z'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| matches!(i, 8 | 15 | 25) || b.is_ascii_digit());
    shaped.then_some(stamp)
}

/// Taken by pruning and by the compressor's final rename, so an archive pruned while it
/// was being compressed does not come back as `NAME.gz`.
static ARCHIVES: Mutex<()> = Mutex::new(());

/// Deletes the oldest archives of `path` beyond `keep` (plain and compressed alike).
/// Returns whether anything was deleted, so the caller syncs the directory.
pub fn prune(path: &Path, keep: usize) -> io::Result<bool> {
    let _archives = ARCHIVES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = sys::parent_or_dot(path);
    let Some(base) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(false);
    };
    let mut stamps: Vec<(String, OsString)> = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let name = entry?.file_name();
        if let Some(stamp) = name.to_str().and_then(|n| archive_stamp(n, base)) {
            stamps.push((stamp.to_string(), name));
        }
    }
    stamps.sort();
    let mut distinct: Vec<&str> = stamps.iter().map(|(s, _)| s.as_str()).collect();
    distinct.dedup();
    if distinct.len() <= keep {
        return Ok(false);
    }
    let cutoff = distinct[distinct.len() - keep - 1].to_string();
    for (stamp, name) in &stamps {
        if *stamp <= cutoff {
            match fs::remove_file(dir.join(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(true)
}

/// Gzips archives on a thread of its own, never in the writer's path.
#[derive(Debug)]
pub struct Compressor {
    tx: Option<Sender<PathBuf>>,
    thread: Option<JoinHandle<()>>,
}

impl Compressor {
    /// `mode` is the log files' mode (`--mode`): archives keep it.
    pub fn start(sync: bool, mode: u32) -> io::Result<Compressor> {
        let (tx, rx) = unbounded::<PathBuf>();
        let thread = thread::Builder::new()
            .name("compress".into())
            .spawn(move || {
                for archive in rx {
                    // NotFound: pruned before its turn came, nothing to keep.
                    if let Err(e) = compress(&archive, sync, mode)
                        && e.kind() != io::ErrorKind::NotFound
                    {
                        warn!(
                            "cannot compress '{}': {e}; it is kept uncompressed",
                            archive.display()
                        );
                    }
                }
            })?;
        Ok(Compressor {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn submit(&self, archive: PathBuf) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(archive);
        }
    }

    /// Finishes the archives already handed over.
    pub fn finish(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `NAME` → `NAME.gz`: written under a temporary name, synced, renamed, and only then is
/// the plain archive removed, so a crash leaves one whole copy or the other.
fn compress(archive: &Path, sync: bool, mode: u32) -> io::Result<()> {
    let mut tmp_name = archive.as_os_str().to_os_string();
    tmp_name.push(".gz.tmp");
    let result = compress_via(archive, Path::new(&tmp_name), sync, mode);
    if result.is_err() {
        // A half-written copy (a full disk) must not be left behind.
        let _ = fs::remove_file(&tmp_name);
    }
    result
}

fn compress_via(archive: &Path, tmp: &Path, sync: bool, mode: u32) -> io::Result<()> {
    let mut source = BufReader::new(File::open(archive)?);
    let mut gz_name = archive.as_os_str().to_os_string();
    gz_name.push(".gz");
    let gz = PathBuf::from(gz_name);
    let out = create_with_mode(tmp, mode)?;
    let mut encoder = GzEncoder::new(out, Compression::default());
    io::copy(&mut source, &mut encoder)?;
    let mut out = encoder.finish()?;
    out.flush()?;
    if sync {
        out.sync_all()?;
    }
    let _archives = ARCHIVES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !archive.exists() {
        // Pruned meanwhile: the compressed copy must not outlive it.
        return fs::remove_file(tmp);
    }
    fs::rename(tmp, &gz)?;
    let dir = sys::parent_or_dot(archive);
    if sync {
        sys::sync_dir(&dir)?;
    }
    fs::remove_file(archive)?;
    if sync {
        sys::sync_dir(&dir)?;
    }
    Ok(())
}

fn create_with_mode(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_are_fixed_width_and_sort_in_time_order() {
        let a = archive_name(
            Path::new("logs/app.log"),
            Timestamp::from_nanosecond(5).unwrap(),
        );
        assert_eq!(a, Path::new("logs/app.log.19700101T000000.000000005Z"));
        let later = archive_name(
            Path::new("logs/app.log"),
            Timestamp::from_nanosecond(10_000_000_000).unwrap(),
        );
        assert!(a < later);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            archive_stamp(name, "app.log"),
            Some("19700101T000000.000000005Z")
        );
        let gz = format!("{name}.gz");
        assert_eq!(
            archive_stamp(&gz, "app.log"),
            Some("19700101T000000.000000005Z")
        );
        assert_eq!(archive_stamp("app.log.old", "app.log"), None);
        assert_eq!(
            archive_stamp("app.log2.19700101T000000.000000005Z", "app.log"),
            None
        );
        assert_eq!(archive_stamp(&format!("{name}.gz.tmp"), "app.log"), None);
    }

    #[test]
    fn prune_keeps_the_newest_n() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        for i in 1..=5 {
            let at = Timestamp::from_second(i).unwrap();
            fs::write(archive_name(&path, at), "x").unwrap();
        }
        fs::write(
            format!(
                "{}.gz",
                archive_name(&path, Timestamp::from_second(5).unwrap()).display()
            ),
            "z",
        )
        .unwrap();
        fs::write(dir.path().join("a.log.keepme"), "").unwrap();
        assert!(prune(&path, 2).unwrap());
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "a.log.19700101T000004.000000000Z",
                "a.log.19700101T000005.000000000Z",
                "a.log.19700101T000005.000000000Z.gz",
                "a.log.keepme"
            ]
        );
        assert!(!prune(&path, 2).unwrap());
        prune(&path, 0).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
