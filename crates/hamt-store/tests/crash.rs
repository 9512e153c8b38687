//! `RedbStore` survives crashes: a writer process killed (`SIGKILL`) at random moments while it flushes stored maps
//! and publishes their roots never leaves a published root that points at a missing or damaged block, and never
//! loses a root it reported published.
//!
//! The writer is this test binary itself, run again with `--exact crash_writer --ignored` and the database's path in
//! `HAMT_STORE_CRASH_DB`. It continues from the published root: generation `g` is the map after [`step`]s `1..=g`,
//! and holds its own number under the key `generation`. It prints `flushing g` before the flush of generation `g`
//! and `published g` once `set_root` has returned. Seeds are fixed, so a failure reproduces.
//!
//! A killed process leaves what it wrote in the operating system's page cache, so this tests what a crash of the
//! program leaves (torn transactions, a root published without its blocks), not what a power loss leaves, which
//! rests on redb's use of `fsync`.

#![cfg(feature = "redb")]

use std::collections::HashMap;
use std::env;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use hamt_store::{Blockstore, RedbStore, StoredMap, Value, verify_block};

mod common;
use common::Rng;

/// Where the writer child finds its database; its absence makes `crash_writer` a no-op.
const WRITER_DB: &str = "HAMT_STORE_CRASH_DB";
/// The name the writer publishes its root under.
const ROOT: &str = "main";
/// How many generations one writer writes at most before it exits by itself.
const GENERATIONS_PER_WRITER: u64 = 200;
/// How many writers the test starts and kills.
const WRITERS: u32 = 30;

/// The changes of generation `g`: twelve keys set and four removed, among 400.
fn step(model: &mut HashMap<String, Vec<u8>>, g: u64) {
    for i in 0..12 {
        let key = format!("key-{}", (g * 7 + i * 13) % 400);
        model.insert(key, format!("value {i} of generation {g}").into_bytes());
    }
    for i in 0..4 {
        model.remove(&format!("key-{}", (g * 11 + i * 17) % 400));
    }
    model.insert("generation".to_owned(), g.to_string().into_bytes());
}

/// Generation `g` as a `HashMap`.
fn generation(g: u64) -> HashMap<String, Vec<u8>> {
    let mut model = HashMap::new();
    for i in 1..=g {
        step(&mut model, i);
    }
    model
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = env::temp_dir().join(format!("hamt-store-crash-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// The generation a stored map holds, read from its `generation` key.
fn generation_of<B: Blockstore>(map: &StoredMap<B>) -> u64 {
    match map.get("generation").expect("reading the generation") {
        Some(Value::Bytes(bytes)) => String::from_utf8(bytes).expect("a number").parse().expect("a number"),
        other => panic!("the generation key holds {other:?}"),
    }
}

/// The writer child: continues from the published root, flushing and publishing one generation after another.
#[test]
#[ignore = "the writer process of killed_writers_never_publish_a_root_with_missing_blocks, which runs it"]
fn crash_writer() {
    let Some(path) = env::var_os(WRITER_DB) else { return };
    let store = RedbStore::open(&path).expect("the writer opens its database");
    let (mut map, start) = match store.root(ROOT).expect("reading the root") {
        Some(root) => {
            let map = StoredMap::load(&store, root).expect("loading the published root");
            let start = generation_of(&map);
            (map, start)
        }
        None => (StoredMap::new(&store), 0),
    };
    let mut model = generation(start);
    for g in start + 1..=start + GENERATIONS_PER_WRITER {
        let before = model.clone();
        step(&mut model, g);
        for key in before.keys().filter(|key| !model.contains_key(*key)) {
            map.remove(key).expect("remove");
        }
        for (key, value) in &model {
            if before.get(key) != Some(value) {
                map.insert(key.clone(), value.clone().into()).expect("insert");
            }
        }
        println!("flushing {g}");
        let root = map.flush().expect("flush");
        store.set_root(ROOT, &root).expect("set_root");
        println!("published {g}");
    }
}

/// The highest generation after `prefix` in the writer's output.
fn last_reported(output: &str, prefix: &str) -> Option<u64> {
    output.lines().filter_map(|line| line.strip_prefix(prefix)).filter_map(|g| g.trim().parse().ok()).max()
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn killed_writers_never_publish_a_root_with_missing_blocks() {
    let dir = temp_dir("kill");
    let path = dir.join("blocks.redb");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut published = 0;
    let mut killed_mid_run = 0;
    let mut killed_mid_flush = 0;
    for run in 0..WRITERS {
        let mut child = Command::new(env::current_exe().expect("the test binary"))
            .args(["--exact", "crash_writer", "--ignored", "--nocapture", "--test-threads=1"])
            .env(WRITER_DB, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning the writer");
        let mut stdout = BufReader::new(child.stdout.take().expect("the writer's stdout"));
        let mut output = String::new();
        if rng.below(4) == 0 {
            // Kill at a random moment, perhaps before the database is even open.
            thread::sleep(Duration::from_micros(rng.below(20_000)));
        } else {
            // Kill after a random number of publications, and a random moment more.
            let wanted = published + 1 + rng.below(GENERATIONS_PER_WRITER / 10);
            while last_reported(&output, "published ").unwrap_or(0) < wanted {
                if stdout.read_line(&mut output).expect("reading the writer") == 0 {
                    break;
                }
            }
            thread::sleep(Duration::from_micros(rng.below(5_000)));
        }
        let _ = child.kill();
        let status = child.wait().expect("waiting for the writer");
        killed_mid_run += u32::from(!status.success());
        // Whatever the writer printed before it died is in the pipe.
        stdout.read_to_string(&mut output).expect("reading the writer");
        let last_flushing = last_reported(&output, "flushing ");
        let last_published = last_reported(&output, "published ");
        killed_mid_flush += u32::from(!status.success() && last_flushing > last_published);

        let store = RedbStore::open(&path).unwrap_or_else(|error| panic!("run {run}: reopening: {error}"));
        let Some(root) = store.root(ROOT).expect("reading the root") else {
            assert_eq!(last_published, None, "run {run}: a reported root is gone");
            assert_eq!(published, 0, "run {run}: the root is gone");
            continue;
        };
        // Every block of the published map is there and verifies (the map checks each block it reads against its
        // id), and the map is the generation it says it is.
        let map = StoredMap::load(&store, root).unwrap_or_else(|error| panic!("run {run}: loading the root: {error}"));
        let g = generation_of(&map);
        let mut contents = HashMap::new();
        for entry in map.iter() {
            match entry.unwrap_or_else(|error| panic!("run {run}, generation {g}: reading the map: {error}")) {
                (key, Value::Bytes(bytes)) => {
                    contents.insert(key, bytes);
                }
                (key, other) => panic!("run {run}: {key} holds {other:?}"),
            }
        }
        assert!(contents == generation(g), "run {run}: the published map is not generation {g}");
        assert!(g >= published, "run {run}: generation {g} is published after generation {published}");
        if let Some(last) = last_published {
            assert!(g >= last, "run {run}: generation {last} was reported published, the root is generation {g}");
        }
        // No block in the file is torn: each one's bytes hash to its id.
        for cid in store.list().expect("list") {
            let bytes = store.get(&cid).expect("get").expect("a listed block");
            verify_block(&cid, &bytes).unwrap_or_else(|error| panic!("run {run}: block {cid}: {error}"));
        }
        published = g;
    }
    println!(
        "{killed_mid_run} of {WRITERS} writers killed before they finished, {killed_mid_flush} between a flush's start \
         and its root's publication; generation {published} published"
    );
    assert!(killed_mid_run > WRITERS / 2, "only {killed_mid_run} writers were killed before they finished");
    assert!(killed_mid_flush > 0, "no writer was killed during a flush");
    assert!(published > 0, "no writer published a root");
    fs::remove_dir_all(&dir).expect("cleaning up");
}
