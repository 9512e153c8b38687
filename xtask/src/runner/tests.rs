use super::*;

#[test]
fn the_timing_table_has_a_line_per_step_reached() {
    let outcome = Outcome {
        tally: TestTally::default(),
        failure: None,
        timings: vec![
            ("fmt", StepTime::Passed(Duration::from_millis(800))),
            ("clippy", StepTime::Passed(Duration::from_secs(75))),
            ("miri", StepTime::Skipped),
            ("fuzz", StepTime::Failed(Duration::from_secs(12))),
        ],
    };
    assert_eq!(
        outcome.timing_table(),
        "  fmt          0.8s\n  clippy     1m 15s\n  miri      skipped\n  fuzz        12.0s (failed)\n"
    );
}
