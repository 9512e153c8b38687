//! `cargo xtask fuzz`: runs the cargo-fuzz targets in `fuzz/` for a bounded time each, and turns whatever they find
//! into regression inputs for hamt-serde's test suite.
//!
//! A finding (a crash, a timeout or an out-of-memory input, which libFuzzer writes under `fuzz/artifacts/TARGET/`)
//! is copied to `crates/CRATE/tests/data/fuzz-regressions/TARGET/NAME` of the crate whose decoder the target runs
//! (hamt-store for the `store_` targets, hamt-serde for the others), where that crate's `tests/fuzz_regressions.rs`
//! replays it on every `cargo test`, and the command fails. Commit the file with the fix.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::error::Error;
use crate::process::Invocation;
use crate::runner;
use crate::toolchain::Tool;

/// Every target, in the order they run.
pub(crate) const TARGETS: &[&str] =
    &["deserialize_multiple", "deserialize_body", "version_set_serde", "store_node", "store_car"];

/// How long each target runs when the caller does not say.
pub(crate) const DEFAULT_SECONDS: u64 = 60;

/// The crate whose decoder `target` runs, where its findings are kept as regression inputs and replayed by
/// `tests/fuzz_regressions.rs`.
fn owner(target: &str) -> &'static str {
    if target.starts_with("store_") { "hamt-store" } else { "hamt-serde" }
}

/// Where the findings of `target` are kept as regression inputs, relative to the workspace root.
fn regressions(target: &str) -> String {
    format!("crates/{}/tests/data/fuzz-regressions", owner(target))
}

/// Runs the chosen targets (all of them if `target` is `None`) for `seconds` each and reports how it went.
pub(crate) fn run(root: &Path, seconds: u64, target: Option<&str>) -> ExitCode {
    let started = Instant::now();
    let targets: Vec<&str> = match target {
        Some(target) => vec![target],
        None => TARGETS.to_vec(),
    };
    let result = Tool::NightlyFuzz.ensure(root).and_then(|()| {
        // One build of every target (they share their dependencies), which each run below finds up to date.
        println!("\n==> build the fuzz targets");
        Invocation::cargo("+nightly fuzz build --fuzz-dir fuzz").args(target.as_slice()).run(root)?;
        targets.iter().try_for_each(|target| {
            println!("\n==> fuzz {target} for {seconds} s");
            fuzz_target(root, target, seconds)
        })
    });
    println!("\nxtask fuzz took {}", runner::format_duration(started.elapsed()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one target from its corpus and seeds, and fails if it found anything.
fn fuzz_target(root: &Path, target: &str, seconds: u64) -> Result<(), Error> {
    let fuzz_dir = root.join("fuzz");
    // The first directory is where libFuzzer adds what it learns (kept between runs, not committed); the others
    // are read only: the committed seeds and earlier findings of this target, and for the raw decoder the format
    // samples.
    let corpus = fuzz_dir.join("corpus").join(target);
    fs::create_dir_all(&corpus).map_err(|source| Error::Io { path: corpus.clone(), source })?;
    let mut inputs = vec![corpus, root.join(regressions(target)).join(target)];
    if target == "deserialize_multiple" {
        inputs.push(root.join("crates/hamt-serde/tests/data/v1"));
    }
    inputs.retain(|dir| dir.is_dir());
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let before = files_in(&artifacts);

    let mut invocation = Invocation::cargo("+nightly fuzz run --fuzz-dir fuzz").args(&[target]);
    invocation = invocation.args(&inputs.iter().map(|dir| dir.display().to_string()).collect::<Vec<_>>());
    // A bounded run; a single input that takes more than 10 s is a finding (a hang), not a slow machine.
    invocation = invocation.args(&["--".to_owned(), format!("-max_total_time={seconds}"), "-timeout=10".to_owned()]);
    let status = invocation.status(root)?;

    let found: Vec<PathBuf> = files_in(&artifacts).into_iter().filter(|file| !before.contains(file)).collect();
    if found.is_empty() && status.success() {
        return Ok(());
    }
    let saved = save_findings(root, target, &found)?;
    if saved.is_empty() {
        // The fuzzer failed without leaving an input behind (a build error, for instance).
        return Err(Error::Failed { command: invocation.to_string(), status });
    }
    let mut files = String::new();
    for file in &saved {
        let _ = write!(files, "\n  {}", file.display());
    }
    Err(Error::FuzzFinding { target: target.to_owned(), owner: owner(target), files })
}

/// Copies findings into the regression directory, named after their target, and returns the new paths.
fn save_findings(root: &Path, target: &str, found: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let directory = root.join(regressions(target)).join(target);
    fs::create_dir_all(&directory).map_err(|source| Error::Io { path: directory.clone(), source })?;
    let mut saved = Vec::new();
    for file in found {
        let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let destination = directory.join(name);
        fs::copy(file, &destination).map_err(|source| Error::Io { path: destination.clone(), source })?;
        saved.push(destination);
    }
    Ok(saved)
}

/// The files directly in `dir` (none if it does not exist).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    entries.filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.is_file()).collect()
}
