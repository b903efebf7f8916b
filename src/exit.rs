//! The exit-code table, in one place.
//!
//! The codes follow sysexits(3) where one fits, so scripts and service
//! managers can tell a usage mistake from a lost line.

/// How an rlog run ended, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every line was written and synced.
    Ok,
    /// A bad option, level or pattern (clap's own 2 is mapped here).
    Usage,
    /// A path could not be created or opened.
    CantCreate,
    /// A write or fsync failed: lines were lost.
    IoError,
    /// `--drain-timeout` passed before everything was written and synced.
    DrainTimeout,
    /// Standard output was closed by its reader (`rlog | head`): a quiet stop, as a
    /// filter killed by SIGPIPE would report it.
    BrokenPipe,
    /// Ended by signal N after a clean drain; the process re-raises N.
    Signal(i32),
    /// `rlog run`: the wrapped command's own status, passed through.
    Child(u8),
}

/// The table shown in `--help` and the README.
pub const TABLE: &str = "\
Exit status:
  0      every line written and synced (and taken by every --syslog server)
  64     usage error (bad option, level, pattern)
  73     a path cannot be created or opened (named in the message)
  74     a write, fsync or syslog delivery failed; lines were lost (counted)
  75     --drain-timeout passed before everything was written, synced and delivered
  141    standard output was closed by its reader (rlog | head)
  128+N  ended by signal N after a clean drain (143 for TERM, 130 for INT)";

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Usage => 64,
            Exit::CantCreate => 73,
            Exit::IoError => 74,
            Exit::DrainTimeout => 75,
            Exit::BrokenPipe => 128 + 13,
            // Signal numbers on every supported platform are below 128.
            Exit::Signal(sig) => 128u8.saturating_add(u8::try_from(sig).unwrap_or(127)),
            Exit::Child(code) => code,
        }
    }

    /// The worse of two outcomes, so an error seen early is not hidden by a later success.
    /// Lost lines outrank a signal: death by signal is reserved for a clean drain.
    pub fn worst(self, other: Exit) -> Exit {
        fn rank(e: Exit) -> u8 {
            match e {
                Exit::Ok => 0,
                Exit::Child(_) => 1,
                Exit::BrokenPipe => 2,
                Exit::Signal(_) => 3,
                Exit::CantCreate => 4,
                Exit::Usage => 5,
                Exit::IoError => 6,
                Exit::DrainTimeout => 7,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_table() {
        assert_eq!(Exit::Ok.code(), 0);
        assert_eq!(Exit::Usage.code(), 64);
        assert_eq!(Exit::CantCreate.code(), 73);
        assert_eq!(Exit::IoError.code(), 74);
        assert_eq!(Exit::DrainTimeout.code(), 75);
        assert_eq!(Exit::BrokenPipe.code(), 141);
        assert_eq!(Exit::Signal(15).code(), 143);
        assert_eq!(Exit::Signal(2).code(), 130);
        assert_eq!(Exit::Child(3).code(), 3);
        for code in [0, 64, 73, 74, 75, 141] {
            assert!(
                TABLE.contains(&format!("\n  {code} ")),
                "table lacks {code}"
            );
        }
    }

    #[test]
    fn worst_keeps_the_more_serious_outcome() {
        assert_eq!(Exit::Ok.worst(Exit::IoError), Exit::IoError);
        assert_eq!(Exit::IoError.worst(Exit::Ok), Exit::IoError);
        assert_eq!(Exit::IoError.worst(Exit::DrainTimeout), Exit::DrainTimeout);
        assert_eq!(Exit::IoError.worst(Exit::Signal(15)), Exit::IoError);
        assert_eq!(Exit::Ok.worst(Exit::Signal(15)), Exit::Signal(15));
        assert_eq!(Exit::Child(3).worst(Exit::IoError), Exit::IoError);
    }
}
