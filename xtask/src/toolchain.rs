//! Making sure the rustup components a step needs are installed before the step runs, so that a fresh machine
//! (a CI runner, a new contributor's laptop) needs nothing but rustup and a stable toolchain.

use std::path::Path;

use crate::error::Error;
use crate::process::Invocation;

/// A tool that some step needs beyond the stable `cargo` and `rustc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    Rustfmt,
    Clippy,
    /// The nightly toolchain, for the docs.rs build (which needs `--cfg docsrs` and nightly's `doc_cfg`).
    Nightly,
    /// Miri, with the nightly toolchain it needs and the `rust-src` component it builds its sysroot from.
    NightlyMiri,
    /// cargo-fuzz, with the nightly toolchain it builds with (libFuzzer needs nightly's sanitizer flags).
    NightlyFuzz,
    /// cargo-nextest, which runs each test in a process of its own and so runs Miri on both cores.
    Nextest,
    /// py-hamt 3.6.0 in a virtual environment of our own (`target/py-hamt-venv`), made with a Python 3.12 or newer.
    PyHamt,
}

impl Tool {
    /// Installs the tool if it is missing, and fails with a message that says what to do if it still is.
    pub(crate) fn ensure(self, root: &Path) -> Result<(), Error> {
        match self {
            Self::Rustfmt | Self::Clippy => self.ensure_stable_component(root),
            Self::Nightly => self.ensure_nightly(root),
            Self::NightlyMiri => self.ensure_nightly_miri(root),
            Self::NightlyFuzz => self.ensure_cargo_fuzz(root),
            Self::Nextest => self.ensure_cargo_install(root, "cargo-nextest"),
            Self::PyHamt => crate::pyhamt::ensure_venv(root).and_then(|()| self.verify(root)),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Rustfmt => "rustfmt",
            Self::Clippy => "clippy",
            Self::Nightly => "the nightly toolchain",
            Self::NightlyMiri => "miri",
            Self::NightlyFuzz => "cargo-fuzz",
            Self::Nextest => "cargo-nextest",
            Self::PyHamt => "py-hamt",
        }
    }

    /// A command that succeeds exactly when the tool can be used.
    fn probe(self, root: &Path) -> Invocation {
        match self {
            Self::Rustfmt => Invocation::cargo("fmt --version"),
            Self::Clippy => Invocation::cargo("clippy --version"),
            Self::Nightly => Self::nightly_probe(),
            Self::NightlyMiri => Invocation::cargo("+nightly miri --version"),
            Self::NightlyFuzz => Invocation::cargo("+nightly fuzz --version"),
            Self::Nextest => Invocation::cargo("nextest --version"),
            Self::PyHamt => {
                Invocation::new(&crate::pyhamt::venv_python(root).to_string_lossy(), "-c").args(&["import py_hamt"])
            }
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Rustfmt => "install it with `rustup component add rustfmt`",
            Self::Clippy => "install it with `rustup component add clippy`",
            Self::Nightly => "install it with `rustup toolchain install nightly --profile minimal`",
            Self::NightlyMiri => {
                "see rustup's message above (Miri is not built for every nightly, and \
                 https://rust-lang.github.io/rustup-components-history lists the ones that have it), \
                 or pass --no-miri to skip this step"
            }
            Self::NightlyFuzz => {
                "install it with `rustup toolchain install nightly --profile minimal` and \
                 `cargo install cargo-fuzz --locked`, or pass --no-fuzz to `cargo xtask test` to skip this step"
            }
            Self::Nextest => {
                "install it with `cargo install cargo-nextest --locked`, or pass --no-miri to `cargo xtask test` to \
                 skip the step that needs it"
            }
            Self::PyHamt => {
                "see pip's message above; crates/hamt-store/tests/py/requirements.txt lists what the environment \
                 needs from PyPI"
            }
        }
    }

    /// Installs a stable component only when the probe says it is missing, since asking rustup costs a little
    /// time on every run for nothing.
    fn ensure_stable_component(self, root: &Path) -> Result<(), Error> {
        if self.probe(root).succeeds_quietly(root) {
            return Ok(());
        }
        println!("    {} is missing; installing it", self.name());
        Invocation::rustup("component add").args(&[self.name()]).run(root).map_err(|_| self.missing())?;
        self.verify(root)
    }

    /// Succeeds when a nightly toolchain is installed. Without the variable, rustup would quietly install a
    /// missing nightly just to answer the question.
    fn nightly_probe() -> Invocation {
        Invocation::rustup("run nightly rustc --version").env("RUSTUP_AUTO_INSTALL", "0")
    }

    fn ensure_nightly(self, root: &Path) -> Result<(), Error> {
        if !self.probe(root).succeeds_quietly(root) {
            Invocation::rustup("toolchain install nightly --profile minimal").run(root).map_err(|_| self.missing())?;
        }
        self.verify(root)
    }

    fn ensure_nightly_miri(self, root: &Path) -> Result<(), Error> {
        let nightly_is_installed = Self::nightly_probe().succeeds_quietly(root);
        let install = if nightly_is_installed {
            // Adding components to the installed nightly is instant and offline when they are already there,
            // whereas `rustup toolchain install nightly` would download a newer nightly on every run. Running it
            // unconditionally also catches a missing `rust-src`, which the Miri probe cannot see.
            Invocation::rustup("component add --toolchain nightly miri rust-src")
        } else {
            Invocation::rustup("toolchain install nightly --profile minimal --component miri,rust-src")
        };
        install.run(root).map_err(|_| self.missing())?;
        self.verify(root)
    }

    /// Installs the nightly toolchain if it is missing (libFuzzer builds need nightly's `-Z` flags), then
    /// cargo-fuzz if `cargo fuzz` is not there. cargo-fuzz is an ordinary binary crate, built once with the locked
    /// versions of its dependencies.
    fn ensure_cargo_fuzz(self, root: &Path) -> Result<(), Error> {
        if self.probe(root).succeeds_quietly(root) {
            return Ok(());
        }
        Self::Nightly.ensure(root)?;
        self.ensure_cargo_install(root, "cargo-fuzz")
    }

    /// Builds and installs a cargo subcommand from crates.io, with the locked versions of its dependencies, unless
    /// the probe finds it already.
    fn ensure_cargo_install(self, root: &Path, package: &str) -> Result<(), Error> {
        if !self.probe(root).succeeds_quietly(root) {
            println!("    {package} is missing; installing it");
            Invocation::cargo("install --locked").args(&[package]).run(root).map_err(|_| self.missing())?;
        }
        self.verify(root)
    }

    fn verify(self, root: &Path) -> Result<(), Error> {
        if self.probe(root).succeeds_quietly(root) { Ok(()) } else { Err(self.missing()) }
    }

    fn missing(self) -> Error {
        Error::MissingTool { tool: self.name(), hint: self.hint() }
    }
}
