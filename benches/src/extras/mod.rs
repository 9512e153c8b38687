//! Measurements outside the scenario grid: serialization, the versioned store, parallel operations.
//!
//! The scenario grid ([`crate::scenarios`]) times one operation for every implementation and size. The crates
//! built on hamt-core need other shapes of measurement (bytes written, threads, a throughput while another thread
//! writes), so each of them gets a *section*: a function that measures whatever it needs and returns a [`Section`],
//! the Markdown it adds to `docs/benchmarks.md`, every number in it (for `docs/benchmarks.json`), and the rows it
//! adds to the targets table.
//!
//! `hamt-bench` runs every section in a child process of its own (so that its heap and threads disturb nothing
//! else), which sends the [`Section`] back to the parent as a [`Reply`](crate::child::Reply) in JSON.
//!
//! Adding a section: write a module here with a `pub fn run(quick: bool) -> Section`, and add it to [`SECTIONS`].
//! Every figure and every ratio must come from measurements of the same run, taken with [`time_ns`] or a timer of
//! the section's own; nothing is hard-coded.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ::serde::{Deserialize, Serialize};

use crate::sampler::median;

pub mod parallel;
pub mod python;
pub mod serde;
pub mod store;
pub mod sync;
pub mod zarr;

/// What one section measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// The heading in `docs/benchmarks.md` (without the `##`).
    pub title: String,
    /// The body: paragraphs and tables in Markdown.
    pub markdown: String,
    /// Every number the body shows, by name, for `docs/benchmarks.json`.
    pub figures: Vec<Figure>,
    /// The rows this section adds to the targets table.
    pub targets: Vec<Target>,
}

/// One measured number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// What it is, e.g. `encode 1M / postcard HashMap`.
    pub name: String,
    /// The value; NaN if it could not be measured (`null` in JSON).
    #[serde(with = "crate::records::finite_or_null")]
    pub value: f64,
    /// Its unit, e.g. `ns`, `bytes`, `ratio`, `ops/s`.
    pub unit: String,
}

/// One target of an issue, evaluated on this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The scenario, as the issue names it.
    pub scenario: String,
    /// The target, as the issue states it.
    pub target: String,
    /// What this run measured for it.
    pub measured: String,
    /// Whether it is reached; `None` if it was not measured.
    pub met: Option<bool>,
}

/// A section's measuring function; its argument says whether this is a `--quick` run.
pub type Run = fn(bool) -> Section;

/// Every section, by name (the name is what `--filter` matches and what the child process is told to run).
pub const SECTIONS: &[(&str, Run)] = &[
    ("serde", serde::run),
    ("sync", sync::run),
    ("parallel", parallel::run),
    ("store", store::run),
    ("python", python::run),
    ("zarr", zarr::run),
];

/// The measuring function of the section called `name`.
pub fn find(name: &str) -> Option<Run> {
    SECTIONS.iter().find(|(candidate, _)| *candidate == name).map(|(_, run)| *run)
}

impl Section {
    /// A section with this title and nothing measured yet.
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: title.into(), ..Self::default() }
    }

    /// Appends a line to the body.
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.markdown.push_str(text.as_ref());
        self.markdown.push('\n');
    }

    /// Records a figure and returns its value, so that it can be used in the text.
    pub fn figure(&mut self, name: impl Into<String>, value: f64, unit: impl Into<String>) -> f64 {
        self.figures.push(Figure { name: name.into(), value, unit: unit.into() });
        value
    }

    /// Records a target: `value` must not exceed `limit`. `measured` describes the value as the report shows it.
    pub fn target_at_most(
        &mut self,
        scenario: impl Into<String>,
        target: impl Into<String>,
        measured: impl Into<String>,
        value: f64,
        limit: f64,
    ) {
        let met = (!value.is_nan()).then_some(value <= limit);
        self.targets.push(Target { scenario: scenario.into(), target: target.into(), measured: measured.into(), met });
    }
}

/// The median nanoseconds per call of `routine` over `samples` samples, each at least `min_sample_time` of calls
/// (or one call, if longer), after one untimed warm-up call.
pub fn time_ns<R>(samples: usize, min_sample_time: Duration, mut routine: impl FnMut() -> R) -> f64 {
    black_box(routine());
    let mut results = Vec::with_capacity(samples.max(1));
    for _ in 0..samples.max(1) {
        let mut calls = 0u64;
        let start = Instant::now();
        while start.elapsed() < min_sample_time || calls == 0 {
            black_box(routine());
            calls += 1;
        }
        results.push(start.elapsed().as_nanos() as f64 / calls as f64);
    }
    median(&results)
}

/// Like [`time_ns`], with a fresh input from `setup` for every call; neither `setup` nor dropping the output is
/// timed.
pub fn time_batched_ns<I, R>(
    samples: usize,
    min_sample_time: Duration,
    mut setup: impl FnMut() -> I,
    mut routine: impl FnMut(I) -> R,
) -> f64 {
    drop(black_box(routine(setup())));
    let mut results = Vec::with_capacity(samples.max(1));
    for _ in 0..samples.max(1) {
        let (mut elapsed, mut calls) = (Duration::ZERO, 0u64);
        while elapsed < min_sample_time || calls == 0 {
            let input = black_box(setup());
            let start = Instant::now();
            let output = routine(input);
            elapsed += start.elapsed();
            drop(black_box(output));
            calls += 1;
        }
        results.push(elapsed.as_nanos() as f64 / calls as f64);
    }
    median(&results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_runs_the_routine_and_reports_a_positive_median() {
        let mut calls = 0;
        let ns = time_ns(3, Duration::from_micros(50), || calls += 1);
        assert!(ns > 0.0 && calls > 3);
        let ns = time_batched_ns(2, Duration::ZERO, || vec![1u8; 16], |bytes| bytes.len());
        assert!(ns > 0.0);
    }
}
