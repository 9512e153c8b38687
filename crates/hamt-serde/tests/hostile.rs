//! Hostile and damaged input: every `DecodeError` provoked by crafted bytes, truncation at every length, every
//! single-bit flip, and a property test that mutates valid encodings (binary in both bodies, JSON, postcard and
//! bincode) and asserts that decoding never panics and that whatever it accepts passes the trie invariants.
//!
//! Crafted bodies are wrapped in an envelope whose length and CRC-32 are computed here, so that the body parser,
//! not the checksum, is what rejects them. That absurd lengths allocate nothing is checked by counting allocations
//! in `tests/allocation.rs`.

#[path = "../../hamt-core/tests/common/mod.rs"]
mod common;

use std::fmt::Debug;
use std::io;
use std::panic::{self, AssertUnwindSafe};

use hamt_core::{DefaultHashBuilder, HamtMap, HamtSet, RcK};
use hamt_serde::{DecodeError, Kind, VersionSet};
use quickcheck::{Arbitrary, Gen};
use serde::Serialize;

type Map = HamtMap<u64, u64>;
type Set = HamtSet<u64>;

fn decode_maps(bytes: &[u8]) -> Result<Vec<Map>, DecodeError> {
    hamt_serde::deserialize_multiple::<hamt_core::HamtMap<u64, u64, RcK, DefaultHashBuilder>>(bytes)
}

fn decode_sets(bytes: &[u8]) -> Result<Vec<Set>, DecodeError> {
    hamt_serde::deserialize_multiple::<hamt_core::HamtSet<u64, RcK, DefaultHashBuilder>>(bytes)
}

/// A body under construction: varints and postcard values, as the record format writes them.
#[derive(Default)]
struct Body(Vec<u8>);

impl Body {
    fn varint(mut self, mut value: u64) -> Self {
        while value >= 0x80 {
            self.0.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
        self
    }

    fn value<T: Serialize>(mut self, value: T) -> Self {
        self.0.extend(postcard::to_allocvec(&value).expect("postcard encodes test values"));
        self
    }

    /// `value` as a CBOR item, as the self-describing body writes it.
    fn cbor<T: Serialize>(mut self, value: T) -> Self {
        ciborium::into_writer(&value, &mut self.0).expect("ciborium encodes test values");
        self
    }

    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
}

/// A complete binary form around `body`: header, body, trailer with the right length and checksum.
fn envelope(flags: u8, count: u32, body: &Body) -> Vec<u8> {
    let mut bytes = b"HAMT".to_vec();
    bytes.extend([1, flags]);
    bytes.extend(count.to_le_bytes());
    bytes.extend(&body.0);
    bytes.extend((body.0.len() as u64).to_le_bytes());
    let checksum = crc32fast::hash(&bytes);
    bytes.extend(checksum.to_le_bytes());
    bytes
}

/// Rewrites the trailer of (possibly damaged) bytes so that its length and checksum match what precedes it.
fn fix_trailer(bytes: &mut [u8]) {
    if bytes.len() < 22 {
        return;
    }
    let body_len = (bytes.len() - 22) as u64;
    let trailer_at = bytes.len() - 12;
    bytes[trailer_at..trailer_at + 8].copy_from_slice(&body_len.to_le_bytes());
    let checksum = crc32fast::hash(&bytes[..trailer_at + 8]);
    bytes[trailer_at + 8..].copy_from_slice(&checksum.to_le_bytes());
}

/// A small valid encoding of three map versions (a delta with a removal, and one written against the first).
fn small_maps() -> (Vec<Map>, Vec<u8>) {
    let v0: Map = [(1, 10), (2, 20), (300, 3)].into();
    let v1 = v0.remove(&2).insert(4, 40);
    let v2 = v0.insert(1, 11);
    let mut versions = VersionSet::new();
    versions.push(v0.clone());
    versions.push(v1.clone());
    versions.push_with_parent(v2.clone(), Some(0));
    (vec![v0, v1, v2], versions.to_bytes().expect("encodes"))
}

type JsonMap = HamtMap<String, serde_json::Value>;

/// Flags for maps in the self-describing body.
const SELF_DESCRIBING: u8 = 0b10;

fn decode_json_maps(bytes: &[u8]) -> Result<Vec<JsonMap>, DecodeError> {
    hamt_serde::deserialize_multiple::<JsonMap>(bytes)
}

/// A small valid encoding in the self-describing body: `serde_json::Value`s, which postcard cannot read back.
fn small_json_maps() -> Vec<u8> {
    let v0: JsonMap = [
        ("a".to_owned(), serde_json::json!({"list": [1, -2, 3.5, null], "flag": true})),
        ("b".to_owned(), serde_json::json!("text")),
    ]
    .into();
    let v1 = v0.insert("c".to_owned(), serde_json::json!([[], {}])).remove("a");
    let bytes = hamt_serde::serialize_multiple([&v0, &v1]).expect("encodes");
    assert_eq!(bytes[5], SELF_DESCRIBING, "the sample is in the self-describing body");
    bytes
}

fn small_sets() -> Vec<u8> {
    let v0: Set = [1, 2, 3, 1_000_000].into();
    hamt_serde::serialize_multiple(&[&v0, &v0.remove(&3), &v0.insert(9)]).expect("encodes")
}

/// Runs `decode` on `input`, failing the test with the input in hex if it panics.
fn no_panic<T>(input: &[u8], decode: impl FnOnce(&[u8]) -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(|| decode(input))) {
        Ok(result) => result,
        Err(_) => panic!("decoding panicked on input {}", hex(input)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[track_caller]
fn assert_error<T: Debug>(result: Result<T, DecodeError>, expected: impl Fn(&DecodeError) -> bool) {
    match result {
        Err(error) if expected(&error) => {
            // Every error describes itself.
            assert!(!error.to_string().is_empty());
        }
        other => panic!("unexpected result {other:?}"),
    }
}

#[test]
fn envelope_errors() {
    let (_, valid) = small_maps();
    for short in [&b""[..], b"H", b"HAM", b"HAMT", b"HAMT\x01\x00\x01\x00\x00\x00", &valid[..21]] {
        assert_error(decode_maps(short), |error| matches!(error, DecodeError::Truncated));
    }
    assert_error(decode_maps(b"XY"), |error| matches!(error, DecodeError::BadMagic));
    let mut wrong_magic = valid.clone();
    wrong_magic[3] = b'X';
    assert_error(decode_maps(&wrong_magic), |error| matches!(error, DecodeError::BadMagic));
    let mut log_magic = valid.clone();
    log_magic[..4].copy_from_slice(b"HAML");
    assert_error(decode_maps(&log_magic), |error| matches!(error, DecodeError::BadMagic));

    for format in [0, 2, 255] {
        let mut other_format = valid.clone();
        other_format[4] = format;
        assert_error(
            decode_maps(&other_format),
            |error| matches!(error, DecodeError::UnsupportedFormat { version } if *version == format),
        );
        // Even with a checksum that holds.
        fix_trailer(&mut other_format);
        assert_error(decode_maps(&other_format), |error| matches!(error, DecodeError::UnsupportedFormat { .. }));
    }

    for flags in [0b100, 0x80, 0xff] {
        let bytes = envelope(flags, 0, &Body::default());
        assert_error(
            decode_maps(&bytes),
            |error| matches!(error, DecodeError::UnknownFlags { flags: f } if *f == flags),
        );
    }

    assert_error(decode_sets(&valid), |error| {
        matches!(error, DecodeError::WrongKind { expected: Kind::Set, found: Kind::Map })
    });
    assert_error(decode_maps(&small_sets()), |error| {
        matches!(error, DecodeError::WrongKind { expected: Kind::Map, found: Kind::Set })
    });
    assert_error(VersionSet::<Set>::from_bytes(&valid), |error| matches!(error, DecodeError::WrongKind { .. }));

    let mut appended = valid.clone();
    appended.push(0);
    assert_error(decode_maps(&appended), |error| matches!(error, DecodeError::LengthMismatch { .. }));
    let mut shortened = valid.clone();
    shortened.remove(12);
    assert_error(decode_maps(&shortened), |error| matches!(error, DecodeError::LengthMismatch { .. }));

    let mut damaged = valid.clone();
    damaged[14] ^= 0x10;
    assert_error(decode_maps(&damaged), |error| matches!(error, DecodeError::ChecksumMismatch { .. }));
    let mut damaged_checksum = valid.clone();
    *damaged_checksum.last_mut().unwrap() ^= 1;
    assert_error(decode_maps(&damaged_checksum), |error| matches!(error, DecodeError::ChecksumMismatch { .. }));
}

#[test]
fn record_errors() {
    let one_entry = || Body::default().varint(1).value((1u64, 1u64));

    // Version 1 names a parent two versions back, and one u64::MAX back.
    for distance in [2, 3, u64::MAX] {
        let bytes = envelope(0, 2, &one_entry().varint(distance).varint(0).varint(0));
        assert_error(
            decode_maps(&bytes),
            |error| matches!(error, DecodeError::BadParent { version: 1, distance: d } if *d == distance),
        );
    }

    // Absurd counts: entries, removed keys, upserted entries, and versions in the header.
    let bytes = envelope(0, 1, &Body::default().varint(1 << 60));
    assert_error(
        decode_maps(&bytes),
        |error| matches!(error, DecodeError::LengthTooLarge { version: 0, claimed, .. } if *claimed == 1 << 60),
    );
    let bytes = envelope(0, 2, &one_entry().varint(1).varint(u64::MAX));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::LengthTooLarge { version: 1, .. }));
    let bytes = envelope(0, 2, &one_entry().varint(1).varint(0).varint(1 << 40).value((2u64, 2u64)));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::LengthTooLarge { version: 1, .. }));
    let bytes = envelope(0, u32::MAX, &one_entry());
    assert_error(
        decode_maps(&bytes),
        |error| matches!(error, DecodeError::LengthTooLarge { version: 0, claimed, .. } if *claimed == u64::from(u32::MAX)),
    );

    // The same key twice: in a whole version, in a delta's upserts, and removed and upserted by one delta.
    let bytes = envelope(0, 1, &Body::default().varint(2).value((7u64, 1u64)).value((7u64, 2u64)));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::DuplicateKey { version: 0 }));
    let bytes = envelope(0, 2, &one_entry().varint(1).varint(0).varint(2).value((5u64, 1u64)).value((5u64, 1u64)));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::DuplicateKey { version: 1 }));
    let bytes = envelope(0, 2, &one_entry().varint(1).varint(1).value(1u64).varint(1).value((1u64, 9u64)));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::DuplicateKey { version: 1 }));
    // A set whose first version holds an element twice.
    let bytes = envelope(1, 1, &Body::default().varint(2).value(3u64).value(3u64));
    assert_error(decode_sets(&bytes), |error| matches!(error, DecodeError::DuplicateKey { version: 0 }));

    // Removing a key the parent lacks, or anything from the empty map (distance 0), or the same key twice.
    let bytes = envelope(0, 2, &one_entry().varint(1).varint(1).value(2u64).varint(0));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::AbsentKey { version: 1 }));
    let bytes = envelope(0, 2, &one_entry().varint(0).varint(1).value(1u64).varint(0));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::AbsentKey { version: 1 }));
    let bytes = envelope(0, 2, &one_entry().varint(1).varint(2).value(1u64).value(1u64).varint(0));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::AbsentKey { version: 1 }));

    // Varints longer than ten bytes, or whose tenth byte holds more than the 64th bit.
    let bytes = envelope(0, 1, &Body::default().raw(&[0xff; 11]));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::BadVarint { version: 0 }));
    let bytes = envelope(0, 1, &Body::default().raw(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::BadVarint { version: 0 }));
    let bytes = envelope(0, 2, &one_entry().raw(&[0x80; 10]));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::BadVarint { version: 1 }));

    // Keys and values postcard refuses: a string that is not UTF-8, a u64 varint that overflows, a body that ends
    // inside an entry or inside a varint.
    let bytes = envelope(0, 1, &Body::default().varint(1).raw(&[2, 0xff, 0xfe]).value("value"));
    assert_error(
        hamt_serde::deserialize_multiple::<hamt_core::HamtMap<String, String, RcK, DefaultHashBuilder>>(&bytes),
        |error| matches!(error, DecodeError::Entry { version: 0, .. }),
    );
    let bytes = envelope(0, 1, &Body::default().varint(1).raw(&[0xff; 11]).value(1u64));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::Entry { version: 0, .. }));
    let bytes = envelope(0, 1, &Body::default().varint(2).value((1u64, 1u64)));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::Entry { version: 0, .. }));
    let bytes = envelope(0, 2, &one_entry().raw(&[0x80]));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::Entry { version: 1, .. }));

    // Bytes after the last record.
    let bytes = envelope(0, 1, &one_entry().raw(&[0, 0, 0]));
    assert_error(decode_maps(&bytes), |error| matches!(error, DecodeError::TrailingBytes { count: 3 }));

    // A reader that fails.
    struct Failing;
    impl io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("the disk is on fire"))
        }
    }
    assert_error(
        hamt_serde::deserialize_multiple_from::<hamt_core::HamtMap<u64, u64, RcK, DefaultHashBuilder>, _>(Failing),
        |error| matches!(error, DecodeError::Io(_)),
    );
    assert_error(VersionSet::<Map>::read_from(Failing), |error| matches!(error, DecodeError::Io(_)));
}

/// The crafted bodies above are the only way to reach the record errors; the same recipe with valid contents
/// decodes, so the errors are not an artefact of the helpers.
#[test]
fn crafted_valid_bodies_decode() {
    let bytes = envelope(
        0,
        2,
        &Body::default().varint(1).value((1u64, 1u64)).varint(1).varint(1).value(1u64).varint(1).value((2u64, 2u64)),
    );
    let versions = decode_maps(&bytes).expect("a valid crafted body");
    assert_eq!(versions, [Map::from([(1, 1)]), Map::from([(2, 2)])]);
    assert_eq!(decode_maps(&envelope(0, 0, &Body::default())).expect("no versions"), []);
}

/// The self-describing body: every way a CBOR item can be wrong, crafted in a valid envelope.
#[test]
fn self_describing_body_errors() {
    let json = |bytes: &[u8]| no_panic(bytes, decode_json_maps);
    // A valid crafted body first, so that the errors below are not an artefact of the helpers.
    let valid = envelope(SELF_DESCRIBING, 1, &Body::default().varint(1).cbor("key").cbor(serde_json::json!([1, {}])));
    assert_eq!(
        json(&valid).expect("a valid crafted body"),
        [JsonMap::from([("key".into(), serde_json::json!([1, {}]))])]
    );
    let valid = envelope(SELF_DESCRIBING, 1, &Body::default().varint(1).cbor(7u64).cbor(8u64));
    assert_eq!(decode_maps(&valid).expect("a valid crafted body"), [Map::from([(7, 8)])]);

    let claims: &[&[u8]] = &[
        // A key: a text string claiming 2^60 bytes.
        &[0x7b, 0x10, 0, 0, 0, 0, 0, 0, 0, b'a'],
        // A value: an array claiming 2^32 items, and a map claiming 2^62 pairs.
        &[0x61, b'k', 0x9a, 0xff, 0xff, 0xff, 0xff, 0x01],
        &[0x61, b'k', 0xbb, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01],
        // A byte string inside an array, claiming more than is left.
        &[0x61, b'k', 0x82, 0x58, 0x20, 0x01],
    ];
    for claim in claims {
        let bytes = envelope(SELF_DESCRIBING, 1, &Body::default().varint(1).raw(claim));
        assert_error(json(&bytes), |error| matches!(error, DecodeError::LengthTooLarge { version: 0, .. }));
    }

    let mut too_deep = vec![0x61, b'k'];
    too_deep.extend([0x81; 300]);
    too_deep.push(0x00);
    let malformed: &[&[u8]] = &[
        // Reserved additional information, an indefinite integer, a break outside any container.
        &[0x61, b'k', 0x1c],
        &[0x61, b'k', 0x1f],
        &[0x61, b'k', 0xff],
        // The body ends inside an item.
        &[0x61, b'k', 0x9f, 0x01],
        &[0x61, b'k', 0x19, 0x01],
        // Nesting past 256.
        &too_deep,
        // Well-formed CBOR of the wrong type: a number or a float where the key is a string, and a string that is
        // not UTF-8.
        &[0x01, 0x01],
        &[0xf9, 0x3c, 0x00, 0x01],
        &[0x62, 0xff, 0xfe, 0x01],
    ];
    for bytes in malformed {
        let wrapped = envelope(SELF_DESCRIBING, 1, &Body::default().varint(1).raw(bytes));
        assert_error(json(&wrapped), |error| matches!(error, DecodeError::Entry { version: 0, .. }));
    }

    // The record rules hold in this body as in the other: a key twice, an absent key removed.
    let bytes = envelope(SELF_DESCRIBING, 1, &Body::default().varint(2).cbor("k").cbor(1).cbor("k").cbor(2));
    assert_error(json(&bytes), |error| matches!(error, DecodeError::DuplicateKey { version: 0 }));
    let first = Body::default().varint(1).cbor("k").cbor(1);
    let bytes = envelope(SELF_DESCRIBING, 2, &first.varint(1).varint(1).cbor("absent").varint(0));
    assert_error(json(&bytes), |error| matches!(error, DecodeError::AbsentKey { version: 1 }));

    // Compact bytes read as self-describing ones, and the reverse, fail without a panic.
    let (_, compact) = small_maps();
    let mut relabelled = compact.clone();
    relabelled[5] |= SELF_DESCRIBING;
    fix_trailer(&mut relabelled);
    check_decodes_sanely(&relabelled);
    let mut relabelled = small_json_maps();
    relabelled[5] &= !SELF_DESCRIBING;
    fix_trailer(&mut relabelled);
    assert!(json(&relabelled).is_err());
    check_decodes_sanely(&relabelled);
}

/// Every byte natively; every third under Miri, which is a thousand times slower.
fn miri_stride() -> usize {
    if common::reduced() { 3 } else { 1 }
}

#[test]
fn every_truncation_fails() {
    let (_, maps) = small_maps();
    for bytes in [maps, small_sets(), small_json_maps()] {
        for len in (0..bytes.len()).step_by(miri_stride()) {
            let prefix = &bytes[..len];
            let maps = no_panic(prefix, decode_maps);
            let sets = no_panic(prefix, decode_sets);
            let json = no_panic(prefix, decode_json_maps);
            assert!(maps.is_err() && sets.is_err() && json.is_err(), "a prefix of {len} bytes decoded");
            if len < 22 {
                assert!(matches!(maps, Err(DecodeError::Truncated)), "prefix of {len} bytes: {maps:?}");
            }
        }
    }
}

#[test]
fn every_bit_flip_fails() {
    let (_, maps) = small_maps();
    for bytes in [maps, small_sets()] {
        for index in (0..bytes.len()).step_by(miri_stride()) {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[index] ^= 1 << bit;
                assert!(no_panic(&flipped, decode_maps).is_err(), "flipping bit {bit} of byte {index} went unnoticed");
                assert!(no_panic(&flipped, decode_sets).is_err(), "flipping bit {bit} of byte {index} went unnoticed");
            }
        }
    }
    let json = small_json_maps();
    for index in (0..json.len()).step_by(miri_stride()) {
        for bit in 0..8 {
            let mut flipped = json.clone();
            flipped[index] ^= 1 << bit;
            assert!(no_panic(&flipped, decode_json_maps).is_err(), "flipping bit {bit} of byte {index} went unnoticed");
        }
    }
}

/// With the checksum fixed up after each flip, the body parser sees every flip: it must never panic, and what it
/// accepts must be well-formed.
#[test]
fn every_bit_flip_behind_a_valid_checksum_is_handled() {
    let (versions, bytes) = small_maps();
    let mut accepted = 0;
    for index in (10..bytes.len() - 12).step_by(miri_stride()) {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[index] ^= 1 << bit;
            fix_trailer(&mut flipped);
            if let Ok(decoded) = no_panic(&flipped, decode_maps) {
                accepted += 1;
                assert_eq!(decoded.len(), versions.len());
                decoded.iter().for_each(Map::check_invariants);
            }
            check_decodes_sanely(&flipped);
        }
    }
    // Flips of key and value bits make other valid maps, so some are accepted; most structure flips are not.
    assert!(accepted > 0);

    // The same in the self-describing body, where a flip can change an item's type or claimed length.
    let bytes = small_json_maps();
    let mut accepted = 0;
    for index in (10..bytes.len() - 12).step_by(miri_stride()) {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[index] ^= 1 << bit;
            fix_trailer(&mut flipped);
            if let Ok(decoded) = no_panic(&flipped, decode_json_maps) {
                accepted += 1;
                decoded.iter().for_each(JsonMap::check_invariants);
            }
            check_decodes_sanely(&flipped);
        }
    }
    assert!(accepted > 0);
}

/// Decodes `bytes` every way there is; anything accepted must pass the invariants.
fn check_decodes_sanely(bytes: &[u8]) {
    if let Ok(versions) = no_panic(bytes, decode_maps) {
        versions.iter().for_each(Map::check_invariants);
    }
    if let Ok(versions) = no_panic(bytes, decode_sets) {
        versions.iter().for_each(Set::check_invariants);
    }
    if let Ok(versions) =
        no_panic(bytes, hamt_serde::deserialize_multiple::<hamt_core::HamtMap<String, String, RcK, DefaultHashBuilder>>)
    {
        versions.iter().for_each(HamtMap::check_invariants);
    }
    if let Ok(versions) = no_panic(bytes, decode_json_maps) {
        versions.iter().for_each(HamtMap::check_invariants);
    }
    if let Ok(versions) = no_panic(bytes, VersionSet::<Map>::from_bytes) {
        versions.versions().iter().for_each(Map::check_invariants);
        for index in 0..versions.len() {
            assert!(versions.parent(index).is_none_or(|parent| parent < index));
        }
    }
    if let Ok(versions) = no_panic(bytes, VersionSet::<HamtSet<String>>::from_bytes) {
        versions.versions().iter().for_each(HamtSet::check_invariants);
    }
}

/// A damage done to bytes.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Overwrite(usize, u8),
    /// A varint-friendly large number over eight bytes, the likeliest way to claim an absurd length.
    Large(usize),
}

impl Arbitrary for Mutation {
    fn arbitrary(g: &mut Gen) -> Self {
        let at = usize::arbitrary(g);
        match u8::arbitrary(g) % 5 {
            0 => Mutation::Flip(at, u8::arbitrary(g) % 8),
            1 => Mutation::Insert(at, u8::arbitrary(g)),
            2 => Mutation::Delete(at),
            3 => Mutation::Overwrite(at, u8::arbitrary(g)),
            _ => Mutation::Large(at),
        }
    }
}

impl Mutation {
    fn apply(&self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        match *self {
            Mutation::Flip(at, bit) if len > 0 => bytes[at % len] ^= 1 << bit,
            Mutation::Insert(at, byte) => bytes.insert(at % (len + 1), byte),
            Mutation::Delete(at) if len > 0 => drop(bytes.remove(at % len)),
            Mutation::Overwrite(at, byte) if len > 0 => bytes[at % len] = byte,
            Mutation::Large(at) => {
                let at = at % (len + 1);
                bytes.splice(at..at, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
            }
            _ => {}
        }
    }
}

/// The input of the mutation property: versions made by a few operations, how they are encoded, and the damage.
#[derive(Clone, Debug)]
struct Damaged {
    /// (operation, key, value): insert, remove, or commit with a parent chosen by the value.
    ops: Vec<(u8, u8, u8)>,
    /// 0: `u64 -> u64` maps; 1: `String -> String` maps (both compact); 2: `String -> serde_json::Value` maps
    /// (self-describing).
    encoding: u8,
    mutations: Vec<Mutation>,
    fix_checksum: bool,
}

impl Arbitrary for Damaged {
    fn arbitrary(g: &mut Gen) -> Self {
        let mutations = (0..1 + usize::arbitrary(g) % 4).map(|_| Mutation::arbitrary(g)).collect();
        Damaged {
            ops: Arbitrary::arbitrary(g),
            encoding: u8::arbitrary(g) % 3,
            mutations,
            fix_checksum: bool::arbitrary(g),
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let this = self.clone();
        Box::new(self.ops.shrink().map(move |ops| Damaged { ops, ..this.clone() }))
    }
}

impl Damaged {
    fn versions(&self) -> VersionSet<Map> {
        let mut versions = VersionSet::new();
        let mut current = Map::new();
        for &(op, key, value) in &self.ops {
            match op % 4 {
                0 | 1 => current = current.insert(key.into(), value.into()),
                2 => current = current.remove(&key.into()),
                _ => {
                    let parent = usize::from(value) % (versions.len() + 1);
                    versions.push_with_parent(current.clone(), (parent < versions.len()).then_some(parent));
                }
            }
        }
        versions
    }

    fn mutate(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        for mutation in &self.mutations {
            mutation.apply(&mut bytes);
        }
        bytes
    }
}

#[test]
fn mutated_binary_encodings_never_panic() {
    common::check(
        2_000,
        30,
        (|input: Damaged| {
            let versions = input.versions();
            let bytes = match input.encoding {
                0 => versions.to_bytes().expect("encodes"),
                1 => {
                    let strings: VersionSet<HamtMap<String, String>> = versions
                        .versions()
                        .iter()
                        .map(|map| map.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect())
                        .collect();
                    strings.to_bytes().expect("encodes")
                }
                _ => {
                    let values: VersionSet<JsonMap> = versions
                        .versions()
                        .iter()
                        .map(|map| {
                            let entry = |(key, value): (&u64, &u64)| {
                                (key.to_string(), serde_json::json!({"v": value, "list": [key, null, "s"]}))
                            };
                            map.iter().map(entry).collect()
                        })
                        .collect();
                    values.to_bytes().expect("encodes")
                }
            };
            let mut bytes = input.mutate(bytes);
            if input.fix_checksum {
                fix_trailer(&mut bytes);
            }
            check_decodes_sanely(&bytes);
        }) as fn(Damaged),
    );
}

#[test]
fn mutated_serde_encodings_never_panic() {
    fn property(input: Damaged) {
        let versions = input.versions();
        let json = input.mutate(serde_json::to_vec(&versions).expect("JSON encodes"));
        if let Ok(decoded) = no_panic(&json, |json| serde_json::from_slice::<VersionSet<Map>>(json)) {
            decoded.versions().iter().for_each(Map::check_invariants);
        }
        let postcard_bytes = input.mutate(postcard::to_allocvec(&versions).expect("postcard encodes"));
        if let Ok(decoded) = no_panic(&postcard_bytes, |bytes| postcard::from_bytes::<VersionSet<Map>>(bytes)) {
            decoded.versions().iter().for_each(Map::check_invariants);
        }
        let sets = no_panic(&postcard_bytes, |bytes| postcard::from_bytes::<VersionSet<Set>>(bytes));
        if let Ok(decoded) = sets {
            decoded.versions().iter().for_each(Set::check_invariants);
        }
        let config = bincode::config::standard();
        let bincode_bytes = input.mutate(bincode::serde::encode_to_vec(&versions, config).expect("bincode encodes"));
        let decoded =
            no_panic(&bincode_bytes, |bytes| bincode::serde::decode_from_slice::<VersionSet<Map>, _>(bytes, config));
        if let Ok((decoded, _)) = decoded {
            decoded.versions().iter().for_each(Map::check_invariants);
        }
    }
    common::check(1_000, 30, property as fn(Damaged));
}

fn json_error(json: &str) -> String {
    match serde_json::from_str::<VersionSet<Map>>(json) {
        Ok(versions) => panic!("{json} decoded to {versions:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn hostile_serde_records() {
    let first = r#"{"parent":null,"removed":[],"upserted":[[1,10],[2,20]]}"#;
    let cases: &[(&str, &str)] = &[
        (r#"[{"parent":0,"removed":[],"upserted":[]}]"#, "names a parent"),
        (&format!(r#"[{first},{{"parent":1,"removed":[],"upserted":[]}}]"#), "names a parent"),
        (&format!(r#"[{first},{{"parent":7,"removed":[],"upserted":[]}}]"#), "names a parent"),
        (r#"[{"parent":null,"removed":[],"upserted":[[1,1],[1,2]]}]"#, "holds a key twice"),
        (&format!(r#"[{first},{{"parent":0,"removed":[],"upserted":[[3,1],[3,1]]}}]"#), "holds a key twice"),
        (&format!(r#"[{first},{{"parent":0,"removed":[1],"upserted":[[1,5]]}}]"#), "holds a key twice"),
        (&format!(r#"[{first},{{"parent":0,"removed":[3],"upserted":[]}}]"#), "removes a key"),
        (&format!(r#"[{first},{{"parent":0,"removed":[1,1],"upserted":[]}}]"#), "removes a key"),
        (r#"[{"parent":null,"removed":[1],"upserted":[]}]"#, "removes a key"),
        (r#"[{"parent":null,"removed":[]}]"#, "missing field `upserted`"),
        (r#"[{"parent":null,"parent":null,"removed":[],"upserted":[]}]"#, "duplicate field `parent`"),
        (r#"[{"parent":null,"removed":[],"upserted":[],"extra":1}]"#, "unknown field `extra`"),
        (r#"[{"parent":-1,"removed":[],"upserted":[]}]"#, "invalid value"),
        (r#"[{"parent":null,"removed":[],"upserted":[[1]]}]"#, "invalid length"),
        (r#"[[null,[],[[1,1]]],[0,[1],[[1,1]]]]"#, "holds a key twice"),
        (r#"[[null,[]]]"#, "invalid length"),
        (r#"{"parent":null}"#, "invalid type"),
    ];
    for (json, expected) in cases {
        let message = json_error(json);
        assert!(message.contains(expected), "{json}: expected {expected:?}, got {message:?}");
    }
    // Sets: an element twice.
    let error = serde_json::from_str::<VersionSet<Set>>(r#"[{"parent":null,"removed":[],"upserted":[4,4]}]"#);
    assert!(error.unwrap_err().to_string().contains("holds a key twice"));
}

#[test]
fn hostile_postcard_and_bincode_records() {
    // postcard: a sequence of records, each (Option<usize>, [keys], [(key, value)]).
    let cases: &[&[u8]] = &[
        // One record whose parent is itself.
        &[1, 1, 0, 0, 0],
        // A record that removes from nothing.
        &[1, 0, 1, 5, 0],
        // Duplicate upserts.
        &[1, 0, 0, 2, 1, 1, 1, 2],
        // Absurd lengths: of the sequence of records, of the removed keys, of the upserted entries.
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f],
        &[1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f],
        &[1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 1],
        // Truncated.
        &[2, 0, 0, 1, 1, 1],
    ];
    for bytes in cases {
        assert!(postcard::from_bytes::<VersionSet<Map>>(bytes).is_err(), "postcard accepted {}", hex(bytes));
    }
    // A valid postcard record, to show the layout above is right.
    let versions: VersionSet<Map> = postcard::from_bytes(&[2, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0]).expect("valid");
    assert_eq!(versions.versions(), [Map::from([(1, 1)]), Map::new()]);

    // bincode's standard configuration writes the same shape with its own varints (up to 250 in one byte, then
    // a 251..=253 marker and 2, 4 or 8 bytes).
    let config = bincode::config::standard();
    let bincode_cases: &[&[u8]] = &[
        &[1, 1, 0, 0, 0],
        &[1, 0, 0, 2, 1, 1, 1, 2],
        &[253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f],
        &[1, 0, 253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f],
        &[1, 0, 0, 253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 1],
    ];
    for bytes in bincode_cases {
        let result = bincode::serde::decode_from_slice::<VersionSet<Map>, _>(bytes, config);
        assert!(result.is_err(), "bincode accepted {}", hex(bytes));
    }
}

/// Every error's `Display` says what failed in its own words and leaves the cause to `source()`: a chain printed
/// by a reporter (anyhow, eyre) says each thing once.
#[test]
#[cfg_attr(miri, ignore = "uses the file system, which Miri's isolation forbids")]
fn errors_do_not_repeat_their_source() {
    fn check_chain(error: &dyn std::error::Error) {
        let mut current = error;
        let mut depth = 0;
        while let Some(source) = current.source() {
            let (outer, inner) = (current.to_string(), source.to_string());
            assert!(!outer.contains(&inner), "{outer:?} repeats its source {inner:?}");
            current = source;
            depth += 1;
        }
        assert!(depth > 0, "{error} has a source");
    }
    struct Failing;
    impl io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("the disk is on fire"))
        }
    }
    impl io::Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("the disk is on fire"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    // Decoding: an entry postcard refuses, one ciborium refuses, and a reader that fails.
    let bytes = envelope(0, 1, &Body::default().varint(1).raw(&[2, 0xff, 0xfe]).value("value"));
    check_chain(&hamt_serde::deserialize_multiple::<HamtMap<String, String>>(&bytes).unwrap_err());
    let bytes = envelope(SELF_DESCRIBING, 1, &Body::default().varint(1).cbor(1u64).cbor("k"));
    check_chain(&decode_json_maps(&bytes).unwrap_err());
    check_chain(&hamt_serde::deserialize_multiple_from::<Map, _>(Failing).unwrap_err());

    // Encoding: a writer that fails.
    let map: Map = [(1, 1)].into();
    let error = hamt_serde::serialize_multiple_into(Failing, [&map]).unwrap_err();
    assert!(matches!(error, hamt_serde::EncodeError::Io(_)));
    check_chain(&error);

    // The log wraps the others, and its own I/O errors.
    let dir = std::env::temp_dir().join(format!("hamt-serde-error-chain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("not-a-log");
    std::fs::write(&path, b"plain text, not a version log").expect("writing");
    let error = hamt_serde::VersionLog::<Map>::open(&path).unwrap_err();
    assert!(matches!(error, hamt_serde::LogError::Decode(DecodeError::BadMagic)));
    // BadMagic has no source; the log's message must still not repeat it.
    assert!(!error.to_string().contains(&DecodeError::BadMagic.to_string()), "{error}");
    check_chain(&hamt_serde::VersionLog::<Map>::open(&dir).unwrap_err());
    let mut log = hamt_serde::VersionLog::open(dir.join("floats.log")).expect("a new log");
    let floats: HamtMap<u8, f64> = [(1, f64::NAN)].into();
    let error = log.append(&floats).unwrap_err();
    assert!(matches!(error, hamt_serde::LogError::Encode(hamt_serde::EncodeError::Mismatch { .. })));
    assert!(!error.to_string().contains(&std::error::Error::source(&error).unwrap().to_string()), "{error}");
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}
