//! hamt-sync's [`VersionedStore`] against the std ways of sharing a map between threads: an `RwLock<HashMap>`
//! (read through its guard, or cloned for a snapshot) and a `Mutex<HashMap>` for writes.
//!
//! Three measurements, all on a map of [`SIZE`] `u64 -> u64` entries hashed by [`BenchHasher`]:
//! - the cost of a snapshot: `load()` (and dropping it), against cloning the `HashMap` under a read lock, and the
//!   cost of a lookup through a snapshot against one through a read guard;
//! - write throughput with 1 and 2 writer threads: `update` replacing a value against `insert` under a `Mutex`;
//! - read throughput of one reader while one writer publishes, against readers of an `RwLock` while a writer
//!   takes the write lock; and of the same reader alone, for reference.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use hamt_sync::VersionedStore;

use super::{Section, time_ns};
use crate::keys::Data;
use crate::maps::BenchHasher;
use crate::report::{format_ratio, format_time};

/// The number of entries in the shared map.
pub const SIZE: usize = 100_000;

type Store = VersionedStore<u64, u64, hamt_sync::ArcTK, BenchHasher>;
type StdMap = HashMap<u64, u64, BenchHasher>;

/// Measures the section; `quick` shortens every timed phase.
pub fn run(quick: bool) -> Section {
    let phase = if quick { Duration::from_millis(150) } else { Duration::from_millis(800) };
    let (samples, min_sample_time) =
        if quick { (5, Duration::from_millis(4)) } else { (11, Duration::from_millis(15)) };
    let data = Data::<u64>::generate(SIZE);
    let keys = data.shuffled.clone();
    let entries = data.entries();
    let store = Store::new(entries.iter().copied().collect());
    let locked = RwLock::new(entries.iter().copied().collect::<StdMap>());
    let mutex = Mutex::new(entries.iter().copied().collect::<StdMap>());

    let mut section = Section::new("Sharing between threads (hamt-sync)");
    section.line(format!(
        "hamt-sync's `VersionedStore` (arc-swap holding the current version of an `ArcTK` map) against std's \
         `RwLock<HashMap>` and `Mutex<HashMap>`, on a map of {} `u64 -> u64` entries with the same foldhash hasher. \
         Times are medians of {samples} samples; throughputs count operations over {} ms per configuration.",
        crate::report::size_label(SIZE),
        phase.as_millis()
    ));
    section.line("");

    // Snapshots and lookups.
    let load = time_ns(samples, min_sample_time, || store.load());
    let clone = time_ns(samples.min(5), min_sample_time, || locked.read().expect("not poisoned").clone());
    let mut next = cycle(&keys);
    let lookup_store = time_ns(samples, min_sample_time, || store.load().get(&next()).copied());
    let mut next = cycle(&keys);
    let read_store = time_ns(samples, min_sample_time, || store.read(|map| map.get(&next()).copied()));
    let mut next = cycle(&keys);
    let lookup_guard = time_ns(samples, min_sample_time, || locked.read().expect("not poisoned").get(&next()).copied());
    section.figure("load / ns", load, "ns");
    section.figure("RwLock<HashMap> read + clone / ns", clone, "ns");
    section.figure("load + get / ns", lookup_store, "ns");
    section.figure("RwLock<HashMap> read + get / ns", lookup_guard, "ns");
    let load_vs_clone = section.figure("load / RwLock clone", load / clone, "ratio");
    let lookup_ratio = section.figure("load + get / RwLock read + get", lookup_store / lookup_guard, "ratio");
    section.figure("read(get) / ns", read_store, "ns");
    let read_ratio = section.figure("read(get) / RwLock read + get", read_store / lookup_guard, "ratio");
    section.line("### Snapshot and lookup cost (one thread, no writer)");
    section.line("");
    section.line("| operation | `VersionedStore` | `RwLock<HashMap>` | ratio |");
    section.line("|---|---|---|---|");
    section.line(format!(
        "| take a snapshot (`load()` / `read()` + `clone()`), and drop it | {} | {} | {} |",
        format_time(load),
        format_time(clone),
        format_ratio(load_vs_clone)
    ));
    section.line(format!(
        "| one lookup (`load().get(k)` / `read().get(k)`) | {} | {} | {} |",
        format_time(lookup_store),
        format_time(lookup_guard),
        format_ratio(lookup_ratio)
    ));
    section.line(format!(
        "| one lookup without a snapshot (`get(k)` inside `read`, the store's / the lock's) | {} | {} | {} |",
        format_time(read_store),
        format_time(lookup_guard),
        format_ratio(read_ratio)
    ));
    section.line("");

    // Writers.
    section.line("### Write throughput");
    section.line("");
    section.line(
        "Each writer replaces the value of a present key, in a loop: `store.update(|map| map.insert(k, v))` against \
         `mutex.lock().insert(k, v)`. An update copies one path of the trie and retries if another writer published \
         first; the mutex serializes writers on an in-place insert.",
    );
    section.line("");
    section.line("| writer threads | `VersionedStore::update` | `Mutex<HashMap>::insert` | ratio |");
    section.line("|---|---|---|---|");
    for writers in [1, 2] {
        let update = throughput(writers, phase, |thread, round| {
            let key = keys[(round * 7 + thread * 13) % keys.len()];
            store.update(|map| map.insert(key, round as u64));
        });
        let insert = throughput(writers, phase, |thread, round| {
            let key = keys[(round * 7 + thread * 13) % keys.len()];
            mutex.lock().expect("not poisoned").insert(key, round as u64);
        });
        section.figure(format!("update, {writers} writers / ops/s"), update, "ops/s");
        section.figure(format!("Mutex insert, {writers} writers / ops/s"), insert, "ops/s");
        let ratio = section.figure(format!("update / Mutex insert, {writers} writers"), update / insert, "ratio");
        section.line(format!(
            "| {writers} | {} | {} | {} |",
            format_ops(update),
            format_ops(insert),
            format_ratio(ratio)
        ));
    }
    section.line("");

    // Readers alone, then readers while a writer writes.
    let read_alone = throughput(1, phase, |_, round| {
        black_box(store.load().get(&keys[round % keys.len()]).copied());
    });
    let guard_alone = throughput(1, phase, |_, round| {
        black_box(locked.read().expect("not poisoned").get(&keys[round % keys.len()]).copied());
    });
    let (read_busy, published) = while_writing(
        phase,
        |round| {
            black_box(store.load().get(&keys[round % keys.len()]).copied());
        },
        |round| {
            let key = keys[(round * 7) % keys.len()];
            store.update(|map| map.insert(key, round as u64));
        },
    );
    let (guard_busy, written) = while_writing(
        phase,
        |round| {
            black_box(locked.read().expect("not poisoned").get(&keys[round % keys.len()]).copied());
        },
        |round| {
            let key = keys[(round * 7) % keys.len()];
            locked.write().expect("not poisoned").insert(key, round as u64);
        },
    );
    section.figure("reads alone / ops/s", read_alone, "ops/s");
    section.figure("RwLock reads alone / ops/s", guard_alone, "ops/s");
    section.figure("reads while a writer publishes / ops/s", read_busy, "ops/s");
    section.figure("RwLock reads while a writer writes / ops/s", guard_busy, "ops/s");
    section.figure("publishes during reads / ops/s", published, "ops/s");
    section.figure("RwLock writes during reads / ops/s", written, "ops/s");
    let alone_ratio = section.figure("reads alone: store / RwLock", read_alone / guard_alone, "ratio");
    let busy_ratio = section.figure("reads while writing: store / RwLock", read_busy / guard_busy, "ratio");
    let writes_ratio = section.figure("writes during reads: store / RwLock", published / written, "ratio");
    section.line("### Read throughput while a writer publishes");
    section.line("");
    section.line(
        "One reader thread looks keys up (through a fresh snapshot, or a fresh read guard, per lookup) while one \
         writer thread replaces values as fast as it can. Readers of the store never wait for the writer; readers \
         of the `RwLock` wait while it holds the write lock. Ratios above 1 favour the store.",
    );
    section.line("");
    section.line("| | `VersionedStore` | `RwLock<HashMap>` | ratio |");
    section.line("|---|---|---|---|");
    section.line(format!(
        "| lookups, reader alone | {} | {} | {} |",
        format_ops(read_alone),
        format_ops(guard_alone),
        format_ratio(alone_ratio)
    ));
    section.line(format!(
        "| lookups, while a writer writes | {} | {} | {} |",
        format_ops(read_busy),
        format_ops(guard_busy),
        format_ratio(busy_ratio)
    ));
    section.line(format!(
        "| the writer's writes meanwhile | {} | {} | {} |",
        format_ops(published),
        format_ops(written),
        format_ratio(writes_ratio)
    ));
    section.line("");
    section
}

/// A closure that returns the keys one after another, round and round.
fn cycle(keys: &[u64]) -> impl FnMut() -> u64 + '_ {
    let mut index = 0;
    move || {
        index = (index + 1) % keys.len();
        keys[index]
    }
}

/// Operations per second of `threads` threads calling `operation(thread, round)` for `duration`, started
/// together.
fn throughput(threads: usize, duration: Duration, operation: impl Fn(usize, usize) + Sync) -> f64 {
    let barrier = Barrier::new(threads);
    let counts: Vec<(usize, Duration)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let (barrier, operation) = (&barrier, &operation);
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let mut round = 0;
                    // At least one operation, however long the thread waited to be scheduled.
                    loop {
                        operation(thread, round);
                        round += 1;
                        if start.elapsed() >= duration {
                            break;
                        }
                    }
                    (round, start.elapsed())
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().expect("a benchmark thread panicked")).collect()
    });
    counts.iter().map(|&(rounds, elapsed)| rounds as f64 / elapsed.as_secs_f64()).sum()
}

/// The operations per second of one reader calling `read(round)` for `duration` while one writer calls
/// `write(round)` until the reader is done, and the writer's operations per second over the same time.
fn while_writing(duration: Duration, read: impl Fn(usize) + Sync, write: impl Fn(usize) + Sync) -> (f64, f64) {
    let done = AtomicBool::new(false);
    let barrier = Barrier::new(2);
    thread::scope(|scope| {
        let writer = scope.spawn(|| {
            barrier.wait();
            let start = Instant::now();
            let mut round = 0;
            // At least one write, even when the reader finished before this thread first ran.
            loop {
                write(round);
                round += 1;
                if done.load(Ordering::Relaxed) {
                    break;
                }
            }
            round as f64 / start.elapsed().as_secs_f64()
        });
        barrier.wait();
        let start = Instant::now();
        let mut round = 0;
        loop {
            read(round);
            round += 1;
            if start.elapsed() >= duration {
                break;
            }
        }
        let reads = round as f64 / start.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        (reads, writer.join().expect("the writer panicked"))
    })
}

/// Operations per second, in millions.
fn format_ops(ops: f64) -> String {
    if ops >= 1e6 { format!("{:.2} M/s", ops / 1e6) } else { format!("{:.0} k/s", ops / 1e3) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_counts_every_thread() {
        let ops = throughput(2, Duration::from_millis(5), |_, _| {});
        assert!(ops > 0.0);
        let (reads, writes) = while_writing(Duration::from_millis(5), |_| {}, |_| {});
        assert!(reads > 0.0 && writes > 0.0);
        assert_eq!(format_ops(2.5e6), "2.50 M/s");
        assert_eq!(format_ops(2.5e5), "250 k/s");
    }
}
