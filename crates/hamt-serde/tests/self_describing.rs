//! Any map whose keys and values round-trip through serde_json round-trips through `serialize_multiple` and
//! `deserialize_multiple`, or is refused when it is encoded, with an error that says why.
//!
//! The model is serde_json: for every type here, the test first checks that serde_json gives each value back equal
//! to itself, then that hamt-serde does, and which body it chose (the flags byte, docs/format.md). Types that
//! postcard carries stay in the compact body, byte for byte as before.

#[path = "../../hamt-core/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

use hamt_core::{HamtMap, HamtSet};
use hamt_serde::{EncodeError, Part, VersionLog, VersionSet};
use quickcheck::{Arbitrary, Gen};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Offset of the flags byte in the binary form, and its bit for the self-describing body.
const FLAGS: usize = 5;
const SELF_DESCRIBING: u8 = 0b10;

/// Whether serde_json gives `value` back equal to itself: the premise of the promise.
fn json_carries<T: Serialize + DeserializeOwned + PartialEq>(value: &T) -> bool {
    let back = serde_json::to_string(value).ok().and_then(|json| serde_json::from_str::<T>(&json).ok());
    back.as_ref() == Some(value)
}

/// Encodes `versions` every way the crate offers, checks that each decodes to them, and returns whether the
/// self-describing body was chosen.
fn round_trip<K, V>(versions: &[HamtMap<K, V>]) -> bool
where
    K: Hash + Eq + Clone + Serialize + DeserializeOwned + Debug,
    V: Clone + PartialEq + Serialize + DeserializeOwned + Debug,
{
    for version in versions {
        for (key, value) in version {
            assert!(json_carries(key) && json_carries(value), "the model carries {key:?}: {value:?}");
        }
    }
    let bytes = hamt_serde::serialize_multiple(versions).expect("a type that serde_json carries encodes");
    let decoded: Vec<HamtMap<K, V>> = hamt_serde::deserialize_multiple(&bytes).expect("and decodes");
    assert_eq!(decoded, versions);
    decoded.iter().for_each(HamtMap::check_invariants);

    let mut streamed = Vec::new();
    hamt_serde::serialize_multiple_into(&mut streamed, versions.iter()).expect("writing to a Vec");
    assert!(streamed == bytes, "the writer form writes the same bytes, in the same body");

    let set: VersionSet<HamtMap<K, V>> = versions.iter().cloned().collect();
    let from_set = VersionSet::<HamtMap<K, V>>::from_bytes(&set.to_bytes().expect("encodes")).expect("decodes");
    assert_eq!(from_set.versions(), versions);
    bytes[FLAGS] & SELF_DESCRIBING != 0
}

/// Versions of one map: the entries given, then each one changed or removed in turn.
fn history<K: Hash + Eq + Clone, V: Clone>(entries: Vec<(K, V)>, other: V) -> Vec<HamtMap<K, V>> {
    let mut versions = vec![entries.iter().cloned().collect::<HamtMap<K, V>>()];
    for (index, (key, _)) in entries.iter().enumerate() {
        let last = versions.last().expect("the first version");
        let next = if index % 2 == 0 { last.insert(key.clone(), other.clone()) } else { last.remove(key) };
        versions.push(next);
    }
    versions
}

#[test]
fn json_values_round_trip_in_the_self_describing_body() {
    let values = vec![
        ("null".to_owned(), Value::Null),
        ("bool".to_owned(), json!(true)),
        ("small".to_owned(), json!(7)),
        ("negative".to_owned(), json!(-40_000_000_000_i64)),
        ("large".to_owned(), json!(u64::MAX)),
        ("float".to_owned(), json!(1.5)),
        ("whole float".to_owned(), json!(2.0)),
        ("string".to_owned(), json!("héllo")),
        ("array".to_owned(), json!([1, "two", [3.5, null], {}])),
        ("object".to_owned(), json!({"a": {"b": [true, {"c": -1}]}, "": "empty key"})),
        ("deep".to_owned(), (0..100).fold(json!(0), |inner, _| json!([inner]))),
    ];
    assert!(round_trip(&history(values, json!({"replaced": [1, 2, 3]}))), "Value needs the self-describing body");
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Common {
    id: u32,
    label: String,
}

/// `#[serde(flatten)]`: serialized as a map of unknown length, which postcard refuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Flattened {
    #[serde(flatten)]
    common: Common,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

#[test]
fn flattened_structs_round_trip() {
    let entries = (0..common::scaled(20, 5) as u64)
        .map(|key| {
            let rest = [(format!("extra{key}"), json!(key * 3))].into_iter().collect();
            (key, Flattened { common: Common { id: key as u32, label: format!("item {key}") }, rest })
        })
        .collect();
    let other = Flattened { common: Common { id: 0, label: String::new() }, rest: BTreeMap::new() };
    assert!(round_trip(&history(entries, other)));
}

/// An untagged enum: its variants are told apart by their content, through `deserialize_any`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
enum Untagged {
    Number(u64),
    Text(String),
    Pair { left: i32, right: Option<String> },
    List(Vec<Untagged>),
}

/// An internally tagged enum: the tag is a field among the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Tagged {
    Circle { radius: f64 },
    Rectangle { width: f64, height: f64, name: Option<String> },
    Empty,
}

/// An adjacently tagged enum and `skip_serializing_if`, which postcard cannot read back (the field is simply
/// missing from its bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    A(#[serde(default, skip_serializing_if = "Option::is_none")] Option<u8>),
    B { x: i8 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sparse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    count: u32,
}

#[test]
fn untagged_and_tagged_enums_round_trip_as_keys_and_values() {
    let keys = [
        Untagged::Number(1),
        Untagged::Text("one".into()),
        Untagged::Pair { left: -1, right: None },
        Untagged::Pair { left: 2, right: Some("r".into()) },
        Untagged::List(vec![Untagged::Number(5), Untagged::Text("x".into())]),
    ];
    let shapes = [
        Tagged::Circle { radius: 1.25 },
        Tagged::Rectangle { width: 2.0, height: 3.5, name: None },
        Tagged::Rectangle { width: 0.5, height: 1.0, name: Some("door".into()) },
        Tagged::Empty,
        Tagged::Empty,
    ];
    let entries: Vec<(Untagged, Tagged)> = keys.into_iter().zip(shapes).collect();
    assert!(round_trip(&history(entries, Tagged::Circle { radius: 0.0 })));

    let entries = vec![(1u8, Adjacent::A(None)), (2, Adjacent::A(Some(3))), (3, Adjacent::B { x: -3 })];
    assert!(round_trip(&history(entries, Adjacent::B { x: 0 })));
}

#[test]
fn skipped_fields_do_not_decode_as_something_else() {
    // postcard writes a `Sparse` without a note as its count alone, and reads the count as the note's tag: the
    // compact body would decode to other values, or fail. The writer notices and uses the self-describing body.
    let entries = vec![
        ("without".to_owned(), Sparse { note: None, count: 1 }),
        ("with".to_owned(), Sparse { note: Some("n".into()), count: 2 }),
    ];
    assert!(round_trip(&history(entries, Sparse { note: None, count: 0 })));
}

#[test]
fn options_and_nested_maps_keep_the_compact_body() {
    // These types fit postcard, so their bytes are as compact as before.
    type Nested = Option<BTreeMap<u32, Vec<Option<String>>>>;
    let entries: Vec<(String, Nested)> = (0..common::scaled(30, 6) as u32)
        .map(|i| {
            let nested = (i % 3 == 0).then(|| (0..i).map(|j| (j, vec![None, Some(format!("{j}"))])).collect());
            (format!("key {i}"), nested)
        })
        .collect();
    assert!(!round_trip(&history(entries, Some(BTreeMap::new()))), "options and maps stay compact");
    let numbers: Vec<(u64, u64)> = (0..common::scaled(100, 10) as u64).map(|i| (i, i * i)).collect();
    assert!(!round_trip(&history(numbers, 0)));
}

#[test]
fn sets_of_untagged_values_round_trip() {
    let v1: HamtSet<Untagged> = [Untagged::Number(1), Untagged::Text("a".into())].into_iter().collect();
    let v2 = v1.insert(Untagged::List(vec![]));
    let bytes = hamt_serde::serialize_multiple([&v1, &v2]).expect("encodes");
    assert_ne!(bytes[FLAGS] & SELF_DESCRIBING, 0);
    assert_eq!(hamt_serde::deserialize_multiple::<HamtSet<Untagged>>(&bytes).expect("decodes"), [v1, v2]);
}

#[test]
fn what_no_body_can_carry_is_refused_with_the_reason() {
    // NaN is not equal to itself: serde_json cannot carry it either (it writes `null`).
    let nan: HamtMap<String, f64> = [("nan".to_owned(), f64::NAN)].into();
    let error = hamt_serde::serialize_multiple([&nan]).expect_err("NaN never reads back equal");
    assert!(matches!(error, EncodeError::Mismatch { part: Part::Value }), "{error:?}");

    // A key whose `Serialize` fails.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
    struct Unserializable(u8);
    impl Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("this key refuses to be written"))
        }
    }
    let map: HamtMap<Unserializable, u8> = [(Unserializable(1), 1)].into_iter().collect();
    let error = hamt_serde::serialize_multiple([&map]).expect_err("refused");
    assert!(matches!(error, EncodeError::Serialize { part: Part::Key, .. }), "{error:?}");
    assert_source_not_repeated(&error);

    // A value whose `Deserialize` cannot read what its `Serialize` wrote.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    struct WriteOnly(u8);
    impl<'de> Deserialize<'de> for WriteOnly {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            String::deserialize(deserializer).map(|_| WriteOnly(0))
        }
    }
    let map: HamtMap<u8, WriteOnly> = [(1, WriteOnly(1))].into_iter().collect();
    let error = hamt_serde::serialize_multiple([&map]).expect_err("refused");
    assert!(matches!(error, EncodeError::Unreadable { part: Part::Value, .. }), "{error:?}");
    assert_source_not_repeated(&error);
    let mut sink = Vec::new();
    let error = hamt_serde::serialize_multiple_into(&mut sink, [&map]).expect_err("refused by the writer form too");
    assert!(matches!(error, EncodeError::Unreadable { part: Part::Value, .. }), "{error:?}");
}

/// `Display` says what failed; the underlying error is `source()`, and is not repeated.
fn assert_source_not_repeated(error: &dyn std::error::Error) {
    let source = error.source().expect("an underlying error").to_string();
    assert!(!error.to_string().contains(&source), "{error} repeats its source {source}");
}

#[test]
#[cfg_attr(miri, ignore = "uses the file system, which Miri's isolation forbids")]
fn a_version_log_switches_to_the_self_describing_body_for_its_first_record() {
    let dir = std::env::temp_dir().join(format!("hamt-serde-self-describing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("values.log");
    let v1: HamtMap<String, Value> = [("a".to_owned(), json!({"x": [1, null]}))].into();
    let v2 = v1.insert("b".to_owned(), json!("two"));
    let mut log = VersionLog::open(&path).expect("a new log");
    log.append(&v1).expect("the first record chooses the body");
    log.append(&v2).expect("append");
    drop(log);
    assert_ne!(std::fs::read(&path).expect("the log")[FLAGS] & SELF_DESCRIBING, 0, "the header names the body");
    let log = VersionLog::<HamtMap<String, Value>>::open(&path).expect("reopens");
    assert_eq!(log.versions(), [v1, v2]);

    // A log of plain numbers stays compact, and a version that no body carries is refused, not written.
    let path = dir.join("floats.log");
    let mut log = VersionLog::open(&path).expect("a new log");
    let floats: HamtMap<u8, f64> = [(1, 1.5)].into();
    log.append(&floats).expect("append");
    assert!(matches!(log.append(&floats.insert(2, f64::NAN)), Err(hamt_serde::LogError::Encode(_))));
    drop(log);
    assert_eq!(std::fs::read(&path).expect("the log")[FLAGS] & SELF_DESCRIBING, 0);
    assert_eq!(VersionLog::<HamtMap<u8, f64>>::open(&path).expect("reopens").versions(), [floats]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

/// A random JSON value, a few levels deep.
#[derive(Clone, Debug)]
struct RandomValue(Value);

impl Arbitrary for RandomValue {
    fn arbitrary(g: &mut Gen) -> Self {
        fn value(g: &mut Gen, depth: u32) -> Value {
            match u8::arbitrary(g) % if depth == 0 { 5 } else { 7 } {
                0 => Value::Null,
                1 => json!(bool::arbitrary(g)),
                2 => json!(i64::arbitrary(g)),
                3 => json!(u64::arbitrary(g)),
                4 => {
                    let float = f64::arbitrary(g);
                    if float.is_finite() { json!(float) } else { json!(String::arbitrary(g)) }
                }
                5 => Value::Array((0..u8::arbitrary(g) % 4).map(|_| value(g, depth - 1)).collect()),
                _ => Value::Object(
                    (0..u8::arbitrary(g) % 4).map(|_| (String::arbitrary(g), value(g, depth - 1))).collect(),
                ),
            }
        }
        RandomValue(value(g, 3))
    }
}

#[test]
fn random_json_histories_round_trip() {
    fn property(entries: Vec<(String, RandomValue)>, other: RandomValue) -> bool {
        // serde_json does not give every float back exactly (without its `float_roundtrip` feature): values it
        // does not carry are outside the promise.
        let entries: Vec<(String, Value)> =
            entries.into_iter().map(|(key, value)| (key, value.0)).filter(|(_, value)| json_carries(value)).collect();
        let other = if json_carries(&other.0) { other.0 } else { Value::Null };
        round_trip(&history(entries, other));
        true
    }
    common::check(200, 20, property as fn(Vec<(String, RandomValue)>, RandomValue) -> bool);
}
