//! `cargo xtask test`: the checks CI runs, in the order that fails fastest on the commonest mistakes.

use std::env;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::process::Invocation;
use crate::runner::{self, Step};
use crate::toolchain::Tool;

/// How thorough a `cargo xtask test` run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// What CI runs, sized to finish in well under half an hour on a fresh 2-core machine: Miri on the suites that
    /// reach the unsafe node code and the concurrency code, with case counts sized for Miri, two tests at a time,
    /// and each fuzz target for a few seconds.
    Quick,
    /// Everything the quick run leaves out: Miri on every suite of every crate with larger case counts, and each
    /// fuzz target for minutes. For changes to `raw.rs`, the decoders or the concurrency code, and before a release.
    Deep,
}

impl Depth {
    /// Property-test cases under Miri (roughly a thousand times slower than native code), unless the caller chose a
    /// count by setting `QUICKCHECK_TESTS` themselves.
    fn miri_quickcheck_tests(self) -> &'static str {
        match self {
            Self::Quick => "8",
            Self::Deep => "20",
        }
    }

    /// How long each fuzz target runs: the quick run replays the corpus and explores a little; the deep run
    /// explores.
    fn fuzz_seconds_per_target(self) -> &'static str {
        match self {
            Self::Quick => "10",
            Self::Deep => "300",
        }
    }
}

/// The costliest variants that the quick Miri run leaves to `--deep` (a nextest filter): the allocation-failure
/// sweep with the deep hasher (chains of one-child nodes) and the panic sweeps of `Clone` and `Drop` with the
/// colliding hasher. The quick run keeps the same sweeps with the default hasher, the allocation-failure sweep with
/// the colliding one, and every other suite's deep and colliding variants, so each reshape and the collision nodes
/// still run under Miri; these three cost as much as all the rest of hamt-core's suites together.
const QUICK_MIRI_LEAVES_OUT: &str = "not ((binary(alloc_failure) and test(/^deep::/)) \
                                     or (binary(drops) and test(/^(clone|drop)_panic_collide::/)))";

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
pub(crate) fn run(root: &Path, depth: Depth, run_miri: bool, run_fuzz: bool) -> ExitCode {
    let started = Instant::now();
    let outcome = runner::run_steps(root, &steps(root, depth, run_miri, run_fuzz));
    println!("\nxtask test ({}) took {}, by step:", depth.name(), runner::format_duration(started.elapsed()));
    print!("{}", outcome.timing_table());
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

fn steps(root: &Path, depth: Depth, run_miri: bool, run_fuzz: bool) -> Vec<Step> {
    let benches_manifest = root.join("benches").join("Cargo.toml");
    vec![
        Step::new("fmt", "check formatting").needs(Tool::Rustfmt).command(Invocation::cargo("fmt --all -- --check")),
        Step::new("clippy", "lint every target with default and with all features, then hamt-core without std")
            .needs(Tool::Clippy)
            .command(Invocation::cargo("clippy --workspace --all-targets -- -D warnings"))
            .command(Invocation::cargo("clippy --workspace --all-targets --all-features -- -D warnings"))
            .command(Invocation::cargo("clippy -p hamt-core --no-default-features --lib -- -D warnings"))
            .command(Invocation::cargo(
                "clippy -p hamt-core --no-default-features --features serde --lib -- -D warnings",
            )),
        // Every feature at once (hamt-core's serde and rayon, hamt-sync's rayon): the default-feature build adds no
        // test that this one lacks, since every suite behind a feature is empty without it.
        Step::new("test", "every test with every feature, then hamt-core's as no_std + alloc")
            .counting_tests()
            .command(Invocation::cargo(WORKSPACE_TESTS))
            .command(Invocation::cargo("test -p hamt-core --no-default-features")),
        Step::new("doc", "build the API docs of every feature with warnings denied, then as docs.rs builds them")
            .needs(Tool::Nightly)
            .command(Invocation::cargo("doc --workspace --no-deps --all-features").env("RUSTDOCFLAGS", "-D warnings"))
            // docs.rs builds with nightly and `--cfg docsrs` (which turns on `doc_cfg`), with the features listed in
            // each crate's `[package.metadata.docs.rs]`: hamt-core's documented features, everything for the others.
            .command(docs_rs("-p hamt-core --features std,serde,rayon,arbitrary,quickcheck,proptest"))
            .command(docs_rs("-p hamt-serde -p hamt-sync --all-features")),
        // The test profile and the test step's features, so that this step compiles only the benchmark itself and
        // criterion: every library it links was built by the test step. The benchmarks are measured by
        // `cargo xtask bench`, in the bench profile; here they only have to compile and run.
        Step::new("bench", "run every benchmark once in criterion's test mode, in the test profile")
            .skip_if(!benches_manifest.is_file(), "benches/Cargo.toml does not exist yet")
            .command(Invocation::cargo(&format!("{WORKSPACE_TESTS} --bench maps"))),
        crate::pyhamt::step(root, WORKSPACE_TESTS),
        Step::new("loom", "model-check hamt-core's atomic node count with loom").counting_tests().command(loom_test()),
        // Nightly-only language features, each behind a `--cfg` so that stable builds never see them: allocation
        // failure that unwinds (`set_alloc_error_hook`; Miri runs the same suite in the miri step) and
        // `#[may_dangle]` on node drops (whose test compiles only with it), with the drop suite under that build.
        Step::new("nightly", "hamt-core's nightly-only tests: allocation failure that unwinds, #[may_dangle]")
            .needs(Tool::Nightly)
            .counting_tests()
            .command(
                Invocation::cargo(
                    "+nightly test -p hamt-core --features std --target-dir target/nightly \
                     --test alloc_failure --test may_dangle --test drops",
                )
                .env("RUSTFLAGS", NIGHTLY_CFGS),
            ),
        msrv_step(root),
        miri_step(depth).skip_if(!run_miri, "--no-miri was given"),
        Step::new("fuzz", "every fuzz target for a bounded time")
            .skip_if(!run_fuzz, "--no-fuzz was given")
            .needs(Tool::NightlyFuzz)
            .command(Invocation::cargo("xtask fuzz --seconds").args(&[depth.fuzz_seconds_per_target()])),
        crate::pypackage::step(root),
        crate::pypackage::newer_step(root),
    ]
}

/// The `--cfg`s that turn on hamt-core's nightly-only code and tests (registered in the workspace's `check-cfg`).
const NIGHTLY_CFGS: &str = "--cfg hamt_alloc_error_hook --cfg hamt_may_dangle";

/// The test step's `cargo` arguments, which the bench step repeats so that the two share one compilation.
const WORKSPACE_TESTS: &str = "test --workspace --all-features";

/// The Miri step. Both depths run every module with `unsafe` code (hamt-core's `raw.rs`, through its own unit
/// tests) and the code that calls it (the rest of hamt-core, through the suites that drive every operation against
/// a model, every drop and panic path, the set operations and the threads sharing versions), and the concurrency
/// code (hamt-sync's store on arc-swap, the parallel operations on rayon's pool). The quick run leaves out the
/// suites that only call hamt-core's safe API (hamt-core's serde suite and all of hamt-serde's) and runs fewer
/// property cases; the deep run adds them back. Tests run under nextest, one Miri process per test, two at a time,
/// since Miri interprets on one thread.
fn miri_step(depth: Depth) -> Step {
    let mut step = Step::new("miri", depth.miri_purpose())
        .needs(Tool::NightlyMiri)
        .needs(Tool::Nextest)
        .counting_tests()
        .command(Invocation::cargo("+nightly miri setup"));
    let core = match depth {
        Depth::Quick => {
            "-p hamt-core --lib --test basics --test drops --test entry --test alloc_failure --test model \
             --test set_ops --test auto_traits --test inconsistent_eq"
        }
        // With `serde`, so that hamt-core's serde suite (tests/serde.rs, empty without the feature) runs too.
        Depth::Deep => "-p hamt-core --features serde --lib --tests",
    };
    let mut core = miri_test(core, MIRI_FLAGS, depth);
    if depth == Depth::Quick {
        core = core.args(&["-E", QUICK_MIRI_LEAVES_OUT]);
    }
    step = step.command(core);
    if depth == Depth::Deep {
        // The `#[may_dangle]` build of the nodes: the same drop code, which the attribute lets run on dangling
        // keys, so Miri checks that it never reads them. A target directory of its own, for the `--cfg`.
        step = step.command(
            miri_test(
                "-p hamt-core --test may_dangle --test drops --target-dir target/miri-may-dangle",
                MIRI_FLAGS,
                depth,
            )
            .env("RUSTFLAGS", "--cfg hamt_may_dangle"),
        );
        // hamt-serde's tests that touch the file system or spawn processes are ignored under Miri, which isolates
        // the program from both.
        step = step.command(miri_test("-p hamt-serde --lib --tests", MIRI_FLAGS, depth));
    }
    step.command(miri_test("-p hamt-sync --lib --tests", MIRI_SYNC_FLAGS, depth)).command(miri_test(
        "-p hamt-core --features rayon --test par",
        MIRI_PARALLEL_FLAGS,
        depth,
    ))
}

impl Depth {
    fn name(self) -> &'static str {
        match self {
            Self::Quick => "quick",
            Self::Deep => "deep",
        }
    }

    fn miri_purpose(self) -> &'static str {
        match self {
            Self::Quick => "the unsafe node code, its callers and the concurrency code under Miri, sized for Miri",
            Self::Deep => "every suite of hamt-core, hamt-serde and hamt-sync under Miri",
        }
    }
}

/// The loom run: tests/loom.rs of hamt-core, built with `--cfg loom` so that node counts use loom's atomics. It
/// gets a target directory of its own, since a different `RUSTFLAGS` would otherwise rebuild the whole workspace
/// in `target/` (and again for the next ordinary build). The test profile: the models are small enough that
/// every interleaving runs in a fraction of a second unoptimized, and the release build cost twice the time to
/// compile.
fn loom_test() -> Invocation {
    Invocation::cargo("test -p hamt-core --test loom --target-dir target/loom").env("RUSTFLAGS", "--cfg loom")
}

/// One crate set's docs as docs.rs builds them (nightly, `--cfg docsrs`), in a target directory of their own, since
/// the flag differs from the ordinary doc build's.
fn docs_rs(packages: &str) -> Invocation {
    Invocation::cargo(&format!("+nightly doc --no-deps --target-dir target/docsrs {packages}"))
        .env("RUSTDOCFLAGS", "--cfg docsrs -D warnings")
}

/// The oldest compiler the crates promise (`rust-version` in the workspace's Cargo.toml) must build the libraries
/// with every feature and without std, with the dependency versions of Cargo.lock. Warnings are not denied: old
/// compilers lint differently (1.85 warns about `unreachable_pub` where later ones do not), and the clippy step
/// holds the code to the current lints.
fn msrv_step(root: &Path) -> Step {
    let step = Step::new("msrv", "check the libraries with the oldest compilers they support");
    let Some(version) = rust_version_in(&root.join("Cargo.toml")) else {
        return step.skip_if(true, "the workspace's Cargo.toml names no rust-version");
    };
    let check = |version: &str, arguments: &str| {
        Invocation::cargo(&format!("+{version} check --target-dir target/msrv-{version} {arguments}"))
    };
    let mut step = step
        .command(Invocation::rustup("toolchain install --profile minimal").args(&[version.as_str()]))
        .command(check(&version, "--all-features --lib -p hamt-core -p hamt-serde -p hamt-sync"))
        .command(check(&version, "--no-default-features --lib -p hamt-core"));
    // hamt-store promises a newer compiler of its own (its database and object-store dependencies need one).
    if let Some(store_version) = rust_version_in(&root.join("crates/hamt-store/Cargo.toml")) {
        step = step
            .command(Invocation::rustup("toolchain install --profile minimal").args(&[store_version.as_str()]))
            .command(check(&store_version, "--all-features --lib -p hamt-store"));
    }
    step
}

/// The `rust-version = "..."` that a Cargo.toml names itself: the workspace's (in `[workspace.package]`, which the
/// crates inherit), or a crate's own (not `rust-version.workspace = true`).
fn rust_version_in(manifest: &Path) -> Option<String> {
    let manifest = std::fs::read_to_string(manifest).ok()?;
    manifest.lines().find_map(|line| {
        let value = line.trim().strip_prefix("rust-version")?.trim_start().strip_prefix('=')?.trim();
        value.starts_with('"').then(|| value.trim_matches('"').to_owned())
    })
}

/// A Miri run, under nextest, of the test targets that `arguments` select (cargo's `-p`, `--features` and target
/// options), with `flags` first in `MIRIFLAGS`. Doctests are never selected: Miri would build and interpret every
/// one of them separately, which costs minutes for no coverage the unit tests lack.
fn miri_test(arguments: &str, flags: &str, depth: Depth) -> Invocation {
    let quickcheck_tests = env::var("QUICKCHECK_TESTS").unwrap_or_else(|_| depth.miri_quickcheck_tests().to_owned());
    // The tests read these to shrink their case counts (quickcheck reads `QUICKCHECK_TESTS` itself).
    let test_env = [("QUICKCHECK_TESTS", quickcheck_tests.as_str()), ("HAMT_MIRI", "1")];
    let mut miri_flags = vec![flags.to_owned()];
    // Miri hides the host's environment from the program it interprets unless told to forward a variable.
    miri_flags.extend(test_env.iter().map(|(key, _)| format!("-Zmiri-env-forward={key}")));
    // Flags the caller set are kept, after ours, so that for example `-Zmiri-seed=7` still reproduces a run.
    if let Ok(extra) = env::var("MIRIFLAGS") {
        miri_flags.push(extra);
    }
    // Two tests at a time (the machines CI runs on have two cores); every test runs even after a failure, so that
    // one run shows them all.
    let mut invocation =
        Invocation::cargo(&format!("+nightly miri nextest run --test-threads 2 --no-fail-fast {arguments}"))
            .env("MIRIFLAGS", miri_flags.join(" ").trim());
    for (key, value) in test_env {
        invocation = invocation.env(key, value);
    }
    invocation
}
