//! The ways a task can stop early, each with a message that tells the reader what to do next.

use std::fmt;
use std::io;
use std::process::ExitStatus;

/// Why a command run by xtask did not succeed.
#[derive(Debug)]
pub(crate) enum Error {
    /// The program could not be started (usually because it is not on the `PATH`) or waited for.
    Spawn { command: String, source: io::Error },
    /// The program ran and exited unsuccessfully; it has already printed its own diagnostics.
    Failed { command: String, status: ExitStatus },
    /// Copying the program's output to our standard output failed, for example because our reader went away.
    Output { command: String, source: io::Error },
    /// A toolchain component is missing and installing it failed or did not help.
    MissingTool { tool: &'static str, hint: &'static str },
    /// A file or directory could not be created, read or copied.
    Io { path: std::path::PathBuf, source: io::Error },
    /// The fuzzer found inputs that crash, hang or exhaust memory; they were saved as regression tests.
    FuzzFinding { target: String, owner: &'static str, files: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawn { command, source } => write!(f, "could not run `{command}`: {source}"),
            Self::Failed { command, status } => write!(f, "`{command}` failed ({status})"),
            Self::Output { command, source } => {
                write!(f, "could not copy the output of `{command}`: {source}")
            }
            Self::MissingTool { tool, hint } => {
                write!(f, "{tool} is missing and could not be installed; {hint}")
            }
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::FuzzFinding { target, owner, files } => write!(
                f,
                "fuzz target `{target}` found inputs that fail; they are saved as regression tests (replayed by \
                 `cargo test -p {owner} --test fuzz_regressions`), fix the bug and commit them:{files}"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn { source, .. } | Self::Output { source, .. } | Self::Io { source, .. } => Some(source),
            Self::Failed { .. } | Self::MissingTool { .. } | Self::FuzzFinding { .. } => None,
        }
    }
}
