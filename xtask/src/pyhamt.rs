//! The `py-hamt` step: hamt-store checked live against the real py-hamt 3.6.0, in a virtual environment that we
//! create under `target/` with a Python 3.12 or newer found on the machine.
//!
//! py-hamt needs Python 3.12 or newer, which not every machine has (Debian 12's `python3` is 3.11). When none is
//! found the step is skipped, and says where it looked; the committed vectors (hamt-store's tests/interop.rs) still
//! check the format on every machine. When one is found, a missing or stale environment is an error, not a skip:
//! a run that says it checked against py-hamt must have done so.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;
use crate::process::Invocation;
use crate::runner::Step;
use crate::toolchain::Tool;

/// The variable that tells hamt-store's tests/py_hamt_live.rs and tests/zarr_interop.rs which interpreter has py-hamt
/// (and zarr); without it their live tests skip themselves.
pub(crate) const PYTHON_VARIABLE: &str = "HAMT_PY_HAMT_PYTHON";

/// A variable the caller may set to the interpreter to use, for machines whose Python 3.12+ is somewhere we do not
/// look.
const PYTHON_OVERRIDE_VARIABLE: &str = "HAMT_PYTHON";

/// The virtual environment, relative to the workspace root: under `target/`, so that it is ignored by git and goes
/// with the build.
const VENV: &str = "target/py-hamt-venv";

/// The pinned packages, relative to the workspace root.
const REQUIREMENTS: &str = "crates/hamt-store/tests/py/requirements.txt";

/// The file in the environment that records what it was made from (the interpreter and the requirements' text), so
/// that a run whose requirements have not changed installs nothing.
const STAMP: &str = "hamt-requirements.stamp";

/// The oldest Python that py-hamt 3.6.0 supports (its `Requires-Python: >=3.12`).
const MINIMUM_VERSION: (u32, u32) = (3, 12);

const SKIP_REASON: &str = "no Python 3.12 or newer was found (py-hamt needs one): looked at $HAMT_PYTHON, \
                           python3.12, python3.13, python3.14 and python3 on the PATH, and \
                           pyenv's versions 3.12 and later ($PYENV_ROOT or ~/.pyenv); set HAMT_PYTHON to an interpreter to use it";

/// The step, to follow the test step whose build it reuses: `workspace_tests` is the test step's `cargo` arguments.
pub(crate) fn step(root: &Path, workspace_tests: &str) -> Step {
    let step = Step::new(
        "py-hamt",
        "hamt-store against the real py-hamt 3.6.0 and zarr 3: each writes maps and Zarr arrays the other reads",
    );
    if find_python().is_none() {
        return step.skip_if(true, SKIP_REASON);
    }
    let python = venv_python(root);
    step.needs(Tool::PyHamt).counting_tests().command(
        Invocation::cargo(&format!("{workspace_tests} --test py_hamt_live --test zarr_interop"))
            .env(PYTHON_VARIABLE, &python.to_string_lossy()),
    )
}

/// Makes sure the virtual environment exists with exactly the pinned packages, creating or refreshing it when the
/// interpreter or the requirements changed since it was made.
pub(crate) fn ensure_venv(root: &Path) -> Result<(), Error> {
    let Some(python) = find_python() else {
        return Err(Error::MissingTool { tool: "Python 3.12 or newer", hint: SKIP_REASON });
    };
    let requirements_path = root.join(REQUIREMENTS);
    let requirements =
        fs::read_to_string(&requirements_path).map_err(|source| Error::Io { path: requirements_path, source })?;
    let venv = root.join(VENV);
    let stamp_path = venv.join(STAMP);
    let stamp = stamp_text(&python, &requirements);
    if venv_python(root).is_file() && fs::read_to_string(&stamp_path).is_ok_and(|made_from| made_from == stamp) {
        println!("    {VENV} is up to date with {REQUIREMENTS}");
        return Ok(());
    }
    println!("    making {VENV} with {} and {REQUIREMENTS}", python.display());
    if venv.exists() {
        // Packages left from older requirements could hide a missing pin, so the environment starts afresh.
        fs::remove_dir_all(&venv).map_err(|source| Error::Io { path: venv.clone(), source })?;
    }
    Invocation::new(&python.to_string_lossy(), "-m venv").args(&[VENV]).run(root)?;
    Invocation::new(&venv_python(root).to_string_lossy(), "-m pip install --disable-pip-version-check --quiet -r")
        .args(&[REQUIREMENTS])
        .run(root)?;
    // Written last, so that an interrupted install is redone by the next run.
    fs::write(&stamp_path, stamp).map_err(|source| Error::Io { path: stamp_path, source })
}

/// The environment's interpreter.
pub(crate) fn venv_python(root: &Path) -> PathBuf {
    let venv = root.join(VENV);
    if cfg!(windows) { venv.join("Scripts").join("python.exe") } else { venv.join("bin").join("python") }
}

fn stamp_text(python: &Path, requirements: &str) -> String {
    format!("made with {}\n{requirements}", python.display())
}

/// The first interpreter of Python 3.12 or newer among the places we look, in order: `$HAMT_PYTHON`, the versioned
/// names on the `PATH` (a pyenv shim for a version that is not active fails to run, and is passed over), `python3`,
/// then pyenv's installed versions, newest first.
fn find_python() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(chosen) = env::var_os(PYTHON_OVERRIDE_VARIABLE) {
        candidates.push(chosen.into());
    }
    candidates.extend(["python3.12", "python3.13", "python3.14", "python3"].map(PathBuf::from));
    candidates.extend(pyenv_pythons());
    candidates.into_iter().find(|python| version_of(python).is_some_and(|version| version >= MINIMUM_VERSION))
}

/// The first interpreter of exactly `version` (major, minor): `python3.N` on the `PATH`, then pyenv's versions.
pub(crate) fn find_python_version(version: (u32, u32)) -> Option<PathBuf> {
    let on_path = PathBuf::from(format!("python{}.{}", version.0, version.1));
    std::iter::once(on_path).chain(pyenv_pythons()).find(|python| version_of(python) == Some(version))
}

/// The interpreters of pyenv's versions 3.12 and later, newest first.
fn pyenv_pythons() -> Vec<PathBuf> {
    let Some(home) = env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".pyenv")))
    else {
        return Vec::new();
    };
    let Ok(versions) = fs::read_dir(home.join("versions")) else { return Vec::new() };
    let mut found: Vec<((u32, u32), PathBuf)> = versions
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = parse_version(entry.file_name().to_str()?)?;
            let python = entry.path().join("bin").join("python");
            (version >= MINIMUM_VERSION && python.is_file()).then_some((version, python))
        })
        .collect();
    found.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    found.into_iter().map(|(_, python)| python).collect()
}

/// The major and minor version of the interpreter `python`, or `None` if it does not run.
fn version_of(python: &Path) -> Option<(u32, u32)> {
    let output = Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    parse_version(String::from_utf8_lossy(&output.stdout).trim())
}

/// The major and minor version at the start of `text` (`3.12`, `3.12.1`, `3.13.0rc1`), or `None` if it is not one.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor_digits: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
    Some((major, minor_digits.parse().ok()?))
}

#[cfg(test)]
mod tests;
