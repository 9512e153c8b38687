use super::*;

#[test]
fn displays_a_copyable_command_line() {
    let invocation = Invocation::cargo("doc --workspace --no-deps").env("RUSTDOCFLAGS", "-D warnings");
    assert_eq!(invocation.to_string(), "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps");
}

#[test]
fn quotes_only_what_a_shell_would_misread() {
    assert_eq!(shell_quoted("+nightly"), "+nightly");
    assert_eq!(shell_quoted("miri,rust-src"), "miri,rust-src");
    assert_eq!(shell_quoted(""), "''");
    assert_eq!(shell_quoted("it's"), r"'it'\''s'");
    assert_eq!(shell_quoted("$HOME"), "'$HOME'");
}

#[test]
fn forwarded_arguments_follow_the_fixed_ones() {
    let invocation = Invocation::cargo("run --").args(&["--quick"]);
    assert_eq!(invocation.to_string(), "cargo run -- --quick");
}
