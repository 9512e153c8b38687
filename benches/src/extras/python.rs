//! The `python` section: the Python package `hamt` (crates/hamt-py) against `dict` and the Python persistent maps
//! (immutables, pyrsistent, pypersistent, rpds-py), all measured in one run of crates/hamt-py/benches/bench.py.
//!
//! The section makes a virtual environment of its own under `target/hamt-py/` from the system's Python 3.11,
//! installs the peers pinned in crates/hamt-py/requirements-bench.txt, builds hamt in release with maturin (in a
//! target directory of its own, so that it never waits on the build lock of the benchmark run that started it),
//! and reads the script's figures: one line per figure, `operation TAB size TAB implementation TAB value TAB unit`.
//! When any of that fails, the section says so and measures nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use super::Section;
use crate::report::{format_ratio, format_time, size_label};

/// The implementations, in the order of the tables' columns.
const IMPLEMENTATIONS: [&str; 6] = ["hamt", "immutables", "pyrsistent", "pypersistent", "rpds-py", "dict"];

/// The timed operations, in the order of the tables, with how the report names them.
const OPERATIONS: [(&str, &str); 7] = [
    ("lookup", "lookup (`m[k]`)"),
    ("set", "persistent `set`"),
    ("delete", "persistent `delete`"),
    ("build", "build in a batch (`mutate()`/`finish()`, or each peer's batch form)"),
    ("from dict", "construction from a `dict`"),
    ("iterate items", "iteration of `items()`"),
    ("equal to variant", "`==` of a map and its one-key variant"),
];

/// One figure of the script: (operation, size, implementation) -> value.
type Figures = BTreeMap<(String, usize, String), f64>;

/// Measures the section; `quick` runs the script's quick mode (10k and 100k, fewer repeats).
pub fn run(quick: bool) -> Section {
    let mut section = Section::new("Python: hamt against dict and the Python persistent maps");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default();
    match measure(&root, quick) {
        Ok(figures) => describe(&mut section, &figures),
        Err(reason) => {
            section.line(format!("Not measured: {reason}."));
            section.targets.push(super::Target {
                scenario: "Python package".to_owned(),
                target: "measured against the Python peers".to_owned(),
                measured: "not measured".to_owned(),
                met: None,
            });
        }
    }
    section
}

/// Prepares the environment, runs the script and parses its output.
fn measure(root: &Path, quick: bool) -> Result<Figures, String> {
    let work = root.join("target").join("hamt-py");
    let venv = work.join("bench-venv");
    let python = venv.join("bin").join("python");
    if !python.is_file() {
        run_to_success(Command::new("python3.11").arg("-m").arg("venv").arg(&venv))?;
    }
    run_to_success(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--requirement"])
            .arg(root.join("crates/hamt-py/requirements-bench.txt")),
    )?;
    run_to_success(
        Command::new(venv.join("bin").join("maturin"))
            .args(["develop", "--quiet", "--release", "--manifest-path"])
            .arg(root.join("crates/hamt-py/Cargo.toml"))
            .arg("--target-dir")
            .arg(work.join("bench-target"))
            .env("VIRTUAL_ENV", &venv),
    )?;
    let mut script = Command::new(&python);
    script.arg(root.join("crates/hamt-py/benches/bench.py"));
    if quick {
        script.arg("--quick");
    }
    let output = script.output().map_err(|error| format!("could not run bench.py: {error}"))?;
    if !output.status.success() {
        return Err(format!("bench.py failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim()));
    }
    parse(&String::from_utf8_lossy(&output.stdout))
}

/// Runs a setup command to success. Its output is captured, because the section's own standard output carries
/// the encoded section to the parent; on failure, the end of its standard error becomes the reason.
fn run_to_success(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|error| format!("could not run {command:?}: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    let errors = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = errors.lines().rev().take(5).collect();
    Err(format!("{command:?} failed ({}): {}", output.status, tail.into_iter().rev().collect::<Vec<_>>().join(" / ")))
}

/// One figure as bench.py prints it: a JSON object per line.
#[derive(Debug, Deserialize)]
struct ScriptFigure {
    operation: String,
    size: usize,
    implementation: String,
    /// `None` for a value that was not a finite number.
    value: Option<f64>,
}

/// Reads the script's lines into figures.
fn parse(output: &str) -> Result<Figures, String> {
    let mut figures = Figures::new();
    for line in output.lines().filter(|line| !line.trim().is_empty()) {
        let figure: ScriptFigure =
            serde_json::from_str(line).map_err(|error| format!("unexpected line from bench.py ({error}): {line}"))?;
        figures.insert((figure.operation, figure.size, figure.implementation), figure.value.unwrap_or(f64::NAN));
    }
    if figures.is_empty() { Err("bench.py printed no figure".to_owned()) } else { Ok(figures) }
}

/// The sizes measured for `operation`, in increasing order.
fn sizes_of(figures: &Figures, operation: &str) -> Vec<usize> {
    let mut sizes: Vec<usize> =
        figures.keys().filter(|(name, _, _)| name == operation).map(|(_, size, _)| *size).collect();
    sizes.dedup();
    sizes
}

fn get(figures: &Figures, operation: &str, size: usize, implementation: &str) -> Option<f64> {
    figures.get(&(operation.to_owned(), size, implementation.to_owned())).copied()
}

/// Writes the tables, records every figure and evaluates the targets.
fn describe(section: &mut Section, figures: &Figures) {
    section.line(
        "`str` keys (`key00000000`...), `int` values. Times are per operation, medians over repeats of a loop over \
         10k keys (lookups, `set`, `delete`) or over the whole map. hamt, immutables and `dict` are timed in one \
         interpreter, one run of each in turn, because two processes of the same build can differ by more than two \
         implementations do; pyrsistent, pypersistent and rpds-py each in an interpreter of its own, because their \
         runs evict the others' data from the caches (hamt over immutables moved by 10-20% at 10k with them \
         there) and pypersistent has been seen to crash. Each time is the median of three such rounds (one with \
         `--quick`). `set` and `delete` keep nothing, so each also pays for freeing what it built, in every \
         implementation. pypersistent and rpds-py have no transient: their batch build is construction from the \
         pairs. `dict` has no persistent update. The ratio column is hamt's \
         time over immutables' (below 1 is faster).",
    );
    for ((operation, size, implementation), value) in figures {
        let unit = if operation.starts_with("crashed") {
            "signal"
        } else if operation.contains("memory") {
            "MiB"
        } else if operation.contains("bytes") {
            "bytes"
        } else if operation.contains("seed workload time") {
            "ms"
        } else {
            "ns"
        };
        section.figure(format!("python {operation} {} / {implementation}", size_label(*size)), *value, unit);
    }
    for ((operation, size, implementation), signal) in
        figures.iter().filter(|((name, _, _), _)| name.starts_with("crashed"))
    {
        section.line("");
        // A timing child that crashed is run again without the operation it died in (bench.py's `run_times`); a
        // memory or seed-workload child (size 0 here) loses what it had not printed.
        section.line(if *size > 0 {
            format!(
                "{implementation} {operation} at {} (signal {signal}): those figures are missing (`-`); the other \
                 operations were timed again in a new interpreter.",
                size_label(*size)
            )
        } else {
            format!("{implementation} {operation} (signal {signal}): the figures it had not printed are missing (`-`).")
        });
    }
    for (operation, title) in OPERATIONS {
        section.line("");
        section.line(format!("### {title}"));
        section.line("");
        section.line(format!("| size | {} | hamt / immutables |", IMPLEMENTATIONS.join(" | ")));
        section.line(format!("|---|{}---|", "---|".repeat(IMPLEMENTATIONS.len())));
        let mut worst: f64 = 0.0;
        for size in sizes_of(figures, operation) {
            let cells: Vec<String> = IMPLEMENTATIONS
                .iter()
                .map(|implementation| get(figures, operation, size, implementation).map_or("-".to_owned(), format_time))
                .collect();
            let ratio = match (get(figures, operation, size, "hamt"), get(figures, operation, size, "immutables")) {
                (Some(ours), Some(theirs)) if theirs > 0.0 => ours / theirs,
                _ => f64::NAN,
            };
            worst = worst.max(ratio);
            section.line(format!("| {} | {} | {} |", size_label(size), cells.join(" | "), format_ratio(ratio)));
        }
        section.target_at_most(
            format!("Python {operation}"),
            "at least as fast as immutables at every size",
            format!("worst hamt / immutables {}", format_ratio(worst)),
            worst,
            1.0,
        );
    }
    let lookup_vs_dict = sizes_of(figures, "lookup")
        .into_iter()
        .filter_map(|size| Some(get(figures, "lookup", size, "hamt")? / get(figures, "lookup", size, "dict")?))
        .fold(0.0, f64::max);
    section.target_at_most(
        "Python lookup",
        "within 1.5x of dict",
        format!("worst hamt / dict {}", format_ratio(lookup_vs_dict)),
        lookup_vs_dict,
        1.5,
    );

    section.line("");
    section.line("### Memory and the seed workload");
    section.line("");
    section.line(
        "Bytes per entry: the growth of the resident set when a map is built from a `dict` whose keys and values \
         already exist, in a fresh interpreter per implementation. The seed workload: 500 variants of a 10k map (one \
         `set` each, a new list as the value), all kept alive, with the garbage collector on; its time and the \
         growth of the resident set. hamt's nodes are in memory that mimalloc asks the kernel to back with 2 MiB \
         huge pages, so its resident set grows in such steps: a smaller growth may not show.",
    );
    section.line("");
    section.line(format!("| figure | {} |", IMPLEMENTATIONS.join(" | ")));
    section.line(format!("|---|{}", "---|".repeat(IMPLEMENTATIONS.len())));
    for (operation, label, unit) in [
        ("bytes per entry", "bytes per entry", "B"),
        ("seed workload time", "seed workload time", "ms"),
        ("seed workload memory", "seed workload memory", "MiB"),
    ] {
        for size in sizes_of(figures, operation) {
            let cells: Vec<String> = IMPLEMENTATIONS
                .iter()
                .map(|implementation| {
                    get(figures, operation, size, implementation)
                        .map_or("-".to_owned(), |value| format!("{value:.1} {unit}"))
                })
                .collect();
            section.line(format!("| {label} ({}) | {} |", size_label(size), cells.join(" | ")));
        }
    }
    for size in sizes_of(figures, "bytes per entry") {
        let ratio = match (
            get(figures, "bytes per entry", size, "hamt"),
            get(figures, "bytes per entry", size, "immutables"),
        ) {
            (Some(ours), Some(theirs)) if theirs > 0.0 => ours / theirs,
            _ => f64::NAN,
        };
        section.target_at_most(
            format!("Python bytes per entry at {}", size_label(size)),
            "at most 0.6x immutables",
            format!("hamt / immutables {}", format_ratio(ratio)),
            ratio,
            0.6,
        );
    }
    for size in sizes_of(figures, "seed workload time") {
        let ratio = match (
            get(figures, "seed workload time", size, "hamt"),
            get(figures, "seed workload time", size, "immutables"),
        ) {
            (Some(ours), Some(theirs)) if theirs > 0.0 => ours / theirs,
            _ => f64::NAN,
        };
        section.target_at_most(
            "Python seed workload time",
            "at least as fast as immutables",
            format!("hamt / immutables {}", format_ratio(ratio)),
            ratio,
            1.0,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn bench_py_lines_parse_into_figures() {
        let output = "{\"operation\": \"lookup\", \"size\": 1000, \"implementation\": \"hamt\", \"value\": 42.5, \
                      \"unit\": \"ns\"}\n\n{\"operation\": \"lookup\", \"size\": 1000, \"implementation\": \
                      \"dict\", \"value\": null, \"unit\": \"ns\"}\n";
        let figures = parse(output).expect("two figures");
        assert_eq!(figures[&("lookup".to_owned(), 1000, "hamt".to_owned())], 42.5);
        assert!(figures[&("lookup".to_owned(), 1000, "dict".to_owned())].is_nan());
        assert!(parse("lookup\t1000\thamt\t42.5\tns").is_err());
        assert!(parse("").is_err());
    }
}
