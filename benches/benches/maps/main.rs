//! The criterion harness: every scenario of `hamt_benches::scenarios` over every implementation, one module per
//! family of scenarios.
//!
//! `cargo bench -p hamt-benches -- --test` runs each benchmark once at 1k entries (this is what `cargo xtask test`
//! does, so that the benchmarks never rot); `cargo bench -p hamt-benches` measures at 1k, 10k and 100k entries, or
//! at the sizes listed in `HAMT_BENCH_SIZES` (for example `HAMT_BENCH_SIZES=1000000`). Criterion's filter
//! argument selects benchmarks by name: `cargo bench -p hamt-benches -- lookup_hit/u64`.
//!
//! The report in `docs/benchmarks.md` comes from the `hamt-bench` binary instead, which measures the same
//! workloads in isolated processes.

use std::time::Duration;

use criterion::{BatchSize, Bencher, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hamt_benches::maps::Implementation;
use hamt_benches::scenarios::{KeyKind, Outcome, Scenario, Timer};

mod build;
mod equality;
mod iterate;
mod lookup;
mod remove;
mod set_operations;
mod variants;

/// Criterion's `Bencher` as the [`Timer`] the scenarios are written against.
struct CriterionTimer<'a, 'b>(&'a mut Bencher<'b>);

impl Timer for CriterionTimer<'_, '_> {
    fn iter<R: Outcome>(&mut self, routine: impl FnMut() -> R) {
        self.0.iter(routine);
    }

    fn iter_batched<I, R: Outcome>(&mut self, setup: impl FnMut() -> I, routine: impl FnMut(I) -> R) {
        self.0.iter_batched(setup, routine, BatchSize::PerIteration);
    }
}

/// Whether criterion runs each benchmark once instead of measuring it: `cargo bench -- --test`, or
/// `cargo test --benches`, which passes no `--bench`. Criterion decides the same way from the same arguments.
fn test_mode() -> bool {
    let arguments: Vec<String> = std::env::args().collect();
    arguments.iter().any(|argument| argument == "--test") || !arguments.iter().any(|argument| argument == "--bench")
}

/// The sizes to measure for a key kind.
fn sizes(key: KeyKind) -> Vec<usize> {
    if test_mode() {
        return vec![1_000];
    }
    if let Ok(list) = std::env::var("HAMT_BENCH_SIZES") {
        let sizes: Vec<usize> = list.split(',').filter_map(|size| size.trim().parse().ok()).collect();
        if !sizes.is_empty() {
            return sizes;
        }
    }
    match key {
        // Heavy collisions make std's map quadratic; 10k is enough to see the shape.
        KeyKind::Colliding => vec![1_000, 10_000],
        KeyKind::U64 | KeyKind::String => vec![1_000, 10_000, 100_000],
    }
}

/// Benchmarks `scenario` with every key kind it uses, at every size, for every implementation it applies to.
/// Groups are named `scenario/key`, benchmarks `implementation/size`.
fn bench_scenario(criterion: &mut Criterion, scenario: Scenario) {
    for &key in scenario.keys() {
        let mut group = criterion.benchmark_group(format!("{}/{}", scenario.name(), key.name()));
        for size in sizes(key) {
            for implementation in Implementation::ALL {
                if !scenario.applies_to(implementation) {
                    continue;
                }
                let elements = scenario.elements(implementation, size) as u64;
                group.throughput(Throughput::Elements(elements));
                group.bench_function(BenchmarkId::new(implementation.name(), size), |bencher| {
                    scenario.run_with(implementation, key, size, &mut CriterionTimer(bencher));
                });
            }
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = lookup::benches, build::benches, remove::benches, iterate::benches, equality::benches,
        set_operations::benches, variants::benches
}
criterion_main!(benches);
