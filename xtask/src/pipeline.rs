//! `cargo xtask test`: the checks CI runs, in the order that fails fastest on the commonest mistakes.

use std::env;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::process::Invocation;
use crate::runner::{self, Step};
use crate::toolchain::Tool;

/// Property tests run this many cases under Miri, which is roughly a thousand times slower than native code,
/// unless the caller chose a count by setting `QUICKCHECK_TESTS` themselves.
const MIRI_QUICKCHECK_TESTS: &str = "20";

/// Miri rejects integer-to-pointer casts under strict provenance, which is the model our unsafe code promises
/// to follow.
const MIRI_FLAGS: &str = "-Zmiri-strict-provenance";

/// Runs every step, prints the `xtask test: N passed, M failed` summary as the last line, and returns success
/// only if every step passed.
pub(crate) fn run(root: &Path, run_miri: bool, run_fuzz: bool) -> ExitCode {
    let started = Instant::now();
    let outcome = runner::run_steps(root, &steps(root, run_miri, run_fuzz));
    println!("\nxtask test took {}", runner::format_duration(started.elapsed()));
    let (failed, exit_code) = match &outcome.failure {
        None => (outcome.tally.failed, ExitCode::SUCCESS),
        Some((step, error)) => {
            eprintln!("error: step `{step}` failed: {error}");
            // A failed lint or a crashed test binary reports no failed tests, but the run still failed once.
            (outcome.tally.failed.max(1), ExitCode::FAILURE)
        }
    };
    println!("xtask test: {} passed, {failed} failed", outcome.tally.passed);
    exit_code
}

/// Each fuzz target runs this long in the pipeline: long enough to replay the corpus and explore a little, short
/// enough that three targets add about a minute and a half (plus the first build).
const FUZZ_SECONDS_PER_TARGET: &str = "30";

fn steps(root: &Path, run_miri: bool, run_fuzz: bool) -> Vec<Step> {
    let benches_manifest = root.join("benches").join("Cargo.toml");
    vec![
        Step::new("fmt", "check formatting").needs(Tool::Rustfmt).command(Invocation::cargo("fmt --all -- --check")),
        Step::new("clippy", "lint every target, then hamt-core without std")
            .needs(Tool::Clippy)
            .command(Invocation::cargo("clippy --workspace --all-targets -- -D warnings"))
            .command(Invocation::cargo("clippy -p hamt-core --no-default-features --lib -- -D warnings")),
        Step::new("test", "every test, then hamt-core's as no_std + alloc")
            .counting_tests()
            .command(Invocation::cargo("test --workspace"))
            .command(Invocation::cargo("test -p hamt-core --no-default-features")),
        Step::new("doc", "build the API docs with warnings denied")
            .command(Invocation::cargo("doc --workspace --no-deps").env("RUSTDOCFLAGS", "-D warnings")),
        Step::new("bench", "run every benchmark once in criterion's test mode")
            .skip_if(!benches_manifest.is_file(), "benches/Cargo.toml does not exist yet")
            .command(Invocation::cargo("bench -p hamt-benches -- --test")),
        Step::new("miri", "hamt-core's and hamt-serde's unit and integration tests under Miri")
            .skip_if(!run_miri, "--no-miri was given")
            .needs(Tool::NightlyMiri)
            .counting_tests()
            .command(Invocation::cargo("+nightly miri setup"))
            .command(miri_test())
            .command(miri_test_of("hamt-serde")),
        Step::new("fuzz", "every fuzz target for a bounded time")
            .skip_if(!run_fuzz, "--no-fuzz was given")
            .needs(Tool::NightlyFuzz)
            .command(Invocation::cargo("xtask fuzz --seconds").args(&[FUZZ_SECONDS_PER_TARGET])),
    ]
}

/// The Miri test run. Doctests are left out (`--lib --tests`) because Miri would build and interpret every one
/// of them separately, which costs minutes for no coverage the unit tests lack.
fn miri_test() -> Invocation {
    miri_test_of("hamt-core")
}

/// The Miri test run of one package, as [`miri_test`] describes. hamt-serde's tests that touch the file system
/// or spawn processes are ignored under Miri, which isolates the program from both.
fn miri_test_of(package: &str) -> Invocation {
    let quickcheck_tests = env::var("QUICKCHECK_TESTS").unwrap_or_else(|_| MIRI_QUICKCHECK_TESTS.to_owned());
    // The tests read these to shrink their case counts (quickcheck reads `QUICKCHECK_TESTS` itself).
    let test_env = [("QUICKCHECK_TESTS", quickcheck_tests.as_str()), ("HAMT_MIRI", "1")];
    let mut miri_flags = vec![MIRI_FLAGS.to_owned()];
    // Miri hides the host's environment from the program it interprets unless told to forward a variable.
    miri_flags.extend(test_env.iter().map(|(key, _)| format!("-Zmiri-env-forward={key}")));
    // Flags the caller set are kept, after ours, so that for example `-Zmiri-seed=7` still reproduces a run.
    if let Ok(extra) = env::var("MIRIFLAGS") {
        miri_flags.push(extra);
    }
    let mut invocation = Invocation::cargo("+nightly miri test -p")
        .args(&[package, "--lib", "--tests"])
        .env("MIRIFLAGS", miri_flags.join(" ").trim());
    for (key, value) in test_env {
        invocation = invocation.env(key, value);
    }
    invocation
}
