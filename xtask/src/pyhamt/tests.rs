use super::*;

#[test]
fn versions_are_read_from_what_python_prints_and_from_pyenv_folder_names() {
    assert_eq!(parse_version("3.12"), Some((3, 12)));
    assert_eq!(parse_version("3.13.0"), Some((3, 13)));
    assert_eq!(parse_version("3.14.0rc1"), Some((3, 14)));
    assert_eq!(parse_version("3.9.18"), Some((3, 9)));
    // pyenv also installs interpreters whose folder names are not versions.
    assert_eq!(parse_version("pypy3.10-7.3.12"), None);
    assert_eq!(parse_version("miniconda3-latest"), None);
    assert_eq!(parse_version("3"), None);
    assert_eq!(parse_version(""), None);
}

#[test]
fn older_pythons_are_not_enough() {
    assert!(parse_version("3.11.7").is_some_and(|version| version < MINIMUM_VERSION));
    assert!(parse_version("3.12.1").is_some_and(|version| version >= MINIMUM_VERSION));
    assert!(parse_version("4.0").is_some_and(|version| version >= MINIMUM_VERSION));
}

#[test]
fn the_stamp_changes_with_the_interpreter_and_the_requirements() {
    let stamp = stamp_text(Path::new("/usr/bin/python3.12"), "py-hamt==3.6.0\n");
    assert_ne!(stamp, stamp_text(Path::new("/usr/bin/python3.13"), "py-hamt==3.6.0\n"));
    assert_ne!(stamp, stamp_text(Path::new("/usr/bin/python3.12"), "py-hamt==3.6.1\n"));
    assert_eq!(stamp, stamp_text(Path::new("/usr/bin/python3.12"), "py-hamt==3.6.0\n"));
}

#[test]
fn a_program_that_does_not_exist_has_no_version() {
    assert_eq!(version_of(Path::new("/nonexistent/python3.12")), None);
}

#[test]
fn the_requirements_pin_py_hamt() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace root");
    let requirements = fs::read_to_string(root.join(REQUIREMENTS)).expect("the requirements file exists");
    assert!(requirements.lines().any(|line| line.trim() == "py-hamt==3.6.0"));
    // Every package is pinned to one version, so that a run in a year installs what this one did.
    for line in requirements.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')) {
        assert!(line.contains("=="), "{line} is not pinned");
    }
}
