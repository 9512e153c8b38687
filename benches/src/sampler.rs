//! The [`Timer`] of the report binary: a few samples, each long enough to rise above the clock's resolution, and
//! their median.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::scenarios::{Outcome, Timer};

/// The shortest batch of calls timed as one by [`Sampler::iter`], so that reading the clock costs nothing next to
/// it.
const MIN_BATCH: Duration = Duration::from_micros(20);

/// Times routines in samples and records the nanoseconds per call of each sample.
#[derive(Debug, Clone)]
pub struct Sampler {
    samples: usize,
    min_sample_time: Duration,
    results: Vec<f64>,
}

impl Sampler {
    /// A sampler that takes `samples` samples (at least one), each of at least `min_sample_time` of timed calls or
    /// one call, whichever is longer. Each measurement starts with one untimed call, to warm caches and the
    /// allocator up.
    pub fn new(samples: usize, min_sample_time: Duration) -> Self {
        Self { samples: samples.max(1), min_sample_time, results: Vec::new() }
    }

    /// The nanoseconds per call of every sample taken so far.
    pub fn results(&self) -> &[f64] {
        &self.results
    }
}

/// The median of `values` (the mean of the two middle ones for an even count); `NaN` for none.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2.0 }
}

impl Timer for Sampler {
    fn iter<R: Outcome>(&mut self, mut routine: impl FnMut() -> R) {
        let start = Instant::now();
        black_box(routine());
        let once = start.elapsed().max(Duration::from_nanos(1));
        let batch = u32::try_from(MIN_BATCH.as_nanos() / once.as_nanos()).unwrap_or(u32::MAX).clamp(1, 1 << 20);
        for _ in 0..self.samples {
            let mut elapsed = Duration::ZERO;
            let mut calls = 0u64;
            while elapsed < self.min_sample_time || calls == 0 {
                let start = Instant::now();
                for _ in 0..batch {
                    black_box(routine());
                }
                elapsed += start.elapsed();
                calls += u64::from(batch);
            }
            self.results.push(elapsed.as_nanos() as f64 / calls as f64);
        }
    }

    fn iter_batched<I, R: Outcome>(&mut self, mut setup: impl FnMut() -> I, mut routine: impl FnMut(I) -> R) {
        let input = setup();
        drop(black_box(routine(black_box(input))));
        for _ in 0..self.samples {
            let mut elapsed = Duration::ZERO;
            let mut calls = 0u64;
            while elapsed < self.min_sample_time || calls == 0 {
                let input = black_box(setup());
                let start = Instant::now();
                let output = routine(input);
                elapsed += start.elapsed();
                drop(black_box(output));
                calls += 1;
            }
            self.results.push(elapsed.as_nanos() as f64 / calls as f64);
        }
    }
}
