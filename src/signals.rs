//! A thread that turns signals into messages for the main loop, so shutdown happens in
//! ordinary code rather than in a handler.

use std::io;
use std::thread;

use crossbeam_channel::{Receiver, unbounded};

pub use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGKILL, SIGTERM, SIGUSR1};

/// Signals that start a drain and end the run.
pub fn is_shutdown(signal: i32) -> bool {
    signal == SIGTERM || signal == SIGINT
}

/// Starts listening for `signals`; each one that arrives is sent on the returned channel.
pub fn listen(signals: &[i32]) -> io::Result<Receiver<i32>> {
    let mut source = signal_hook::iterator::Signals::new(signals)?;
    let (tx, rx) = unbounded();
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in source.forever() {
                if tx.send(signal).is_err() {
                    break;
                }
            }
        })?;
    Ok(rx)
}

/// The signal's conventional name, for messages.
pub fn name(signal: i32) -> String {
    match signal {
        SIGTERM => "TERM".into(),
        SIGINT => "INT".into(),
        SIGHUP => "HUP".into(),
        SIGUSR1 => "USR1".into(),
        other => signal_hook::low_level::signal_name(other)
            .map(|n| n.trim_start_matches("SIG").to_string())
            .unwrap_or_else(|| other.to_string()),
    }
}
