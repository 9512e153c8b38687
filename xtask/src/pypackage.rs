//! The `python` steps of `cargo xtask test`: the Python package `hamt` (crates/hamt-py) built into a virtual
//! environment of its own and tested with pytest, immutables 0.21's own suite included, once with the oldest Python
//! the package supports (3.11, the system's) and once with 3.13 when the machine has it.
//!
//! Everything lives under `target/hamt-py/`: the virtual environments (with the tools pinned in
//! crates/hamt-py/requirements-test.txt) and the immutables sdist whose `tests/` the suite in
//! crates/hamt-py/tests/immutables_suite runs against `hamt.Map`. A second run reuses them, so it only rebuilds
//! the extension and runs the tests.

use std::path::{Path, PathBuf};

use crate::process::Invocation;
use crate::runner::Step;

/// The interpreter of the first step: the oldest Python the package supports (3.11; the extension is built for the
/// interpreter at hand, not for the stable ABI).
const PYTHON: &str = "python3.11";

/// The newer interpreter of the second step. The extension reads CPython structures whose layout is the version's
/// (a string's cached hash, a method descriptor's definition), so a second version is tested where there is one.
const NEWER_PYTHON: (u32, u32) = (3, 13);

/// Why the second step is skipped.
const NO_NEWER_PYTHON: &str = "no Python 3.13 was found: looked for python3.13 on the PATH and in pyenv's versions \
                               ($PYENV_ROOT or ~/.pyenv)";

/// The immutables release whose test suite is run, matching the pin in requirements-test.txt.
const IMMUTABLES: &str = "immutables==0.21";

/// Where the steps keep their files, relative to the workspace root.
const WORK_DIR: &str = "target/hamt-py";

/// The `python` step: the package on Python 3.11.
pub(crate) fn step(root: &Path) -> Step {
    let step = Step::new("python", "build the Python package into a virtual environment and run its tests with pytest");
    package_step(step, root, PYTHON, "venv", None)
}

/// The `python-3.13` step: the same on Python 3.13, skipped (saying so) on a machine without one.
pub(crate) fn newer_step(root: &Path) -> Step {
    let step = Step::new("python-3.13", "the same tests of the Python package on Python 3.13");
    let python = crate::pyhamt::find_python_version(NEWER_PYTHON);
    let interpreter = python.as_deref().map_or_else(|| PathBuf::from("python3.13"), Path::to_path_buf);
    // Its own target directory: the extension built for another interpreter would otherwise rebuild PyO3 for each.
    package_step(step, root, &interpreter.to_string_lossy(), "venv-3.13", Some("target-3.13"))
        .skip_if(python.is_none(), NO_NEWER_PYTHON)
}

/// `step` with the commands that build the package for `interpreter` into the virtual environment `venv` (under
/// the work directory) and run the tests; `target_dir`, under the work directory, is cargo's, if not the default.
fn package_step(step: Step, root: &Path, interpreter: &str, venv: &str, target_dir: Option<&str>) -> Step {
    let work_dir = root.join(WORK_DIR);
    let venv = work_dir.join(venv);
    let sdist_dir = work_dir.join("sdist");
    let venv_python = venv.join("bin").join("python");
    let path = |path: &Path| path.to_string_lossy().into_owned();
    let python = |args: &str| Invocation::new(&path(&venv_python), args);
    let mut develop = Invocation::new(&path(&venv.join("bin").join("maturin")), "develop --quiet --manifest-path")
        .args(&["crates/hamt-py/Cargo.toml"])
        .env("VIRTUAL_ENV", &path(&venv));
    if let Some(target_dir) = target_dir {
        develop = develop.args(&["--target-dir".to_owned(), path(&work_dir.join(target_dir))]);
    }
    step.counting_tests()
        .skip_if(!root.join("crates/hamt-py/Cargo.toml").is_file(), "crates/hamt-py does not exist")
        .command(Invocation::new(interpreter, "-m venv").args(&[path(&venv)]))
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
        .command(develop)
        .command(
            python("-m pytest -p no:cacheprovider crates/hamt-py/tests")
                .env("HAMT_IMMUTABLES_SDIST", &path(&sdist_dir.join("immutables-0.21.tar.gz")))
                // The suite's conftest.py then ends with a libtest-style `test result:` line, which the step counts.
                .env("HAMT_LIBTEST_SUMMARY", "1"),
        )
}
