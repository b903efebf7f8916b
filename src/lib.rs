//! rlog: a logging tool for scripts that keeps its promise. When it exits 0, every line
//! it was given is in its files and on disk.
//!
//! Data flows one way: [`input`] (bytes to lines) → [`render`] (lines to records, in
//! batches) → the bounded queue → [`writer`] (records to files, then sync). [`app`] wires
//! the stages together and handles signals; [`exit`] holds the exit-code table.
//! [`syslog`] forwards lines to syslog servers from threads the writer feeds.

/// Prints a diagnostic on stderr. Never panics, even when stderr is closed.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "rlog: {}", format_args!($($arg)*));
    }};
}

pub mod app;
pub mod cli;
pub mod config;
pub mod exit;
pub mod generate;
pub mod input;
pub mod level;
pub mod pattern;
pub mod queue;
pub mod record;
pub mod render;
pub mod rotate;
pub mod run;
pub mod signals;
pub mod size;
pub mod sys;
pub mod syslog;
pub mod writer;
