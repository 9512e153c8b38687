use super::*;

#[test]
fn parses_a_passing_summary() {
    let line = "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.03s";
    assert_eq!(TestTally::parse_line(line), Some(TestTally { passed: 12, failed: 0 }));
}

#[test]
fn parses_a_failing_summary() {
    let line = "test result: FAILED. 7 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.50s";
    assert_eq!(TestTally::parse_line(line), Some(TestTally { passed: 7, failed: 2 }));
}

#[test]
fn ignores_colour_codes_around_the_verdict() {
    let line = "test result: \u{1b}[32mok\u{1b}[0m. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out";
    assert_eq!(TestTally::parse_line(line), Some(TestTally { passed: 3, failed: 0 }));
}

#[test]
fn parses_nextest_summaries() {
    let passing = "     Summary [  61.403s] 45 tests run: 45 passed, 140 skipped";
    assert_eq!(TestTally::parse_line(passing), Some(TestTally { passed: 45, failed: 0 }));
    let failing = "     Summary [   2.100s] 9 tests run: 6 passed (1 flaky), 3 failed, 2 skipped";
    assert_eq!(TestTally::parse_line(failing), Some(TestTally { passed: 6, failed: 3 }));
    assert_eq!(TestTally::parse_line("        PASS [   0.010s] hamt-core::basics insert"), None);
    assert_eq!(TestTally::parse_line("     Summary [   0.010s] not a count"), None);
}

#[test]
fn ignores_other_lines() {
    assert_eq!(TestTally::parse_line("running 3 tests"), None);
    assert_eq!(TestTally::parse_line("test map::tests::insert ... ok"), None);
    assert_eq!(TestTally::parse_line("note: test result: ok. 3 passed; 0 failed"), None);
}

#[test]
fn scanner_adds_up_lines_split_across_chunks() {
    let output = "running 2 tests\n..\ntest result: ok. 2 passed; 0 failed; 0 ignored\n\n\
                  running 5 tests\ntest result: FAILED. 4 passed; 1 failed; 0 ignored";
    for chunk_size in 1..=output.len() {
        let mut scanner = TestResultScanner::default();
        for chunk in output.as_bytes().chunks(chunk_size) {
            scanner.feed(chunk);
        }
        scanner.finish();
        assert_eq!(scanner.tally(), TestTally { passed: 6, failed: 1 }, "chunk size {chunk_size}");
    }
}

#[test]
fn scanner_survives_invalid_utf8() {
    let mut scanner = TestResultScanner::default();
    scanner.feed(b"\xff\xfe garbage\ntest result: ok. 1 passed; 0 failed\n");
    scanner.finish();
    assert_eq!(scanner.tally(), TestTally { passed: 1, failed: 0 });
}
