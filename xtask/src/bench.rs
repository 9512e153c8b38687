//! `cargo xtask bench`: a short name for the benchmark report binary, which owns all the benchmark logic.

use std::path::Path;
use std::process::{ExitCode, ExitStatus};

use crate::process::Invocation;

/// Runs `hamt-bench` with `forwarded_args` and exits the way it did. The store section measures py-hamt in the
/// same run: the py-hamt environment is prepared first (as the test pipeline's `py-hamt` step does), and its
/// interpreter passed on; without a Python 3.12 or newer, the section says why py-hamt's column is empty.
pub(crate) fn run(root: &Path, forwarded_args: &[String]) -> ExitCode {
    let mut invocation =
        Invocation::cargo("run --profile bench -p hamt-benches --bin hamt-bench --").args(forwarded_args);
    match crate::pyhamt::ensure_venv(root) {
        Ok(()) => {
            let python = crate::pyhamt::venv_python(root);
            invocation = invocation.env(crate::pyhamt::PYTHON_VARIABLE, &python.to_string_lossy());
        }
        Err(error) => eprintln!("warning: py-hamt will not be measured: {error}"),
    }
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
