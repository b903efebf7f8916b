//! The few platform calls rlog needs: directory fsync, file identity, modes, host name,
//! signal defaults. Linux is what runs and is tested here; the macOS paths share the Unix
//! code, and the Windows paths are written to compile but are untested.

use std::fs::File;
use std::io;
use std::path::Path;

/// Identifies an open file (device and inode), so two names for one file share a handle.
pub type FileId = (u64, u64);

#[cfg(unix)]
mod imp {
    use super::*;
    use std::fs::{DirBuilder, OpenOptions};
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};

    pub fn file_id(file: &File) -> io::Result<FileId> {
        let meta = file.metadata()?;
        Ok((meta.dev(), meta.ino()))
    }

    pub fn path_id(path: &Path) -> io::Result<FileId> {
        let meta = std::fs::metadata(path)?;
        Ok((meta.dev(), meta.ino()))
    }

    /// Makes a directory's entries (a new file's name, a rename) durable.
    pub fn sync_dir(dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    pub fn create_dir(dir: &Path, mode: u32) -> io::Result<()> {
        DirBuilder::new().mode(mode).create(dir)
    }

    /// Append mode; `follow: false` refuses a symlink as the last component.
    pub fn append_options(mode: u32, follow: bool) -> OpenOptions {
        let mut options = OpenOptions::new();
        // O_NONBLOCK so that opening a FIFO nobody reads fails (ENXIO) instead of
        // blocking for ever; `blocking_again` clears it once the file is open.
        let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
        options
            .append(true)
            .mode(mode)
            .custom_flags(libc::O_NONBLOCK | nofollow);
        options
    }

    /// Makes writes to `file` block again after an O_NONBLOCK open: a FIFO whose reader
    /// is slow then holds rlog back instead of failing with EAGAIN.
    pub fn blocking_again(file: &File) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: F_GETFL/F_SETFL on a descriptor this File owns; no memory is touched.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// Whether an open failed for want of file descriptors (EMFILE, ENFILE).
    pub fn too_many_open_files(err: &io::Error) -> bool {
        matches!(err.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
    }

    /// Whether an open failed because the path is a FIFO that no process reads.
    pub fn no_fifo_reader(err: &io::Error) -> bool {
        err.raw_os_error() == Some(libc::ENXIO)
    }

    /// Refuses a path that a planted link could redirect. Walks `path` as the kernel
    /// would, following every symlink, and applies Linux's `protected_symlinks` rule
    /// whatever that setting says: a symlink in a sticky, world-writable directory (such as
    /// /tmp) is followed only when its owner is rlog's user or the directory's owner. An
    /// existing file in such a directory with more than one hard link is refused too (it
    /// may be another user's link to a file they cannot write). Returns whether the last
    /// component of `path` is itself a symlink (one that passed), so that otherwise the
    /// file is opened without following one planted after this check.
    pub fn check_links(path: &Path) -> io::Result<bool> {
        use std::ffi::OsString;
        use std::path::{Component, PathBuf};

        /// Pushes `p`'s components so that the first is popped first.
        fn push_reversed(todo: &mut Vec<OsString>, p: &Path) {
            let start = todo.len();
            for c in p.components() {
                match c {
                    Component::Normal(name) => todo.push(name.to_os_string()),
                    Component::ParentDir => todo.push("..".into()),
                    Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
                }
            }
            todo[start..].reverse();
        }
        /// The owner of `dir` if it is sticky and world-writable.
        fn shared_dir_owner(dir: &Path) -> io::Result<Option<u32>> {
            let meta = std::fs::metadata(dir)?;
            let shared = meta.mode() & 0o1002 == 0o1002;
            Ok(shared.then(|| meta.uid()))
        }
        let refuse = |msg: String| Err(io::Error::new(io::ErrorKind::PermissionDenied, msg));

        let ends_in_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink());
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        let mut dir = match path.is_absolute() {
            true => PathBuf::from("/"),
            false => std::env::current_dir()?,
        };
        let mut todo = Vec::new();
        push_reversed(&mut todo, path);
        // As the kernel's ELOOP limit: past it the open fails by itself.
        let mut links_left = 40;
        while let Some(name) = todo.pop() {
            if name == ".." {
                dir.pop();
                continue;
            }
            let entry = dir.join(&name);
            // A missing entry is created by rlog (exclusively: no link is followed); any
            // other error is the open's to report.
            let Ok(meta) = std::fs::symlink_metadata(&entry) else {
                break;
            };
            if meta.is_symlink() {
                if let Some(dir_owner) = shared_dir_owner(&dir)?
                    && meta.uid() != euid
                    && meta.uid() != dir_owner
                {
                    return refuse(format!(
                        "refusing to follow the symbolic link '{}': it is owned by uid {}, \
                         in the sticky, world-writable directory '{}' (owned by uid {dir_owner}), \
                         and rlog runs as uid {euid}; a link planted there by another user can \
                         point at any file. Name the target itself or remove the link",
                        entry.display(),
                        meta.uid(),
                        dir.display()
                    ));
                }
                links_left -= 1;
                if links_left == 0 {
                    break;
                }
                let target = std::fs::read_link(&entry)?;
                if target.is_absolute() {
                    dir = PathBuf::from("/");
                }
                push_reversed(&mut todo, &target);
                continue;
            }
            if todo.is_empty()
                && meta.is_file()
                && meta.nlink() > 1
                && shared_dir_owner(&dir)?.is_some()
            {
                return refuse(format!(
                    "refusing to append to '{}': it has {} hard links and is in the sticky, \
                     world-writable directory '{}', so another user may have linked it to a \
                     file they cannot write. Remove the extra link or log elsewhere",
                    entry.display(),
                    meta.nlink(),
                    dir.display()
                ));
            }
            dir = entry;
        }
        Ok(ends_in_link)
    }

    pub fn host_name() -> Vec<u8> {
        let mut buf = [0u8; 256];
        // SAFETY: the pointer and length describe `buf`, which outlives the call; the
        // result is only read up to the first NUL within the buffer.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc != 0 {
            return b"localhost".to_vec();
        }
        let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        buf[..len].to_vec()
    }

    /// A file-size limit (`ulimit -f`) would otherwise kill rlog with no drain; ignored,
    /// the write fails with EFBIG, which is reported like any write error.
    pub fn ignore_file_size_signal() {
        // SAFETY: setting a signal's disposition to SIG_IGN has no memory effects.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        }
    }

    /// Ends the process by `signal` with its default action, so the parent sees a death
    /// by that signal. Returns only if the signal did not end the process.
    pub fn die_by_signal(signal: i32) {
        // SAFETY: restoring a default disposition, unblocking the signal for this thread
        // and raising it touch no memory of ours; the set lives on this stack frame.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(signal);
        }
    }

    fn signal_set(signals: &[i32]) -> libc::sigset_t {
        // SAFETY: sigemptyset initialises the set before sigaddset writes to it.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for &signal in signals {
                libc::sigaddset(&mut set, signal);
            }
            set
        }
    }

    /// Holds `signals` (on the calling thread, which must be the only one): they stay
    /// pending until unblocked, instead of interrupting.
    pub fn block_signals(signals: &[i32]) {
        let set = signal_set(signals);
        // SAFETY: `set` is a valid, initialised signal set on this stack frame.
        unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
    }

    /// The first of `signals` that arrived while held, if any.
    pub fn pending_signal(signals: &[i32]) -> Option<i32> {
        // SAFETY: sigpending fills the zeroed set; sigismember only reads it.
        unsafe {
            let mut pending: libc::sigset_t = std::mem::zeroed();
            if libc::sigpending(&mut pending) != 0 {
                return None;
            }
            signals
                .iter()
                .copied()
                .find(|&s| libc::sigismember(&pending, s) == 1)
        }
    }

    /// Whether an fsync error only says the file cannot be synced (a pipe, a terminal,
    /// `/dev/stderr`), which is not a lost line.
    pub fn sync_unsupported(err: &io::Error) -> bool {
        matches!(
            err.raw_os_error(),
            Some(libc::EINVAL) | Some(libc::ENOTSUP) | Some(libc::EROFS)
        )
    }

    /// Renames `from` to `to`, failing with AlreadyExists rather than replacing `to`:
    /// renameat2(RENAME_NOREPLACE), or link and unlink where the filesystem lacks it.
    pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use std::ffi::CString;
            use std::os::unix::ffi::OsStrExt;
            let c = |p: &Path| {
                CString::new(p.as_os_str().as_bytes()).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte")
                })
            };
            let (f, t) = (c(from)?, c(to)?);
            // SAFETY: both pointers are valid NUL-terminated strings that outlive the call.
            let rc = unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    f.as_ptr(),
                    libc::AT_FDCWD,
                    t.as_ptr(),
                    libc::RENAME_NOREPLACE,
                )
            };
            if rc == 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if !matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
                return Err(err);
            }
        }
        std::fs::hard_link(from, to)?;
        std::fs::remove_file(from)
    }

    /// Asks for a pipe buffer of `bytes` on `fd` if it is a pipe (Linux), so one read
    /// can take a whole batch; anything else, or a refusal, leaves it as it is.
    pub fn grow_pipe(fd: i32, bytes: usize) {
        #[cfg(target_os = "linux")]
        // SAFETY: F_SETPIPE_SZ only changes the pipe's capacity; on a non-pipe it fails
        // with EBADF or EINVAL and changes nothing.
        unsafe {
            libc::fcntl(fd, libc::F_SETPIPE_SZ, bytes as libc::c_int);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (fd, bytes);
    }

    pub fn is_regular(file: &File) -> bool {
        file.metadata()
            .map(|m| m.file_type().is_file())
            .unwrap_or(false)
    }

    pub fn is_terminal_fd1() -> bool {
        use std::io::IsTerminal;
        io::stdout().is_terminal()
    }
}

#[cfg(windows)]
mod imp {
    //! Untested: written to compile; rlog is developed and tested on Linux.
    use super::*;
    use std::fs::OpenOptions;

    pub fn file_id(_file: &File) -> io::Result<FileId> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "file identity"))
    }

    pub fn path_id(_path: &Path) -> io::Result<FileId> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "file identity"))
    }

    /// Windows cannot flush a directory; its entries are made durable with the file.
    pub fn sync_dir(_dir: &Path) -> io::Result<()> {
        Ok(())
    }

    pub fn create_dir(dir: &Path, _mode: u32) -> io::Result<()> {
        std::fs::create_dir(dir)
    }

    pub fn append_options(_mode: u32, _follow: bool) -> OpenOptions {
        let mut options = OpenOptions::new();
        options.append(true);
        options
    }

    pub fn blocking_again(_file: &File) -> io::Result<()> {
        Ok(())
    }

    pub fn no_fifo_reader(_err: &io::Error) -> bool {
        false
    }

    pub fn too_many_open_files(_err: &io::Error) -> bool {
        false
    }

    /// No sticky directories or symlink owners to check on Windows.
    pub fn check_links(_path: &Path) -> io::Result<bool> {
        Ok(true)
    }

    pub fn host_name() -> Vec<u8> {
        std::env::var("COMPUTERNAME")
            .unwrap_or_else(|_| "localhost".to_string())
            .into_bytes()
    }

    pub fn ignore_file_size_signal() {}

    pub fn die_by_signal(_signal: i32) {}

    pub fn block_signals(_signals: &[i32]) {}

    pub fn pending_signal(_signals: &[i32]) -> Option<i32> {
        None
    }

    pub fn sync_unsupported(_err: &io::Error) -> bool {
        false
    }

    pub fn is_regular(file: &File) -> bool {
        file.metadata()
            .map(|m| m.file_type().is_file())
            .unwrap_or(false)
    }

    pub fn is_terminal_fd1() -> bool {
        use std::io::IsTerminal;
        io::stdout().is_terminal()
    }

    /// Untested: Windows renames fail rather than replace an existing target.
    pub fn grow_pipe(_fd: i32, _bytes: usize) {}

    pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
        if to.exists() {
            return Err(io::Error::from(io::ErrorKind::AlreadyExists));
        }
        std::fs::rename(from, to)
    }
}

pub use imp::*;

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_or_dot(path: &Path) -> std::path::PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// A handle on standard output as a `File`, so it is written and synced like any path.
pub fn stdout_file() -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        Ok(File::from(io::stdout().as_fd().try_clone_to_owned()?))
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        Ok(File::from(io::stdout().as_handle().try_clone_to_owned()?))
    }
}

/// The last byte of a regular file, if it has one: a file that does not end in `\n` was
/// torn by a crash or another program.
pub fn last_byte(file: &File) -> io::Result<Option<u8>> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut byte = [0u8; 1];
    #[cfg(unix)]
    let n = std::os::unix::fs::FileExt::read_at(file, &mut byte, len - 1)?;
    #[cfg(windows)]
    let n = std::os::windows::fs::FileExt::seek_read(file, &mut byte, len - 1)?;
    Ok((n == 1).then_some(byte[0]))
}
