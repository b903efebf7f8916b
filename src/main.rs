use std::process::ExitCode;

use rlog::exit::Exit;

fn main() -> ExitCode {
    let exit = rlog::app::run(std::env::args_os());
    if let Exit::Signal(signal) = exit {
        // Die by the signal that stopped us, so the parent sees 143 or 130, not a code.
        rlog::sys::die_by_signal(signal);
    }
    ExitCode::from(exit.code())
}
