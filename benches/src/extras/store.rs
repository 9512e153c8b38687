//! The `store` section: issue 9's measurements of hamt-store against py-hamt 3.6.0, measured in the same run.
//!
//! Both sides build the same map: keys `key-<i>` inserted in a shuffled order, each value the 32 bytes of
//! BLAKE3(`value key-<i>`), stored as raw bytes (py-hamt's `values_are_bytes`) in an in-memory store with bare
//! multihash links (py-hamt's `InMemoryCAS`), so that the two stores must hold the same blocks under the same root.
//! py-hamt runs in a child process: `crates/hamt-store/tests/py/bench_py_hamt.py`, with the Python of the
//! environment `cargo xtask` prepares (its path in `HAMT_PY_HAMT_PYTHON`). Without it, py-hamt's column says why.
//!
//! Operations, each timed as py-hamt's script times them: build and flush; look up every key through a freshly
//! loaded map (cold) and again through the same map (warm); list every key through a freshly loaded map; delete a
//! tenth of the keys and flush. The same operations run over every backend; and a map of 1M keys is read through a
//! node cache limited to a tenth of its nodes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ::serde::Deserialize;
use hamt_store::{Blockstore, Cid, Config, LinkFormat, MemoryStore, StoredMap, Value, ValueMode};

use super::Section;
use crate::report::{format_ratio, format_time, size_label};
use crate::sampler::median;

/// The sizes the issue names.
const SIZES: [usize; 2] = [10_000, 100_000];

/// The layout both sides write: py-hamt's in-memory store, and values in `mode`.
fn config(mode: ValueMode) -> Config {
    Config { value_mode: mode, link_format: LinkFormat::Multihash, ..Config::default() }
}

fn mode_name(mode: ValueMode) -> &'static str {
    match mode {
        ValueMode::Bytes => "bytes",
        ValueMode::Cbor => "cbor",
    }
}

/// Keys `key-<i>` in a seeded shuffled order, with their values (also the workload of
/// `examples/store_profile.rs`, which profiles hamt-store's hot paths under callgrind).
pub fn workload(size: usize) -> Vec<(String, Vec<u8>)> {
    let mut entries: Vec<(String, Vec<u8>)> = (0..size)
        .map(|index| {
            let key = format!("key-{index}");
            let value = blake3::hash(format!("value {key}").as_bytes()).as_bytes().to_vec();
            (key, value)
        })
        .collect();
    // A seeded Fisher-Yates shuffle (xorshift), so that every run inserts in the same order.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for index in (1..entries.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        entries.swap(index, (state % (index as u64 + 1)) as usize);
    }
    entries
}

/// What one implementation measured for one size, in nanoseconds per whole operation.
#[derive(Debug, Clone, Default)]
pub struct Times {
    /// Insert every key into a new map and flush it.
    pub build_and_flush: f64,
    /// Look up every key through a freshly loaded map.
    pub lookup_cold: f64,
    /// Look up every key again through the same map.
    pub lookup_warm: f64,
    /// List every key through a freshly loaded map.
    pub iterate: f64,
    /// Delete a tenth of the keys from a loaded map and flush.
    pub delete_tenth: f64,
    /// Blocks the built map reaches from its root, and their bytes.
    pub blocks: usize,
    /// The bytes of those blocks.
    pub bytes: usize,
    /// The root's multihash, in hex.
    pub root: String,
}

/// Measures hamt-store over the store `make_store` returns (a fresh one for each build), `rounds` times; the
/// figures are medians.
///
/// # Panics
///
/// If a lookup or a listing does not find what was inserted.
pub fn measure<B: Blockstore>(
    entries: &[(String, Vec<u8>)],
    mode: ValueMode,
    rounds: usize,
    make_store: impl Fn() -> B,
) -> Times {
    let mut samples: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut record =
        |name: &'static str, elapsed: Duration| samples.entry(name).or_default().push(elapsed.as_nanos() as f64);
    let mut last = Times::default();
    for _ in 0..rounds.max(1) {
        let store = make_store();
        let started = Instant::now();
        let mut map = StoredMap::with_config(&store, config(mode));
        for (key, value) in entries {
            map.insert(key.clone(), Value::Bytes(value.clone())).expect("insert");
        }
        let root = map.flush().expect("flush");
        record("build", started.elapsed());

        let started = Instant::now();
        let reader = StoredMap::load_with_config(&store, root, config(mode)).expect("load");
        for (key, value) in entries {
            assert_eq!(reader.get(key).expect("get").as_ref().and_then(Value::as_bytes), Some(&value[..]));
        }
        record("cold", started.elapsed());
        let started = Instant::now();
        for (key, _) in entries {
            assert!(reader.get(key).expect("get").is_some());
        }
        record("warm", started.elapsed());

        let started = Instant::now();
        let lister = StoredMap::load_with_config(&store, root, config(mode)).expect("load");
        let mut listed = 0;
        for key in lister.keys() {
            key.expect("key");
            listed += 1;
        }
        record("iterate", started.elapsed());
        assert_eq!(listed, entries.len());

        let started = Instant::now();
        let mut writer = StoredMap::load_with_config(&store, root, config(mode)).expect("load");
        for (key, _) in &entries[..entries.len() / 10] {
            assert!(writer.remove(key).expect("remove"));
        }
        writer.flush().expect("flush");
        record("delete", started.elapsed());

        let (blocks, bytes) = reachable(&store, root);
        last = Times { blocks, bytes, root: hex(&root.hash().to_bytes()), ..Times::default() };
    }
    let median_of = |name: &str| median(&samples[name]);
    Times {
        build_and_flush: median_of("build"),
        lookup_cold: median_of("cold"),
        lookup_warm: median_of("warm"),
        iterate: median_of("iterate"),
        delete_tenth: median_of("delete"),
        ..last
    }
}

/// The blocks reachable from `root` (every node and every value it links), and their bytes: what a CAR export of
/// the version carries, counted in a fresh store it is imported into.
fn reachable<B: Blockstore>(store: &B, root: Cid) -> (usize, usize) {
    let mut archive = Vec::new();
    hamt_store::car::export(store, [root], &mut archive).expect("every block of the version is stored");
    let copy = MemoryStore::new();
    hamt_store::car::import(&copy, archive.as_slice()).expect("an export imports");
    (copy.len(), copy.stored_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// py-hamt's figures for one size, from its script, or why there are none.
fn measure_py_hamt(size: usize, mode: ValueMode) -> Result<Times, String> {
    let python = std::env::var_os("HAMT_PY_HAMT_PYTHON")
        .ok_or("not measured: `HAMT_PY_HAMT_PYTHON` is not set (run through `cargo xtask bench`, which prepares a Python 3.12+ environment with py-hamt 3.6.0)")?;
    let script = script_path();
    let output = Command::new(&python)
        .arg(&script)
        .args([
            "--keys",
            &size.to_string(),
            "--values",
            mode_name(mode),
            "--links",
            "multihash",
            "--value-source",
            "blake3",
        ])
        .output()
        .map_err(|error| format!("not measured: {} could not run: {error}", PathBuf::from(&python).display()))?;
    if !output.status.success() {
        return Err(format!("not measured: the script failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let figures: PyHamtFigures =
        serde_json::from_slice(&output.stdout).map_err(|error| format!("not measured: unreadable output: {error}"))?;
    Ok(Times {
        build_and_flush: figures.build_and_flush_seconds * 1e9,
        lookup_cold: figures.lookup_cold_seconds * 1e9,
        lookup_warm: figures.lookup_warm_seconds * 1e9,
        iterate: figures.iterate_seconds * 1e9,
        delete_tenth: figures.delete_tenth_seconds * 1e9,
        blocks: figures.reachable_blocks,
        bytes: figures.reachable_bytes,
        root: figures.root,
    })
}

/// What `bench_py_hamt.py` prints (the figures this section uses; serde ignores the others).
#[derive(Debug, Deserialize)]
struct PyHamtFigures {
    build_and_flush_seconds: f64,
    lookup_cold_seconds: f64,
    lookup_warm_seconds: f64,
    iterate_seconds: f64,
    delete_tenth_seconds: f64,
    reachable_blocks: usize,
    reachable_bytes: usize,
    /// The root id in hex, compared with hamt-store's.
    #[serde(default)]
    root: String,
}

fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/hamt-store/tests/py/bench_py_hamt.py")
}

/// Measures the section.
pub fn run(quick: bool) -> Section {
    let rounds = if quick { 1 } else { 3 };
    let mut section = Section::new("Content-addressed storage (hamt-store) against py-hamt");
    section.line(
        "hamt-store and py-hamt 3.6.0 build the same map: keys `key-<i>` inserted in a shuffled order, 32-byte \
         values, bare multihash links, in an in-memory store (py-hamt's `InMemoryCAS`; hamt-store's \
         `MemoryStore`), with values stored as raw bytes (py-hamt's `values_are_bytes`, what its Zarr store uses) \
         and as DAG-CBOR (py-hamt's default). Times are for the whole operation; hamt-store's are medians of the \
         rounds, py-hamt's one run each (its script is `crates/hamt-store/tests/py/bench_py_hamt.py`). The last row \
         checks that both stores hold the same blocks under the same root.",
    );
    section.line("");
    let sizes: &[usize] = if quick { &SIZES[..1] } else { &SIZES };
    for mode in [ValueMode::Bytes, ValueMode::Cbor] {
        for &size in sizes {
            let entries = workload(size);
            let ours = measure(&entries, mode, rounds, MemoryStore::new);
            let peer = measure_py_hamt(size, mode);
            let label = format!("{}, {} values", size_label(size), mode_name(mode));
            write_comparison(&mut section, &label, &ours, &peer);
        }
    }
    write_backends(&mut section, quick);
    let (size, lookups) = if quick { (200_000, 200_000) } else { (1_000_000, 500_000) };
    let limited = measure_limited_cache(size, lookups);
    write_limited_cache(&mut section, &limited);
    section
}

/// A row of a comparison: the operation as the table names it, as the figures name it, and its time.
type Row = (&'static str, &'static str, fn(&Times) -> f64);

/// One table: hamt-store against py-hamt on one workload.
fn write_comparison(section: &mut Section, label: &str, ours: &Times, peer: &Result<Times, String>) {
    section.line(format!("### {label}"));
    section.line("");
    section.line("| operation | hamt-store | py-hamt | py-hamt / hamt-store |");
    section.line("|---|---|---|---|");
    let rows: [Row; 5] = [
        ("build and flush", "build", |times| times.build_and_flush),
        ("look up every key, cold", "lookup cold", |times| times.lookup_cold),
        ("look up every key, warm", "lookup warm", |times| times.lookup_warm),
        ("list every key", "iterate", |times| times.iterate),
        ("delete 10% and flush", "delete 10%", |times| times.delete_tenth),
    ];
    for (operation, name, read) in rows {
        let ours_ns = section.figure(format!("{name} {label} / hamt-store"), read(ours), "ns");
        let (peer_text, ratio_text) = match peer {
            Ok(peer) => {
                let peer_ns = section.figure(format!("{name} {label} / py-hamt"), read(peer), "ns");
                let ratio =
                    section.figure(format!("{name} {label} / py-hamt over hamt-store"), peer_ns / ours_ns, "ratio");
                if matches!(name, "build" | "lookup warm") {
                    section.target_at_most(
                        format!("hamt-store {operation}, {label}"),
                        ">= 100x py-hamt's throughput",
                        format_ratio(ratio),
                        100.0 / ratio,
                        1.0,
                    );
                }
                (format_time(peer_ns), format_ratio(ratio))
            }
            Err(_) => ("-".to_owned(), "-".to_owned()),
        };
        section.line(format!("| {operation} | {} | {peer_text} | {ratio_text} |", format_time(ours_ns)));
    }
    section.figure(format!("blocks {label} / hamt-store"), ours.blocks as f64, "blocks");
    section.figure(format!("bytes {label} / hamt-store"), ours.bytes as f64, "bytes");
    match peer {
        Ok(peer) => {
            section.figure(format!("blocks {label} / py-hamt"), peer.blocks as f64, "blocks");
            section.figure(format!("bytes {label} / py-hamt"), peer.bytes as f64, "bytes");
            let identical = peer.root == ours.root && peer.bytes == ours.bytes && peer.blocks == ours.blocks;
            section.line(format!(
                "| blocks the root reaches (bytes) | {} ({}) | {} ({}) | {} |",
                ours.blocks,
                ours.bytes,
                peer.blocks,
                peer.bytes,
                if identical { "same root, same blocks" } else { "DIFFERENT" }
            ));
            section.targets.push(super::Target {
                scenario: format!("hamt-store stored blocks, {label}"),
                target: "identical to py-hamt's (same root)".to_owned(),
                measured: if identical {
                    "identical".to_owned()
                } else {
                    format!("root {} against {}", ours.root, peer.root)
                },
                met: Some(identical),
            });
        }
        Err(reason) => {
            section.line(format!("| blocks the root reaches (bytes) | {} ({}) | - | - |", ours.blocks, ours.bytes));
            section.line("");
            section.line(format!("py-hamt {reason}."));
        }
    }
    section.line("");
}

/// What reading a large map through a node cache limited to a tenth of its nodes measured.
#[derive(Debug, Clone)]
pub struct LimitedCache {
    /// Entries of the map.
    pub size: usize,
    /// The weight of every node of the map, as the cache counts it.
    pub all_nodes_bytes: u64,
    /// The cache's limit: a tenth of that.
    pub limit_bytes: u64,
    /// What the cache held after the lookups.
    pub cached_bytes: u64,
    /// The heap the reading map grew by (the allocator's count, from before loading to after the lookups).
    pub heap_growth_bytes: isize,
    /// Nanoseconds per lookup through the limited cache, and through a cache that holds every node.
    pub lookup_limited_ns: f64,
    /// Nanoseconds per lookup when every node is cached.
    pub lookup_unlimited_ns: f64,
}

/// Builds a map of `size` keys and looks up `lookups` keys (cycling through a shuffled order) through a node cache
/// limited to a tenth of the map's nodes; the value cache is off, so that the heap figure is the node cache's.
///
/// # Panics
///
/// If a lookup does not find its key.
pub fn measure_limited_cache(size: usize, lookups: usize) -> LimitedCache {
    let entries = workload(size);
    let store = MemoryStore::new();
    let mut writer = StoredMap::with_config(&store, Config { value_cache_bytes: 0, ..config(ValueMode::Bytes) });
    for (key, value) in &entries {
        writer.insert(key.clone(), Value::Bytes(value.clone())).expect("insert");
    }
    let root = writer.flush().expect("flush");
    drop(writer);

    let unlimited = Config { cache_bytes: usize::MAX / 2, value_cache_bytes: 0, ..config(ValueMode::Bytes) };
    let everything = StoredMap::load_with_config(&store, root, unlimited).expect("load");
    assert_eq!(everything.keys().count(), size);
    let all_nodes_bytes = everything.cache_stats().bytes;
    let time_lookups = |map: &StoredMap<&MemoryStore>| {
        let started = Instant::now();
        for (key, _) in entries.iter().cycle().take(lookups) {
            assert!(map.get_link(key).expect("get").is_some());
        }
        started.elapsed().as_nanos() as f64 / lookups as f64
    };
    let lookup_unlimited_ns = time_lookups(&everything);
    drop(everything);

    let limit_bytes = all_nodes_bytes / 10;
    crate::alloc::start_counting();
    let before = crate::alloc::snapshot();
    let limited = Config { cache_bytes: limit_bytes as usize, value_cache_bytes: 0, ..config(ValueMode::Bytes) };
    let map = StoredMap::load_with_config(&store, root, limited).expect("load");
    let lookup_limited_ns = time_lookups(&map);
    let heap_growth_bytes = crate::alloc::snapshot().live_bytes - before.live_bytes;
    let cached_bytes = map.cache_stats().bytes;
    LimitedCache {
        size,
        all_nodes_bytes,
        limit_bytes,
        cached_bytes,
        heap_growth_bytes,
        lookup_limited_ns,
        lookup_unlimited_ns,
    }
}

fn write_limited_cache(section: &mut Section, measured: &LimitedCache) {
    let label = size_label(measured.size);
    section.line(format!("### {label} keys through a node cache limited to a tenth of the nodes"));
    section.line("");
    section.line("| | |");
    section.line("|---|---|");
    let all = section.figure(format!("limited cache {label} / all nodes"), measured.all_nodes_bytes as f64, "bytes");
    let limit = section.figure(format!("limited cache {label} / limit"), measured.limit_bytes as f64, "bytes");
    let cached = section.figure(format!("limited cache {label} / cached"), measured.cached_bytes as f64, "bytes");
    let growth =
        section.figure(format!("limited cache {label} / heap growth"), measured.heap_growth_bytes as f64, "bytes");
    let limited = section.figure(format!("limited cache {label} / lookup"), measured.lookup_limited_ns, "ns");
    let unlimited =
        section.figure(format!("limited cache {label} / lookup, all cached"), measured.lookup_unlimited_ns, "ns");
    let mib = |bytes: f64| format!("{:.1} MiB", bytes / f64::from(1 << 20));
    section.line(format!("| every node, decoded | {} |", mib(all)));
    section.line(format!("| the cache's limit | {} |", mib(limit)));
    section.line(format!("| held by the cache after the lookups | {} |", mib(cached)));
    section.line(format!(
        "| heap the reading map grew by (allocator's count) | {} ({} the limit) |",
        mib(growth),
        format_ratio(growth / limit)
    ));
    section.line(format!("| lookup (link only), limited cache | {} |", format_time(limited)));
    section.line(format!("| lookup (link only), every node cached | {} |", format_time(unlimited)));
    section.line("");
    section.target_at_most(
        format!("hamt-store {label} keys, node cache limited to 10% of the nodes"),
        "lookups work, memory near the limit (heap growth <= 1.5x the limit)",
        format!("heap {} the limit", format_ratio(growth / limit)),
        growth / limit,
        1.5,
    );
}

/// The backends' keys: a size at which every operation over the S3 server (a request per block) takes seconds.
const BACKEND_SIZE: usize = 10_000;

/// The same operations over each backend, py-hamt's layout with DAG-CBOR values (its default).
fn write_backends(section: &mut Section, quick: bool) {
    let entries = workload(BACKEND_SIZE);
    let mode = ValueMode::Cbor;
    let rounds = if quick { 1 } else { 3 };
    let scratch = std::env::temp_dir().join(format!("hamt-bench-store-{}", std::process::id()));
    let created = std::fs::create_dir_all(&scratch);
    let mut rows: Vec<(&str, Result<Times, String>)> = Vec::new();
    rows.push(("`MemoryStore`", Ok(measure(&entries, mode, rounds, MemoryStore::new))));
    let files = std::cell::Cell::new(0);
    let redb = created.as_ref().map_err(|error| error.to_string()).map(|()| {
        measure(&entries, mode, rounds, || {
            files.set(files.get() + 1);
            let path = scratch.join(format!("blocks-{}.redb", files.get()));
            hamt_store::RedbStore::open(path).expect("a new redb file")
        })
    });
    rows.push(("`RedbStore` (a redb file)", redb));
    let server =
        s3_loopback::S3Server::start(scratch.join("s3"), Duration::from_secs(1800)).map_err(|error| error.to_string());
    let s3 = server.map(|server| {
        let buckets = std::cell::Cell::new(0);
        measure(&entries, mode, rounds, || {
            buckets.set(buckets.get() + 1);
            let bucket = format!("bench-{}", buckets.get());
            server.create_bucket(&bucket).expect("a bucket");
            let client = server.client(&bucket).expect("an S3 client");
            hamt_store::ObjectStore::new(std::sync::Arc::new(client))
        })
    });
    rows.push(("`ObjectStore` over S3 (s3s-fs on 127.0.0.1)", s3));
    let _ = std::fs::remove_dir_all(&scratch);

    section.line(format!("### The same operations on every backend ({}, cbor values)", size_label(BACKEND_SIZE)));
    section.line("");
    section.line(
        "`ObjectStore` sends one request per block, up to 16 at once in flushes (`put_many`) and in walks (each node's \
         children are fetched with one `get_many`); a lookup reads one block per level, one after another.",
    );
    section.line("");
    section.line("| backend | build and flush | look up, cold | look up, warm | list | delete 10% and flush |");
    section.line("|---|---|---|---|---|---|");
    for (name, times) in rows {
        match times {
            Ok(times) => {
                let label = format!("{name} {}", size_label(BACKEND_SIZE));
                let cells: Vec<String> = [
                    ("build", times.build_and_flush),
                    ("lookup cold", times.lookup_cold),
                    ("lookup warm", times.lookup_warm),
                    ("iterate", times.iterate),
                    ("delete 10%", times.delete_tenth),
                ]
                .into_iter()
                .map(|(operation, nanoseconds)| {
                    format_time(section.figure(format!("{operation} / {label}"), nanoseconds, "ns"))
                })
                .collect();
                section.line(format!("| {name} | {} |", cells.join(" | ")));
            }
            Err(reason) => section.line(format!("| {name} | not measured: {reason} | | | | |")),
        }
    }
    section.line("");
}
