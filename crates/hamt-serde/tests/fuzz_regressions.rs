//! Replays every input in `tests/data/fuzz-regressions/TARGET/` the way fuzz target TARGET (in `/fuzz`) runs it:
//! the seeds, and everything `cargo xtask fuzz` ever found. Decoding must not panic, and what it accepts must pass
//! the trie invariants. See that directory's README.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use hamt_core::{DefaultHashBuilder, HamtMap, HamtSet, RcK};
use hamt_serde::VersionSet;

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions")
}

fn check_parents<C>(versions: &VersionSet<C>) {
    for index in 0..versions.len() {
        assert!(versions.parent(index).is_none_or(|parent| parent < index), "version {index} has a later parent");
    }
}

/// What fuzz_targets/deserialize_multiple.rs does.
fn deserialize_multiple(data: &[u8]) {
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<u64, u64, RcK, DefaultHashBuilder>>(data) {
        maps.iter().for_each(HamtMap::check_invariants);
    }
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<String, String, RcK, DefaultHashBuilder>>(data) {
        maps.iter().for_each(HamtMap::check_invariants);
    }
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<String, serde_json::Value>>(data) {
        maps.iter().for_each(HamtMap::check_invariants);
    }
    if let Ok(sets) = hamt_serde::deserialize_multiple::<HamtSet<u32, RcK, DefaultHashBuilder>>(data) {
        sets.iter().for_each(HamtSet::check_invariants);
    }
    if let Ok(versions) = VersionSet::<HamtMap<u64, u64>>::from_bytes(data) {
        check_parents(&versions);
        versions.versions().iter().for_each(HamtMap::check_invariants);
    }
    if let Ok(versions) = VersionSet::<HamtSet<String>>::from_bytes(data) {
        check_parents(&versions);
        versions.versions().iter().for_each(HamtSet::check_invariants);
    }
}

/// The envelope fuzz_targets/deserialize_body.rs wraps its input in: `data[0] & 0b11` is the flags, `data[1]` the
/// version count, the rest the body, and the trailer is right.
fn envelope(data: &[u8]) -> Vec<u8> {
    let (flags, count, body) = match data {
        [flags, count, body @ ..] => (flags & 0b11, u32::from(*count), body),
        _ => (0, 0, data),
    };
    let mut bytes = b"HAMT".to_vec();
    bytes.extend([1, flags]);
    bytes.extend(count.to_le_bytes());
    bytes.extend(body);
    bytes.extend((body.len() as u64).to_le_bytes());
    let checksum = crc32fast::hash(&bytes);
    bytes.extend(checksum.to_le_bytes());
    bytes
}

/// What fuzz_targets/deserialize_body.rs does.
fn deserialize_body(data: &[u8]) {
    deserialize_multiple(&envelope(data));
}

/// What fuzz_targets/version_set_serde.rs does.
fn version_set_serde(data: &[u8]) {
    type Maps = VersionSet<HamtMap<u64, u64>>;
    if let Ok(versions) = postcard::from_bytes::<Maps>(data) {
        check_parents(&versions);
        versions.versions().iter().for_each(HamtMap::check_invariants);
    }
    if let Ok(versions) = postcard::from_bytes::<VersionSet<HamtSet<String>>>(data) {
        check_parents(&versions);
        versions.versions().iter().for_each(HamtSet::check_invariants);
    }
    let config = bincode::config::standard();
    if let Ok((versions, _)) = bincode::serde::decode_from_slice::<Maps, _>(data, config) {
        check_parents(&versions);
        versions.versions().iter().for_each(HamtMap::check_invariants);
    }
    if let Ok(versions) = serde_json::from_slice::<Maps>(data) {
        check_parents(&versions);
        versions.versions().iter().for_each(HamtMap::check_invariants);
    }
}

/// What a fuzz target does with its input.
type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("deserialize_multiple", deserialize_multiple),
    ("deserialize_body", deserialize_body),
    ("version_set_serde", version_set_serde),
];

#[test]
#[cfg_attr(miri, ignore = "reads the regression files, which Miri's isolation forbids")]
fn every_regression_input_is_handled() {
    let mut replayed = 0;
    for entry in fs::read_dir(regressions_dir()).expect("the regressions directory") {
        let dir = entry.expect("a directory entry").path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let Some((_, run)) = TARGETS.iter().find(|(target, _)| *target == name) else {
            panic!("{}: no fuzz target of that name", dir.display());
        };
        for file in fs::read_dir(&dir).expect("a target's directory") {
            let path = file.expect("a directory entry").path();
            let data = fs::read(&path).expect("a regression input");
            if panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
                panic!("{} ({} bytes) panics", path.display(), data.len());
            }
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len(), "only {replayed} inputs: the seeds are missing");
}

/// Writes the seed inputs that do not exist yet (it never overwrites): for `deserialize_multiple`, crafted hostile
/// envelopes (the format samples in `tests/data/v1/` are seeds too, passed by `cargo xtask fuzz`); for
/// `deserialize_body`, the bodies of the format samples; for `version_set_serde`, a version set in JSON, postcard
/// and bincode.
///
/// `cargo test -p hamt-serde --test fuzz_regressions -- --ignored write_seeds`
#[test]
#[ignore = "creates seed files; run by hand when adding seeds"]
fn write_seeds() {
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = regressions_dir().join(target);
        fs::create_dir_all(&dir).expect("a target's directory");
        let path = dir.join(format!("seed-{name}"));
        if !path.exists() {
            fs::write(&path, bytes).expect("writing a seed");
            println!("wrote {}", path.display());
        }
    };

    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1");
    for entry in fs::read_dir(&samples).expect("the samples") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|extension| extension == "bin") {
            let bytes = fs::read(&path).expect("a sample");
            let count = u8::try_from(u32::from_le_bytes(bytes[6..10].try_into().expect("four bytes")))
                .expect("samples hold fewer than 256 versions");
            let mut body = vec![bytes[5], count];
            body.extend(&bytes[10..bytes.len() - 12]);
            write("deserialize_body", &path.file_name().unwrap().to_string_lossy(), &body);
        }
    }

    // A base, a delta with a removal, and a version written against the base: every kind of record.
    let base: HamtMap<u64, u64> = (0..20).map(|key| (key, key * 3)).collect();
    let mut versions = VersionSet::new();
    versions.push(base.clone());
    versions.push(base.remove(&4).insert(100, 1));
    versions.push_with_parent(base.insert(5, 0), Some(0));
    versions.push_with_parent(HamtMap::new(), None);
    write("version_set_serde", "json", &serde_json::to_vec(&versions).expect("JSON"));
    write("version_set_serde", "postcard", &postcard::to_allocvec(&versions).expect("postcard"));
    let config = bincode::config::standard();
    write("version_set_serde", "bincode", &bincode::serde::encode_to_vec(&versions, config).expect("bincode"));

    let valid = versions.to_bytes().expect("encodes");
    write("deserialize_multiple", "tree.bin", &valid);

    // Versions in the self-describing body, whole and as a body for deserialize_body (flags and count first).
    let values: HamtMap<String, serde_json::Value> =
        [("a".to_owned(), serde_json::json!({"list": [1, -2, 3.5, null, "x"], "nested": {"t": true}}))].into();
    let self_describing =
        hamt_serde::serialize_multiple([&values, &values.insert("b".to_owned(), 7.into())]).expect("encodes");
    write("deserialize_multiple", "self-describing.bin", &self_describing);
    let mut body = vec![self_describing[5], 2];
    body.extend(&self_describing[10..self_describing.len() - 12]);
    write("deserialize_body", "self-describing.bin", &body);
    // Wrapped by the same envelope as deserialize_body, these reach the record errors.
    let crafted: &[(&str, &[u8])] = &[
        ("absurd-count.bin", &[0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        ("bad-parent.bin", &[0, 2, 1, 1, 1, 2, 0, 0]),
        ("duplicate-key.bin", &[0, 1, 2, 7, 1, 7, 2]),
        ("absent-key.bin", &[0, 2, 1, 1, 1, 1, 1, 2, 0]),
        ("bad-varint.bin", &[0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        ("bad-utf8.bin", &[0, 1, 1, 2, 0xff, 0xfe, 1, b'a']),
        ("trailing.bin", &[0, 1, 0, 0, 0]),
        // The self-describing body: a text string claiming 2^60 bytes, and arrays nested past the depth limit.
        ("cbor-absurd-string.bin", &[2, 1, 1, 0x7b, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x61]),
        ("cbor-deep.bin", &[2, 1, 1, 0x61, b'k', 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x00]),
    ];
    for (name, data) in crafted {
        write("deserialize_multiple", name, &envelope(data));
        write("deserialize_body", name, data);
    }
}
