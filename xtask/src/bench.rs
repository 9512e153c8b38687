//! `cargo xtask bench`: a short name for the benchmark report binary, which owns all the benchmark logic.

use std::path::Path;
use std::process::{ExitCode, ExitStatus};

use crate::process::Invocation;

/// Runs `hamt-bench` with `forwarded_args` and exits the way it did.
pub(crate) fn run(root: &Path, forwarded_args: &[String]) -> ExitCode {
    let invocation = Invocation::cargo("run --profile bench -p hamt-benches --bin hamt-bench --").args(forwarded_args);
    match invocation.status(root) {
        Ok(status) => exit_code_of(status),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Passes the child's exit status on. A child killed by a signal has no status of its own, and a status beyond
/// what a process can return here cannot be passed on exactly; both become a plain failure.
fn exit_code_of(status: ExitStatus) -> ExitCode {
    match status.code().map(u8::try_from) {
        Some(Ok(code)) => ExitCode::from(code),
        Some(Err(_)) | None => ExitCode::FAILURE,
    }
}
