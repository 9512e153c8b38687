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

/// hamt-sync's store is built on arc-swap, whose lock-free "helping" path passes pointers through tagged integers
/// (`src/debt/helping.rs`) and turns them back into pointers, which strict provenance rejects. Whether a run takes
/// that path depends on the interleaving Miri picks, so hamt-sync runs under permissive provenance (Miri's
/// default, without the warning for each such cast); our own unsafe code is checked strictly by the hamt-core run.
const MIRI_SYNC_FLAGS: &str = "-Zmiri-permissive-provenance";

/// hamt-core's parallel operations (the `rayon` feature, tests/par.rs) run on rayon's thread pool, whose
/// crossbeam-epoch casts integers to pointers and breaks Stacked Borrows' rules, and whose threads never stop. So
/// that run allows the casts, checks aliasing with Tree Borrows and ignores what the pool leaves behind; the
/// hamt-core run checks our unsafe code with the strict settings, and the parallel code adds none.
const MIRI_PARALLEL_FLAGS: &str = "-Zmiri-permissive-provenance -Zmiri-tree-borrows -Zmiri-ignore-leaks";

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
        Step::new(
            "clippy",
            "lint every target, then hamt-core without std, with serde (with and without std), with rayon",
        )
        .needs(Tool::Clippy)
        .command(Invocation::cargo("clippy --workspace --all-targets -- -D warnings"))
        .command(Invocation::cargo("clippy -p hamt-core --no-default-features --lib -- -D warnings"))
        .command(Invocation::cargo("clippy -p hamt-core --all-targets --features serde -- -D warnings"))
        .command(Invocation::cargo("clippy -p hamt-core --no-default-features --features serde --lib -- -D warnings"))
        .command(Invocation::cargo("clippy -p hamt-core -p hamt-sync --all-targets --features rayon -- -D warnings")),
        Step::new("test", "every test, then hamt-core's as no_std + alloc, then with serde, then with rayon")
            .counting_tests()
            .command(Invocation::cargo("test --workspace"))
            .command(Invocation::cargo("test -p hamt-core --no-default-features"))
            .command(Invocation::cargo("test -p hamt-core --features serde"))
            .command(Invocation::cargo("test -p hamt-core -p hamt-sync --features rayon")),
        Step::new("doc", "build the API docs with warnings denied, then hamt-core's with serde and with rayon")
            .command(Invocation::cargo("doc --workspace --no-deps").env("RUSTDOCFLAGS", "-D warnings"))
            .command(
                Invocation::cargo("doc -p hamt-core --no-deps --features serde").env("RUSTDOCFLAGS", "-D warnings"),
            )
            .command(
                Invocation::cargo("doc -p hamt-core -p hamt-sync --no-deps --features rayon")
                    .env("RUSTDOCFLAGS", "-D warnings"),
            ),
        Step::new("bench", "run every benchmark once in criterion's test mode")
            .skip_if(!benches_manifest.is_file(), "benches/Cargo.toml does not exist yet")
            .command(Invocation::cargo("bench -p hamt-benches -- --test")),
        Step::new("loom", "model-check hamt-core's atomic node count with loom").counting_tests().command(loom_test()),
        Step::new("miri", "hamt-core's, hamt-serde's and hamt-sync's unit and integration tests under Miri")
            .skip_if(!run_miri, "--no-miri was given")
            .needs(Tool::NightlyMiri)
            .counting_tests()
            .command(Invocation::cargo("+nightly miri setup"))
            // With `serde`, so that hamt-core's serde suite (tests/serde.rs, empty without the feature) runs too.
            .command(miri_test("-p hamt-core --features serde", MIRI_FLAGS))
            // hamt-serde's tests that touch the file system or spawn processes are ignored under Miri, which
            // isolates the program from both.
            .command(miri_test("-p hamt-serde", MIRI_FLAGS))
            .command(miri_test("-p hamt-sync", MIRI_SYNC_FLAGS))
            .command(miri_targets("-p hamt-core --features rayon --test par", MIRI_PARALLEL_FLAGS)),
        Step::new("fuzz", "every fuzz target for a bounded time")
            .skip_if(!run_fuzz, "--no-fuzz was given")
            .needs(Tool::NightlyFuzz)
            .command(Invocation::cargo("xtask fuzz --seconds").args(&[FUZZ_SECONDS_PER_TARGET])),
    ]
}

/// The loom run: tests/loom.rs of hamt-core, built with `--cfg loom` so that node counts use loom's atomics. It
/// gets a target directory of its own, since a different `RUSTFLAGS` would otherwise rebuild the whole workspace
/// in `target/` (and again for the next ordinary build). Release mode, because loom runs each test once per
/// interleaving.
fn loom_test() -> Invocation {
    Invocation::cargo("test -p hamt-core --test loom --release --target-dir target/loom").env("RUSTFLAGS", "--cfg loom")
}

/// The Miri test run of `packages` (cargo's `-p` and `--features` arguments), with `flags` first in `MIRIFLAGS`.
/// Doctests are left out (`--lib --tests`) because Miri would build and interpret every one of them separately,
/// which costs minutes for no coverage the unit tests lack.
fn miri_test(packages: &str, flags: &str) -> Invocation {
    miri_targets(&format!("{packages} --lib --tests"), flags)
}

/// `cargo miri test` with these package, feature and target arguments, and these Miri flags (see [`miri_test`]).
fn miri_targets(arguments: &str, flags: &str) -> Invocation {
    let quickcheck_tests = env::var("QUICKCHECK_TESTS").unwrap_or_else(|_| MIRI_QUICKCHECK_TESTS.to_owned());
    // The tests read these to shrink their case counts (quickcheck reads `QUICKCHECK_TESTS` itself).
    let test_env = [("QUICKCHECK_TESTS", quickcheck_tests.as_str()), ("HAMT_MIRI", "1")];
    let mut miri_flags = vec![flags.to_owned()];
    // Miri hides the host's environment from the program it interprets unless told to forward a variable.
    miri_flags.extend(test_env.iter().map(|(key, _)| format!("-Zmiri-env-forward={key}")));
    // Flags the caller set are kept, after ours, so that for example `-Zmiri-seed=7` still reproduces a run.
    if let Ok(extra) = env::var("MIRIFLAGS") {
        miri_flags.push(extra);
    }
    let mut invocation =
        Invocation::cargo(&format!("+nightly miri test {arguments}")).env("MIRIFLAGS", miri_flags.join(" ").trim());
    for (key, value) in test_env {
        invocation = invocation.env(key, value);
    }
    invocation
}
