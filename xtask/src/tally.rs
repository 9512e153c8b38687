//! Counting tests from libtest's own summaries.
//!
//! Every test binary run by `cargo test` or `cargo miri test` ends with a line such as
//! `test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.03s`
//! (with `FAILED` in place of `ok` when a test failed). Adding up those lines gives the totals for the final
//! `xtask test: N passed, M failed` line without asking libtest for machine-readable output, which is unstable.

use std::ops::AddAssign;

/// The marker that starts libtest's summary of one test binary.
const TEST_RESULT_MARKER: &str = "test result:";

/// How many tests passed and failed, summed over the `test result:` lines seen so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TestTally {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
}

impl TestTally {
    /// Reads the counts from one line of output, or returns `None` if it is not a `test result:` line.
    ///
    /// The marker must start the line, as libtest writes it, so that a test printing the words elsewhere in a
    /// line is not counted.
    ///
    /// Only the `N passed` and `N failed` clauses are read, so colour codes around `ok` and clauses that libtest
    /// may add or reorder in the future do not matter.
    pub(crate) fn parse_line(line: &str) -> Option<Self> {
        let summary = line.trim_start().strip_prefix(TEST_RESULT_MARKER)?;
        let mut tally = Self::default();
        for clause in summary.split(';') {
            let mut words = clause.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match label {
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
