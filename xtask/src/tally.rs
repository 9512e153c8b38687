//! Counting tests from the test runners' own summaries.
//!
//! Every test binary run by `cargo test` ends with a line such as
//! `test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.03s`
//! (with `FAILED` in place of `ok` when a test failed), and a `cargo nextest run` (the Miri step's runner) ends with
//! `Summary [  61.403s] 45 tests run: 45 passed, 140 skipped`. Adding up those lines gives the totals for the final
//! `xtask test: N passed, M failed` line without asking either runner for machine-readable output, which is
//! unstable in libtest and an extra file in nextest.

use std::ops::AddAssign;

/// The marker that starts libtest's summary of one test binary.
const TEST_RESULT_MARKER: &str = "test result:";

/// The marker that starts nextest's summary of a whole run, and the words that end its header.
const NEXTEST_SUMMARY_MARKER: &str = "Summary [";
const NEXTEST_COUNTS_MARKER: &str = "run:";

/// How many tests passed and failed, summed over the `test result:` lines seen so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TestTally {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
}

impl TestTally {
    /// Reads the counts from one line of output, or returns `None` if it is neither libtest's `test result:` line
    /// nor nextest's `Summary [...] N tests run:` line.
    ///
    /// The marker must start the line, as the runners write it, so that a test printing the words elsewhere in a
    /// line is not counted.
    ///
    /// Only the `N passed` and `N failed` clauses are read, so colour codes around `ok` and clauses that the
    /// runners may add or reorder in the future do not matter.
    pub(crate) fn parse_line(line: &str) -> Option<Self> {
        let line = line.trim_start();
        let summary = match line.strip_prefix(TEST_RESULT_MARKER) {
            Some(summary) => summary,
            None => {
                let rest = line.strip_prefix(NEXTEST_SUMMARY_MARKER)?;
                let (_, counts) = rest.split_once(NEXTEST_COUNTS_MARKER)?;
                counts
            }
        };
        let mut tally = Self::default();
        // Each count is a number followed by its label, such as `45 passed` or `(1 flaky)`.
        let words: Vec<&str> = summary.split([';', ',', ' ', '(', ')']).filter(|word| !word.is_empty()).collect();
        for pair in words.windows(2) {
            let Ok(count) = pair[0].parse::<u64>() else {
                continue;
            };
            match pair[1] {
                "passed" => tally.passed += count,
                "failed" => tally.failed += count,
                _ => {}
            }
        }
        Some(tally)
    }
}

impl AddAssign for TestTally {
    fn add_assign(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Cuts a stream of output bytes into lines and adds up the `test result:` lines among them.
///
/// The bytes arrive in chunks of whatever size the pipe delivered, so a line may be split across chunks; the
/// unfinished tail waits in `partial_line` for the rest.
#[derive(Debug, Default)]
pub(crate) struct TestResultScanner {
    tally: TestTally,
    partial_line: Vec<u8>,
}

impl TestResultScanner {
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some(newline) = rest.iter().position(|&byte| byte == b'\n') {
            self.partial_line.extend_from_slice(&rest[..newline]);
            self.end_line();
            rest = &rest[newline + 1..];
        }
        self.partial_line.extend_from_slice(rest);
    }

    /// Counts the last line when the output did not end with a newline.
    pub(crate) fn finish(&mut self) {
        if !self.partial_line.is_empty() {
            self.end_line();
        }
    }

    /// Adds the totals that `other` saw on another stream of the same program.
    pub(crate) fn absorb(&mut self, other: &Self) {
        self.tally += other.tally;
    }

    /// The totals of every complete line fed so far.
    pub(crate) fn tally(&self) -> TestTally {
        self.tally
    }

    fn end_line(&mut self) {
        // Test output may hold arbitrary bytes; a lossy conversion cannot hide a summary line, which is ASCII.
        let line = String::from_utf8_lossy(&self.partial_line);
        if let Some(tally) = TestTally::parse_line(&line) {
            self.tally += tally;
        }
        self.partial_line.clear();
    }
}

#[cfg(test)]
mod tests;
