//! The parallel operations of hamt-core's `rayon` feature, against their sequential twins on the same maps.
//!
//! Maps are `HamtMap<u64, u64, ArcTK>` (the hamt-sync flavour), with the default hasher, built from the seeded
//! keys of [`crate::keys`]. Each row times the sequential operation and the parallel one in the same process,
//! alternately, and reports their ratio: the speed-up on this machine's cores (the thread count is printed).

use std::time::Duration;

use hamt_core::{ArcTK, HamtMap};
use rayon::prelude::*;

use super::{Section, time_batched_ns, time_ns};
use crate::keys::Data;

type Map = HamtMap<u64, u64, ArcTK>;

/// Measures one operation at one size.
type Measure = fn(&Plan, usize) -> Pair;

/// One measured pair: the sequential and the parallel nanoseconds per call.
struct Pair {
    sequential: f64,
    parallel: f64,
}

impl Pair {
    fn speed_up(&self) -> f64 {
        self.sequential / self.parallel
    }
}

/// Sizes and sample counts: the full run measures 1M entries, a quick run 100k.
struct Plan {
    large: usize,
    small: &'static [usize],
    samples: usize,
    min_sample_time: Duration,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Plan { large: 100_000, small: &[16_384], samples: 5, min_sample_time: Duration::from_millis(5) }
        } else {
            Plan { large: 1_000_000, small: &[16_384, 65_536], samples: 15, min_sample_time: Duration::from_millis(20) }
        }
    }
}

/// Building a map from `len` entries in a slice: `from_iter` against `collect` from a parallel iterator.
fn build(plan: &Plan, len: usize) -> Pair {
    let entries = Data::<u64>::generate(len).entries();
    let (samples, min) = (plan.samples, plan.min_sample_time);
    let sequential = time_batched_ns(samples, min, || (), |()| entries.iter().copied().collect::<Map>());
    let parallel = time_batched_ns(samples, min, || (), |()| entries.par_iter().copied().collect::<Map>());
    Pair { sequential, parallel }
}

/// The parallel build of `len` entries on a pool of one thread against the same on the default pool: what the
/// threads themselves gain, apart from the parallel algorithm's own gain (its 32-way partition keeps each root
/// slot's build in cache).
fn build_threads(plan: &Plan, len: usize) -> Pair {
    let entries = Data::<u64>::generate(len).entries();
    let (samples, min) = (plan.samples, plan.min_sample_time);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
    let sequential =
        time_batched_ns(samples, min, || (), |()| one.install(|| entries.par_iter().copied().collect::<Map>()));
    let parallel = time_batched_ns(samples, min, || (), |()| entries.par_iter().copied().collect::<Map>());
    Pair { sequential, parallel }
}

/// A calibration: a purely computational, perfectly divisible workload (a chain of hash mixes per number) on one
/// thread against the default pool. Its speed-up is the most this run's machine gave any parallel code, whatever
/// else was running on it.
fn calibration(plan: &Plan, len: usize) -> Pair {
    fn work(mut x: u64) -> u64 {
        for _ in 0..64 {
            x = (x ^ (x >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        x
    }
    let numbers = len as u64;
    let (samples, min) = (plan.samples, plan.min_sample_time);
    let sequential = time_ns(samples, min, || (0..numbers).map(work).fold(0, u64::wrapping_add));
    let parallel = time_ns(samples, min, || (0..numbers).into_par_iter().map(work).reduce(|| 0, u64::wrapping_add));
    Pair { sequential, parallel }
}

/// Summing the values of a map of `len` entries: `iter` against `par_iter`.
fn sum(plan: &Plan, len: usize) -> Pair {
    let map: Map = Data::<u64>::generate(len).entries().into_iter().collect();
    let (samples, min) = (plan.samples, plan.min_sample_time);
    let sequential = time_ns(samples, min, || map.iter().map(|(_, value)| *value).sum::<u64>());
    let parallel = time_ns(samples, min, || map.par_iter().map(|(_, value)| *value).sum::<u64>());
    Pair { sequential, parallel }
}

/// The union of two versions of a map of `len` entries that share most of their structure: each changes the
/// values of a different tenth of the keys and adds a tenth of new keys, so that about a fifth of the leaves
/// differ and most of the nodes above them are copies.
fn union(plan: &Plan, len: usize) -> Pair {
    let data = Data::<u64>::generate(len);
    let base: Map = data.entries().into_iter().collect();
    let tenth = len / 10;
    let mut left = base.clone();
    left.extend(data.present[..tenth].iter().map(|&key| (key, 1)));
    let mut right = base.clone();
    right.extend(data.present[tenth..2 * tenth].iter().map(|&key| (key, 2)));
    right.extend(data.absent[..tenth.min(data.absent.len())].iter().map(|&key| (key, 3)));
    let (samples, min) = (plan.samples, plan.min_sample_time);
    let sequential = time_batched_ns(samples, min, || (), |()| left.union(&right));
    let parallel = time_batched_ns(samples, min, || (), |()| left.par_union(&right));
    Pair { sequential, parallel }
}

fn label(len: usize) -> String {
    if len >= 1_000_000 && len % 1_000_000 == 0 {
        format!("{}M", len / 1_000_000)
    } else if len >= 1_000 && len % 1_000 == 0 {
        format!("{}k", len / 1_000)
    } else {
        len.to_string()
    }
}

fn format_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Measures the section; `quick` measures 100k entries instead of 1M, with fewer samples.
pub fn run(quick: bool) -> Section {
    let plan = Plan::new(quick);
    let threads = rayon::current_num_threads();
    let mut section = Section::new("Parallel operations (hamt-core `rayon` feature)");
    section.figure("rayon threads", threads as f64, "threads");
    section.line(format!(
        "`HamtMap<u64, u64, ArcTK>` (the hamt-sync flavour), default hasher, on {threads} rayon threads. Each row \
         times the sequential operation and its parallel twin in the same process; the speed-up is the ratio of \
         their medians. The calibration row is perfectly parallel computation: the most the machine gave any \
         parallel code during this run (other jobs share its cores). The parallel build's gain has two sources, \
         the threads and its 32-way partition by root slot, which keeps each slot's build in cache even on one \
         thread (the sequential build deals into root slots too, from 128 Ki entries); the row \"on 1 thread vs \
         on all\" isolates the threads. The parallel operations run on the calling thread below their cut-offs \
         (iteration 16 Ki entries, build 32 Ki, union 64 Ki for the two maps together), so the smaller sizes \
         show the cost or gain around them."
    ));
    section.line("");
    section.line("| operation | entries | sequential | parallel | speed-up |");
    section.line("|---|---|---|---|---|");
    let operations: [(&str, &str, Measure); 5] = [
        ("calibration", "calibration: pure computation, 1 thread vs all (the machine's ceiling)", calibration),
        ("build", "`from_iter` vs `par_iter().collect()`", build),
        ("build threads", "`par_iter().collect()` on 1 thread vs on all", build_threads),
        ("sum", "`iter().sum()` vs `par_iter().sum()`", sum),
        ("union", "`union` vs `par_union` (versions sharing structure)", union),
    ];
    let mut large_build = f64::NAN;
    for (name, description, measure) in operations {
        // The thread-only comparison is made at the large size only.
        let small = if matches!(name, "build threads" | "calibration") { &[][..] } else { plan.small };
        for &len in small.iter().chain([&plan.large]) {
            let pair = measure(&plan, len);
            let size = label(len);
            section.figure(format!("{name} {size} / sequential"), pair.sequential, "ns");
            section.figure(format!("{name} {size} / parallel"), pair.parallel, "ns");
            let speed_up = section.figure(format!("{name} {size} / speed-up"), pair.speed_up(), "ratio");
            if name == "build" && len == plan.large {
                large_build = speed_up;
            }
            section.line(format!(
                "| {description} | {size} | {} | {} | {speed_up:.2}x |",
                format_ns(pair.sequential),
                format_ns(pair.parallel)
            ));
        }
    }
    let size = label(plan.large);
    section.target_at_most(
        format!("parallel build of {size} entries vs sequential `from_iter`"),
        format!("faster on {threads} threads (speed-up > 1)"),
        format!("{large_build:.2}x speed-up"),
        -large_build,
        -1.0,
    );
    section
}
