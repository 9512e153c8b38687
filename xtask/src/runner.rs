//! The one place that runs a list of steps: a header per step, its tools installed, its commands run in order,
//! tests counted, and a stop at the first failure.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::process::Invocation;
use crate::tally::{TestResultScanner, TestTally};
use crate::toolchain::Tool;

/// A named group of commands that pass or fail together.
#[derive(Debug)]
pub(crate) struct Step {
    name: &'static str,
    purpose: &'static str,
    tools: Vec<Tool>,
    commands: Vec<Invocation>,
    counts_tests: bool,
    skip_reason: Option<&'static str>,
}

impl Step {
    /// A step with no commands yet; `purpose` completes the header line `==> [i/n] name: purpose`.
    pub(crate) fn new(name: &'static str, purpose: &'static str) -> Self {
        Self { name, purpose, tools: Vec::new(), commands: Vec::new(), counts_tests: false, skip_reason: None }
    }

    /// Makes sure `tool` is installed before the first command runs.
    pub(crate) fn needs(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    pub(crate) fn command(mut self, command: Invocation) -> Self {
        self.commands.push(command);
        self
    }

    /// Adds the step's `test result:` lines to the final totals. Only test runs opt in: the benchmark step also
    /// runs the benchmark crate's unit tests, which `cargo test` has counted already.
    pub(crate) fn counting_tests(mut self) -> Self {
        self.counts_tests = true;
        self
    }

    /// Announces the step and skips it, for the reason given, instead of running it.
    pub(crate) fn skip_if(mut self, condition: bool, reason: &'static str) -> Self {
        if condition {
            self.skip_reason = Some(reason);
        }
        self
    }

    /// Installs the tools and runs the commands in order, adding what each test run reports to `tally`, a failing
    /// run included, so that the summary counts the failed tests.
    fn run(&self, root: &Path, tally: &mut TestTally) -> Result<(), Error> {
        for tool in &self.tools {
            tool.ensure(root)?;
        }
        for command in &self.commands {
            if self.counts_tests {
                let mut scanner = TestResultScanner::default();
                let result = command.run_scanned(root, &mut scanner);
                *tally += scanner.tally();
                result?;
            } else {
                command.run(root)?;
            }
        }
        Ok(())
    }
}

/// How a run of steps ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The tests counted over every step that ran, including a failing one.
    pub(crate) tally: TestTally,
    /// The step that failed and why, or `None` if every step passed or was skipped.
    pub(crate) failure: Option<(&'static str, Error)>,
    /// Each step that was reached, with how it ended, in order: the table printed at the end of a run.
    pub(crate) timings: Vec<(&'static str, StepTime)>,
}

/// How a step that was reached ended, for the table of step times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepTime {
    Passed(Duration),
    Failed(Duration),
    Skipped,
}

impl Outcome {
    /// The table of step times, one line per step reached, for the end of a run's log: what a reader looks at
    /// to see where the time went (and what the README's "Working on it" table is copied from).
    pub(crate) fn timing_table(&self) -> String {
        let width = self.timings.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        let mut table = String::new();
        for (name, time) in &self.timings {
            let (time, note) = match time {
                StepTime::Passed(duration) => (format_duration(*duration), ""),
                StepTime::Failed(duration) => (format_duration(*duration), " (failed)"),
                StepTime::Skipped => ("skipped".to_owned(), ""),
            };
            table.push_str(&format!("  {name:<width$}  {time:>9}{note}\n"));
        }
        table
    }
}

/// Runs `steps` in order and stops at the first one that fails.
pub(crate) fn run_steps(root: &Path, steps: &[Step]) -> Outcome {
    let mut tally = TestTally::default();
    let mut timings = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        println!("\n==> [{}/{}] {}: {}", index + 1, steps.len(), step.name, step.purpose);
        if let Some(reason) = step.skip_reason {
            println!("    skipped: {reason}");
            timings.push((step.name, StepTime::Skipped));
            continue;
        }
        let started = Instant::now();
        if let Err(error) = step.run(root, &mut tally) {
            timings.push((step.name, StepTime::Failed(started.elapsed())));
            return Outcome { tally, failure: Some((step.name, error)), timings };
        }
        let elapsed = started.elapsed();
        println!("--> {} passed in {}{}", step.name, format_duration(elapsed), free_disk_note(root));
        timings.push((step.name, StepTime::Passed(elapsed)));
    }
    Outcome { tally, failure: None, timings }
}

/// ", N GiB free on disk" for the line that ends a step, or nothing where `df` is missing or says something else:
/// a full disk once failed a CI run in its last step, and this says which steps' builds filled it.
fn free_disk_note(root: &Path) -> String {
    let Ok(output) = std::process::Command::new("df").arg("-Pk").arg(root).output() else { return String::new() };
    let text = String::from_utf8_lossy(&output.stdout);
    // POSIX format: a header, then "filesystem 1024-blocks used available capacity mount".
    let available_kib = text.lines().nth(1).and_then(|line| line.split_whitespace().nth(3)?.parse::<u64>().ok());
    match available_kib {
        Some(kib) => format!(", {:.1} GiB free on disk", kib as f64 / (1024.0 * 1024.0)),
        None => String::new(),
    }
}

/// Formats a duration the way a reader of a CI log wants it: minutes and seconds, tenths only when short.
pub(crate) fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole_seconds = duration.as_secs();
        format!("{}m {:02}s", whole_seconds / 60, whole_seconds % 60)
    }
}

#[cfg(test)]
mod tests;
