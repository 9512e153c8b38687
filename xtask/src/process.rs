//! Child processes: how they are described, echoed, run and, for test runs, watched.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;

use crate::error::Error;
use crate::tally::TestResultScanner;

/// One program to run: its name, its arguments and the environment variables it needs on top of ours.
///
/// Every child inherits our whole environment, so that variables the caller set (`QUICKCHECK_TESTS`, `CI`,
/// `RUSTFLAGS`) reach the tools unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Invocation {
    /// An invocation of `program` with `args`, written as on a command line: words separated by spaces. None of
    /// our fixed arguments contains a space; arguments that might are added with [`Invocation::args`].
    pub(crate) fn new(program: &str, args: &str) -> Self {
        Self {
            program: program.to_owned(),
            args: args.split_whitespace().map(str::to_owned).collect(),
            env: Vec::new(),
        }
    }

    /// A `cargo` command. We go through the rustup proxy on the `PATH`, rather than the `CARGO` variable that
    /// `cargo run` sets, because only the proxy understands toolchain overrides such as `+nightly`.
    pub(crate) fn cargo(args: &str) -> Self {
        Self::new("cargo", args)
    }

    pub(crate) fn rustup(args: &str) -> Self {
        Self::new("rustup", args)
    }

    /// Appends arguments that are only known at run time, such as ones forwarded from our own command line.
    pub(crate) fn args<S: AsRef<str>>(mut self, args: &[S]) -> Self {
        self.args.extend(args.iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Echoes the command line, runs the program with all of its output going straight to ours, and returns how
    /// it exited.
    pub(crate) fn status(&self, root: &Path) -> Result<ExitStatus, Error> {
        self.echo();
        self.command(root).status().map_err(|source| self.spawn_error(source))
    }

    /// Echoes the command line and runs the program to success with all of its output going straight to ours.
    pub(crate) fn run(&self, root: &Path) -> Result<(), Error> {
        let status = self.status(root)?;
        self.check(status)
    }

    /// Runs the program without showing anything and tells whether it succeeded; used to probe for tools.
    pub(crate) fn succeeds_quietly(&self, root: &Path) -> bool {
        self.command(root).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|status| status.success())
    }

    /// Echoes the command line and runs the program to success, copying its standard output and standard error to
    /// ours as they arrive and showing every byte to `scanner`, which picks out the test runners' summary lines
    /// (libtest writes them to standard output, nextest to standard error).
    pub(crate) fn run_scanned(&self, root: &Path, scanner: &mut TestResultScanner) -> Result<(), Error> {
        self.echo();
        let mut child = self
            .command(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| self.spawn_error(source))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let mut error_scanner = TestResultScanner::default();
        // Both pipes are drained at once, so that a child that fills one of them while we wait on the other
        // never blocks.
        let copied = thread::scope(|scope| {
            let errors =
                scope.spawn(|| stderr.map_or(Ok(()), |stderr| copy_scanning(stderr, io::stderr(), &mut error_scanner)));
            let output = stdout.map_or(Ok(()), |stdout| copy_scanning(stdout, io::stdout(), scanner));
            let errors =
                errors.join().unwrap_or_else(|_| Err(io::Error::other("the thread copying standard error panicked")));
            output.and(errors)
        });
        scanner.absorb(&error_scanner);
        // We wait even when copying failed, so that the child is never left running unseen. `copy_scanning` has
        // closed our ends of the pipes by now, so a child that keeps writing gets an error rather than blocking.
        let status = child.wait().map_err(|source| self.spawn_error(source))?;
        copied.map_err(|source| Error::Output { command: self.to_string(), source })?;
        self.check(status)
    }

    /// Prints the command line before running it, so that a log shows what ran and a failure can be reproduced
    /// by copying one line.
    fn echo(&self) {
        println!("$ {self}");
    }

    fn command(&self, root: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(root);
        command.envs(self.env.iter().map(|(key, value)| (key, value)));
        command
    }

    fn check(&self, status: ExitStatus) -> Result<(), Error> {
        if status.success() { Ok(()) } else { Err(Error::Failed { command: self.to_string(), status }) }
    }

    fn spawn_error(&self, source: io::Error) -> Error {
        Error::Spawn { command: self.to_string(), source }
    }
}

/// Shows the invocation as a shell command line that a reader can copy and paste to reproduce a failure.
impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.env {
            write!(f, "{key}={} ", shell_quoted(value))?;
        }
        f.write_str(&shell_quoted(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", shell_quoted(arg))?;
        }
        Ok(())
    }
}

/// Quotes `word` for a POSIX shell when it holds anything beyond the characters that never need quoting.
fn shell_quoted(word: &str) -> String {
    let is_plain = |c: char| c.is_ascii_alphanumeric() || "-_=+.,:/@%".contains(c);
    if !word.is_empty() && word.chars().all(is_plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Copies one of the child's output streams to ours chunk by chunk rather than line by line, so that partial lines
/// (such as libtest's `test name ... ` before a slow test finishes) appear as soon as they are written.
fn copy_scanning(mut from: impl Read, to: impl Write, scanner: &mut TestResultScanner) -> io::Result<()> {
    let mut buffer = [0_u8; 8192];
    let mut to = to;
    loop {
        let read = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        to.write_all(&buffer[..read])?;
        to.flush()?;
        scanner.feed(&buffer[..read]);
    }
    scanner.finish();
    Ok(())
}

#[cfg(test)]
mod tests;
