//! Running the Python scripts of tests/py live, for the tests that check hamt-store against the real py-hamt (and
//! zarr) in the Python environment `cargo xtask test` prepares. Without one, a test says so and checks nothing there;
//! the committed vectors are checked on every machine.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) const PYTHON_VARIABLE: &str = "HAMT_PY_HAMT_PYTHON";
pub(crate) const SEED_VARIABLE: &str = "HAMT_PY_HAMT_SEED";

/// How long one Python run may take before the test kills it and fails: the runs take about a second each, so this
/// only stops a hung interpreter from hanging the test suite.
pub(crate) const PYTHON_TIME_LIMIT: Duration = Duration::from_secs(180);

/// The interpreter with py-hamt, or `None` after saying why the test checks nothing.
pub(crate) fn python(test: &str) -> Option<PathBuf> {
    let python = std::env::var_os(PYTHON_VARIABLE).map(PathBuf::from);
    if python.is_none() {
        // Written to the real standard error rather than through `eprintln!`, which the test harness would hide
        // for a passing test: a skipped cross-check must be visible in every log.
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: {PYTHON_VARIABLE} is not set, so there is no py-hamt to check against (`cargo xtask \
             test` sets it when it finds a Python 3.12 or newer; tests/interop.rs still checks the committed vectors)"
        );
    }
    python
}

/// This run's seed: `HAMT_PY_HAMT_SEED` if set, else drawn from the clock.
pub(crate) fn seed() -> u64 {
    if let Some(seed) = std::env::var(SEED_VARIABLE).ok().and_then(|text| text.parse().ok()) {
        return seed;
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.subsec_nanos());
    u64::from(nanos) % 1_000_000
}

/// A folder of its own for this test's files.
pub(crate) fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py_hamt_live").join(test);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    folder
}

/// Runs the script `script` of tests/py with `arguments`, within the time limit, and fails the test with its output
/// if it fails; returns what it printed.
pub(crate) fn run_script(python: &Path, script: &str, folder: &Path, arguments: &[String], reproduce: &str) -> String {
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("py");
    // The output goes to files rather than pipes, so that a chatty child can never block on a full pipe while
    // we wait for it.
    let (out_path, err_path) = (folder.join("python.out"), folder.join("python.err"));
    let mut child = Command::new(python)
        .arg(script_dir.join(script))
        .args(arguments)
        .current_dir(&script_dir)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("a scratch file"))
        .stderr(File::create(&err_path).expect("a scratch file"))
        .spawn()
        .unwrap_or_else(|error| panic!("{PYTHON_VARIABLE}={}: cannot run it: {error}", python.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > PYTHON_TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{script} {arguments:?} ran past {PYTHON_TIME_LIMIT:?}; {reproduce}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    let errors = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(status.success(), "{script} {arguments:?} failed ({status}); {reproduce}\n{output}\n{errors}");
    output
}
