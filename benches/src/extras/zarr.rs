//! The `zarr` section: issue 13's measurements of a Zarr array through zarrs over hamt-store against Python's zarr
//! over py-hamt 3.6.0's `ZarrHAMTStore`, measured in the same run.
//!
//! Both sides write the same float32 array (100 MiB in chunks of 1 MiB, 512 x 512, no compressor, so that the
//! figures are the stores' and not a codec's; every element from the formula of the Zarr interop vectors) into a
//! new map, flush it, read it whole through a map opened on the root, and read one chunk through a map opened on
//! the root with empty caches. hamt-store runs over its `MemoryStore` and its `RedbStore` (a file in the system's
//! temporary folder); py-hamt over its `InMemoryCAS`, in a child process: crates/hamt-store/tests/py/bench_zarr.py,
//! with the Python of the environment `cargo xtask` prepares (`HAMT_PY_HAMT_PYTHON`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use ::serde::Deserialize;
use hamt_store::zarr::ZarrStore;
use hamt_store::{Blockstore, MemoryStore, RedbStore};
use zarrs::array::{Array, ArrayBuilder, ArraySubset, data_type};
use zarrs::group::GroupBuilder;
use zarrs::storage::{ReadableStorageTraits, ReadableWritableStorageTraits};

use super::Section;
use crate::report::{format_ratio, format_time};
use crate::sampler::median;

/// The array: rows and columns, and the chunk's.
#[derive(Debug, Clone, Copy)]
struct Shape {
    size: u64,
    chunk: u64,
}

impl Shape {
    fn bytes(self) -> u64 {
        self.size * self.size * 4
    }

    fn label(self) -> String {
        let (size, chunk) = (self.size, self.chunk);
        format!(
            "{} MiB float32 array ({size}x{size}) in chunks of {} KiB ({chunk}x{chunk})",
            self.bytes() >> 20,
            (chunk * chunk * 4) >> 10
        )
    }
}

/// The element formula of the Zarr interop vectors.
fn element(row: u64, column: u64) -> f32 {
    row as f32 * 0.5 + (column % 97) as f32 * 0.25 - 64.0
}

/// Nanoseconds per whole operation (medians of the rounds).
#[derive(Debug, Clone, Copy, Default)]
struct Times {
    write: f64,
    read: f64,
    read_chunk_cold: f64,
}

fn data(shape: Shape) -> Vec<f32> {
    (0..shape.size).flat_map(|row| (0..shape.size).map(move |column| element(row, column))).collect()
}

/// Creates the root group and the array in `storage` and writes every element.
fn write_array<S: ReadableWritableStorageTraits + ?Sized + 'static>(storage: &Arc<S>, shape: Shape, data: &[f32]) {
    GroupBuilder::new().build(storage.clone(), "/").expect("group").store_metadata().expect("metadata");
    let array =
        ArrayBuilder::new(vec![shape.size, shape.size], vec![shape.chunk, shape.chunk], data_type::float32(), 0.0f32)
            .build(storage.clone(), "/temp")
            .expect("array");
    array.store_metadata().expect("metadata");
    array.store_array_subset(&array.subset_all(), data).expect("write");
}

/// Reads the whole array.
fn read_array<S: ReadableStorageTraits + ?Sized + 'static>(storage: Arc<S>) -> Vec<f32> {
    let array = Array::open(storage, "/temp").expect("open");
    array.retrieve_array_subset(&array.subset_all()).expect("read")
}

/// Reads one chunk's region (the second on the diagonal, or the only one).
fn read_chunk<S: ReadableStorageTraits + ?Sized + 'static>(storage: Arc<S>, shape: Shape) -> Vec<f32> {
    let array = Array::open(storage, "/temp").expect("open");
    let index = u64::from(shape.size > shape.chunk);
    let range = index * shape.chunk..(index + 1) * shape.chunk;
    let chunk: Vec<f32> =
        array.retrieve_array_subset(&ArraySubset::new_with_ranges(&[range.clone(), range])).expect("read a chunk");
    assert_eq!(chunk.len() as u64, shape.chunk * shape.chunk);
    chunk
}

fn nanos(started: Instant) -> f64 {
    started.elapsed().as_nanos() as f64
}

/// Times `rounds` rounds of the three operations on storage that `make` sets up (untimed): `write` writes the array
/// and returns what names the version written, `open` opens that version with empty caches. Medians of the rounds.
fn measure_rounds<S, V, R: ReadableStorageTraits + ?Sized + 'static>(
    shape: Shape,
    rounds: usize,
    make: impl Fn() -> S,
    write: impl Fn(&S, &[f32]) -> V,
    open: impl Fn(&S, &V) -> Arc<R>,
) -> Times {
    let data = data(shape);
    let (mut writes, mut reads, mut chunks) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        let storage = make();
        let started = Instant::now();
        let version = write(&storage, &data);
        writes.push(nanos(started));

        let started = Instant::now();
        let read = read_array(open(&storage, &version));
        reads.push(nanos(started));
        assert!(read == data, "the array reads back as written");
        drop(read);

        let started = Instant::now();
        read_chunk(open(&storage, &version), shape);
        chunks.push(nanos(started));
    }
    Times { write: median(&writes), read: median(&reads), read_chunk_cold: median(&chunks) }
}

/// hamt-store over the block store `make_store` returns (a fresh one each round); a write includes the flush.
fn measure<B: Blockstore + Clone + 'static>(shape: Shape, rounds: usize, make_store: impl Fn() -> B) -> Times {
    measure_rounds(
        shape,
        rounds,
        make_store,
        |blocks, data| {
            let storage = Arc::new(ZarrStore::new(blocks.clone()));
            write_array(&storage, shape, data);
            storage.flush().expect("flush")
        },
        |blocks, root| Arc::new(ZarrStore::load(blocks.clone(), *root).expect("load")),
    )
}

/// The same through zarrs' own in-memory store (byte buffers in a map: nothing hashed, checked or flushed), for
/// reference: what zarrs costs by itself.
fn measure_zarrs_memory(shape: Shape, rounds: usize) -> Times {
    measure_rounds(
        shape,
        rounds,
        || Arc::new(zarrs::storage::store::MemoryStore::new()),
        |storage, data| write_array(storage, shape, data),
        |storage, ()| Arc::clone(storage),
    )
}

/// py-hamt's figures, from its script, or why there are none.
fn measure_py_hamt(shape: Shape, rounds: usize) -> Result<Times, String> {
    let python = std::env::var_os("HAMT_PY_HAMT_PYTHON").ok_or(
        "not measured: `HAMT_PY_HAMT_PYTHON` is not set (run through `cargo xtask bench`, which prepares a Python \
         3.12+ environment with py-hamt 3.6.0 and zarr 3)",
    )?;
    let (size, chunk) = (shape.size.to_string(), shape.chunk.to_string());
    let output = Command::new(&python)
        .arg(script_path())
        .args(["--rows", &size, "--cols", &size, "--chunk-rows", &chunk, "--chunk-cols", &chunk])
        .args(["--compressor", "none", "--links", "multihash", "--repeat", &rounds.max(1).to_string()])
        .output()
        .map_err(|error| format!("not measured: {} could not run: {error}", PathBuf::from(&python).display()))?;
    if !output.status.success() {
        return Err(format!("not measured: the script failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let figures: ZarrFigures =
        serde_json::from_slice(&output.stdout).map_err(|error| format!("not measured: unreadable output: {error}"))?;
    Ok(Times {
        write: figures.write_seconds.median_ns("write_seconds")?,
        read: figures.read_seconds.median_ns("read_seconds")?,
        read_chunk_cold: figures.read_chunk_cold_seconds.median_ns("read_chunk_cold_seconds")?,
    })
}

/// What `bench_zarr.py` prints (the figures this section uses; serde ignores the others).
#[derive(Debug, Deserialize)]
struct ZarrFigures {
    write_seconds: Seconds,
    read_seconds: Seconds,
    read_chunk_cold_seconds: Seconds,
}

/// One figure of `bench_zarr.py`: a number of seconds, or a list of them when the script repeated its run.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Seconds {
    One(f64),
    Repeated(Vec<f64>),
}

impl Seconds {
    /// The median, in nanoseconds; `name` says which figure an empty list was.
    fn median_ns(&self, name: &str) -> Result<f64, String> {
        let seconds = match self {
            Self::One(seconds) => std::slice::from_ref(seconds),
            Self::Repeated(seconds) => seconds.as_slice(),
        };
        if seconds.is_empty() {
            return Err(format!("not measured: no `{name}` in the output"));
        }
        Ok(median(&seconds.iter().map(|seconds| seconds * 1e9).collect::<Vec<_>>()))
    }
}

fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/hamt-store/tests/py/bench_zarr.py")
}

/// A fresh redb file for each round, removed with the folder when the section ends.
fn redb_store(folder: &Path) -> impl Fn() -> RedbStore + '_ {
    let counter = std::cell::Cell::new(0);
    move || {
        counter.set(counter.get() + 1);
        RedbStore::open(folder.join(format!("round-{}.redb", counter.get()))).expect("a redb file")
    }
}

/// Measures the section.
pub fn run(quick: bool) -> Section {
    let (shape, rounds) =
        if quick { (Shape { size: 2560, chunk: 512 }, 1) } else { (Shape { size: 5120, chunk: 512 }, 3) };
    let mut section = Section::new("Zarr arrays (zarrs over hamt-store) against zarr over py-hamt");
    section.line(format!(
        "A {}: written through zarrs into a new map over hamt-store and flushed; read whole through a map opened on \
         the root; and one chunk read through a map opened on the root with empty caches. The same through Python's \
         zarr 3 over py-hamt 3.6.0's `ZarrHAMTStore` on its `InMemoryCAS` (script \
         `crates/hamt-store/tests/py/bench_zarr.py`). No compressor, so that the figures are the stores' and not a \
         codec's. hamt-store hashes every block it reads to check it against its id (BLAKE3); py-hamt's in-memory \
         store returns what it holds unchecked. The last column is zarrs over its own in-memory store (nothing \
         hashed, checked or flushed): what zarrs itself costs. Medians of {rounds} rounds on each side.",
        shape.label()
    ));
    section.line("");
    let folder = std::env::temp_dir().join(format!("hamt-bench-zarr-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a temporary folder");
    let memory = measure(shape, rounds, MemoryStore::new);
    let redb = measure(shape, rounds, redb_store(&folder));
    let _ = std::fs::remove_dir_all(&folder);
    let reference = measure_zarrs_memory(shape, rounds);
    let peer = measure_py_hamt(shape, rounds);

    section.line(
        "| operation | hamt-store, memory | hamt-store, redb | py-hamt, memory | py-hamt / hamt-store (memory, redb) \
         | zarrs alone (its MemoryStore) |",
    );
    section.line("|---|---|---|---|---|---|");
    type Row = (&'static str, &'static str, fn(&Times) -> f64);
    let rows: [Row; 3] = [
        ("write and flush", "write", |times| times.write),
        ("read the whole array", "read", |times| times.read),
        ("read one chunk, cold", "read chunk cold", |times| times.read_chunk_cold),
    ];
    for (operation, name, read) in rows {
        let ours = section.figure(format!("zarr {name} / hamt-store memory"), read(&memory), "ns");
        let ours_redb = section.figure(format!("zarr {name} / hamt-store redb"), read(&redb), "ns");
        let alone = section.figure(format!("zarr {name} / zarrs MemoryStore"), read(&reference), "ns");
        let (peer_text, ratios) = match &peer {
            Ok(peer) => {
                let peer_ns = section.figure(format!("zarr {name} / py-hamt"), read(peer), "ns");
                let ratio =
                    section.figure(format!("zarr {name} / py-hamt over hamt-store memory"), peer_ns / ours, "ratio");
                let ratio_redb =
                    section.figure(format!("zarr {name} / py-hamt over hamt-store redb"), peer_ns / ours_redb, "ratio");
                if name != "read chunk cold" {
                    for (backend, ratio) in [("memory", ratio), ("redb", ratio_redb)] {
                        section.target_at_most(
                            format!("zarrs over hamt-store ({backend}), {operation}"),
                            ">= 10x py-hamt's throughput",
                            format_ratio(ratio),
                            10.0 / ratio,
                            1.0,
                        );
                    }
                }
                (format_time(peer_ns), format!("{}, {}", format_ratio(ratio), format_ratio(ratio_redb)))
            }
            Err(_) => ("-".to_owned(), "-".to_owned()),
        };
        section.line(format!(
            "| {operation} | {} | {} | {peer_text} | {ratios} | {} |",
            format_time(ours),
            format_time(ours_redb),
            format_time(alone)
        ));
    }
    section.line("");
    let mib = shape.bytes() as f64 / f64::from(1 << 20);
    let throughput = |ns: f64| format!("{:.0} MiB/s", mib / (ns / 1e9));
    section.line(format!(
        "Throughput, hamt-store over memory: write {}, read {}.",
        throughput(memory.write),
        throughput(memory.read)
    ));
    if let Err(reason) = &peer {
        section.line("");
        section.line(format!("py-hamt {reason}."));
    }
    section.line("");
    section
}
