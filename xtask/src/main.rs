//! The repository's task runner, reached through the `.cargo/config.toml` alias `cargo xtask`.
//!
//! # Commands
//!
//! - `cargo xtask test [--deep] [--no-miri] [--no-fuzz]` is the one test command; CI runs exactly this (through
//!   `.ci/run`). It runs these steps in order and stops at the first failure, naming the step that failed:
//!   1. `fmt`: `cargo fmt --all -- --check`.
//!   2. `clippy`: `cargo clippy --workspace --all-targets -- -D warnings`, the same with `--all-features`, then
//!      hamt-core's library alone without default features (with and without `serde`), so that the no_std build
//!      is linted too.
//!   3. `test`: `cargo test --workspace --all-features` (unit, integration and doc tests, with every feature of
//!      every crate), then `cargo test -p hamt-core --no-default-features` (no_std + alloc).
//!   4. `doc`: `cargo doc --workspace --no-deps --all-features` with `RUSTDOCFLAGS="-D warnings"`, then the crates
//!      as docs.rs builds them (nightly, `--cfg docsrs`, the features of `[package.metadata.docs.rs]`).
//!   5. `bench`: every benchmark once in criterion's test mode, in the test profile with the test step's features
//!      (`cargo test --workspace --all-features --bench maps`), so that it reuses the test step's build; the bench
//!      profile (thin LTO, one codegen unit) is compiled only by `cargo xtask bench`.
//!   6. `py-hamt`: hamt-store checked live against the real py-hamt 3.6.0 and zarr 3 (`cargo test --workspace
//!      --all-features --test py_hamt_live --test zarr_interop`, reusing the test step's build, with
//!      `HAMT_PY_HAMT_PYTHON` naming the interpreter): a
//!      Python 3.12 or newer is looked for (`$HAMT_PYTHON`, `python3.12` and later on the `PATH`, pyenv's versions),
//!      and `target/py-hamt-venv` is made from crates/hamt-store/tests/py/requirements.txt when it is missing or
//!      the requirements changed. Skipped, with the reason, when no such Python exists.
//!   7. `loom`: hamt-core's tests/loom.rs built with `--cfg loom` (in `target/loom`), which model-checks the atomic
//!      node count.
//!   8. `nightly`: hamt-core's nightly-only tests (in `target/nightly`): allocation failure that unwinds
//!      (`--cfg hamt_alloc_error_hook`) and `#[may_dangle]` (`--cfg hamt_may_dangle`), with the drop suite.
//!   9. `msrv`: the libraries checked with the toolchain of the workspace's `rust-version`, with every feature and
//!      without std.
//!   10. `miri`: under nextest (one Miri process per test, two at a time), hamt-core's unit tests and the suites
//!       that drive the unsafe node code (basics, drops, entry, alloc_failure, model, set_ops, auto_traits) with
//!       strict provenance, then hamt-sync's (permissive provenance, for arc-swap) and the parallel operations'
//!       (for rayon's pool), on a reduced case count (`QUICKCHECK_TESTS=8`, `HAMT_MIRI=1`). `--deep` adds hamt-core's
//!       serde suite, the `#[may_dangle]` build and hamt-serde's suites, with `QUICKCHECK_TESTS=20`. `--no-miri`
//!       skips this step.
//!   11. `fuzz`: `cargo xtask fuzz --seconds 10`, every fuzz target built once and run for 10 seconds (300 with
//!       `--deep`). `--no-fuzz` skips it.
//!   12. `python`: the Python package (crates/hamt-py) built with maturin into `target/hamt-py/venv` (Python 3.11),
//!       then its pytest suite and immutables 0.21's own suite (see xtask/src/pypackage.rs).
//!   13. `python-3.13`: the same with Python 3.13 (`python3.13` on the `PATH` or pyenv's), in
//!       `target/hamt-py/venv-3.13`; skipped, saying so, on a machine without one.
//!
//!   Missing tools (rustfmt, clippy, the nightly toolchain with miri and rust-src, cargo-nextest, cargo-fuzz) are
//!   installed on the way. The run ends with a table of each step's time, then the line
//!   `xtask test: N passed, M failed`, where the counts add up the test runners' summaries (libtest's
//!   `test result:` lines and nextest's `Summary` lines) of the `test`, `py-hamt`, `loom` and `miri` steps; the exit status is
//!   0 only when every step passed.
//!
//!   A `QUICKCHECK_TESTS` set by the caller reaches every step, Miri included, so that a deliberate run with more
//!   (or fewer) cases means what it says.
//!
//! - `cargo xtask bench [ARGS...]` runs the benchmark report binary,
//!   `cargo run --profile bench -p hamt-benches --bin hamt-bench -- [ARGS...]`, which measures every scenario and
//!   writes `docs/benchmarks.{md,json,svg}`. The arguments (for example `--quick`) are passed through unchanged and
//!   the binary's exit status becomes ours.
//!
//! - `cargo xtask fuzz [--seconds N] [--target NAME]` runs the cargo-fuzz targets in `fuzz/` (all of them, or the
//!   one named) for N seconds each (60 by default), installing the nightly toolchain and cargo-fuzz if they are
//!   missing. Inputs that crash, hang or exhaust memory are copied to the `tests/data/fuzz-regressions/` of the
//!   crate whose decoder the target runs (hamt-serde or hamt-store), where `cargo test` replays them, and the
//!   command fails.
//!
//! Usage errors, including an unknown command, print the usage and exit with status 2.

mod bench;
mod error;
mod fuzz;
mod pipeline;
mod process;
mod pyhamt;
mod pypackage;
mod runner;
mod tally;
mod toolchain;

use std::env;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use pipeline::Depth;

const USAGE: &str = "\
Usage: cargo xtask <COMMAND>

Commands:
  test [--deep] [--no-miri] [--no-fuzz]
                     Run every check CI runs: fmt, clippy, tests, docs, benchmarks in test mode, the py-hamt
                     cross-check, loom, Miri and the fuzzer. --deep runs Miri on every suite with more cases and fuzzes for minutes
                     (see the README, Working on it); --no-miri and --no-fuzz skip those steps.
  fuzz [--seconds N] [--target NAME]
                     Run the fuzz targets (or the one named) for N seconds each (default 60); findings are
                     saved under crates/{hamt-serde,hamt-store}/tests/data/fuzz-regressions/.
  bench [ARGS...]    Run the benchmark report (hamt-bench), passing ARGS such as --quick through.
  help               Print this message.
";

/// The exit status for a command line we could not understand, as is conventional for command-line tools.
const USAGE_ERROR_STATUS: u8 = 2;

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Test { depth: Depth, run_miri: bool, run_fuzz: bool },
    Fuzz { seconds: u64, target: Option<String> },
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
        Task::Test { depth, run_miri, run_fuzz } => pipeline::run(&root, depth, run_miri, run_fuzz),
        Task::Fuzz { seconds, target } => fuzz::run(&root, seconds, target.as_deref()),
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
        "fuzz" => parse_fuzz_args(rest),
        // Everything after `bench` belongs to the benchmark binary, which owns its own options.
        "bench" => Ok(Task::Bench { forwarded_args: rest.to_vec() }),
        "help" | "-h" | "--help" => Ok(Task::Help),
        unknown => Err(format!("unknown command `{unknown}`")),
    }
}

fn parse_test_args(args: &[String]) -> Result<Task, String> {
    let (mut depth, mut run_miri, mut run_fuzz) = (Depth::Quick, true, true);
    for arg in args {
        match arg.as_str() {
            "--deep" => depth = Depth::Deep,
            "--no-miri" => run_miri = false,
            "--no-fuzz" => run_fuzz = false,
            "-h" | "--help" => return Ok(Task::Help),
            unknown => return Err(format!("unknown option `{unknown}` for `test`")),
        }
    }
    Ok(Task::Test { depth, run_miri, run_fuzz })
}

fn parse_fuzz_args(args: &[String]) -> Result<Task, String> {
    let (mut seconds, mut target) = (fuzz::DEFAULT_SECONDS, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("`--seconds` needs a number")?;
                seconds = value.parse().map_err(|_| format!("`--seconds {value}` is not a whole number"))?;
            }
            "--target" => {
                let value = args.next().ok_or("`--target` needs a name")?;
                if !fuzz::TARGETS.contains(&value.as_str()) {
                    return Err(format!("unknown fuzz target `{value}` (known: {})", fuzz::TARGETS.join(", ")));
                }
                target = Some(value.clone());
            }
            "-h" | "--help" => return Ok(Task::Help),
            unknown => return Err(format!("unknown option `{unknown}` for `fuzz`")),
        }
    }
    Ok(Task::Fuzz { seconds, target })
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
