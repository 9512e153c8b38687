//! Encoded samples of every released format version, in `tests/data/v<N>/`, must keep decoding to exactly what
//! their recipes build, and today's encoder must still write them byte for byte (so format drift is caught).
//!
//! The recipes below are the files' specification: they are deterministic, with a fixed FNV-1a hasher, so that the
//! order in which entries are written (which follows the trie, hence the hash) does not depend on a random seed.
//! `write_samples` (ignored) created the files once; tests/data/README.md explains why released samples are never
//! regenerated.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use hamt_core::{DefaultHashBuilder, HamtMap, HamtSet, RcK};
use hamt_serde::{VersionLog, VersionSet};

/// FNV-1a over the bytes fed to it, with integers fed little-endian so that the hashes are the same on every
/// platform.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.write(&value.to_le_bytes());
    }

    fn write_u64(&mut self, value: u64) {
        self.write(&value.to_le_bytes());
    }

    fn write_usize(&mut self, value: usize) {
        self.write(&(value as u64).to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Fixed = BuildHasherDefault<Fnv>;
type U64Map = HamtMap<u64, u64, RcK, Fixed>;
type StringMap = HamtMap<String, String, RcK, Fixed>;
type U32Set = HamtSet<u32, RcK, Fixed>;
type LogMap = HamtMap<String, u64, RcK, Fixed>;
type JsonMap = HamtMap<String, serde_json::Value, RcK, Fixed>;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1")
}

fn read(name: &str) -> Vec<u8> {
    let path = data_dir().join(name);
    fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// `maps_u64_tree.bin`: a tree of versions of a u64 -> u64 map, written with `VersionSet::to_bytes`.
///
/// 0: keys 0..200 mapped to their squares. 1: version 0 with key 7 set to 0 and key 8 removed (parent 0).
/// 2: version 1 with 1000 -> 1 (parent 1). 3: version 0 without keys 0..20 (parent 0). 4: empty (written whole).
/// 5: equal to version 2 (parent 2). 6: {1: 2, 3: 4} written whole. 7: version 3 with 150 -> 7 (parent 3).
fn u64_tree() -> VersionSet<U64Map> {
    let v0: U64Map = (0..200).map(|key| (key, key * key)).collect();
    let v1 = v0.insert(7, 0).remove(&8);
    let v2 = v1.insert(1000, 1);
    let v3 = (0..20).fold(v0.clone(), |map, key| map.remove(&key));
    let v6: U64Map = [(1, 2), (3, 4)].into_iter().collect();
    let v7 = v3.insert(150, 7);
    let mut versions = VersionSet::new();
    versions.push(v0);
    versions.push_with_parent(v1, Some(0));
    versions.push_with_parent(v2.clone(), Some(1));
    versions.push_with_parent(v3, Some(0));
    versions.push_with_parent(U64Map::default(), None);
    versions.push_with_parent(v2, Some(2));
    versions.push_with_parent(v6, None);
    versions.push_with_parent(v7, Some(3));
    versions
}

/// `maps_string_chain.bin`: String -> String versions written with `serialize_multiple`, each against the one
/// before. 0: "name i" -> "value i" for i in 0..50. 1: "name 3" -> "changed", plus "naïve ☃" -> "".
/// 2: without "name 0".."name 9". 3: equal to 2. 4: empty.
fn string_chain() -> Vec<StringMap> {
    let v0: StringMap = (0..50).map(|i| (format!("name {i}"), format!("value {i}"))).collect();
    let v1 = v0.insert("name 3".to_owned(), "changed".to_owned()).insert("naïve ☃".to_owned(), String::new());
    let v2 = (0..10).fold(v1.clone(), |map, i| map.remove(&format!("name {i}")));
    vec![v0, v1, v2.clone(), v2, StringMap::default()]
}

/// `set_u32.bin`: u32 sets written with `serialize_multiple`. 0: 0..300 step 3. 1: plus 1, 2 and 4_000_000_000.
/// 2: without 0..150. 3: {7}.
fn u32_sets() -> Vec<U32Set> {
    let v0: U32Set = (0..300).step_by(3).collect();
    let v1 = v0.insert(1).insert(2).insert(4_000_000_000);
    let v2 = (0..150).fold(v1.clone(), |set, element| set.remove(&element));
    let v3: U32Set = [7].into_iter().collect();
    vec![v0, v1, v2, v3]
}

/// `maps_json_self_describing.bin`: String -> `serde_json::Value` versions written with `serialize_multiple`, in the
/// self-describing body (flags `02`), since postcard cannot read a `Value` back. 0: "key i" ->
/// `{"n": i, "half": i + 0.5, "tags": ["t", i], "none": null}` for i in 0..10. 1: "key 3" -> `[1, [-2, ["three"]]]`.
/// 2: without "key 0". 3: "key 9" -> `true`.
///
/// The objects' fields are written in sorted order, which is the order serde_json keeps them in with or without its
/// `preserve_order` feature (a dependency elsewhere in the workspace, zarrs, turns it on), so that the bytes are the
/// same either way.
fn json_chain() -> Vec<JsonMap> {
    use serde_json::json;
    let v0: JsonMap = (0..10)
        .map(|i| (format!("key {i}"), json!({"half": f64::from(i) + 0.5, "n": i, "none": null, "tags": ["t", i]})))
        .collect();
    let v1 = v0.insert("key 3".to_owned(), json!([1, [-2, ["three"]]]));
    let v2 = v1.remove("key 0");
    let v3 = v2.insert("key 9".to_owned(), json!(true));
    vec![v0, v1, v2, v3]
}

/// `log_string_u64.log`: a `VersionLog` of String -> u64 maps. 0: "account i" -> 100 * i for i in 0..20.
/// 1: "account 5" -> 0. 2: without "account 6". 3: equal to 2. 4: plus "account 100" -> 1.
fn log_versions() -> Vec<LogMap> {
    let v0: LogMap = (0..20).map(|i| (format!("account {i}"), 100 * i)).collect();
    let v1 = v0.insert("account 5".to_owned(), 0);
    let v2 = v1.remove("account 6");
    let v4 = v2.insert("account 100".to_owned(), 1);
    vec![v0, v1, v2.clone(), v2, v4]
}

/// Every binary sample file and its bytes as today's encoder writes them.
fn encoded_samples() -> Vec<(&'static str, Vec<u8>)> {
    let strings = string_chain();
    let sets = u32_sets();
    vec![
        ("maps_u64_tree.bin", u64_tree().to_bytes().expect("encodes")),
        (
            "maps_string_chain.bin",
            hamt_serde::serialize_multiple(&strings.iter().collect::<Vec<_>>()).expect("encodes"),
        ),
        ("set_u32.bin", hamt_serde::serialize_multiple(&sets.iter().collect::<Vec<_>>()).expect("encodes")),
        ("empty.bin", hamt_serde::serialize_multiple(&Vec::<HamtMap<u64, u64, RcK, Fixed>>::new()).expect("encodes")),
        ("maps_json_self_describing.bin", hamt_serde::serialize_multiple(&json_chain()).expect("encodes")),
    ]
}

/// Writes a log of the recipe's versions at `path`.
fn write_log(path: &Path) {
    let _ = fs::remove_file(path);
    let mut log = VersionLog::<LogMap>::open(path).expect("a new log");
    for version in log_versions() {
        log.append(&version).expect("append");
    }
    log.sync().expect("sync");
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hamt-serde-samples-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a temporary directory");
    dir.join(name)
}

fn sorted<K: Ord + Clone, V: Clone, P: hamt_core::PointerKind, S>(map: &HamtMap<K, V, P, S>) -> BTreeMap<K, V> {
    map.iter().map(|(key, value)| (key.clone(), value.clone())).collect()
}

#[test]
#[cfg_attr(miri, ignore = "reads the sample files, which Miri's isolation forbids")]
fn u64_tree_decodes() {
    let bytes = read("maps_u64_tree.bin");
    let expected = u64_tree();
    let decoded = VersionSet::<U64Map>::from_bytes(&bytes).expect("the sample decodes");
    assert_eq!(decoded, expected);
    decoded.versions().iter().for_each(U64Map::check_invariants);
    // With another hasher and pointer kind, the contents and parents are the same.
    let other =
        VersionSet::<HamtMap<u64, u64, hamt_core::ArcTK, DefaultHashBuilder>>::from_bytes(&bytes).expect("decodes");
    for index in 0..expected.len() {
        assert_eq!(other.parent(index), expected.parent(index));
        assert_eq!(sorted(&other.versions()[index]), sorted(&expected.versions()[index]));
    }
    // Version 5 equals its parent, and shares its root.
    assert!(decoded.versions()[5].ptr_eq(&decoded.versions()[2]));
}

#[test]
#[cfg_attr(miri, ignore = "reads the sample files, which Miri's isolation forbids")]
fn string_chain_decodes() {
    let bytes = read("maps_string_chain.bin");
    let decoded =
        hamt_serde::deserialize_multiple::<hamt_core::HamtMap<String, String, RcK, Fixed>>(&bytes).expect("decodes");
    assert_eq!(decoded, string_chain());
    let other = hamt_serde::deserialize_multiple::<hamt_core::HamtMap<String, String, RcK, DefaultHashBuilder>>(&bytes)
        .expect("decodes");
    let expected: Vec<_> = string_chain().iter().map(sorted).collect();
    assert_eq!(other.iter().map(sorted).collect::<Vec<_>>(), expected);
}

#[test]
#[cfg_attr(miri, ignore = "reads the sample files, which Miri's isolation forbids")]
fn u32_sets_decode() {
    let bytes = read("set_u32.bin");
    let decoded = hamt_serde::deserialize_multiple::<hamt_core::HamtSet<u32, RcK, Fixed>>(&bytes).expect("decodes");
    assert_eq!(decoded, u32_sets());
    let as_version_set = VersionSet::<HamtSet<u32>>::from_bytes(&bytes).expect("decodes");
    assert_eq!(as_version_set.len(), 4);
    assert_eq!(as_version_set.parent(3), Some(2));
}

#[test]
#[cfg_attr(miri, ignore = "reads the sample files, which Miri's isolation forbids")]
fn empty_decodes() {
    let bytes = read("empty.bin");
    assert_eq!(bytes.len(), 22, "a header and a trailer");
    assert!(
        hamt_serde::deserialize_multiple::<hamt_core::HamtMap<u64, u64, RcK, Fixed>>(&bytes)
            .expect("decodes")
            .is_empty()
    );
    assert!(
        hamt_serde::deserialize_multiple::<hamt_core::HamtMap<String, String, RcK, Fixed>>(&bytes)
            .expect("decodes")
            .is_empty()
    );
}

#[test]
#[cfg_attr(miri, ignore = "reads the sample files, which Miri's isolation forbids")]
fn json_chain_decodes_from_the_self_describing_body() {
    let bytes = read("maps_json_self_describing.bin");
    assert_eq!(bytes[5], 0b10, "maps, self-describing body");
    let decoded = hamt_serde::deserialize_multiple::<JsonMap>(&bytes).expect("decodes");
    assert_eq!(decoded, json_chain());
    let other = hamt_serde::deserialize_multiple::<HamtMap<String, serde_json::Value>>(&bytes).expect("decodes");
    assert_eq!(other.iter().map(sorted).collect::<Vec<_>>(), json_chain().iter().map(sorted).collect::<Vec<_>>());
}

#[test]
#[cfg_attr(miri, ignore = "reads the sample files, which Miri's isolation forbids")]
fn log_decodes() {
    let path = temp_path("copy.log");
    fs::write(&path, read("log_string_u64.log")).expect("copying the sample");
    let log = VersionLog::<LogMap>::open(&path).expect("the sample opens");
    assert_eq!(log.versions(), log_versions());
    assert_eq!(log.cut_bytes(), 0);
    fs::remove_file(&path).expect("cleaning up");
}

/// Today's encoder writes the samples byte for byte: a change in the bytes is a format change, which needs a new
/// format version and a new directory of samples (see tests/data/README.md).
#[test]
#[cfg_attr(miri, ignore = "reads the sample files, which Miri's isolation forbids")]
fn encoder_still_writes_the_samples() {
    for (name, bytes) in encoded_samples() {
        assert!(bytes == read(name), "the encoding of {name} changed");
    }
    let path = temp_path("rewritten.log");
    write_log(&path);
    assert!(fs::read(&path).expect("the new log") == read("log_string_u64.log"), "the encoding of the log changed");
    fs::remove_file(&path).expect("cleaning up");
}

/// Writes the sample files of the current format version that do not exist yet. Run it only when adding a format
/// version (in a new directory) or a new sample: it never overwrites a file.
///
/// `cargo test -p hamt-serde --test samples -- --ignored write_samples`
#[test]
#[ignore = "creates sample files; run by hand when adding a format version or a sample"]
fn write_samples() {
    let dir = data_dir();
    fs::create_dir_all(&dir).expect("the samples directory");
    for (name, bytes) in encoded_samples() {
        let path = dir.join(name);
        if path.exists() {
            println!("{} exists; left alone", path.display());
        } else {
            fs::write(&path, bytes).expect("writing a sample");
            println!("wrote {}", path.display());
        }
    }
    let path = dir.join("log_string_u64.log");
    if path.exists() {
        println!("{} exists; left alone", path.display());
    } else {
        write_log(&path);
        println!("wrote {}", path.display());
    }
}
