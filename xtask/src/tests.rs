use super::*;

fn parse(args: &[&str]) -> Result<Task, String> {
    parse_args(args.iter().map(OsString::from))
}

#[test]
fn test_runs_miri_unless_told_not_to() {
    let quick = Depth::Quick;
    assert_eq!(parse(&["test"]), Ok(Task::Test { depth: quick, run_miri: true, run_fuzz: true }));
    assert_eq!(parse(&["test", "--no-miri"]), Ok(Task::Test { depth: quick, run_miri: false, run_fuzz: true }));
    assert_eq!(
        parse(&["test", "--no-fuzz", "--no-miri"]),
        Ok(Task::Test { depth: quick, run_miri: false, run_fuzz: false })
    );
}

#[test]
fn test_goes_deep_when_asked() {
    assert_eq!(parse(&["test", "--deep"]), Ok(Task::Test { depth: Depth::Deep, run_miri: true, run_fuzz: true }));
    assert_eq!(
        parse(&["test", "--no-fuzz", "--deep"]),
        Ok(Task::Test { depth: Depth::Deep, run_miri: true, run_fuzz: false })
    );
}

#[test]
fn fuzz_takes_seconds_and_a_known_target() {
    assert_eq!(parse(&["fuzz"]), Ok(Task::Fuzz { seconds: fuzz::DEFAULT_SECONDS, target: None }));
    assert_eq!(
        parse(&["fuzz", "--seconds", "10", "--target", "deserialize_body"]),
        Ok(Task::Fuzz { seconds: 10, target: Some("deserialize_body".to_owned()) })
    );
    assert!(parse(&["fuzz", "--seconds"]).is_err());
    assert!(parse(&["fuzz", "--seconds", "ten"]).is_err());
    assert!(parse(&["fuzz", "--target", "no_such_target"]).is_err());
}

#[test]
fn bench_forwards_everything_after_it() {
    let forwarded_args = vec!["--quick".to_owned(), "--help".to_owned()];
    assert_eq!(parse(&["bench", "--quick", "--help"]), Ok(Task::Bench { forwarded_args }));
}

#[test]
fn help_is_understood_in_every_spelling() {
    for args in [&["help"][..], &["--help"], &["-h"], &["test", "--help"]] {
        assert_eq!(parse(args), Ok(Task::Help), "{args:?}");
    }
}

#[test]
fn unknown_commands_and_options_are_usage_errors() {
    assert!(parse(&[]).is_err());
    assert!(parse(&["fuzz", "--minutes", "10"]).is_err());
    assert!(parse(&["test", "--quick"]).is_err());
}
