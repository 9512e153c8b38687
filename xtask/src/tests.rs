use super::*;

fn parse(args: &[&str]) -> Result<Task, String> {
    parse_args(args.iter().map(OsString::from))
}

#[test]
fn test_runs_miri_unless_told_not_to() {
    assert_eq!(parse(&["test"]), Ok(Task::Test { run_miri: true }));
    assert_eq!(parse(&["test", "--no-miri"]), Ok(Task::Test { run_miri: false }));
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
    assert!(parse(&["fuzz", "--seconds", "10"]).is_err());
    assert!(parse(&["test", "--quick"]).is_err());
}
