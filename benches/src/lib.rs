//! Benchmarks of `hamt-core` against std's `HashMap`, imbl and rpds.
//!
//! The crate has three users: the criterion harness in `benches/maps/` (`cargo bench -p hamt-benches`), the
//! report binary `hamt-bench` behind `cargo xtask bench`, which writes `docs/benchmarks.{md,json,svg}`, and its own
//! tests, which check that every scenario computes the same result for every implementation.
//!
//! - [`keys`]: seeded data generators (`u64`, `String` and colliding keys).
//! - [`maps`]: the [`BenchMap`](maps::BenchMap) trait and its implementations for every map measured.
//! - [`scenarios`]: the workloads, written once over `BenchMap` and a [`Timer`](scenarios::Timer).
//! - [`sampler`]: the report binary's timer (samples and medians).
//! - [`alloc`]: the counting global allocator, and [`memory`]: the heap figures measured with it.
//! - [`extras`]: the sections measured outside the scenario grid (serialization, the versioned store, parallel
//!   operations).
//! - [`report`]: the figures of a run, the targets of the issue, and the Markdown, JSON and SVG written from them;
//!   [`records`]: the typed records of the JSON; a private `chart` module draws the SVG with plotters.
//! - [`child`]: the report binary's child processes: the job a child is given and the reply it sends back, both as
//!   JSON, and the running of a child with a time limit.

pub mod alloc;
mod chart;
pub mod child;
pub mod extras;
pub mod keys;
pub mod maps;
pub mod memory;
pub mod records;
pub mod report;
pub mod sampler;
pub mod scenarios;

#[cfg(test)]
mod tests;
