//! The repository's task runner, reached through the `.cargo/config.toml` alias `cargo xtask`.
//!
//! # Commands
//!
//! - `cargo xtask test [--no-miri]` is the one test command; CI runs exactly this (through `.ci/run`). It runs
//!   these steps in order and stops at the first failure, naming the step that failed:
//!   1. `fmt`: `cargo fmt --all -- --check`.
//!   2. `clippy`: `cargo clippy --workspace --all-targets -- -D warnings`, then hamt-core's library alone
//!      without default features, so that the no_std build is linted too, then hamt-core with its `serde`
//!      feature (every target with std, the library without).
//!   3. `test`: `cargo test --workspace` (unit, integration and doc tests), then
//!      `cargo test -p hamt-core --no-default-features` (no_std + alloc), then
//!      `cargo test -p hamt-core --features serde`.
//!   4. `doc`: `cargo doc --workspace --no-deps` with `RUSTDOCFLAGS="-D warnings"`, then hamt-core's docs with
//!      `--features serde`.
//!   5. `bench`: every benchmark once in criterion's test mode (`cargo bench -p hamt-benches -- --test`), so that
//!      the benchmarks keep compiling and running without spending time on measurements.
//!   6. `miri`: hamt-core's unit and integration tests (with `serde`) under Miri with `-Zmiri-strict-provenance`,
//!      on a reduced case count (`QUICKCHECK_TESTS=20`, `HAMT_MIRI=1`). `--no-miri` skips this step for quick
//!      local runs.
//!
//!   Missing rustup components (rustfmt, clippy, the nightly toolchain with miri and rust-src) are installed on
//!   the way. The last line printed is always `xtask test: N passed, M failed`, where the counts add up the
//!   `test result:` lines that libtest printed during the `test` and `miri` steps; the exit status is 0 only when
//!   every step passed.
//!
//!   A `QUICKCHECK_TESTS` set by the caller reaches every step, Miri included, so that a deliberate run with more
//!   (or fewer) cases means what it says.
//!
//! - `cargo xtask bench [ARGS...]` runs the benchmark report binary,
//!   `cargo run --profile bench -p hamt-benches --bin hamt-bench -- [ARGS...]`, which measures every scenario and
//!   writes `docs/benchmarks.{md,json,svg}`. The arguments (for example `--quick`) are passed through unchanged and
//!   the binary's exit status becomes ours.
//!
//! Usage errors, including an unknown command, print the usage and exit with status 2.

mod bench;
mod error;
mod pipeline;
mod process;
mod runner;
mod tally;
mod toolchain;

use std::env;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: cargo xtask <COMMAND>

Commands:
  test [--no-miri]   Run every check CI runs: fmt, clippy, tests, docs, benchmarks in test mode and Miri.
                     --no-miri skips the Miri step, for quicker local runs.
  bench [ARGS...]    Run the benchmark report (hamt-bench), passing ARGS such as --quick through.
  help               Print this message.
";

/// The exit status for a command line we could not understand, as is conventional for command-line tools.
const USAGE_ERROR_STATUS: u8 = 2;

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Test { run_miri: bool },
    Bench { forwarded_args: Vec<String> },
    Help,
}

fn main() -> ExitCode {
    let task = match parse_args(env::args_os().skip(1)) {
        Ok(task) => task,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(USAGE_ERROR_STATUS);
        }
    };
    let root = workspace_root();
    match task {
        Task::Help => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Task::Test { run_miri } => pipeline::run(&root, run_miri),
        Task::Bench { forwarded_args } => bench::run(&root, &forwarded_args),
    }
}

/// Turns the arguments after `cargo xtask` into a [`Task`], or explains why they make no sense.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Task, String> {
    let args = args
        .into_iter()
        .map(|arg| arg.into_string().map_err(|arg| format!("argument {arg:?} is not valid UTF-8")))
        .collect::<Result<Vec<String>, String>>()?;
    let Some((command, rest)) = args.split_first() else {
        return Err("no command given".to_owned());
    };
    match command.as_str() {
        "test" => parse_test_args(rest),
        // Everything after `bench` belongs to the benchmark binary, which owns its own options.
        "bench" => Ok(Task::Bench { forwarded_args: rest.to_vec() }),
        "help" | "-h" | "--help" => Ok(Task::Help),
        unknown => Err(format!("unknown command `{unknown}`")),
    }
}

fn parse_test_args(args: &[String]) -> Result<Task, String> {
    let mut run_miri = true;
    for arg in args {
        match arg.as_str() {
            "--no-miri" => run_miri = false,
            "-h" | "--help" => return Ok(Task::Help),
            unknown => return Err(format!("unknown option `{unknown}` for `test`")),
        }
    }
    Ok(Task::Test { run_miri })
}

/// The directory holding the workspace's `Cargo.toml`, where every child command runs whatever directory
/// `cargo xtask` was started from.
///
/// `cargo run` tells us where our manifest is at run time, which stays right when the checkout moves after the
/// binary was built; the path baked in at compile time covers running the binary directly.
fn workspace_root() -> PathBuf {
    let manifest_dir =
        env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .expect("the xtask crate lives in a subdirectory of the workspace, so its manifest directory has a parent")
        .to_path_buf()
}

#[cfg(test)]
mod tests;
