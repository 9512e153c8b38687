//! Readers and writers on one store for a bounded time (about a second natively, a few iterations under Miri).
//!
//! Every publish increments exactly one writer's counter by one and moves an amount between two keys `a` and `b`
//! written together, so every whole version satisfies two invariants that a torn or half-applied version would
//! break: `a + b == TOTAL`, and the counters add up to the version's number. Readers check them on every snapshot
//! and on every version of the history; writers count their own successful publishes, and at the end no increment
//! is lost.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hamt_sync::{ArcK, ArcTK, DefaultHashBuilder, PointerKind, ThreadSafeKind, VersionedStore};

type Map<P> = hamt_core::HamtMap<String, u64, P>;

const TOTAL: u64 = 1_000_000;
const WRITERS: usize = 2;
const READERS: usize = 2;
const DEPTH: usize = 16;

fn counter(writer: usize) -> String {
    format!("writer-{writer}")
}

/// Checks the invariants of one whole version, numbered `number`.
fn check_version<P: PointerKind>(number: u64, map: &Map<P>) {
    assert_eq!(map["a"] + map["b"], TOTAL, "version {number} is torn: a and b were written together");
    let increments: u64 = (0..WRITERS).map(|writer| map.get(&counter(writer)).copied().unwrap_or(0)).sum();
    assert_eq!(increments, number, "version {number} does not hold exactly {number} increments");
}

/// The next version after `map` for `writer`: its counter incremented, and an amount moved from `a` to `b` or
/// back.
fn step<P: PointerKind>(map: &Map<P>, writer: usize, round: u64) -> Map<P> {
    let (a, b) = (map["a"], map["b"]);
    let amount = round % 7 + 1;
    let (a, b) =
        if round % 2 == 0 && a >= amount { (a - amount, b + amount) } else { (a + b.min(amount), b - b.min(amount)) };
    let key = counter(writer);
    let count = map.get(&key).copied().unwrap_or(0);
    map.insert("a".to_owned(), a).with("b".to_owned(), b).with(key, count + 1)
}

/// Publishes the next version with `update` (even writers) or a hand-written `compare_and_swap` loop (odd ones).
fn publish<P: ThreadSafeKind>(store: &VersionedStore<String, u64, P, DefaultHashBuilder>, writer: usize, round: u64) {
    if writer % 2 == 0 {
        let version = store.update(|current| step(current, writer, round));
        check_version(version.number, &version.map);
    } else {
        let mut current = store.load();
        loop {
            match store.compare_and_swap(&current, step(&current, writer, round)) {
                Ok(_) => break,
                Err(actual) => current = actual.map,
            }
        }
    }
}

fn readers_and_writers<P: ThreadSafeKind>()
where
    Map<P>: Send + Sync,
    VersionedStore<String, u64, P, DefaultHashBuilder>: Sync,
{
    let duration = common::stress_duration(Duration::from_secs(1));
    let min_rounds = common::scaled(200, 6) as u64;
    let filler = common::scaled(300, 20) as u64;
    let first: Map<P> =
        (0..filler).map(|i| (format!("filler-{i}"), i)).chain([("a".to_owned(), TOTAL), ("b".to_owned(), 0)]).collect();
    let store = VersionedStore::with_history(first, DEPTH);
    let writers_done = AtomicBool::new(false);
    let started = Instant::now();

    let published: Vec<u64> = thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|reader| {
                let (store, writers_done) = (&store, &writers_done);
                scope.spawn(move || {
                    let mut last_number = 0;
                    let mut kept = Vec::new();
                    let mut reads = 0u64;
                    while reads < min_rounds || !writers_done.load(Ordering::Acquire) {
                        let version = store.load_versioned();
                        assert!(version.number >= last_number, "reader {reader} saw the version number go back");
                        last_number = version.number;
                        check_version(version.number, &version.map);
                        if reads % 8 == 0 {
                            // A snapshot never changes under its reader: keep some with a copy of their contents.
                            let contents: Vec<(String, u64)> =
                                version.map.iter().map(|(k, v)| (k.clone(), *v)).collect();
                            kept.push((version.map, contents));
                        }
                        if reads % 4 == reader as u64 % 4 {
                            let history = store.history();
                            assert!(history.len() <= DEPTH + 1);
                            let last = history.last().expect("the current version").number;
                            assert!(last >= last_number);
                            for (offset, version) in history.iter().enumerate() {
                                assert_eq!(version.number + (history.len() - 1 - offset) as u64, last, "a gap");
                                check_version(version.number, &version.map);
                            }
                            if let Some(map) = store.version(last_number) {
                                check_version(last_number, &map);
                            }
                        }
                        reads += 1;
                    }
                    for (snapshot, contents) in kept {
                        let mut now: Vec<(String, u64)> = snapshot.iter().map(|(k, v)| (k.clone(), *v)).collect();
                        now.sort();
                        let mut then = contents;
                        then.sort();
                        assert_eq!(now, then, "a snapshot changed under its reader");
                    }
                    reads
                })
            })
            .collect();
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let store = &store;
                scope.spawn(move || {
                    let mut round = 0;
                    while round < min_rounds || started.elapsed() < duration {
                        publish(store, writer, round);
                        round += 1;
                        // A writer also reads and changes its own snapshots in place: the copies it makes of the
                        // shared nodes must leave the store's versions intact.
                        if round % 16 == 0 {
                            let mut mine = store.load();
                            mine.insert_mut("a".to_owned(), 0);
                            mine.remove_mut("b");
                        }
                    }
                    round
                })
            })
            .collect();
        let published = writers.into_iter().map(|writer| writer.join().expect("a writer panicked")).collect();
        writers_done.store(true, Ordering::Release);
        for reader in readers {
            assert!(reader.join().expect("a reader panicked") >= min_rounds);
        }
        published
    });

    let last = store.load_versioned();
    check_version(last.number, &last.map);
    assert_eq!(last.number, published.iter().sum::<u64>(), "a publish was lost or invented");
    for (writer, rounds) in published.iter().enumerate() {
        assert_eq!(last.map[&counter(writer)], *rounds, "writer {writer} lost increments");
    }
    assert!((0..filler).all(|i| last.map[&format!("filler-{i}")] == i));
    last.map.check_invariants();
}

#[test]
fn readers_and_writers_arc_t() {
    readers_and_writers::<ArcTK>();
}

#[test]
#[cfg_attr(miri, ignore = "ArcK nodes run the same code as ArcTK nodes (both count with an AtomicUsize)")]
fn readers_and_writers_arc() {
    readers_and_writers::<ArcK>();
}

/// Many writers that each publish once, through every kind of write, started together: every publish gets its
/// own number, and the history holds them all.
#[test]
fn concurrent_publishes_get_distinct_numbers() {
    let threads = common::scaled(8, 3);
    let store = VersionedStore::with_history(hamt_sync::HamtMap::<usize, usize>::default(), threads);
    let numbers: Vec<u64> = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let store = &store;
                scope.spawn(move || match thread % 3 {
                    0 => store.update(|current| current.insert(thread, thread)).number,
                    1 => {
                        store
                            .try_update(|current| Ok::<_, ()>(current.insert(thread, thread)))
                            .expect("accepted")
                            .number
                    }
                    _ => loop {
                        let current = store.load();
                        if let Ok(number) = store.compare_and_swap(&current, current.insert(thread, thread)) {
                            break number;
                        }
                    },
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().expect("a writer panicked")).collect()
    });
    let mut sorted = numbers;
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=threads as u64).collect::<Vec<_>>());
    let history = store.history();
    assert_eq!(history.len(), threads + 1);
    for version in history {
        assert_eq!(version.map.len() as u64, version.number);
    }
    assert_eq!(store.load().len(), threads);
}
