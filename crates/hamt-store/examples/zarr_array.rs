//! A Zarr array in a stored map, written by one process and read by another.
//!
//! This process creates a float32 array with `zarrs` in a map over a redb file (the embedded default), writes its
//! chunks, flushes to get the root id, and records the root under a name in the same file. A second process (this
//! program again, started with the file's path and the root id) opens the map by that root and reads a region back.
//!
//!     cargo run -p hamt-store --features zarr --example zarr_array
//!
//! The same data set is readable by Python's zarr over py-hamt's `ZarrHAMTStore` once its blocks are where py-hamt
//! looks (IPFS, or a CAR file from `hamt_store::car::export`).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use hamt_store::zarr::ZarrStore;
use hamt_store::{Cid, RedbStore};
use zarrs::array::{Array, ArrayBuilder, ArraySubset, codec, data_type};
use zarrs::group::GroupBuilder;

/// Set in the reading process: the database's path and the root id, on two lines.
const READER_VARIABLE: &str = "HAMT_ZARR_EXAMPLE_READ";

/// The array: 512 x 512 float32 values (1 MiB) in chunks of 128 x 128, compressed with zstd as Python's zarr does
/// by default.
const SHAPE: [u64; 2] = [512, 512];
const CHUNKS: [u64; 2] = [128, 128];

fn temperature(row: u64, column: u64) -> f32 {
    250.0 + (row % 64) as f32 * 0.5 + (column % 32) as f32 * 0.25
}

fn main() -> Result<(), Box<dyn Error>> {
    match std::env::var(READER_VARIABLE) {
        Ok(task) => {
            let (path, root) = task.split_once('\n').ok_or("the reader's task is a path and a root id")?;
            read(Path::new(path), root.parse()?)
        }
        Err(_) => write_then_read_elsewhere(),
    }
}

/// Writes the array, then starts another process to read it.
fn write_then_read_elsewhere() -> Result<(), Box<dyn Error>> {
    let folder = std::env::temp_dir().join(format!("hamt-store-zarr-example-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let path = folder.join("climate.redb");
    let root = write(&path)?;
    println!("wrote {}x{} float32 values in chunks of {}x{}; root {root}", SHAPE[0], SHAPE[1], CHUNKS[0], CHUNKS[1]);

    // The writer has closed the database (redb allows one process at a time); the reader opens it by path and
    // finds the array by the root id alone.
    let status = Command::new(std::env::current_exe()?)
        .args(reader_arguments())
        .env(READER_VARIABLE, format!("{}\n{root}", path.display()))
        .status()?;
    std::fs::remove_dir_all(&folder)?;
    if !status.success() {
        return Err(format!("the reading process failed: {status}").into());
    }
    Ok(())
}

fn write(path: &PathBuf) -> Result<Cid, Box<dyn Error>> {
    let blocks = RedbStore::open(path)?;
    let storage = Arc::new(ZarrStore::new(blocks.clone()));

    let mut group = GroupBuilder::new().build(storage.clone(), "/")?;
    group.attributes_mut().insert("title".into(), "surface temperature".into());
    group.store_metadata()?;

    let mut array = ArrayBuilder::new(SHAPE.to_vec(), CHUNKS.to_vec(), data_type::float32(), f32::NAN)
        .bytes_to_bytes_codecs(vec![Arc::new(codec::ZstdCodec::new(3, false))])
        .dimension_names(["y", "x"].into())
        .build(storage.clone(), "/temp")?;
    array.attributes_mut().insert("units".into(), "K".into());
    array.store_metadata()?;
    let values: Vec<f32> =
        (0..SHAPE[0]).flat_map(|row| (0..SHAPE[1]).map(move |column| temperature(row, column))).collect();
    array.store_array_subset(&ArraySubset::new_with_shape(SHAPE.to_vec()), values)?;

    // Until now every chunk lived in memory; the flush writes the changed nodes and chunks in one transaction.
    let root = storage.flush()?;
    // A name for the version, kept in the same file, so that a later run can find it without being told the id.
    blocks.set_root("temperature", &root)?;
    Ok(root)
}

fn read(path: &Path, root: Cid) -> Result<(), Box<dyn Error>> {
    let blocks = RedbStore::open(path)?;
    assert_eq!(blocks.root("temperature")?, Some(root));
    let storage = Arc::new(ZarrStore::load(blocks, root)?);
    let array = Array::open(storage, "/temp")?;
    let (rows, columns) = (200..203, 300..306);
    let region: Vec<f32> =
        array.retrieve_array_subset(&ArraySubset::new_with_ranges(&[rows.clone(), columns.clone()]))?;
    println!("process {} read rows {rows:?}, columns {columns:?} of {root}:", std::process::id());
    for (row, values) in rows.clone().zip(region.chunks(columns.clone().count())) {
        println!("  {row}: {values:?}");
        for (column, value) in columns.clone().zip(values) {
            if *value != temperature(row, column) {
                return Err(format!("element ({row}, {column}) is {value}, not {}", temperature(row, column)).into());
            }
        }
    }
    Ok(())
}

/// What the reading process is started with: nothing when this is the example's binary; when it is the test
/// binary `cargo test` makes of this file, the name of the test, so that the harness runs it.
fn reader_arguments() -> &'static [&'static str] {
    if cfg!(test) { &["tests::the_example_runs", "--exact", "--nocapture"] } else { &[] }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_runs() {
        super::main().unwrap();
    }
}
