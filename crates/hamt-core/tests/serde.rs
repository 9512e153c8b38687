//! The `serde` feature: round trips through serde_json, postcard and bincode 2 compared with std `HashMap` /
//! `HashSet` models (every decoded trie checked with the invariant checker), interchange with std's collections in
//! both directions, decoding with a hasher other than the one that encoded, and hostile input: duplicate keys,
//! absurd announced lengths, truncated and random bytes, each of which must give an error and never a panic or a
//! huge allocation.
#![cfg(feature = "serde")]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::hash::BuildHasher;

use common::{Collide, Deep, OneHash, TestKey};
use hamt_core::{DefaultHashBuilder, HamtMap, HamtSet, PointerKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

// ---------------------------------------------------------------------------------------------------------------
// The formats.

/// A serde format under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    Postcard,
    Bincode,
}

const FORMATS: [Format; 3] = [Format::Json, Format::Postcard, Format::Bincode];

/// The most bytes bincode may allocate while decoding one value, far more than any test input.
const BINCODE_LIMIT: usize = 1 << 20;

impl Format {
    fn encode<T: Serialize + ?Sized>(self, value: &T) -> Vec<u8> {
        match self {
            Format::Json => serde_json::to_vec(value).expect("JSON encoding"),
            Format::Postcard => postcard::to_allocvec(value).expect("postcard encoding"),
            Format::Bincode => {
                bincode::serde::encode_to_vec(value, bincode::config::standard()).expect("bincode encoding")
            }
        }
    }

    /// Decodes a value that must fill `bytes` exactly; the error is the format's (or the unread tail's), as text.
    fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, String> {
        let (value, unread) = match self {
            Format::Json => (serde_json::from_slice(bytes).map_err(|error| error.to_string())?, 0),
            Format::Postcard => {
                let (value, rest) = postcard::take_from_bytes(bytes).map_err(|error| error.to_string())?;
                (value, rest.len())
            }
            Format::Bincode => {
                // bincode 2 trusts the length of a string or byte array it reads and allocates it up front, so
                // hostile input needs a limit (our maps and sets never reserve from a length, limit or not).
                let config = bincode::config::standard().with_limit::<BINCODE_LIMIT>();
                let (value, read) =
                    bincode::serde::decode_from_slice(bytes, config).map_err(|error| error.to_string())?;
                (value, bytes.len() - read)
            }
        };
        if unread == 0 { Ok(value) } else { Err(format!("{unread} bytes left unread")) }
    }

    /// Decodes, and panics with the format and the error on failure.
    fn decode_ok<T: DeserializeOwned>(self, bytes: &[u8]) -> T {
        self.decode(bytes).unwrap_or_else(|error| panic!("{self:?} failed to decode its own output: {error}"))
    }

    /// Whether the format's errors carry the message of a custom error (postcard's keep only the kind).
    fn keeps_custom_messages(self) -> bool {
        self != Format::Postcard
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Round trips against the std models.

type Map<K, P, S> = HamtMap<K, u32, P, S>;

/// Asserts that `map` holds exactly the model's entries.
fn assert_same<K: TestKey, P: PointerKind, S: BuildHasher>(map: &Map<K, P, S>, model: &HashMap<K, u32>) {
    assert_eq!(map.len(), model.len());
    for (key, value) in model {
        assert_eq!(map.get(key), Some(value), "key {key:?}");
    }
}

/// Round trips of maps built from `entries` (in bulk or one by one) through every format, into our map and into
/// std's, and from std's into ours.
fn map_round_trip<P, K, S, const KEYS: u16>()
where
    P: PointerKind,
    K: TestKey + Serialize + DeserializeOwned,
    S: BuildHasher + Clone + Default,
{
    fn property<K, P, S, const KEYS: u16>(entries: Vec<(u16, u32)>, bulk: bool) -> bool
    where
        P: PointerKind,
        K: TestKey + Serialize + DeserializeOwned,
        S: BuildHasher + Clone + Default,
    {
        let keys = common::key_space(KEYS);
        let entries = entries.into_iter().map(|(key, value)| (K::from_num(key % keys), value));
        let model: HashMap<K, u32> = entries.clone().collect();
        let map: Map<K, P, S> = if bulk {
            entries.collect()
        } else {
            let mut map = Map::with_hasher(S::default());
            for (key, value) in entries {
                map.insert_mut(key, value);
            }
            map
        };
        for format in FORMATS {
            let bytes = format.encode(&map);
            let decoded: Map<K, P, S> = format.decode_ok(&bytes);
            decoded.check_invariants();
            assert_same(&decoded, &model);
            assert!(decoded == map);
            // The encoding is a plain serde map: std's map reads ours, and ours reads std's.
            assert_eq!(format.decode_ok::<HashMap<K, u32>>(&bytes), model);
            let from_std: Map<K, P, S> = format.decode_ok(&format.encode(&model));
            from_std.check_invariants();
            assert_same(&from_std, &model);
        }
        true
    }
    common::check(100, 60, property::<K, P, S, KEYS> as fn(Vec<(u16, u32)>, bool) -> bool);
}

for_each_kind!(miri_arc map_u16_default, map_round_trip, [u16, DefaultHashBuilder, 64]);
for_each_kind!(native_only map_u16_default_wide, map_round_trip, [u16, DefaultHashBuilder, 4096]);
for_each_kind!(map_u16_collide, map_round_trip, [u16, Collide, 64]);
for_each_kind!(native_only map_u16_deep, map_round_trip, [u16, Deep, 64]);
for_each_kind!(native_only map_u16_one_hash, map_round_trip, [u16, OneHash, 16]);
for_each_kind!(native_only map_string_default, map_round_trip, [String, DefaultHashBuilder, 64]);
for_each_kind!(map_string_collide, map_round_trip, [String, Collide, 64]);

/// Round trips of sets through every format, into our set and into std's, and from std's into ours.
fn set_round_trip<P, T, S, const KEYS: u16>()
where
    P: PointerKind,
    T: TestKey + Serialize + DeserializeOwned,
    S: BuildHasher + Clone + Default,
{
    fn property<T, P, S, const KEYS: u16>(elements: Vec<u16>) -> bool
    where
        P: PointerKind,
        T: TestKey + Serialize + DeserializeOwned,
        S: BuildHasher + Clone + Default,
    {
        let keys = common::key_space(KEYS);
        let model: HashSet<T> = elements.iter().map(|element| T::from_num(element % keys)).collect();
        let set: HamtSet<T, P, S> = model.iter().cloned().collect();
        for format in FORMATS {
            let bytes = format.encode(&set);
            let decoded: HamtSet<T, P, S> = format.decode_ok(&bytes);
            decoded.check_invariants();
            assert_eq!(decoded.len(), model.len());
            assert!(model.iter().all(|element| decoded.contains(element)));
            assert!(decoded == set);
            assert_eq!(format.decode_ok::<HashSet<T>>(&bytes), model);
            let from_std: HamtSet<T, P, S> = format.decode_ok(&format.encode(&model));
            from_std.check_invariants();
            assert!(from_std == set);
        }
        true
    }
    common::check(100, 60, property::<T, P, S, KEYS> as fn(Vec<u16>) -> bool);
}

for_each_kind!(set_u16_default, set_round_trip, [u16, DefaultHashBuilder, 64]);
for_each_kind!(native_only set_u16_deep, set_round_trip, [u16, Deep, 64]);
for_each_kind!(set_string_collide, set_round_trip, [String, Collide, 64]);

/// The empty map and set encode as empty collections and decode back.
fn empty<P: PointerKind>() {
    for format in FORMATS {
        let map: Map<u16, P, DefaultHashBuilder> =
            format.decode_ok(&format.encode(&Map::<u16, P, DefaultHashBuilder>::default()));
        assert!(map.is_empty());
        let set: HamtSet<String, P> = format.decode_ok(&format.encode(&HamtSet::<String, P>::default()));
        assert!(set.is_empty());
    }
    assert_eq!(serde_json::to_string(&Map::<u16, P, DefaultHashBuilder>::default()).unwrap(), "{}");
    assert_eq!(serde_json::to_string(&HamtSet::<u16, P>::default()).unwrap(), "[]");
}

for_each_kind!(empty_collections, empty);

// ---------------------------------------------------------------------------------------------------------------
// Another hasher on the way back.

/// Decodes `bytes` with the hasher `S` and compares the result with a map built directly from `model` with it.
fn decode_with<K, P, S>(format: Format, bytes: &[u8], model: &HashMap<K, u32>)
where
    K: TestKey + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    let decoded: Map<K, P, S> = format.decode_ok(bytes);
    decoded.check_invariants();
    assert_same(&decoded, model);
    let expected: Map<K, P, S> = model.iter().map(|(key, value)| (key.clone(), *value)).collect();
    assert!(decoded == expected);
}

/// The hasher is not part of the data: a map encoded with one hasher decodes into an equal map with any other,
/// including std's `RandomState`, which seeds every map differently.
fn other_hasher<P: PointerKind, K: TestKey + Serialize + DeserializeOwned>() {
    let count = common::scaled(500, 24);
    let model: HashMap<K, u32> = (0..count).map(|i| (K::from_num(i as u16), i as u32 * 3)).collect();
    let map: Map<K, P, Collide> = model.iter().map(|(key, value)| (key.clone(), *value)).collect();
    for format in FORMATS {
        let bytes = format.encode(&map);
        decode_with::<K, P, DefaultHashBuilder>(format, &bytes, &model);
        decode_with::<K, P, RandomState>(format, &bytes, &model);
        decode_with::<K, P, Deep>(format, &bytes, &model);
        decode_with::<K, P, OneHash>(format, &bytes, &model);
    }
    // Two maps decoded separately with `RandomState` have different seeds, and still compare equal.
    let bytes = Format::Postcard.encode(&map);
    let first: Map<K, P, RandomState> = Format::Postcard.decode_ok(&bytes);
    let second: Map<K, P, RandomState> = Format::Postcard.decode_ok(&bytes);
    assert!(first == second);
}

for_each_kind!(other_hasher_u16, other_hasher, [u16]);
for_each_kind!(other_hasher_string, other_hasher, [String]);

// ---------------------------------------------------------------------------------------------------------------
// Hostile input.

/// Asserts that `result` is the duplicate error (by message where the format keeps it).
fn assert_duplicate<T: Debug>(format: Format, result: Result<T, String>, what: &str) {
    let error = result.expect_err("a duplicate must be rejected");
    if format.keeps_custom_messages() {
        assert!(error.contains(what), "{format:?}: unexpected error {error:?}");
    } else {
        assert_eq!(error, postcard::Error::SerdeDeCustom.to_string());
    }
}

/// Maps and sets with a repeated key are rejected in every format, with every hasher (the colliding ones put the
/// duplicates in collision nodes), wherever the repeat is.
fn duplicates<P: PointerKind, S: BuildHasher + Clone + Default>() {
    let message = "duplicate key in map";
    // JSON object keys are strings, so a repeated key is easy to write by hand, for number and string keys.
    assert_duplicate(Format::Json, Format::Json.decode::<Map<u16, P, S>>(br#"{"1":1,"1":2}"#), message);
    assert_duplicate(Format::Json, Format::Json.decode::<Map<String, P, S>>(br#"{"a":1,"b":2,"a":1}"#), message);
    let element_message = "duplicate element in set";
    assert_duplicate(Format::Json, Format::Json.decode::<HamtSet<u16, P, S>>(b"[3,1,2,3]"), element_message);
    // A sequence of pairs is encoded exactly as a map in postcard and bincode (a length, then the pairs), and the
    // JSON of a std map with extra entries spliced in is the same as for a map with a repeated key.
    for format in FORMATS {
        for repeat in [0, 5, 9] {
            let mut pairs: Vec<(u16, u32)> = (0..10).map(|key| (key, u32::from(key))).collect();
            pairs.push((repeat, 99));
            let bytes = match format {
                Format::Json => {
                    let json: Vec<String> = pairs.iter().map(|(key, value)| format!(r#""{key}":{value}"#)).collect();
                    format!("{{{}}}", json.join(",")).into_bytes()
                }
                Format::Postcard | Format::Bincode => format.encode(&pairs),
            };
            assert_duplicate(format, format.decode::<Map<u16, P, S>>(&bytes), message);
            let elements: Vec<u16> = pairs.iter().map(|(key, _)| *key).collect();
            assert_duplicate(format, format.decode::<HamtSet<u16, P, S>>(&format.encode(&elements)), element_message);
            let strings: Vec<String> = elements.iter().map(|key| format!("key-{key}")).collect();
            let result = format.decode::<HamtSet<String, P, S>>(&format.encode(&strings));
            assert_duplicate(format, result, element_message);
        }
    }
}

for_each_kind!(duplicates_default, duplicates, [DefaultHashBuilder]);
for_each_kind!(duplicates_one_hash, duplicates, [OneHash]);
for_each_kind!(native_only duplicates_collide, duplicates, [Collide]);

/// Records the largest allocation request made by a watching thread, and forwards everything to [`System`].
struct LargestRequest;

#[global_allocator]
static ALLOCATOR: LargestRequest = LargestRequest;

thread_local! {
    /// The largest request so far on this thread while it watches ([`largest_request_during`]), else `None`.
    static LARGEST: Cell<Option<usize>> = const { Cell::new(None) };
}

fn record_request(size: usize) {
    // `try_with` fails only while the thread is being torn down, when nothing is being watched.
    let _ = LARGEST.try_with(|largest| {
        if let Some(so_far) = largest.get() {
            largest.set(Some(so_far.max(size)));
        }
    });
}

/// Runs `f` and returns its result and the largest single allocation it requested on this thread.
fn largest_request_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|largest| largest.set(Some(0)));
    let result = f();
    let largest = LARGEST.with(|largest| largest.replace(None)).expect("watching");
    (result, largest)
}

#[expect(unsafe_code, reason = "a global allocator is an `unsafe impl GlobalAlloc`; it only forwards to `System`")]
// SAFETY: every method forwards to `System`, which upholds the `GlobalAlloc` contract, with exactly the arguments it
// received; the bookkeeping touches only a thread-local counter, never the memory, and never allocates.
unsafe impl GlobalAlloc for LargestRequest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record_request(layout.size());
        // SAFETY: the caller's `layout` (non-zero in size, as `alloc` requires) is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record_request(layout.size());
        // SAFETY: as for `alloc`, the caller's `layout` is passed on unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees that `pointer` came from this allocator, so from `System`, with `layout`.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record_request(new_size);
        // SAFETY: the caller guarantees that `pointer` came from `System` with `layout` and that `new_size` is
        // valid for it; all three are passed on unchanged.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

/// The most a decoder may reserve on the strength of an announced length (the implementation caps it at 1 MiB).
const PREALLOCATION_BOUND: usize = 1 << 20;

/// Postcard and bincode inputs that announce billions of entries but hold one fail with an error once the input
/// runs out, having reserved no more than the cap.
fn absurd_lengths<P: PointerKind>() {
    for format in [Format::Postcard, Format::Bincode] {
        for claimed in [1u64 << 30, 1 << 60, u64::MAX] {
            // Both formats encode a length exactly as a `u64` (a varint), followed here by one real entry.
            let mut bytes = format.encode(&claimed);
            bytes.extend(format.encode(&(7u64, 8u64)));
            let (result, largest) = largest_request_during(|| format.decode::<HamtMap<u64, u64, P>>(&bytes));
            assert!(result.is_err(), "{format:?}: a length of {claimed} was accepted");
            assert!(largest <= PREALLOCATION_BOUND, "{format:?}: reserved {largest} bytes for {claimed} entries");
            let (result, largest) = largest_request_during(|| format.decode::<HamtSet<u64, P>>(&bytes));
            assert!(result.is_err(), "{format:?}: a length of {claimed} was accepted");
            assert!(largest <= PREALLOCATION_BOUND, "{format:?}: reserved {largest} bytes for {claimed} elements");
        }
    }
}

for_each_kind!(absurd_length, absurd_lengths);

/// Every proper prefix of a valid encoding fails with an error.
fn truncated<P: PointerKind>() {
    let count = common::scaled(40, 6);
    let map: HamtMap<String, u32, P> = (0..count).map(|i| (format!("key-{i}"), i as u32)).collect();
    let set: HamtSet<u64, P> = (0..count as u64).map(|i| i << 40).collect();
    for format in FORMATS {
        let map_bytes = format.encode(&map);
        for end in 0..map_bytes.len() {
            assert!(format.decode::<HamtMap<String, u32, P>>(&map_bytes[..end]).is_err(), "{format:?} at {end}");
        }
        let set_bytes = format.encode(&set);
        for end in 0..set_bytes.len() {
            assert!(format.decode::<HamtSet<u64, P>>(&set_bytes[..end]).is_err(), "{format:?} at {end}");
        }
    }
}

for_each_kind!(truncated_input, truncated);

/// Random bytes decode to an error or to a valid map, never to a panic.
fn random_bytes<P: PointerKind>() {
    fn property<P: PointerKind>(bytes: Vec<u8>) -> bool {
        for format in FORMATS {
            if let Ok(map) = format.decode::<HamtMap<u16, String, P, Collide>>(&bytes) {
                map.check_invariants();
            }
            if let Ok(set) = format.decode::<HamtSet<u8, P, Collide>>(&bytes) {
                set.check_invariants();
            }
        }
        true
    }
    common::check(300, 40, property::<P> as fn(Vec<u8>) -> bool);
}

for_each_kind!(random_input, random_bytes);

// ---------------------------------------------------------------------------------------------------------------
// Key order: `hamt_core::sorted`.

/// Equal maps with different trie orders (separately seeded hashers, different histories) serialize to different
/// bytes in trie order but to the same bytes in key order: those of a `BTreeMap` of the same entries.
#[test]
fn sorted_output_is_the_same_for_every_hasher_and_history() {
    use hamt_core::sorted::Sorted;
    use std::collections::{BTreeMap, BTreeSet};

    let size = common::scaled(500, 50) as u32;
    let entries: Vec<(u32, String)> =
        (0..size).map(|i| (i.wrapping_mul(2_654_435_761) % 10_000, i.to_string())).collect();
    let expected = serde_json::to_string(&entries.iter().cloned().collect::<BTreeMap<_, _>>()).unwrap();

    let one: HamtMap<u32, String, hamt_core::RcK, RandomState> = entries.iter().cloned().collect();
    let mut other: HamtMap<u32, String, hamt_core::RcK, RandomState> = HamtMap::with_hasher(RandomState::new());
    for (key, value) in entries.iter().rev() {
        other.insert_mut(*key, value.clone());
    }
    other = other.insert(size + 20_000, String::new()).remove(&(size + 20_000));
    assert_eq!(one, other);
    assert_ne!(serde_json::to_string(&one).unwrap(), serde_json::to_string(&other).unwrap(), "trie orders differ");
    assert_eq!(serde_json::to_string(&Sorted(&one)).unwrap(), expected);
    assert_eq!(serde_json::to_string(&Sorted(&other)).unwrap(), expected);
    // The output reads back as the map itself.
    let back: HamtMap<u32, String> = serde_json::from_str(&expected).unwrap();
    assert_eq!(back.len(), one.len());

    let set_one: HamtSet<u32, hamt_core::RcK, RandomState> = entries.iter().map(|(key, _)| *key).collect();
    let set_other: HamtSet<u32, hamt_core::RcK, RandomState> = entries.iter().rev().map(|(key, _)| *key).collect();
    let expected_set = serde_json::to_string(&entries.iter().map(|(key, _)| *key).collect::<BTreeSet<_>>()).unwrap();
    assert_eq!(serde_json::to_string(&Sorted(&set_one)).unwrap(), expected_set);
    assert_eq!(serde_json::to_string(&Sorted(&set_other)).unwrap(), expected_set);
}

/// `#[serde(with = "hamt_core::sorted")]` on a field writes the field in key order and reads it back.
#[test]
fn sorted_as_a_with_module() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Snapshot {
        #[serde(with = "hamt_core::sorted")]
        counts: HamtMap<String, u64>,
        #[serde(with = "hamt_core::sorted")]
        tags: HamtSet<String>,
    }
    let snapshot = Snapshot {
        counts: ["zeta", "alpha", "mu"].iter().enumerate().map(|(i, key)| (key.to_string(), i as u64)).collect(),
        tags: ["b", "c", "a"].iter().map(|tag| tag.to_string()).collect(),
    };
    let json = serde_json::to_string(&snapshot).unwrap();
    assert_eq!(json, r#"{"counts":{"alpha":1,"mu":2,"zeta":0},"tags":["a","b","c"]}"#);
    assert_eq!(serde_json::from_str::<Snapshot>(&json).unwrap(), snapshot);
}
