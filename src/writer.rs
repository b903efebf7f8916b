//! The writer thread and its handle registry: the only code that touches log files.
//!
//! Every path is opened once (append mode) and kept open; each batch is written to a file
//! with one `write` holding only whole records, under an exclusive lock so several rlog
//! processes appending to one file never interleave inside a line. At the end of input
//! the queue is drained, then every written file is synced, then the directories of
//! every file and directory this run created. Lines for syslog servers are handed to
//! their forwarders after the files have them, and the forwarders are waited for only
//! once the files are synced, so a server that is down never holds the files back.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::exit::Exit;
use crate::level::LevelTable;
use crate::pattern::Pattern;
use crate::queue::Pool;
use crate::record::{Batch, Line, RawMessages, RecordMeta};
use crate::render::escape_controls;
use crate::rotate::{self, Compressor, RotatePolicy};
use crate::sys;
use crate::syslog::{self, ForwarderHandle};

/// What the pipeline sends the writer. The end of input is the channel closing.
pub enum Msg {
    Batch(Batch),
    /// SIGUSR1: sync every file now and go on.
    Checkpoint,
    /// SIGHUP: sync, close and reopen every file at its path (after logrotate moved it).
    Reopen,
}

/// A path could not be created or opened (exit 73).
#[derive(Debug)]
pub struct OpenError {
    pub path: PathBuf,
    pub source: io::Error,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot open log file '{}': {}",
            self.path.display(),
            self.source
        )?;
        // rlog's own refusals (an unsafe link) carry their advice; the OS's errors do not.
        if self.source.raw_os_error().is_none() {
            return Ok(());
        }
        let advice = match self.source.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                "check the permissions of the file and its directory, or pick another path"
            }
            io::ErrorKind::IsADirectory => "it is a directory: name a file in it",
            io::ErrorKind::NotADirectory => "a part of the path before the file is not a directory",
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                "free some space on that filesystem"
            }
            _ if sys::too_many_open_files(&self.source) => {
                "too many files open: raise the limit (ulimit -n) or use fewer paths"
            }
            _ => "check that the path names a file in a writable directory",
        };
        write!(f, "; {advice}")
    }
}

/// How new files and directories are made, and how failures are handled.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// fsync files and directories at exit (off with `--no-sync`).
    pub sync: bool,
    /// How long a failing write is retried before its path is given up.
    pub retry_for: Duration,
    pub file_mode: u32,
    pub dir_mode: u32,
    pub rotate: Option<RotatePolicy>,
}

/// One open (or once-open) log file.
#[derive(Debug)]
struct Handle {
    /// As shown in messages.
    name: String,
    /// None for standard output.
    path: Option<PathBuf>,
    file: Option<File>,
    regular: bool,
    /// Set when the file may end without a newline (opened with data in it, or a write
    /// failed part-way): the next write first ends that line.
    check_tail: bool,
    /// Written since it was last synced.
    dirty: bool,
    /// The first write error; the path takes no more writes after it.
    failed: Option<io::Error>,
    /// An fsync of the open file failed: it is not synced again (the kernel may have
    /// dropped the data already). Cleared when the path is reopened.
    sync_failed: bool,
    /// fsync failures over the run, for the exit status.
    sync_errors: u32,
    /// Device and inode of the open file, to notice it being moved or rotated away.
    id: Option<sys::FileId>,
    /// Records meant for this file that did not reach it.
    lost: u64,
    /// When a path-pattern handle was last written, to close idle ones.
    last_used: Instant,
}

impl Handle {
    /// Syncs the open file if it was written since its last sync. A failed sync is
    /// reported and never retried: the kernel may already have dropped the data.
    fn sync(&mut self) {
        let Some(file) = self.file.as_ref() else {
            return;
        };
        if !self.dirty || self.sync_failed {
            return;
        }
        self.dirty = false;
        match file.sync_all() {
            Ok(()) => {}
            // A pipe, a terminal, /dev/stderr: nothing to make durable.
            Err(e) if !self.regular && sys::sync_unsupported(&e) => {}
            Err(e) => {
                warn!(
                    "cannot sync '{}' to disk: {e}; its recent lines may be lost",
                    self.name
                );
                self.sync_failed = true;
                self.sync_errors += 1;
            }
        }
    }
}

/// The map from paths to their open files, one handle per file.
#[derive(Debug)]
pub struct HandleRegistry {
    handles: Vec<Handle>,
    by_path: HashMap<PathBuf, usize>,
    by_id: HashMap<sys::FileId, usize>,
    /// Parents of every file and directory this run created.
    dirs_to_sync: BTreeSet<PathBuf>,
    options: WriteOptions,
    lock_warned: bool,
    compressor: Option<Compressor>,
}

/// Path-pattern files kept open at most; the least recently used is closed first.
const MAX_PATTERN_HANDLES: usize = 64;
/// How often, at least, a busy writer checks that its files are still at their paths.
const MOVED_CHECK_EVERY: Duration = Duration::from_secs(1);
/// A path-pattern file unused this long (a dated file whose day has passed) is closed.
const PATTERN_IDLE_CLOSE: Duration = Duration::from_secs(300);

impl HandleRegistry {
    pub fn new(options: WriteOptions) -> io::Result<HandleRegistry> {
        let compressor = match &options.rotate {
            Some(policy) if policy.compress => {
                Some(Compressor::start(options.sync, options.file_mode)?)
            }
            _ => None,
        };
        Ok(HandleRegistry {
            compressor,
            handles: Vec::new(),
            by_path: HashMap::new(),
            by_id: HashMap::new(),
            dirs_to_sync: BTreeSet::new(),
            options,
            lock_warned: false,
        })
    }

    /// Opens `path` for appending, creating it and its missing parent directories, or
    /// returns the handle already open for that file under any name.
    pub fn open(&mut self, path: &Path) -> Result<usize, OpenError> {
        if let Some(&h) = self.by_path.get(path)
            && self.handles[h].file.is_some()
        {
            return Ok(h);
        }
        let err = |source| OpenError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            self.create_parents(parent).map_err(err)?;
        }
        let follow = sys::check_links(path).map_err(err)?;
        let (file, created) = open_append(path, self.options.file_mode, follow).map_err(err)?;
        if created {
            self.dirs_to_sync.insert(sys::parent_or_dot(path));
        }
        let regular = sys::is_regular(&file);
        let id = sys::file_id(&file).ok();
        // The same file already open under another name (`a.log` and `./a.log`).
        if let Some(&h) = id.as_ref().and_then(|id| self.by_id.get(id))
            && self.handles[h].file.is_some()
        {
            self.by_path.insert(path.to_path_buf(), h);
            return Ok(h);
        }
        let handle = Handle {
            name: path.display().to_string(),
            path: Some(path.to_path_buf()),
            file: Some(file),
            regular,
            check_tail: regular && !created,
            dirty: false,
            failed: None,
            sync_failed: false,
            sync_errors: 0,
            id,
            lost: 0,
            last_used: Instant::now(),
        };
        let h = match self.by_path.get(path) {
            // Reopening a closed handle keeps its counts.
            Some(&h) => {
                let old = &mut self.handles[h];
                old.file = handle.file;
                old.regular = handle.regular;
                old.check_tail = handle.check_tail;
                old.last_used = handle.last_used;
                old.id = handle.id;
                old.sync_failed = false;
                h
            }
            None => {
                self.handles.push(handle);
                self.handles.len() - 1
            }
        };
        self.by_path.insert(path.to_path_buf(), h);
        if let Some(id) = id {
            self.by_id.insert(id, h);
        }
        Ok(h)
    }

    /// Standard output as a handle (`cmd | rlog > file`, `cmd | rlog | less`).
    pub fn open_stdout(&mut self) -> io::Result<usize> {
        let file = sys::stdout_file()?;
        let regular = sys::is_regular(&file);
        self.handles.push(Handle {
            name: "standard output".into(),
            path: None,
            file: Some(file),
            regular,
            check_tail: false,
            dirty: false,
            failed: None,
            sync_failed: false,
            sync_errors: 0,
            id: None,
            lost: 0,
            last_used: Instant::now(),
        });
        Ok(self.handles.len() - 1)
    }

    /// Creates the missing directories above a log file, remembering each one's parent
    /// for the directory sync at exit.
    fn create_parents(&mut self, dir: &Path) -> io::Result<()> {
        if dir.as_os_str().is_empty() || dir.is_dir() {
            return Ok(());
        }
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .collect();
        for d in missing.into_iter().rev() {
            match sys::create_dir(d, self.options.dir_mode) {
                Ok(()) => {
                    self.dirs_to_sync.insert(sys::parent_or_dot(d));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Appends whole records to handle `h`: one write (retried on failure for
    /// `retry_for`), under the file's lock. `ends` are the records' end offsets in `bytes`.
    fn append(&mut self, h: usize, bytes: &[u8], ends: Ends<'_>) -> Result<(), BrokenPipe> {
        let retry_for = self.options.retry_for;
        if let Some(policy) = self.options.rotate.clone()
            && self.handles[h].regular
            && self.handles[h].path.is_some()
            && self.handles[h].failed.is_none()
            && self.handles[h].file.is_some()
        {
            self.append_rotating(h, bytes, ends, &policy);
            return Ok(());
        }
        let handle = &mut self.handles[h];
        if handle.failed.is_some() {
            handle.lost += ends.after(0);
            return Ok(());
        }
        let Some(file) = handle.file.as_mut() else {
            handle.lost += ends.after(0);
            return Ok(());
        };
        let locked = if handle.regular {
            match file.lock() {
                Ok(()) => true,
                Err(e) => {
                    if !self.lock_warned {
                        warn!(
                            "cannot lock '{}' ({e}); writing without the lock",
                            handle.name
                        );
                        self.lock_warned = true;
                    }
                    false
                }
            }
        } else {
            false
        };
        let result = write_records(file, &mut handle.check_tail, bytes, retry_for);
        if let Err((written, _)) = &result
            && handle.regular
        {
            mend_torn_write(file, ends.torn(0, *written), &handle.name);
        }
        if locked {
            let _ = file.unlock();
        }
        handle.dirty = true;
        handle.last_used = Instant::now();
        match result {
            Ok(()) => Ok(()),
            Err((written, e)) => {
                if handle.path.is_none() && e.kind() == io::ErrorKind::BrokenPipe {
                    return Err(BrokenPipe);
                }
                handle.lost += ends.after(written);
                warn!(
                    "cannot write to '{}': {e}; no more lines go to it (its other lines are kept)",
                    handle.name
                );
                handle.failed = Some(e);
                Ok(())
            }
        }
    }

    /// Appends like [`append`](Self::append) while keeping the file within
    /// `--rotate-size`: records that would overflow it go to a fresh file after rotation.
    /// Everything happens under the file's lock, after checking that the open file is
    /// still the one at the path, so processes sharing a path never rotate it twice.
    fn append_rotating(&mut self, h: usize, bytes: &[u8], ends: Ends<'_>, policy: &RotatePolicy) {
        if !self.lock_current(h) {
            self.handles[h].lost += ends.after(0);
            return;
        }
        let ends_list: Vec<usize> = ends.iter().collect();
        let (mut start, mut next) = (0usize, 0usize);
        while start < bytes.len() {
            // Read the size under the lock each time: after a rotation another process
            // may have written to the new file first.
            let size = self.handles[h]
                .file
                .as_ref()
                .and_then(|f| f.metadata().ok())
                .map_or(0, |m| m.len());
            // Whole records that fit; an empty file takes one record whatever its size.
            let mut cut = start;
            while next < ends_list.len() {
                let end = ends_list[next];
                let fits = size + (end - start) as u64 <= policy.size;
                if !fits && (size > 0 || cut > start) {
                    break;
                }
                cut = end;
                next += 1;
            }
            if cut > start {
                if !self.write_locked(h, bytes, start..cut, ends) {
                    break;
                }
                start = cut;
            }
            if start < bytes.len() && !self.rotate(h, policy) {
                // Rotation failed (reported): the rest goes to the current file.
                self.write_locked(h, bytes, start..bytes.len(), ends);
                break;
            }
        }
        if let Some(file) = self.handles[h].file.as_ref() {
            let _ = file.unlock();
        }
    }

    /// Locks handle `h`'s file, first making sure it is still the file at its path; a
    /// file rotated or moved away by anyone is left for the one now at the path.
    fn lock_current(&mut self, h: usize) -> bool {
        // Each retry means another process rotated the file meanwhile (progress), so the
        // bound only guards against a path that something else keeps replacing.
        for _ in 0..10_000 {
            let handle = &self.handles[h];
            let (Some(file), Some(path)) = (handle.file.as_ref(), handle.path.clone()) else {
                return false;
            };
            if let Err(e) = file.lock() {
                warn!(
                    "cannot lock '{}' ({e}); writing without the lock",
                    handle.name
                );
                return true;
            }
            if sys::path_id(&path).ok() == handle.id {
                return true;
            }
            let _ = file.unlock();
            self.reopen(h);
        }
        warn!(
            "'{}' keeps being replaced; writing without the lock",
            self.handles[h].name
        );
        self.handles[h].file.is_some()
    }

    /// Writes `bytes[range]` to the locked handle `h`; false (after reporting) on failure.
    fn write_locked(
        &mut self,
        h: usize,
        bytes: &[u8],
        range: std::ops::Range<usize>,
        ends: Ends<'_>,
    ) -> bool {
        let retry_for = self.options.retry_for;
        let handle = &mut self.handles[h];
        let Some(file) = handle.file.as_mut() else {
            handle.lost += ends.after(range.start);
            return false;
        };
        handle.dirty = true;
        handle.last_used = Instant::now();
        match write_records(
            file,
            &mut handle.check_tail,
            &bytes[range.clone()],
            retry_for,
        ) {
            Ok(()) => true,
            Err((written, e)) => {
                if handle.regular {
                    mend_torn_write(file, ends.torn(range.start, written), &handle.name);
                }
                handle.lost += ends.after(range.start + written);
                warn!(
                    "cannot write to '{}': {e}; no more lines go to it (its other lines are kept)",
                    handle.name
                );
                handle.failed = Some(e);
                false
            }
        }
    }

    /// Rotates handle `h`'s file, which this process holds locked: sync it, rename it to
    /// an archive, sync the directory, create the new file, sync the directory; then
    /// prune old archives and hand the new one to the compressor.
    fn rotate(&mut self, h: usize, policy: &RotatePolicy) -> bool {
        let sync = self.options.sync;
        let Some(link) = self.handles[h].path.clone() else {
            return false;
        };
        // A log reached through a symlink (`/var/log/app.log -> /data/app.log`) is
        // rotated where it lives, leaving the link in place.
        let is_link = std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink());
        let path = match is_link {
            true => std::fs::canonicalize(&link).unwrap_or(link),
            false => link,
        };
        let dir = sys::parent_or_dot(&path);
        if sync {
            self.handles[h].sync();
        }
        let archive = match rotate::rename_to_archive(&path) {
            Ok(archive) => archive,
            Err(e) => {
                warn!(
                    "cannot rotate '{}': {e}; still writing to it",
                    path.display()
                );
                return false;
            }
        };
        let sync_dir = |what: &str| {
            if sync && let Err(e) = sys::sync_dir(&dir) {
                warn!(
                    "cannot sync directory '{}' after {what}: {e}",
                    dir.display()
                );
            }
        };
        sync_dir("rotating");
        let opened = sys::check_links(&path)
            .and_then(|follow| open_append(&path, self.options.file_mode, follow));
        let (file, created) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                warn!(
                    "cannot create '{}' after rotating it: {e}; no more lines go to it",
                    path.display()
                );
                self.handles[h].failed = Some(e);
                return false;
            }
        };
        sync_dir("creating the new file");
        // Hold the new file's lock before letting go of the old one, so a waiting process
        // that moves on to the new file queues behind this one.
        let _ = file.lock();
        let id = sys::file_id(&file).ok();
        let handle = &mut self.handles[h];
        if let Some(old) = handle.file.replace(file) {
            let _ = old.unlock();
        }
        if let Some(old_id) = handle.id.take() {
            self.by_id.remove(&old_id);
        }
        handle.id = id;
        handle.check_tail = !created;
        handle.sync_failed = false;
        handle.dirty = false;
        if let Some(id) = id {
            self.by_id.insert(id, h);
        }
        // Between creating the new file and locking it, another process may have taken
        // it, filled it and rotated it away: make sure the locked file is at the path.
        if !self.lock_current(h) {
            return false;
        }
        match rotate::prune(&path, policy.keep) {
            Ok(true) => sync_dir("removing old archives"),
            Ok(false) => {}
            Err(e) => warn!("cannot remove old archives of '{}': {e}", path.display()),
        }
        if let Some(compressor) = &self.compressor {
            compressor.submit(archive);
        }
        true
    }

    /// Syncs every file written since its last sync (see [`Handle::sync`]).
    fn sync_files(&mut self) {
        if !self.options.sync {
            return;
        }
        for handle in &mut self.handles {
            handle.sync();
        }
    }

    /// Syncs the directories that gained an entry, so new names survive a crash.
    fn sync_dirs(&mut self) -> bool {
        let mut ok = true;
        if !self.options.sync {
            self.dirs_to_sync.clear();
            return ok;
        }
        for dir in std::mem::take(&mut self.dirs_to_sync) {
            if let Err(e) = sys::sync_dir(&dir) {
                warn!(
                    "cannot sync directory '{}': {e}; a new file's name may be lost",
                    dir.display()
                );
                ok = false;
            }
        }
        ok
    }

    /// Syncs and closes handle `h` (an idle or evicted path-pattern file).
    fn close(&mut self, h: usize) {
        let handle = &mut self.handles[h];
        if self.options.sync {
            handle.sync();
        }
        handle.file = None;
        handle.dirty = false;
        if let Some(id) = self.by_id.iter().find(|(_, v)| **v == h).map(|(k, _)| *k) {
            self.by_id.remove(&id);
        }
    }

    /// Syncs, closes and reopens every file at its path (SIGHUP, after logrotate).
    fn reopen_all(&mut self) {
        for h in 0..self.handles.len() {
            self.reopen(h);
        }
    }

    /// Syncs and closes handle `h`, then opens its path again (creating the file).
    fn reopen(&mut self, h: usize) {
        let Some(path) = self.handles[h].path.clone() else {
            return;
        };
        if self.handles[h].file.is_none() || self.handles[h].failed.is_some() {
            return;
        }
        self.close(h);
        if let Err(e) = self.open(&path) {
            warn!("{e}; no more lines go to it");
            self.handles[h].failed = Some(e.source);
        }
    }

    /// Reopens every file whose path no longer leads to it (renamed or removed by
    /// someone else, as `mv app.log app.log.1` does), so later lines go to the path.
    fn reopen_moved(&mut self) {
        for h in 0..self.handles.len() {
            let handle = &self.handles[h];
            let (Some(path), Some(id)) = (&handle.path, handle.id) else {
                continue;
            };
            if handle.file.is_none() || handle.failed.is_some() {
                continue;
            }
            if sys::path_id(path).ok() != Some(id) {
                self.reopen(h);
            }
        }
    }

    fn open_pattern_handles(&self, pattern_handles: &[usize]) -> usize {
        pattern_handles
            .iter()
            .filter(|&&h| self.handles[h].file.is_some())
            .count()
    }

    /// The final status and one message per path that lost lines.
    fn outcome(&mut self) -> Exit {
        let dirs_ok = self.sync_dirs();
        let mut exit = if dirs_ok { Exit::Ok } else { Exit::IoError };
        for handle in &self.handles {
            if handle.lost > 0 {
                let why = handle
                    .failed
                    .as_ref()
                    .map_or_else(|| "it could not be opened".to_string(), |e| e.to_string());
                warn!(
                    "{} line(s) were not written to '{}': {why}",
                    handle.lost, handle.name
                );
                exit = Exit::IoError;
            }
            if handle.sync_errors > 0 {
                exit = Exit::IoError;
            }
        }
        exit
    }
}

/// Standard output was closed by its reader.
struct BrokenPipe;

/// Where each record ends in the bytes of one write, to count the records a failed
/// write lost; read only on failure, so the hot path builds no list.
#[derive(Clone, Copy)]
enum Ends<'a> {
    Records(&'a [RecordMeta]),
    Offsets(&'a [usize]),
}

impl Ends<'_> {
    fn iter(self) -> impl Iterator<Item = usize> {
        let (records, offsets) = match self {
            Ends::Records(r) => (r, &[][..]),
            Ends::Offsets(o) => (&[][..], o),
        };
        records.iter().map(|r| r.end).chain(offsets.iter().copied())
    }

    /// How many bytes of a record a failed write starting at offset `start` left at the
    /// end of the file after `written` bytes (0 when it stopped between records).
    fn torn(self, start: usize, written: usize) -> usize {
        let done = start + written;
        let whole = self.iter().take_while(|&end| end <= done).last();
        done - whole.unwrap_or(0).max(start)
    }

    /// How many records end beyond `written` bytes: those that did not fully arrive.
    fn after(self, written: usize) -> u64 {
        let count = match self {
            Ends::Records(records) => records.iter().filter(|r| r.end > written).count(),
            Ends::Offsets(ends) => ends.iter().filter(|&&end| end > written).count(),
        };
        count as u64
    }
}

/// Opens `path` for appending; says whether this call created it. With `follow` false, a
/// symlink as the last component is refused.
fn open_append(path: &Path, mode: u32, follow: bool) -> io::Result<(File, bool)> {
    let (file, created) = open_append_nonblocking(path, mode, follow).map_err(|e| {
        if sys::no_fifo_reader(&e) {
            io::Error::new(e.kind(), "it is a FIFO that no process is reading")
        } else {
            e
        }
    })?;
    sys::blocking_again(&file)?;
    Ok((file, created))
}

fn open_append_nonblocking(path: &Path, mode: u32, follow: bool) -> io::Result<(File, bool)> {
    let mut options = sys::append_options(mode, follow);
    // Only a regular file is read (its last byte, to mend a torn tail). A FIFO or pipe is
    // opened write-only: holding a read end ourselves, a write would block for ever once
    // the real reader left, instead of failing with EPIPE.
    options.read(std::fs::metadata(path).map_or(true, |m| m.is_file()));
    // Creating exclusively first is how rlog knows the file is new, so its directory
    // entry gets synced; an existing file is then opened as it is.
    for _ in 0..3 {
        match options.create_new(true).open(path) {
            Ok(file) => return Ok((file, true)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        match options.create_new(false).create(false).open(path) {
            Ok(file) => return Ok((file, false)),
            // Removed between the two calls: try again.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    options.create(true).open(path).map(|file| (file, false))
}

/// Writes `bytes` whole. A failing write is retried with backoff for `retry_for`,
/// continuing where it stopped so a record is never torn by the retry. On failure,
/// returns how many bytes did reach the file.
fn write_records(
    file: &mut File,
    check_tail: &mut bool,
    bytes: &[u8],
    retry_for: Duration,
) -> Result<(), (usize, io::Error)> {
    let mut deadline: Option<Instant> = None;
    let mut backoff = Duration::from_millis(10);
    let mut written = 0;
    loop {
        let attempt = (|| {
            if *check_tail {
                if sys::last_byte(file)?.is_some_and(|b| b != b'\n') {
                    file.write_all(b"\n")?;
                }
                *check_tail = false;
            }
            while written < bytes.len() {
                match file.write(&bytes[written..]) {
                    Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                    Ok(n) => written += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })();
        let err = match attempt {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Err((written, err));
        }
        let deadline = *deadline.get_or_insert_with(|| Instant::now() + retry_for);
        let now = Instant::now();
        if now >= deadline {
            return Err((written, err));
        }
        thread::sleep(backoff.min(deadline - now));
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

/// After a failed write, still under the lock: removes the start of a record it left at
/// the end of the file, so no other appender starts a line after it.
fn mend_torn_write(file: &mut File, torn: usize, name: &str) {
    if torn > 0
        && let Err(e) = drop_torn_tail(file, torn as u64)
    {
        warn!(
            "cannot remove the partial record at the end of '{name}' ({e}); it ends without a newline"
        );
    }
}

/// Removes the last `torn` bytes of `file`, the start of a record that a failed write cut
/// short, so the file ends on a whole line and the next appender starts a line of its own.
/// Only bytes this process just wrote are removed: with `O_APPEND` the file position is just
/// past them, and the file must still end there.
fn drop_torn_tail(file: &mut File, torn: u64) -> io::Result<()> {
    let end = file.stream_position()?;
    if file.metadata()?.len() != end || torn > end {
        return Err(io::Error::other("the file changed after the write"));
    }
    file.set_len(end - torn)
}

/// A destination in the file registry, with its minimum level.
pub struct FileSink {
    pub target: Target,
    /// Records below this level number are not written here.
    pub min_level: i32,
}

pub enum Target {
    /// A path opened at start-up.
    Fixed(usize),
    /// A path with tokens (`logs/%{level}.log`), opened on first use.
    Pattern(Pattern),
}

/// `--console`, or a terminal on stdout with no path: escaped, optionally coloured.
pub struct Console {
    file: File,
    /// Colour prefix by level id; empty when colour is off.
    colours: Vec<&'static str>,
    buf: Vec<u8>,
}

impl Console {
    pub fn new(levels: &LevelTable, colour: bool) -> io::Result<Console> {
        let colours = levels
            .ids()
            .map(|id| {
                if !colour {
                    return "";
                }
                match levels.number(levels.nearest_builtin_at_or_below(id)) {
                    n if n >= 50 => "\x1b[1;31m",
                    n if n >= 40 => "\x1b[31m",
                    n if n >= 30 => "\x1b[33m",
                    n if n >= 20 => "",
                    _ => "\x1b[2m",
                }
            })
            .collect();
        Ok(Console {
            file: sys::stdout_file()?,
            colours,
            buf: Vec::new(),
        })
    }

    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        self.buf.clear();
        for (record, meta) in batch.iter() {
            let colour = self.colours[meta.level.index()];
            self.buf.extend_from_slice(colour.as_bytes());
            escape_controls(&record[..record.len() - 1], &mut self.buf);
            if !colour.is_empty() {
                self.buf.extend_from_slice(b"\x1b[0m");
            }
            self.buf.push(b'\n');
        }
        self.file.write_all(&self.buf)
    }
}

/// Everything the writer thread owns.
pub struct Writer {
    pub registry: HandleRegistry,
    pub sinks: Vec<FileSink>,
    pub console: Option<Console>,
    /// Set when there are no file sinks and output goes to stdout: a closed stdout then
    /// ends the run.
    pub stdout_only: bool,
    pub levels: LevelTable,
    /// One per `--syslog` destination.
    forwarders: Vec<ForwarderHandle>,
    /// Messages handed to the forwarders, so undelivered ones can be counted.
    forwarded: u64,
    outs: Vec<Out>,
    touched: Vec<usize>,
    pattern_handles: Vec<usize>,
    path_buf: Vec<u8>,
}

/// Records routed to one handle within a batch.
#[derive(Default)]
struct Out {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Index+1 of the last record appended, so a record reaches a file once even when
    /// two sinks resolve to it.
    last_record: usize,
}

impl Writer {
    pub fn new(
        registry: HandleRegistry,
        sinks: Vec<FileSink>,
        console: Option<Console>,
        stdout_only: bool,
        levels: LevelTable,
        forwarders: Vec<ForwarderHandle>,
    ) -> Writer {
        Writer {
            registry,
            sinks,
            console,
            stdout_only,
            levels,
            forwarders,
            forwarded: 0,
            outs: Vec::new(),
            touched: Vec::new(),
            pattern_handles: Vec::new(),
            path_buf: Vec::new(),
        }
    }

    /// Runs the writer on its own thread; the handle yields the final status once the
    /// queue is closed and drained and every file synced.
    pub fn spawn(
        mut self,
        queue: Receiver<Msg>,
        spent: Pool<Batch>,
        done: Sender<Exit>,
    ) -> io::Result<()> {
        thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                let exit = self.run(&queue, &spent);
                let _ = done.send(exit);
            })?;
        Ok(())
    }

    fn run(&mut self, queue: &Receiver<Msg>, spent: &Pool<Batch>) -> Exit {
        let mut last_check = Instant::now();
        loop {
            let msg = match queue.recv_timeout(Duration::from_secs(1)) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    self.registry.reopen_moved();
                    last_check = Instant::now();
                    self.close_idle_pattern_handles();
                    continue;
                }
                // Every sender is gone: the input ended and everything queued is written.
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let result = match msg {
                Msg::Batch(mut batch) => {
                    let written = self.write_batch(&batch);
                    let messages = std::mem::take(&mut batch.raw);
                    spent.give(batch);
                    self.forward(messages);
                    // A file moved away is noticed when the queue goes idle, and at
                    // least every second while busy.
                    if queue.is_empty() || last_check.elapsed() >= MOVED_CHECK_EVERY {
                        self.registry.reopen_moved();
                        last_check = Instant::now();
                    }
                    written
                }
                Msg::Checkpoint => {
                    self.registry.sync_files();
                    self.registry.sync_dirs();
                    Ok(())
                }
                Msg::Reopen => {
                    self.registry.reopen_all();
                    Ok(())
                }
            };
            if result.is_err() {
                // Stdout was the only output and its reader is gone: stop quietly; the
                // dropped queue tells the pipeline to stop reading.
                return self.finish(result);
            }
        }
        self.finish(Ok(()))
    }

    /// Writes one batch and finishes, on the calling thread: `rlog write` needs no
    /// queue, and sparing two thread starts is a third of its start-up. Syslog
    /// forwarders are waited for until `drain_timeout` (the threaded writer leaves that
    /// bound to the pipeline).
    pub fn write_once(mut self, batch: &mut Batch, drain_timeout: Option<Duration>) -> Exit {
        let result = self.write_batch(batch);
        self.forward(std::mem::take(&mut batch.raw));
        let files = self.finish_files(result);
        let deadline = drain_timeout.map(|t| Instant::now() + t);
        files.worst(self.finish_forwarders(deadline))
    }

    /// Syncs every file and directory, waits for the forwarders, and returns the run's
    /// status.
    fn finish(&mut self, result: Result<(), BrokenPipe>) -> Exit {
        let files = self.finish_files(result);
        files.worst(self.finish_forwarders(None))
    }

    /// Syncs every file and directory and returns their status.
    fn finish_files(&mut self, result: Result<(), BrokenPipe>) -> Exit {
        self.registry.sync_files();
        if let Some(compressor) = self.registry.compressor.as_mut() {
            compressor.finish();
        }
        let exit = self.registry.outcome();
        match result {
            Ok(()) => exit,
            Err(BrokenPipe) => exit.worst(Exit::BrokenPipe),
        }
    }

    /// Hands a batch's messages to every forwarder; waits while one's queue is full.
    fn forward(&mut self, messages: RawMessages) {
        if self.forwarders.is_empty() || messages.is_empty() {
            return;
        }
        self.forwarded += messages.len() as u64;
        let shared = Arc::new(messages);
        for forwarder in &self.forwarders {
            forwarder.send(Arc::clone(&shared));
        }
    }

    /// Closes every forwarder's queue, then waits (until `deadline`, if any) for each to
    /// deliver what it holds, so they drain side by side.
    fn finish_forwarders(&mut self, deadline: Option<Instant>) -> Exit {
        for forwarder in &mut self.forwarders {
            forwarder.close();
        }
        let mut exit = Exit::Ok;
        for forwarder in &mut self.forwarders {
            match forwarder.finish(deadline) {
                Some(status) => exit = exit.worst(status),
                None => {
                    syslog::report_undelivered(&forwarder.status, self.forwarded);
                    exit = exit.worst(Exit::DrainTimeout);
                }
            }
        }
        exit
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), BrokenPipe> {
        if batch.is_empty() {
            return Ok(());
        }
        if let Some(console) = self.console.as_mut()
            && let Err(e) = console.write(batch)
        {
            if e.kind() != io::ErrorKind::BrokenPipe {
                warn!("cannot write to the console: {e}; echo stopped");
            }
            self.console = None;
            if self.stdout_only {
                return Err(BrokenPipe);
            }
        }
        // Every record goes to every fixed file unless some sink filters by level and
        // this batch has a record below it (the scan is skipped when none filters).
        let all_fixed = self
            .sinks
            .iter()
            .all(|s| matches!(s.target, Target::Fixed(_)));
        let highest_min = self
            .sinks
            .iter()
            .map(|s| s.min_level)
            .max()
            .unwrap_or(i32::MIN);
        let fast = all_fixed
            && (highest_min == i32::MIN
                || batch
                    .records
                    .iter()
                    .all(|r| self.levels.number(r.level) >= highest_min));
        if fast {
            // Every record goes to every file (fixed sinks are distinct handles).
            for i in 0..self.sinks.len() {
                let Target::Fixed(h) = self.sinks[i].target else {
                    unreachable!("fast path is taken only when every sink is fixed")
                };
                self.registry
                    .append(h, &batch.text, Ends::Records(&batch.records))?;
            }
            return Ok(());
        }
        self.route(batch)
    }

    /// Sends each record to the files its sinks resolve to, filtering by level.
    fn route(&mut self, batch: &Batch) -> Result<(), BrokenPipe> {
        for (index, (record, meta)) in batch.iter().enumerate() {
            let number = self.levels.number(meta.level);
            for s in 0..self.sinks.len() {
                if number < self.sinks[s].min_level {
                    continue;
                }
                let Some(h) = self.resolve(s, meta) else {
                    continue;
                };
                if self.outs.len() <= h {
                    self.outs.resize_with(h + 1, Out::default);
                }
                let out = &mut self.outs[h];
                if out.last_record == index + 1 {
                    continue;
                }
                if out.bytes.is_empty() && out.ends.is_empty() {
                    self.touched.push(h);
                }
                out.last_record = index + 1;
                out.bytes.extend_from_slice(record);
                out.ends.push(out.bytes.len());
            }
        }
        let mut result = Ok(());
        for h in std::mem::take(&mut self.touched) {
            let out = std::mem::take(&mut self.outs[h]);
            if result.is_ok() {
                result = self
                    .registry
                    .append(h, &out.bytes, Ends::Offsets(&out.ends));
            }
            let mut out = out;
            out.bytes.clear();
            out.ends.clear();
            out.last_record = 0;
            self.outs[h] = out;
        }
        result
    }

    /// The handle for sink `s` and a record with this level and time, opening a
    /// path-pattern file on first use.
    fn resolve(&mut self, s: usize, meta: &RecordMeta) -> Option<usize> {
        let pattern = match &mut self.sinks[s].target {
            Target::Fixed(h) => return Some(*h),
            Target::Pattern(pattern) => pattern,
        };
        let line = Line {
            message: b"",
            time: meta.time,
            level: meta.level,
            seq: 0,
            stream: meta.stream,
        };
        self.path_buf.clear();
        pattern.render(&line, &mut self.path_buf);
        let path = bytes_to_path(&self.path_buf);
        if self.registry.open_pattern_handles(&self.pattern_handles) >= MAX_PATTERN_HANDLES
            && !self.registry.by_path.contains_key(&path)
        {
            self.evict_least_recent();
        }
        let mut opened = self.registry.open(&path);
        // Out of file descriptors (a low `ulimit -n`): close the least recently used
        // pattern files, synced, until the open succeeds or none is left.
        while let Err(e) = &opened
            && sys::too_many_open_files(&e.source)
            && self.registry.open_pattern_handles(&self.pattern_handles) > 0
        {
            self.evict_least_recent();
            opened = self.registry.open(&path);
        }
        match opened {
            Ok(h) => {
                if !self.pattern_handles.contains(&h) {
                    self.pattern_handles.push(h);
                }
                Some(h)
            }
            Err(e) => {
                // Reported once per path; its lines are counted as lost.
                let known = self.registry.by_path.get(&path).copied();
                match known {
                    Some(h) => self.registry.handles[h].lost += 1,
                    None => {
                        warn!("{e}");
                        let h = self.registry.handles.len();
                        self.registry.handles.push(Handle {
                            name: path.display().to_string(),
                            path: Some(path.clone()),
                            file: None,
                            regular: false,
                            check_tail: false,
                            dirty: false,
                            failed: Some(e.source),
                            sync_failed: false,
                            sync_errors: 0,
                            id: None,
                            lost: 1,
                            last_used: Instant::now(),
                        });
                        self.registry.by_path.insert(path, h);
                    }
                }
                None
            }
        }
    }

    fn evict_least_recent(&mut self) {
        let oldest = self
            .pattern_handles
            .iter()
            .copied()
            .filter(|&h| self.registry.handles[h].file.is_some())
            .min_by_key(|&h| self.registry.handles[h].last_used);
        if let Some(h) = oldest {
            self.registry.close(h);
        }
    }

    fn close_idle_pattern_handles(&mut self) {
        let now = Instant::now();
        for &h in &self.pattern_handles {
            let handle = &self.registry.handles[h];
            if handle.file.is_some() && now.duration_since(handle.last_used) >= PATTERN_IDLE_CLOSE {
                self.registry.close(h);
            }
        }
        self.registry.sync_dirs();
    }
}

#[cfg(unix)]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(windows)]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}
