//! The `python` step of `cargo xtask test`: the Python package `hamt` (crates/hamt-py) built into a virtual
//! environment of its own and tested with pytest, immutables 0.21's own suite included.
//!
//! Everything lives under `target/hamt-py/`: the virtual environment (made from the system's Python 3.11, with
//! the tools pinned in crates/hamt-py/requirements-test.txt) and the immutables sdist whose `tests/` the suite in
//! crates/hamt-py/tests/immutables_suite runs against `hamt.Map`. A second run reuses both, so it only rebuilds
//! the extension and runs the tests.

use std::path::Path;

use crate::process::Invocation;
use crate::runner::Step;

/// The interpreter the environment is made from: the oldest Python the package supports (3.11; the extension is built
/// for the interpreter at hand, not for the stable ABI).
const PYTHON: &str = "python3.11";

/// The immutables release whose test suite is run, matching the pin in requirements-test.txt.
const IMMUTABLES: &str = "immutables==0.21";

/// Where the step keeps its files, relative to the workspace root.
const WORK_DIR: &str = "target/hamt-py";

/// The `python` step.
pub(crate) fn step(root: &Path) -> Step {
    let work_dir = root.join(WORK_DIR);
    let venv = work_dir.join("venv");
    let sdist_dir = work_dir.join("sdist");
    let venv_python = venv.join("bin").join("python");
    let path = |path: &Path| path.to_string_lossy().into_owned();
    let python = |args: &str| Invocation::new(&path(&venv_python), args);
    Step::new("python", "build the Python package into a virtual environment and run its tests with pytest")
        .counting_tests()
        .skip_if(!root.join("crates/hamt-py/Cargo.toml").is_file(), "crates/hamt-py does not exist")
        .command(Invocation::new(PYTHON, "-m venv").args(&[path(&venv)]))
        .command(
            python("-m pip install --quiet --disable-pip-version-check --requirement")
                .args(&["crates/hamt-py/requirements-test.txt"]),
        )
        // The sdist (not the wheel) ships the test suite; pip keeps an already downloaded file.
        .command(
            python("-m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: --dest")
                .args(&[path(&sdist_dir), IMMUTABLES.to_owned()]),
        )
        // The test profile: building the extension unoptimized costs less than the tests gain from optimization.
        .command(
            Invocation::new(&path(&venv.join("bin").join("maturin")), "develop --quiet --manifest-path")
                .args(&["crates/hamt-py/Cargo.toml"])
                .env("VIRTUAL_ENV", &path(&venv)),
        )
        .command(
            python("-m pytest -p no:cacheprovider crates/hamt-py/tests")
                .env("HAMT_IMMUTABLES_SDIST", &path(&sdist_dir.join("immutables-0.21.tar.gz")))
                // The suite's conftest.py then ends with a libtest-style `test result:` line, which the step counts.
                .env("HAMT_LIBTEST_SUMMARY", "1"),
        )
}
