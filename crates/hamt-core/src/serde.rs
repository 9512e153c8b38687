//! serde support (the `serde` feature): a map serializes as a serde map, a set as a sequence, in any format.
//!
//! The impls live here rather than in hamt-serde because the orphan rule only lets the crate that defines a type,
//! or the one that defines the trait, implement serde's traits for it.
//!
//! Deserializing collects the entries into a `Vec` and builds the trie in bulk (as `FromIterator` does), which
//! measured about 1.5x faster than inserting entries one by one into the growing trie. A duplicate key is an error
//! rather than a silent overwrite: the bulk build keeps one entry per key, so a map shorter than the number of
//! entries read proves a duplicate. The length a format announces is only a hint read from untrusted input, so it
//! reserves at most [`MAX_PREALLOCATION`] bytes; the `Vec` grows beyond that only with entries actually decoded.

use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::kind::PointerKind;
use crate::map::HamtMap;
use crate::set::HamtSet;

/// The most memory a length announced by the input may reserve before any entry is decoded.
const MAX_PREALLOCATION: usize = 1 << 20;

/// How many elements of `element_size` bytes to reserve for an input that announces `hint` of them: the hint,
/// capped so that a hostile length cannot reserve more than [`MAX_PREALLOCATION`] bytes.
fn initial_capacity(hint: Option<usize>, element_size: usize) -> usize {
    let cap = MAX_PREALLOCATION / element_size.max(1);
    hint.unwrap_or(0).min(cap)
}

impl<K, V, P, S> Serialize for HamtMap<K, V, P, S>
where
    K: Serialize,
    V: Serialize,
    P: PointerKind,
{
    /// Serializes the map as a serde map of its exact length, entries in trie order.
    ///
    /// Trie order follows the keys' hashes, so the order (and thus the bytes) depends on the hasher: the default
    /// hasher is seeded per process, and the same map can serialize in a different order in another run.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<String, u32> = [("a".to_string(), 1)].into();
    /// assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":1}"#);
    /// ```
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de, K, V, P, S> Deserialize<'de> for HamtMap<K, V, P, S>
where
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
    P: PointerKind,
    S: BuildHasher + Default,
{
    /// Deserializes a serde map, building the trie in bulk with a new `S::default()` hasher (the hasher of the
    /// serialized map is not part of the data).
    ///
    /// # Errors
    ///
    /// The format's error for malformed or truncated input, and a custom error ("duplicate key in map") when a
    /// key appears twice. A length announced by the input reserves at most 1 MiB up front; anything beyond it is
    /// allocated only for entries actually decoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtMap;
    ///
    /// let map: HamtMap<String, u32> = serde_json::from_str(r#"{"a": 1, "b": 2}"#).unwrap();
    /// assert_eq!(map["b"], 2);
    ///
    /// let duplicate = serde_json::from_str::<HamtMap<String, u32>>(r#"{"a": 1, "a": 2}"#);
    /// assert!(duplicate.unwrap_err().to_string().contains("duplicate key"));
    /// ```
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CollectVisitor::<Self>(PhantomData))
    }
}

/// Collects a serde map into a [`HamtMap`], or a sequence into a [`HamtSet`]: `T` is the collection built.
struct CollectVisitor<T>(PhantomData<fn() -> T>);

impl<'de, K, V, P, S> Visitor<'de> for CollectVisitor<HamtMap<K, V, P, S>>
where
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
    P: PointerKind,
    S: BuildHasher + Default,
{
    type Value = HamtMap<K, V, P, S>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(K, V)> = Vec::with_capacity(initial_capacity(access.size_hint(), size_of::<(K, V)>()));
        while let Some(entry) = access.next_entry()? {
            entries.push(entry);
        }
        let read = entries.len();
        let map: Self::Value = entries.into_iter().collect();
        if map.len() == read { Ok(map) } else { Err(de::Error::custom("duplicate key in map")) }
    }
}

impl<T, P, S> Serialize for HamtSet<T, P, S>
where
    T: Serialize,
    P: PointerKind,
{
    /// Serializes the set as a sequence of its exact length, elements in trie order (which depends on the hasher,
    /// as for [`HamtMap`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_core::HamtSet<u32> = [7].into();
    /// assert_eq!(serde_json::to_string(&set).unwrap(), "[7]");
    /// ```
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for value in self {
            seq.serialize_element(value)?;
        }
        seq.end()
    }
}

impl<'de, T, P, S> Deserialize<'de> for HamtSet<T, P, S>
where
    T: Deserialize<'de> + Hash + Eq,
    P: PointerKind,
    S: BuildHasher + Default,
{
    /// Deserializes a sequence, building the set in bulk with a new `S::default()` hasher.
    ///
    /// # Errors
    ///
    /// The format's error for malformed or truncated input, and a custom error ("duplicate element in set") when
    /// an element appears twice. As for [`HamtMap`], an announced length reserves at most 1 MiB up front.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtSet;
    ///
    /// let set: HamtSet<u32> = serde_json::from_str("[1, 2, 3]").unwrap();
    /// assert!(set.contains(&2));
    /// assert!(serde_json::from_str::<HamtSet<u32>>("[1, 1]").is_err());
    /// ```
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(CollectVisitor::<Self>(PhantomData))
    }
}

impl<'de, T, P, S> Visitor<'de> for CollectVisitor<HamtSet<T, P, S>>
where
    T: Deserialize<'de> + Hash + Eq,
    P: PointerKind,
    S: BuildHasher + Default,
{
    type Value = HamtSet<T, P, S>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut elements: Vec<T> = Vec::with_capacity(initial_capacity(access.size_hint(), size_of::<T>()));
        while let Some(element) = access.next_element()? {
            elements.push(element);
        }
        let read = elements.len();
        let set: Self::Value = elements.into_iter().collect();
        if set.len() == read { Ok(set) } else { Err(de::Error::custom("duplicate element in set")) }
    }
}
